"""Sphinx extension: number figures, tables, equations, theorems and exercises per chapter.

Without a numbered table of contents Sphinx numbers them through the whole book (Fig. 29,
Exercise 28), and the numbers change with the set of chapters built. A numbered table of
contents (``numbered: true`` in _toc.yml, with ``numfig_secnum_depth``) would scope them to
chapters, but it also prints its own number in front of every chapter title in the navigation,
where the titles already carry theirs ("1. Hamiltonian dynamics and HMC" would read
"1. 1. Hamiltonian ..."). So the table of contents stays unnumbered and this extension
renumbers after Sphinx has numbered: on page ``book/04_local_error`` the figures become
Fig. 4.1, 4.2, ..., the theorems Theorem 4.1, ... and the exercises Exercise 4.1, ...; on the
appendix pages A.1, B.1, ... in table-of-contents order; on other pages 1, 2, ....

It lives in book/_static (listed in ``sphinx.local_extensions`` of _config.yml); the
``exclude_patterns`` of _config.yml keep it out of the published site.
"""

from __future__ import annotations

import re
import string

CHAPTER = re.compile(r"(?:^|/)(\d+)_[^/]*$")  # book/04_local_error -> 4
APPENDIX = re.compile(r"(?:^|/)appendix_[^/]*$")


def _pages_in_toc_order(env) -> list[str]:
    order: list[str] = []

    def walk(docname: str) -> None:
        if docname in order:
            return
        order.append(docname)
        for child in env.toctree_includes.get(docname, []):
            walk(child)

    walk(env.config.root_doc)
    return order


def page_prefix(docname: str, appendices: list[str]) -> tuple:
    """The number of the chapter a page is: (4,) for 04_..., ('A',) for the first appendix."""
    match = CHAPTER.search(docname)
    if match:
        return (int(match.group(1)),)
    if docname in appendices:
        return (string.ascii_uppercase[appendices.index(docname)],)
    return ()


def renumber(app, env) -> list[str]:
    appendices = [d for d in _pages_in_toc_order(env) if APPENDIX.search(d)]
    for docname, by_type in env.toc_fignumbers.items():
        prefix = page_prefix(docname, appendices)
        for figtype, numbers in by_type.items():
            in_page_order = sorted(numbers, key=numbers.get)  # Sphinx numbered in page order
            for k, node_id in enumerate(in_page_order, start=1):
                numbers[node_id] = (*prefix, k)
    return []


def setup(app):
    # after Sphinx's own numbering (TocTreeCollector, default priority 500)
    app.connect("env-get-updated", renumber, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
