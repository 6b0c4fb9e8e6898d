"""The book as a whole: clean notebooks, a consistent table of contents, the strict
build."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import re
import sys
from typing import NamedTuple

import pytest
import yaml
from bs4 import BeautifulSoup

ROOT = pathlib.Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"


def _toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part["chapters"]]
    return files


def _chapters() -> list[pathlib.Path]:
    return sorted(BOOK.glob("*.ipynb"))


def test_every_toc_entry_is_a_file():
    for entry in _toc_files():
        matches = [
            p for p in (ROOT / f"{entry}.ipynb", ROOT / f"{entry}.md") if p.exists()
        ]
        assert matches, f"_toc.yml lists {entry}, which is neither .ipynb nor .md"


def test_every_notebook_is_in_the_toc():
    listed = set(_toc_files())
    for nb in _chapters():
        assert (
            str(nb.relative_to(ROOT).with_suffix("")) in listed
        ), f"{nb.name} is not in _toc.yml"


def test_the_notation_page_is_in_the_toc():
    """One symbol per meaning (issue 11): the book has a notation page."""
    assert "book/notation" in _toc_files()
    assert (BOOK / "notation.md").read_text().startswith("(notation)=\n# Notation")


@pytest.mark.parametrize("path", _chapters(), ids=lambda p: p.name)
def test_chapter_title_has_no_raw_markup(path):
    """The title is shown as plain text in the navigation, where LaTeX is not rendered.
    """
    nb = json.loads(path.read_text())
    title = next(line for line in "".join(nb["cells"][0]["source"]).splitlines()
                 if line.startswith("# "))
    plain = re.sub(r"`[^`]*`", "", title)  # code spans are shown as code
    assert not re.search(r"[\\^_$]", plain), f"{path.name}: title {title!r}"


@pytest.mark.parametrize("path", _chapters(), ids=lambda p: p.name)
def test_notebook_is_committed_clean(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3"
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{path.name} has stored outputs"
            assert (
                cell.get("execution_count") is None
            ), f"{path.name} has execution counts"


@pytest.mark.parametrize("path", _chapters(), ids=lambda p: p.name)
def test_notebook_imports_hmc_lite_and_installs_from_the_configured_repository(path):
    nb = json.loads(path.read_text())
    code = "\n".join(
        "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"
    )
    assert "import hmc_lite" in code or "from hmc_lite" in code
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    if "git+" in code:
        assert (
            f"git+{url}" in code
        ), f"{path.name}: the Colab install line must use {url}"


# --- The built book -------------------------------------------------------------------
# One strict build from clean (warnings are errors, every chapter executed) is shared by
# the tests below, which read the HTML that readers see and the executed notebooks (what
# JupyterLab, Binder and Colab show), from the build's execution cache. In `make test`
# the chapters nbval has just executed are put in that cache first (see the top-level
# conftest.py), so that each chapter executes once; the build executes the others.

FIGURE_NAME = re.compile(
    r"```\{(?:glue:figure|figure)\}[^\n]*\n(?::[^\n]*\n)*?:name: (\S+)"
)
GLUE_INLINE = re.compile(r"\{glue(?::text)?\}`[^`]+`")
MAKES_FIGURE = re.compile(r"plt\.(?:subplots|figure)\(")


class BuiltBook(NamedTuple):
    returncode: int
    log: str
    html: pathlib.Path
    cache: pathlib.Path

    def executed(self, chapter: pathlib.Path) -> dict:
        """``chapter`` with the outputs of its execution in the build's jupyter-cache.

        The cache, not ``_build/jupyter_execute``: MyST-NB copies a notebook there
        with outputs only when it executes it itself, not when it finds it in the
        cache that ``tools/build_book.py`` fills in parallel.
        """
        import nbformat
        from jupyter_cache import get_cache

        source = nbformat.read(chapter, as_version=4)
        try:
            _, nb = get_cache(str(self.cache)).merge_match_into_notebook(source)
        except KeyError:
            pytest.fail(f"{chapter.name} was not executed")
        return nb


def _cache_executed_chapters(cache: pathlib.Path) -> list[str]:
    """Put the chapters nbval executed earlier in this ``make test`` (the folder
    ``HMC_LITE_EXECUTED``, see the top-level ``conftest.py``) into the build's
    execution cache; return their names.

    jupyter-cache matches a notebook to a chapter by its code, so a chapter edited
    since is not matched and the build executes it.
    """
    folder = os.environ.get("HMC_LITE_EXECUTED")
    if not folder or not pathlib.Path(folder).is_dir():
        return []
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    store = get_cache(str(cache))
    names = []
    for path in sorted(pathlib.Path(folder).glob("*.ipynb")):
        chapter = BOOK / path.name
        if chapter.exists():
            nb = nbformat.read(path, as_version=4)
            store.cache_notebook_bundle(
                CacheBundleIn(nb, str(chapter)), check_validity=True, overwrite=True
            )
            names.append(path.name)
    return names


@pytest.fixture(scope="module")
def built_book(tmp_path_factory) -> BuiltBook:
    out = tmp_path_factory.mktemp("book")
    _cache_executed_chapters(out / "_build" / ".jupyter_cache")
    env = dict(os.environ, MPLBACKEND="Agg")  # figures must not depend on the backend
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_book.py"), str(ROOT),
         "--path-output", str(out), "--all"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800,
    )
    build = out / "_build"
    return BuiltBook(proc.returncode, proc.stdout + proc.stderr, build / "html",
                     build / ".jupyter_cache")


def _small_notebooks(folder: pathlib.Path) -> None:
    """``ok.ipynb`` (a print, a value hidden by ';', a value shown) and ``bad.ipynb``
    (the same with a failing last cell)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.cells = [nbformat.v4.new_markdown_cell("# A notebook")] + [
        nbformat.v4.new_code_cell(code)
        for code in ("x = 1", "print('hi')", "x;", "x + 1")
    ]
    nbformat.write(nb, folder / "ok.ipynb")
    nb.cells.append(nbformat.v4.new_code_cell("1 / 0"))
    nbformat.write(nb, folder / "bad.ipynb")


