"""Execute chapters as the book build does and report run time, stderr and errors.

Usage: python tools/check_notebook.py book/02_leapfrog.ipynb [more.ipynb ...]

Prints one line per notebook: seconds, and any output written to stderr or any
warning, which the strict build would reject. Exits non-zero if a notebook fails,
writes to stderr or takes longer than the per-chapter budget (120 s).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

BUDGET_SECONDS = 120


def check(path: Path) -> bool:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    try:
        client.execute()
    except Exception as err:  # report and go on to the next notebook
        print(f"FAIL {path}: {str(err)[-2000:]}")
        return False
    seconds = time.perf_counter() - start
    problems = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                problems.append(f"cell {i}: stderr: {out.get('text', '')[:500]}")
    ok = not problems and seconds <= BUDGET_SECONDS
    print(f"{'ok  ' if ok else 'FAIL'} {path}: {seconds:.1f} s")
    for p in problems:
        print("   ", p)
    return ok


if __name__ == "__main__":
    results = [check(Path(p)) for p in sys.argv[1:]]
    sys.exit(0 if all(results) else 1)
