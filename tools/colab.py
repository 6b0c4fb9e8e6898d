"""Write the chapters as plain Jupyter notebooks for Colab (and Jupyter without MyST).

    python tools/colab.py                    # every page of the book, into _build/colab
    python tools/colab.py book/02_leapfrog.ipynb --out DIR

Colab renders Markdown and standard LaTeX but none of the book's MyST syntax. Each
notebook is rewritten so that a reader sees what the book shows:

- theorems, definitions, lemmas, ... (``{prf:...}`` blocks) become a bold heading with
  the book's number ("**Theorem 4.2** (title)") followed by the text; proofs end with a
  square;
- exercises become headings ("Exercise 2.1: title"); solutions are removed (they are in
  the online book), with the code cells that belong to them;
- ``{numref}``, ``{ref}``, ``{prf:ref}`` and ``{eq}`` become plain text ("Figure 6.1",
  "Theorem 4.2", "Chapter 2, *The leapfrog integrator*", "(5.3)"), with the book's
  numbers (per chapter, as book/_static/chapter_numbers.py numbers them);
- ``{cite}`` becomes "(Author, year)" and ``{cite:t}`` "Author (year)", from
  book/references.bib;
- ``{glue:text}`` becomes a named slot, ⟨ch02-slope⟩, and a small code cell after the
  paragraph prints the values the notebook computed ("(computed below)" for those
  computed further down); ``{glue:figure}`` becomes the figure's caption (the figure
  itself is shown by the code cell that builds it);
- admonitions become block quotes, list tables Markdown tables, labelled equations get a
  ``\\tag{}``, and the book's LaTeX macros (``\\Normal``, ``\\E``, ...; _config.yml) are
  expanded to standard LaTeX;
- the install cell installs the pinned versions (``-c constraints.txt`` of the
  repository named in _config.yml, ``repository.url``), and hidden code cells are folded
  (Colab forms).

The repository address is read from _config.yml; nothing here repeats it.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PROOF_NAMES = {
    "theorem": "Theorem",
    "lemma": "Lemma",
    "definition": "Definition",
    "proposition": "Proposition",
    "corollary": "Corollary",
    "remark": "Remark",
    "assumption": "Assumption",
    "algorithm": "Algorithm",
    "example": "Example",
    "conjecture": "Conjecture",
    "axiom": "Axiom",
    "criterion": "Criterion",
    "observation": "Observation",
    "property": "Property",
    "notation": "Notation",
}
FENCE_OPEN = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}\s*(?P<arg>.*)$")
OPTION = re.compile(r"^:([\w-]+):\s*(.*)$")
LABEL_LINE = re.compile(r"^\(([\w-]+)\)=\s*$")
ROLE = re.compile(r"\{(?P<role>[\w:-]+)\}`(?P<text>[^`]*)`")
EQ_LABEL = re.compile(r"\$\$\s*\((?P<label>[\w-]+)\)")
GLUE_SLOT = "⟨{}⟩"


# --------------------------------------------------------------------------------------
# Configuration: macros, repository, bibliography


def load_config(root: Path = ROOT) -> dict:
    return yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))


def macros(config: dict) -> dict[str, str]:
    """The book's LaTeX macros, name -> expansion (MathJax settings of _config.yml)."""
    tex = config["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"]
    return {name: value for name, value in tex.items() if isinstance(value, str)}


def expand_macros(text: str, table: dict[str, str]) -> str:
    """Replace ``\\Normal`` by ``\\mathcal{N}`` etc. (whole macro names only)."""
    if not table:
        return text
    names = sorted(table, key=len, reverse=True)
    pattern = re.compile(r"\\(" + "|".join(map(re.escape, names)) + r")(?![A-Za-z])")
    return pattern.sub(lambda m: table[m.group(1)], text)


def _bib_field(body: str, name: str) -> str:
    match = re.search(rf"\b{name}\s*=\s*", body, re.I)
    if not match:
        return ""
    i, depth, out = match.end(), 0, []
    if body[i] == '"':
        end = body.index('"', i + 1)
        return body[i + 1 : end]
    while i < len(body):
        ch = body[i]
        if ch == "{":
            depth += 1
            if depth == 1:
                i += 1
                continue
        elif ch == "}":
            depth -= 1
            if depth == 0:
                break
        elif depth == 0 and ch in ",\n":
            break
        out.append(ch)
        i += 1
    return "".join(out).strip()