def test_chapters_that_pass_under_nbval_are_kept_with_their_outputs(tmp_path):
    """The top-level conftest.py, which lets `make test` execute each chapter once."""
    import nbformat

    _small_notebooks(tmp_path)
    kept = tmp_path / "kept"
    env = dict(os.environ, HMC_LITE_EXECUTED=str(kept), PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider",
         "--nbval-lax", "ok.ipynb", "bad.ipynb"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert "1 failed, 8 passed" in proc.stdout, proc.stdout + proc.stderr
    assert sorted(p.name for p in kept.iterdir()) == ["ok.ipynb"]  # not the failed one
    cells = nbformat.read(kept / "ok.ipynb", 4).cells
    code = [c for c in cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == [1, 2, 3, 4]
    assert [[o.output_type for o in c.outputs] for c in code] == [
        [], ["stream"], [], ["execute_result"]  # the ';' hides x, as in JupyterLab
    ]
    assert code[1].outputs[0].text == "hi\n"
    assert code[3].outputs[0].data["text/plain"] == "2"


def test_kept_chapters_enter_the_build_cache_and_edited_ones_do_not_match(
    tmp_path, monkeypatch
):
    import nbformat
    from jupyter_cache import get_cache

    _small_notebooks(tmp_path)
    kept = tmp_path / "kept"
    kept.mkdir()
    done = nbformat.read(tmp_path / "ok.ipynb", 4)
    for count, cell in enumerate((c for c in done.cells if c.cell_type == "code"), 1):
        cell.execution_count = count
    nbformat.write(done, kept / "ok.ipynb")
    monkeypatch.setattr(sys.modules[__name__], "BOOK", tmp_path)
    monkeypatch.setenv("HMC_LITE_EXECUTED", str(kept))
    cache = tmp_path / "cache"
    assert _cache_executed_chapters(cache) == ["ok.ipynb"]
    source = nbformat.read(tmp_path / "ok.ipynb", 4)
    get_cache(str(cache)).merge_match_into_notebook(source)  # found
    source.cells[1].source = "x = 2"  # the chapter was edited since
    with pytest.raises(KeyError):
        get_cache(str(cache)).merge_match_into_notebook(source)
    monkeypatch.delenv("HMC_LITE_EXECUTED")
    assert _cache_executed_chapters(tmp_path / "other") == []


def _markdown(path: pathlib.Path) -> str:
    nb = json.loads(path.read_text())
    return "\n".join(
        "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"
    )


def _page(book: BuiltBook, chapter: pathlib.Path) -> str:
    page = book.html / chapter.relative_to(ROOT).with_suffix(".html")
    assert page.exists(), f"no page for {chapter.name}"
    return page.read_text()


def _visible_text(html: str) -> str:
    """The page's prose: no scripts, styles, math, code listings or inline code literals
    (where a page may quote MyST syntax on purpose), no tags."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    # math is TeX source until MathJax runs: \mathrm{ref} is not a raw {ref} role
    html = re.sub(r'<(span|div) class="math\b[^"]*">.*?</\1>', " ", html, flags=re.S)
    html = re.sub(r'<div class="highlight.*?</pre>', " ", html, flags=re.S)
    html = re.sub(r"<code\b.*?</code>", " ", html, flags=re.S)
    html = re.sub(r'<div class="cell_output.*?</div>\s*</div>', " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def _unresolved_xrefs(html: str) -> list[str]:
    """Texts of cross-references Sphinx could not resolve: an ``xref`` element outside a
    link.

    (A resolved one is a link; index pages such as sphinx-proof's also mark their links'
    labels with the ``xref`` class.)
    """
    soup = BeautifulSoup(html, "html.parser")
    return [
        tag.get_text() for tag in soup.select(".xref") if tag.find_parent("a") is None
    ]


def test_unresolved_xrefs_are_found_and_links_are_not():
    page = (
        '<p><span class="xref std std-ref">fig-ch09-trace</span></p>'
        '<p><a href="x.html#alg"><code class="xref">alg-ch01-hmc</code></a></p>'
    )
    assert _unresolved_xrefs(page) == ["fig-ch09-trace"]


def test_visible_text_skips_math_but_not_prose():
    page = (
        '<p>with <span class="math notranslate nohighlight">'
        '\\(\\varepsilon_{\\mathrm{ref}}\\)</span></p>'
        '<div class="math notranslate nohighlight">\\[n_{\\mathrm{ref}}\\]</div>'
        "<p>see {ref}`sec-x`</p>"
        '<p>the role <code class="docutils literal">'
        '<span class="pre">{ref}</span></code></p>'
    )
    text = _visible_text(page)
    assert text.count("{ref}") == 1 and "mathrm" not in text


@pytest.mark.book
def test_strict_build(built_book):
    """The whole book builds from clean with warnings as errors (a failing chapter
    fails)."""
    tail = "\n".join(built_book.log.splitlines()[-80:])
    assert built_book.returncode == 0, f"strict build failed:\n{tail}"
    for entry in _toc_files():
        assert (built_book.html / f"{entry}.html").exists(), f"no page for {entry}"


@pytest.mark.book
@pytest.mark.parametrize("chapter", _chapters(), ids=lambda p: p.name)
def test_every_named_figure_is_an_image_on_its_page(built_book, chapter):
    html = _page(built_book, chapter)
    for name in FIGURE_NAME.findall(_markdown(chapter)):
        match = re.search(
            rf'<figure[^>]*id="{re.escape(name)}"[^>]*>(.*?)</figure>', html, re.S
        )
        assert match, f"{chapter.name}: figure {name} is not on the page"
        assert "<img" in match.group(1), f"{chapter.name}: figure {name} has no image"


@pytest.mark.book
@pytest.mark.parametrize("chapter", _chapters(), ids=lambda p: p.name)
def test_every_glued_number_is_filled_in(built_book, chapter):
    html = _page(built_book, chapter)
    wanted = len(GLUE_INLINE.findall(_markdown(chapter)))
    pasted = re.findall(r'<span class="pasted-text">(.*?)</span>', html, re.S)
    assert (
        len(pasted) == wanted
    ), f"{chapter.name}: {wanted} glued values, {len(pasted)} pasted"
    assert all(p.strip() for p in pasted), f"{chapter.name}: an empty glued value"


@pytest.mark.book
def test_no_placeholders_raw_roles_or_reports_in_the_html(built_book):
    assert not (
        built_book.html / "reports"
    ).exists(), "execution reports were published"
    pages = sorted(built_book.html.rglob("*.html"))
    assert pages
    for page in pages:
        html = page.read_text()
        name = page.relative_to(built_book.html)
        assert (
            "<Figure size" not in html and "&lt;Figure size" not in html
        ), f"{name}: figure as text"
        assert not _unresolved_xrefs(
            html
        ), f"{name}: unresolved cross-references {_unresolved_xrefs(html)}"
        text = _visible_text(html)
        for raw in ("{glue", "{numref}", "{prf:ref}", "{ref}", "{cite", "{doc}"):
            assert raw not in text, f"{name}: raw role {raw} in the text"


@pytest.mark.book
@pytest.mark.parametrize("chapter", _chapters(), ids=lambda p: p.name)
def test_numbers_are_scoped_to_the_chapter(built_book, chapter):
    """Fig. 4.2, Theorem 4.1, Exercise 4.3 in chapter 4
    (book/_static/chapter_numbers.py): stable whatever other chapters are built."""
    html = _page(built_book, chapter)
    numbers = re.findall(
        r'<span class="caption-number">\s*(?:[^<\d]*?)\s*([\w.]+?)\.?\s*</span>', html
    )
    match = re.match(r"(\d+)_", chapter.name)
    if match:
        wanted = rf"{int(match.group(1))}\.\d+"
    elif chapter.name.startswith("appendix_"):
        wanted = r"[A-Z]\.\d+"
    else:
        wanted = r"\d+"
    bad = [n for n in numbers if not re.fullmatch(wanted, n)]
    assert not bad, f"{chapter.name}: numbers {bad} are not of the form {wanted}"


@pytest.mark.book
def test_the_printable_edition_builds(built_book):
    """The one-page build behind ``make pdf`` succeeds strictly and holds every chapter.

    It reuses the execution cache of the strict build, so it only renders.
    """
    out = built_book.html.parents[1]
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "build_book.py"),
            str(ROOT),
            "--path-output",
            str(out),
            "--builder",
            "singlehtml",
        ],
        cwd=ROOT,
        env=dict(os.environ, MPLBACKEND="Agg"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    html = (out / "_build" / "singlehtml" / "book" / "intro.html").read_text()
    page = " ".join(BeautifulSoup(html, "html.parser").get_text().split())
    for chapter in _chapters():
        title = json.loads(chapter.read_text())["cells"][0]["source"]
        heading = next(line for line in title if line.startswith("# "))[2:]
        # the title as it reads: without its number and Markdown's code marks
        words = " ".join(heading.replace("`", "").split()[1:])[:30]
        assert words in page, f"{chapter.name} ({words!r}) is missing from the one page"


@pytest.mark.book
def test_pages_load_the_book_css(built_book):
    assert (built_book.html / "_static" / "custom.css").exists()
    assert not list(
        (built_book.html / "_static").glob("*.py")
    ), "the numbering extension was published"
    page = built_book.html / "book" / "01_hamiltonian_dynamics.html"
    assert "custom.css" in page.read_text()


@pytest.mark.book
@pytest.mark.parametrize("chapter", _chapters(), ids=lambda p: p.name)
def test_figures_are_visible_in_the_executed_notebook(built_book, chapter):
    """In Jupyter, Binder and Colab each cell that draws a figure shows it as a PNG."""
    nb = built_book.executed(chapter)
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code" and MAKES_FIGURE.search("".join(cell["source"])):
            images = [
                o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})
            ]
            assert (
                images
            ), f"{chapter.name}, cell {i}: draws a figure but shows no image"
