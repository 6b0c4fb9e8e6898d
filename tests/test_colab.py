"""The notebooks for Colab (tools/colab.py, `make colab`): plain Markdown, standard
LaTeX."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import colab  # noqa: E402 - tools/ is not a package

MYST = re.compile(
    r"```\{|:::\{"  # directives, fenced with backticks or colons
    r"|\{[\w:-]+\}`"  # roles: {numref}`...`, {cite:t}`...`, {glue:text}`...`
    r"|^\([\w-]+\)=\s*$"  # targets: (ch-leapfrog)=
    r"|^:(label|name|class|header-rows):"  # directive options
    r"|\$\$\s*\([\w-]+\)",  # equation labels: $$ (eq-...)
    re.M,
)


def _markdown(nb: dict) -> str:
    return "\n\n".join(
        "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"
    )


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("colab")
    assert colab.main(["--out", str(out)]) == 0
    return {
        p.stem: json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(out.glob("*.ipynb"))
    }


def test_every_page_has_a_colab_notebook(notebooks):
    expected = {p.stem for p in (ROOT / "book").glob("*.ipynb")}
    assert set(notebooks) == expected


def test_no_directive_role_or_book_macro_is_left(notebooks):
    macros = colab.macros(colab.load_config())
    book_macro = re.compile(
        r"\\(" + "|".join(map(re.escape, macros)) + r")(?![A-Za-z])"
    )
    assert book_macro.search(r"$\Normal(0, 1)$ and $\E[X]$") and not book_macro.search(
        r"\Rightarrow"
    )
    for name, nb in notebooks.items():
        text = _markdown(nb)
        leftovers = [m.group() for m in MYST.finditer(text)] + book_macro.findall(text)
        assert not leftovers, (name, leftovers[:5])


def test_references_citations_and_numbers_read_as_in_the_book(notebooks):
    ch02, ch05 = _markdown(notebooks["02_leapfrog"]), _markdown(
        notebooks["05_optimal_scaling"]
    )
    assert (
        "(Figure 2.4)" in ch02
        and "Theorem 2.1" in ch02
        and "### Exercise 2.1: Write your own" in ch02
    )
    assert "**Theorem 2.1**" in ch02 and "*Proof.*" in ch02
    assert "Dinh et al. (2024)" in ch05 and "\\tag{5.1}" in ch05 and "(5.2)" in ch05
    assert "Chapter 4, *The local error at a ReLU kink*" in ch05
    assert "(Duane et al., 1987)" in _markdown(notebooks["01_hamiltonian_dynamics"])
    assert "**Table 8.1.**" in _markdown(notebooks["08_real_data"])
    assert "| Model |" in _markdown(notebooks["08_real_data"])
    code = "".join("".join(c["source"]) for c in notebooks["02_leapfrog"]["cells"])
    assert "⟨ch02-limit⟩" in ch02 and '_show_glued("ch02-limit:.3f"' in code


def test_each_notebook_says_where_it_comes_from(notebooks):
    repo = colab.load_config()["repository"]["url"].rstrip("/").split("/")[-1]
    for name, nb in notebooks.items():
        note = "".join(nb["cells"][1]["source"])
        assert f".github.io/{repo}/book/{name}.html" in note, name


def test_solutions_are_removed(notebooks):
    for name, nb in notebooks.items():
        text = json.dumps(nb)
        assert "BEGIN SOLUTION" not in text and "{solution-start}" not in text, name
    assert "def my_leapfrog" not in json.dumps(notebooks["02_leapfrog"])


def test_colab_installs_pinned_versions_from_the_configured_repository(notebooks):
    config = colab.load_config()
    url = config["repository"]["url"]
    for name, nb in notebooks.items():
        code = [("".join(c["source"])) for c in nb["cells"] if c["cell_type"] == "code"]
        (install,) = [c for c in code if 'find_spec("hmc_lite") is None' in c]
        assert (
            f"hmc_lite @ git+{url}@" in install and "/constraints.txt" in install
        ), name
        assert url.split("github.com/")[1] in install.split("-c")[1], name


def test_a_colab_notebook_runs_and_prints_the_glued_values(notebooks):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    node = nbformat.reads(json.dumps(notebooks["10_conclusions"]), as_version=4)
    nbclient.NotebookClient(
        node,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT / "book")}},
    ).execute()
    outputs = [o for c in node.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert (
        "⟨ch10-runtime⟩: computed below" in printed
    )  # quoted in the first cell, glued last