def load_bibliography(path: Path) -> dict[str, tuple[str, str]]:
    """key -> (authors as cited, year) for every entry of a BibTeX file."""
    entries = {}
    text = path.read_text(encoding="utf-8")
    for match in re.finditer(r"@\w+\s*\{\s*([^,\s]+)\s*,(.*?)\n\}", text, re.S):
        key, body = match.group(1), match.group(2)
        names = [
            n.strip()
            for n in re.split(r"\s+and\s+", _bib_field(body, "author"))
            if n.strip()
        ]
        last = [
            re.sub(r"[{}]", "", n.split(",")[0] if "," in n else n.split()[-1])
            for n in names
        ]
        if len(last) > 2:
            who = f"{last[0]} et al."
        elif len(last) == 2:
            who = f"{last[0]} and {last[1]}"
        else:
            who = last[0] if last else key
        entries[key] = (who, _bib_field(body, "year"))
    return entries


def colab_install_cell(config: dict) -> str:
    """The first code cell on Colab: install hmc_lite with the pinned versions."""
    url = config["repository"]["url"].rstrip("/")
    branch = config["repository"].get("branch", "main")
    owner_repo = url.split("github.com/", 1)[1]
    constraints = (
        f"https://raw.githubusercontent.com/{owner_repo}/{branch}/constraints.txt"
    )
    return (
        "import importlib.util, subprocess, sys\n"
        'if importlib.util.find_spec("hmc_lite") is None:  # e.g. on Colab\n'
        '    subprocess.run([sys.executable, "-m", "pip", "install", "-q",\n'
        f'                    "-c", "{constraints}", "myst-nb",\n'
        f'                    "hmc_lite @ git+{url}@{branch}"], check=True)'
    )


# --------------------------------------------------------------------------------------
# Numbers and titles of every label in the book


