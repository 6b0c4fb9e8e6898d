"""The student edition (tools/student.py, `make student`) end to end.

Chapters 1 and 2 (the coursework example of book/instructors.md) are turned into student
notebooks, a correct and a wrong answer are written into the graded cell, and the
notebooks are executed with nbclient: the check passes for the correct answer and fails,
with a hint, for the wrong one; an untouched student notebook still runs top to bottom.
And no solution text of any chapter remains in its student notebook.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import student  # noqa: E402 - tools/ is not a package

STUB = "# YOUR CODE HERE\n    raise NotImplementedError()"

ANSWERS = {  # chapter: (correct body, wrong body, words of the hint for the wrong one)
    "02_leapfrog": (
        """p = p - 0.5 * eps * grad_U(q)
    for i in range(L):
        q = q + eps * p
        p = p - (eps if i < L - 1 else 0.5 * eps) * grad_U(q)
    return q, p""",
        """for _ in range(L):  # two gradients per step
        p = p - 0.5 * eps * grad_U(q)
        q = q + eps * p
        p = p - 0.5 * eps * grad_U(q)
    return q, p""",
        "gradient evaluations",
    ),
    "01_hamiltonian_dynamics": (
        """for _ in range(L):
        p = p - eps * grad_U(q)
        q = q + eps * p
    return q, p""",
        """for _ in range(L):  # drift before kick
        q = q + eps * p
        p = p - eps * grad_U(q)
    return q, p""",
        "the order of the sub-steps",
    ),
}


def _text(cell: dict) -> str:
    return "".join(cell["source"])


def _cell(nb: dict, tag: str) -> dict:
    (cell,) = [c for c in nb["cells"] if tag in c["metadata"].get("tags", [])]
    return cell


def _client(nb: dict):
    """An nbclient client for ``nb`` (a copy) and the copy it executes."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    node = nbformat.reads(json.dumps(nb), as_version=4)
    client = nbclient.NotebookClient(
        node,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT / "book")}},
    )
    return client, node


def _as_dict(cell) -> dict:
    return json.loads(json.dumps(cell))


def _execute(nb: dict) -> dict:
    nbformat = pytest.importorskip("nbformat")
    client, node = _client(nb)
    client.execute()
    return json.loads(nbformat.writes(node))


def _execute_answers(nb: dict, bodies: list[str]) -> tuple[list[dict], list[dict]]:
    """Execute ``nb`` in one kernel, as a student trying answers in turn would.

    The cells before the graded answer run once; then, for each body in ``bodies``,
    the answer cell with that body (in place of the stub) and the check cell; then
    the cells after the check, with the last body in place. Returns the check cell
    after each body and every other cell as executed.
    """
    client, node = _client(nb)
    tags = [c["metadata"].get("tags", []) for c in node.cells]
    answer = next(i for i, t in enumerate(tags) if "graded-answer" in t)
    check = next(i for i, t in enumerate(tags) if "graded-check" in t)
    assert answer < check
    stub = node.cells[answer].source
    checks, others = [], []
    with client.setup_kernel():
        for index in range(answer):
            others.append(_as_dict(client.execute_cell(node.cells[index], index)))
        for body in bodies:
            node.cells[answer].source = stub.replace(STUB, body)
            for index in range(answer, check):
                cell = _as_dict(client.execute_cell(node.cells[index], index))
                if index > answer:  # cells between the answer and its check
                    others.append(cell)
            checks.append(_as_dict(client.execute_cell(node.cells[check], check)))
        for index in range(check + 1, len(node.cells)):
            others.append(_as_dict(client.execute_cell(node.cells[index], index)))
    return checks, others


def _errors(cell: dict) -> list[dict]:
    return [o for o in cell.get("outputs", []) if o["output_type"] == "error"]


