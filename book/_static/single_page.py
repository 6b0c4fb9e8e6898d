"""Sphinx extension: the one-page build renders every node the HTML build renders.

Extensions tell Sphinx how to write their nodes per builder, and MyST-NB (folded code cells),
sphinx-proof (theorems, proofs) and sphinx-exercise register theirs for the ``html`` builder
only. The ``singlehtml`` builder, which the printable edition of the book (``make pdf``) uses,
writes HTML with the same translator but looks the nodes up under its own name, finds
nothing and stops. When a ``singlehtml`` build starts, this extension gives it every
``html`` handler it lacks, so the one page reads as the website does.
"""

from __future__ import annotations


def _share_html_handlers(app) -> None:
    if app.builder.name != "singlehtml":
        return
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for node_name, visit_depart in handlers.get("html", {}).items():
        single.setdefault(node_name, visit_depart)


def setup(app) -> dict:
    app.connect("builder-inited", _share_html_handlers)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