def _text(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def toc_pages(root: Path = ROOT) -> list[Path]:
    """The book's pages in table-of-contents order (notebooks and Markdown files)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part.get("chapters", [])]
    pages = []
    for name in files:
        for ext in (".ipynb", ".md"):
            if (root / (name + ext)).exists():
                pages.append(root / (name + ext))
    return pages


def page_prefix(path: Path, appendices: list[Path]) -> str:
    """'4.' for book/04_local_error, 'A.' for the first appendix, '' for other pages."""
    match = re.match(r"(\d+)_", path.name)
    if match:
        return f"{int(match.group(1))}."
    if path in appendices:
        return f"{chr(ord('A') + appendices.index(path))}."
    return ""


def _markdown_of(path: Path) -> str:
    if path.suffix == ".md":
        return path.read_text(encoding="utf-8")
    nb = json.loads(path.read_text(encoding="utf-8"))
    return "\n\n".join(_text(c) for c in nb["cells"] if c["cell_type"] == "markdown")


def _strip_roles(text: str) -> str:
    return ROLE.sub(lambda m: m.group("text").split("<")[0].strip(), text).strip()


def label_index(pages: list[Path]) -> dict[str, str]:
    """label -> how the book prints a reference ("Figure 6.1", "Chapter 2, *Title*")."""
    appendices = [p for p in pages if p.stem.startswith("appendix_")]
    index: dict[str, str] = {}
    for path in pages:
        prefix = page_prefix(path, appendices)
        counters: dict[str, int] = {}

        def number(kind: str) -> str:
            counters[kind] = counters.get(kind, 0) + 1
            return f"{prefix}{counters[kind]}"

        lines = _markdown_of(path).splitlines()
        pending = None
        for i, line in enumerate(lines):
            label = LABEL_LINE.match(line)
            if label:
                pending = label.group(1)
                continue
            heading = re.match(r"^(#+)\s+(.*)$", line)
            if heading and pending:
                title = _strip_roles(heading.group(2))
                if len(heading.group(1)) == 1:
                    chapter = re.match(r"^(\d+)\.\s+(.*)$", title)
                    appendix = re.match(r"^Appendix\s+([A-Z])[.:]?\s+(.*)$", title)
                    if chapter:
                        title = f"Chapter {chapter.group(1)}, *{chapter.group(2)}*"
                    elif not appendix:
                        title = f"*{title}*"
                else:
                    title = f"the section *{title}*"
                index[pending] = title
                pending = None
            elif line.strip():
                pending = None
            fence = FENCE_OPEN.match(line)
            if fence:
                name = fence.group("name")
                opts = {}
                for following in lines[i + 1 : i + 12]:
                    opt = OPTION.match(following)
                    if not opt:
                        break
                    opts[opt.group(1)] = opt.group(2)
                key = opts.get("label") or opts.get("name")
                if name.startswith("prf:") and name != "prf:proof":
                    kind = name[4:]
                    n = number(kind)
                    if key:
                        index[key] = f"{PROOF_NAMES.get(kind, kind.title())} {n}"
                elif name in ("glue:figure", "figure"):
                    n = number("figure")
                    if key:
                        index[key] = f"Figure {n}"
                elif name in ("list-table", "table", "csv-table"):
                    n = number("table")
                    if key:
                        index[key] = f"Table {n}"
                elif name == "exercise-start" or name == "exercise":
                    n = number("exercise")
                    if key:
                        index[key] = f"Exercise {n}"
            for eq in EQ_LABEL.finditer(line):
                index[eq.group("label")] = f"({number('equation')})"
    return index


# --------------------------------------------------------------------------------------
# Markdown: directives and roles


class Converter:
    """Turns the MyST Markdown of one page into plain Markdown."""

    def __init__(
        self,
        labels: dict[str, str],
        bib: dict[str, tuple[str, str]],
        table: dict[str, str],
    ):
        self.labels, self.bib, self.macros = labels, bib, table

    # roles
    def ref(self, text: str) -> str:
        explicit = re.match(r"^(.*?)\s*<([\w-]+)>$", text)
        if explicit:
            return explicit.group(1)
        return self.labels.get(text.strip(), text.strip())

    def cite(self, keys: str, textual: bool) -> str:
        parts = []
        for key in (k.strip() for k in keys.split(",")):
            who, year = self.bib.get(key, (key, ""))
            parts.append(f"{who} ({year})" if textual else f"{who}, {year}")
        return "; ".join(parts) if textual else "(" + "; ".join(parts) + ")"

    def roles(self, text: str, glued: list[str]) -> str:
        def replace(m: re.Match) -> str:
            role, body = m.group("role"), m.group("text")
            if role in ("numref", "ref", "prf:ref", "doc"):
                return self.ref(body)
            if role == "eq":
                return self.labels.get(body.strip(), body)
            if role in ("cite", "cite:p", "cite:ps"):
                return self.cite(body, textual=False)
            if role in ("cite:t", "cite:ts"):
                return self.cite(body, textual=True)
            if role.startswith("glue"):
                key = body.split(":")[0]
                glued.append(body)
                return GLUE_SLOT.format(key)
            if role == "math":
                return f"${body}$"
            return body

        return ROLE.sub(replace, text)

    # directives
    def convert(self, text: str, glued: list[str]) -> str:
        out: list[str] = []
        lines = text.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            if LABEL_LINE.match(line):
                i += 1
                continue
            fence = FENCE_OPEN.match(line)
            if not fence:
                out.append(line)
                i += 1
                continue
            mark, name, arg = (
                fence.group("fence"),
                fence.group("name"),
                fence.group("arg").strip(),
            )
            body, i = self._block(lines, i + 1, mark)
            opts, body = self._options(body)
            inner = self.convert("\n".join(body), glued)
            out.extend(self._directive(name, arg, opts, inner, glued).splitlines())
        text = "\n".join(out)
        text = EQ_LABEL.sub(
            lambda m: "\\tag{%s}\n$$"
            % self.labels.get(m.group("label"), "").strip("()"),
            text,
        )
        return expand_macros(self.roles(text, glued), self.macros)

    @staticmethod
    def _block(lines: list[str], i: int, mark: str) -> tuple[list[str], int]:
        body, depth = [], 0
        while i < len(lines):
            stripped = lines[i].strip()
            if (
                FENCE_OPEN.match(lines[i])
                and FENCE_OPEN.match(lines[i]).group("fence") == mark
            ):
                depth += 1
            elif stripped == mark:
                if depth == 0:
                    return body, i + 1
                depth -= 1
            body.append(lines[i])
            i += 1
        return body, i

    @staticmethod
    def _options(body: list[str]) -> tuple[dict[str, str], list[str]]:
        opts, k = {}, 0
        while k < len(body) and OPTION.match(body[k]):
            m = OPTION.match(body[k])
            opts[m.group(1)] = m.group(2)
            k += 1
        return opts, body[k:]

    def _directive(
        self, name: str, arg: str, opts: dict, inner: str, glued: list[str]
    ) -> str:
        title = self.roles(expand_macros(arg, self.macros), glued) if arg else ""
        key = opts.get("label") or opts.get("name") or ""
        if name.startswith("prf:"):
            kind = name[4:]
            if kind == "proof":
                return f"*Proof.* {inner.strip()} $\\square$\n"
            head = self.labels.get(key, PROOF_NAMES.get(kind, kind.title()))
            return (
                f"**{head}**"
                + (f" ({title})." if title else ".")
                + f" {inner.strip()}\n"
            )
        if name in ("exercise-start", "exercise"):
            head = self.labels.get(key, "Exercise")
            return f"### {head}: {title}\n\n{inner.strip()}\n"
        if name in ("exercise-end", "solution-start", "solution-end", "solution"):
            return ""
        if name in ("glue:figure", "figure"):
            head = self.labels.get(key, "Figure")
            return f"**{head}.** {inner.strip()}\n"
        if name == "list-table":
            return self._list_table(title, self.labels.get(key, "Table"), inner, opts)
        if name in (
            "admonition",
            "note",
            "tip",
            "warning",
            "important",
            "hint",
            "caution",
            "attention",
            "seealso",
            "dropdown",
            "margin",
            "sidebar",
            "topic",
        ):
            head = title or name.title()
            quoted = "\n".join(
                "> " + line if line else ">" for line in inner.strip().splitlines()
            )
            return f"> **{head}**\n>\n{quoted}\n"
        if name == "math":
            return f"$$\n{inner.strip()}\n$$\n"
        if name in ("code", "code-block", "code-cell"):
            return f"```{arg}\n{inner}\n```\n"
        return inner + "\n"

    def _list_table(self, caption: str, head: str, inner: str, opts: dict) -> str:
        rows: list[list[str]] = []
        for line in inner.splitlines():
            if line.startswith("* - "):
                rows.append([line[4:].strip()])
            elif line.startswith("  - ") and rows:
                rows[-1].append(line[4:].strip())
            elif line.startswith("    ") and rows and line.strip():
                rows[-1][-1] += " " + line.strip()
        if not rows:
            return inner
        width = max(len(r) for r in rows)
        rows = [r + [""] * (width - len(r)) for r in rows]
        header_rows = int(opts.get("header-rows", "0") or 0)
        table = [
            "| " + " | ".join(c.replace("|", "\\|") for c in rows[0]) + " |",
            "|" + "---|" * width,
        ]
        if header_rows == 0:
            table = ["|" + " |" * width, "|" + "---|" * width]
            body = rows
        else:
            body = rows[1:]
        table += [
            "| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in body
        ]
        return f"**{head}.** {caption}\n\n" + "\n".join(table) + "\n"


# --------------------------------------------------------------------------------------
# Notebooks


SETUP = """# Added for Colab: keeps the values the chapter "glues" into its text, to
# print them after each paragraph that quotes them (the book shows them in place).
import myst_nb

_GLUED = {}
_glue = myst_nb.glue


def _keep_glue(name, variable, display=True):
    _GLUED[name] = variable
    return _glue(name, variable, display=display)


def _show_glued(*keys):
    for key in keys:
        name, _, fmt = key.partition(":")
        if name in _GLUED:
            value = _GLUED[name]
            print(f"⟨{name}⟩ =", format(value, fmt) if fmt else value)
        else:
            print(f"⟨{name}⟩: computed below")


myst_nb.glue = _keep_glue"""


def _code(cell_id: str, source: str, metadata: dict | None = None) -> dict:
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": cell_id,
        "metadata": metadata or {},
        "outputs": [],
        "source": source.splitlines(keepends=True),
    }


def _after_solution(text: str) -> str:
    """The Markdown after the closing fence of a ``{solution-end}`` directive."""
    rest = text.split("```{solution-end}", 1)[1]
    lines = rest.splitlines(keepends=True)
    for k, line in enumerate(lines[1:], start=1):
        if line.strip() == "```":
            return "".join(lines[k + 1 :])
    return ""


def book_page_url(config: dict, name: str) -> str:
    """Where GitHub Pages publishes the page of notebook ``name`` (deploy workflow)."""
    owner, repo = (
        config["repository"]["url"].rstrip("/").split("github.com/", 1)[1].split("/")
    )
    return f"https://{owner.lower()}.github.io/{repo}/book/{name}.html"


def convert_notebook(
    nb: dict, converter: Converter, install: str, page_url: str = ""
) -> dict:
    """The Colab version of one notebook (``page_url``: its page in the online book)."""
    out = copy.deepcopy(nb)
    cells: list[dict] = []
    in_solution = False
    setup_done = False
    waiting: list[dict] = []  # glue printers met before the set-up cell exists
    for cell in nb["cells"]:
        text = _text(cell)
        tags = cell.get("metadata", {}).get("tags", [])
        if cell["cell_type"] == "markdown":
            starts, ends = "{solution-start}" in text, "{solution-end}" in text
            if starts or ends or in_solution:
                kept = text.split("```{solution-start}")[0] if starts else ""
                in_solution = in_solution or starts
                if ends:
                    kept += _after_solution(text)
                    in_solution = False
                if not kept.strip():
                    continue
                text = kept
            glued: list[str] = []
            markdown = converter.convert(text, glued).strip()
            if markdown:
                new = {
                    "cell_type": "markdown",
                    "id": cell["id"],
                    "metadata": {},
                    "source": markdown.splitlines(keepends=True),
                }
                cells.append(new)
            if glued:
                keys = ", ".join(json.dumps(k) for k in dict.fromkeys(glued))
                (cells if setup_done else waiting).append(
                    _code(
                        cell["id"] + "-glued",
                        f"_show_glued({keys})",
                        {"cellView": "form"},
                    )
                )
            continue
        if in_solution:
            continue
        new = copy.deepcopy(cell)
        new["outputs"], new["execution_count"] = [], None
        new["metadata"] = {}
        if 'find_spec("hmc_lite") is None' in text:
            new["source"] = install.splitlines(keepends=True)
            cells.append(new)
            cells.append(_code("colab-glue-setup", SETUP, {"cellView": "form"}))
            cells.extend(waiting)
            setup_done, waiting = True, []
            continue
        if {"remove-cell", "hide-input", "remove-input"} & set(tags):
            title = (
                "Hidden in the online book" if "remove-cell" in tags else "Show code"
            )
            new["source"] = (f"#@title {title}\n" + text).splitlines(keepends=True)
            new["metadata"] = {"cellView": "form"}
        cells.append(new)
    if not setup_done and waiting:  # no install cell: set up first, then print
        cells[:0] = [_code("colab-glue-setup", SETUP, {"cellView": "form"})] + waiting
    if page_url:  # after the title
        note = {
            "cell_type": "markdown",
            "id": "colab-note",
            "metadata": {},
            "source": [
                "*This notebook is generated from a page of [the online "
                f"book]({page_url}) for Colab and Jupyter: the solutions of the "
                "exercises are in the book, and the numbers quoted in the text "
                "(⟨...⟩) are printed by the code as it runs.*"
            ],
        }
        first = next(
            (k for k, c in enumerate(cells) if c["cell_type"] == "markdown"), -1
        )
        cells.insert(first + 1, note)
    out["cells"] = cells
    meta = out.setdefault("metadata", {})
    meta["colab"] = {"provenance": [], "toc_visible": True}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "pages", nargs="*", type=Path, help="notebooks (default: every page)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "colab")
    args = parser.parse_args(argv)
    config = load_config()
    pages = toc_pages()
    converter = Converter(
        label_index(pages),
        load_bibliography(ROOT / "book" / "references.bib"),
        macros(config),
    )
    install = colab_install_cell(config)
    chosen = args.pages or [p for p in pages if p.suffix == ".ipynb"]
    args.out.mkdir(parents=True, exist_ok=True)
    for path in chosen:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
        result = convert_notebook(
            nb, converter, install, book_page_url(config, Path(path).stem)
        )
        (args.out / Path(path).name).write_text(
            json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    print(f"{len(chosen)} notebooks for Colab in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