@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("student")
    assert student.main(["--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("chapter", sorted(ANSWERS))
def test_checks_pass_a_correct_answer_and_fail_a_wrong_one(edition, chapter):
    nb = json.loads((edition / f"{chapter}.ipynb").read_text(encoding="utf-8"))
    answer = _cell(nb, "graded-answer")
    assert STUB in _text(answer) and "BEGIN SOLUTION" not in _text(answer)
    correct, wrong, hint = ANSWERS[chapter]
    # the wrong answer first, then the correct one, in one kernel: the correct answer
    # is what the rest of the chapter then runs with
    (failed, passed), others = _execute_answers(nb, [wrong, correct])
    other = [e for c in others for e in _errors(c)]
    assert not other, other  # the rest of the chapter runs
    assert not _errors(passed), _errors(passed)
    (error,) = _errors(failed)
    assert error["ename"] == "AssertionError" and hint in error["evalue"], error


def test_an_untouched_student_notebook_runs_top_to_bottom(edition):
    nb = json.loads(
        (edition / "01_hamiltonian_dynamics.ipynb").read_text(encoding="utf-8")
    )
    done = _execute(nb)
    errors = {c["id"]: _errors(c) for c in done["cells"] if _errors(c)}
    assert list(errors) == ["ch01-graded-check"], errors
    assert "not implemented yet" in errors["ch01-graded-check"][0]["evalue"]
    runtime = done["cells"][-1]
    assert runtime["cell_type"] == "code" and "runtime" in _text(
        runtime
    )  # reached the end


def _solution_lines(nb: dict) -> set[str]:
    """Lines (25 characters or more) that appear only in the solutions of a chapter."""
    inside, outside, in_solution = set(), set(), False
    for cell in nb["cells"]:
        text = _text(cell)
        if "{solution-start}" in text:
            in_solution = True
        if "graded-answer" in cell["metadata"].get("tags", []):
            region = re.search(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", text, re.S)
            outside.update(
                line.strip() for line in text.replace(region.group(0), "").splitlines()
            )
            lines, target = region.group(1).splitlines(), inside
        elif "graded-check" in cell["metadata"].get("tags", []):
            lines, target = text.splitlines(), outside
        else:
            lines, target = text.splitlines(), inside if in_solution else outside
        target.update(
            line.strip()
            for line in lines
            if len(line.strip()) >= 25 and not line.startswith("```")
        )
        if "{solution-end}" in text:
            in_solution = False
    return inside - outside


def test_no_solution_text_remains_in_any_student_notebook(edition):
    chapters = student.chapters_with_exercises(ROOT / "book")
    assert len(chapters) >= 11
    for path in chapters:
        book = json.loads(path.read_text(encoding="utf-8"))
        solutions = _solution_lines(book)
        assert len(solutions) > 5, path.name
        release = (edition / path.name).read_text(encoding="utf-8")
        nb = json.loads(release)
        text = "\n".join(_text(c) for c in nb["cells"])
        lines = {line.strip() for line in text.splitlines()}
        leaked = [line for line in solutions if line in lines]
        assert not leaked, (path.name, leaked[:3])
        for word in ("{solution-start}", "{solution-end}", "BEGIN SOLUTION"):
            assert word not in text, (path.name, word)
        ids = [c["id"] for c in nb["cells"]]
        assert len(ids) == len(set(ids)), path.name
        graded = [c for c in nb["cells"] if "nbgrader" in c["metadata"]]
        assert any(c["metadata"]["nbgrader"].get("points") for c in graded), path.name
        assert all(
            not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"
        )
        # the nbgrader source keeps the solutions, between the markers
        source = json.loads(
            (edition / "source" / path.name).read_text(encoding="utf-8")
        )
        source_text = "\n".join(_text(c) for c in source["cells"])
        assert all(line in source_text for line in solutions), path.name


def test_every_exercise_has_its_statement_and_solution_in_separate_tagged_cells():
    for path in student.chapters_with_exercises(ROOT / "book"):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            text, tags = _text(cell), cell["metadata"].get("tags", [])
            if "{exercise-start}" in text:
                assert "exercise" in tags and "{solution-" not in text, (
                    path.name,
                    cell["id"],
                )
            if "{solution-start}" in text or "{solution-end}" in text:
                assert "solution" in tags and "{exercise-" not in text, (
                    path.name,
                    cell["id"],
                )
        assert (
            sum("graded-check" in c["metadata"].get("tags", []) for c in nb["cells"])
            >= 1
        ), path.name
