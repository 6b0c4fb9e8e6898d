"""Write the student edition of the chapters: the same notebooks without the solutions.

    python tools/student.py                       # every chapter with exercises
    python tools/student.py book/02_leapfrog.ipynb book/10_conclusions.ipynb --out DIR

For each chapter it writes two notebooks (default folder ``_build/student``):

``<chapter>.ipynb``, the **student edition** (nbgrader's "release" version):
    every cell between a ``{solution-start}`` and its ``{solution-end}`` is removed, and
    each exercise gets, after its statement, answer cells in the nbgrader convention:
    the graded function with its body replaced by nbgrader's stub (``# YOUR CODE HERE``
    / ``raise NotImplementedError()``), the locked check cell that grades it, a Markdown
    cell ``YOUR ANSWER HERE`` for a written answer and a code cell ``# YOUR CODE HERE``
    for ungraded code. The check cell of a stub fails; it is tagged ``raises-exception``
    so the notebook still executes top to bottom (nbclient, nbval and ``jupyter
    nbconvert --execute`` go on past it; nbgrader's autograder records the failure as
    zero points).

``source/<chapter>.ipynb``, the **instructor source** for nbgrader (``nbgrader
generate_assignment`` turns it into the student edition): the same cells with the
solutions in place, code between ``### BEGIN SOLUTION`` and ``### END SOLUTION``.

The chapters mark their exercises as the book's house style asks (CONTRIBUTING.md):
statement and solution in separate Markdown cells tagged ``exercise`` and ``solution``,
the graded function in a code cell tagged ``graded-answer`` and its check in a cell
tagged ``graded-check``, both with nbgrader metadata (``grade_id``, ``points``).
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(
    r"^```\{(solution-start|solution-end)\}[^\n]*\n"
    r"(?:(?!```)[^\n]*\n)*?```[^\n]*(?:\n|$)",
    re.M,
)
SOLUTION_REGION = re.compile(r"( *)### BEGIN SOLUTION\n.*?### END SOLUTION *", re.S)
TEXT_STUB = "YOUR ANSWER HERE"
FUNCTION_STUB = "# YOUR CODE HERE\n{indent}raise NotImplementedError()"
CODE_STUB = "# YOUR CODE HERE"


def _source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def _set_source(cell: dict, text: str) -> None:
    lines = text.splitlines(keepends=True)
    cell["source"] = lines


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def _nbgrader(grade_id: str, *, solution: bool, grade: bool, points: int = 0) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": not solution,
        "schema_version": 3,
        "solution": solution,
    }
    if grade:
        meta["points"] = points
    return meta


def _code_cell(cell_id: str, text: str, metadata: dict) -> dict:
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "id": cell_id,
        "metadata": metadata,
        "outputs": [],
        "source": [],
    }
    _set_source(cell, text)
    return cell


def _markdown_cell(cell_id: str, text: str, metadata: dict) -> dict:
    cell = {"cell_type": "markdown", "id": cell_id, "metadata": metadata, "source": []}
    _set_source(cell, text)
    return cell


def stub_function(text: str) -> str:
    """Replace each ``### BEGIN/END SOLUTION`` region by nbgrader's stub."""
    return SOLUTION_REGION.sub(
        lambda m: m.group(1) + FUNCTION_STUB.format(indent=m.group(1)), text
    )


def _graded(cell: dict, *, release: bool) -> dict:
    """A graded-answer or graded-check cell as in the student or the source edition."""
    out = copy.deepcopy(cell)
    out["outputs"], out["execution_count"] = [], None
    tags = [
        t for t in _tags(cell) if t not in ("remove-cell", "remove-input", "hide-input")
    ]
    if release and "graded-check" in tags:
        tags.append(
            "raises-exception"
        )  # fails until the answer is written; execution goes on
    out["metadata"]["tags"] = tags
    if release and "graded-answer" in tags:
        _set_source(out, stub_function(_source(cell)))
    return out


def convert(nb: dict, *, release: bool) -> dict:
    """The student edition (``release=True``) or the nbgrader source of one chapter."""
    out = copy.deepcopy(nb)
    cells: list[dict] = []
    label = None  # the exercise whose solution we are in, if any
    prose: list[str] = []
    code: list[str] = []
    for cell in nb["cells"]:
        text = _source(cell)
        if cell["cell_type"] == "markdown" and (
            "{solution-start}" in text or "{solution-end}" in text
        ):
            start = re.search(r"\{solution-start\}\s+(\S+)", text)
            if start:
                label, prose, code = start.group(1), [], []
            ends = "{solution-end}" in text
            before, _, after = (
                text.partition("```{solution-end}") if ends else (text, "", "")
            )
            body = FENCE.sub("", before).strip()
            if body:
                prose.append(body)
            if ends:
                cells.extend(_answer_cells(label, prose, code, release=release))
                label = None
                rest = FENCE.sub("", "```{solution-end}" + after).strip()
                if rest:  # text after the end of the solution belongs to the chapter
                    cells.append(_markdown_cell(cell["id"] + "-after", rest, {}))
            continue
        if {"graded-answer", "graded-check"} & set(_tags(cell)):
            cells.append(_graded(cell, release=release))
            continue
        if label is not None:  # inside a solution
            if cell["cell_type"] == "markdown":
                prose.append(text.strip())
            elif cell["cell_type"] == "code":
                code.append(text.strip())
            continue
        kept = copy.deepcopy(cell)
        if kept["cell_type"] == "code":
            kept["outputs"], kept["execution_count"] = [], None
        cells.append(kept)
    if label is not None:
        raise ValueError(f"the solution of {label} has no {{solution-end}}")
    out["cells"] = cells
    return out


def _answer_cells(
    label: str, prose: list[str], code: list[str], *, release: bool
) -> list[dict]:
    """The cells where a student writes the answer to exercise ``label``."""
    cells = []
    if prose:
        text = TEXT_STUB if release else "\n\n".join(prose)
        cells.append(
            _markdown_cell(
                f"{label}-answer",
                text,
                {
                    "nbgrader": _nbgrader(
                        f"{label}-answer", solution=True, grade=True, points=1
                    )
                },
            )
        )
    if code:
        text = (
            CODE_STUB
            if release
            else ("### BEGIN SOLUTION\n" + "\n\n".join(code) + "\n### END SOLUTION")
        )
        cells.append(
            _code_cell(
                f"{label}-code",
                text,
                {"nbgrader": _nbgrader(f"{label}-code", solution=True, grade=False)},
            )
        )
    return cells


def chapters_with_exercises(book: Path) -> list[Path]:
    """Every chapter notebook of ``book`` that has an exercise."""
    return [
        p
        for p in sorted(book.glob("[0-9][0-9]_*.ipynb"))
        if "{exercise-start}" in p.read_text(encoding="utf-8")
    ]


def write(nb: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "chapters",
        nargs="*",
        type=Path,
        help="chapter notebooks (default: every chapter with exercises)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "_build" / "student",
        help="output folder (default: _build/student)",
    )
    args = parser.parse_args(argv)
    chapters = args.chapters or chapters_with_exercises(ROOT / "book")
    for path in chapters:
        nb = json.loads(path.read_text(encoding="utf-8"))
        write(convert(nb, release=True), args.out / path.name)
        write(convert(nb, release=False), args.out / "source" / path.name)
    print(
        f"student edition of {len(chapters)} chapters in {args.out} "
        f"(nbgrader source in {args.out / 'source'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
