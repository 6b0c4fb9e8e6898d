"""Re-run chapters with other seeds and record which of their checked claims still hold.

Usage:
    python tools/robustness.py # every chapter of _toc.yml, seeds 1..5 python
    tools/robustness.py book/02_leapfrog.ipynb --seeds 1 2 3 python tools/robustness.py
    --seeds 6 7 8 --out /tmp/held_out.json

Why: a chapter runs with ``SEED = 0``, but a fixed seed proves little. Another processor
rounds differently, and chaotic HMC trajectories turn a last-bit difference into what
is, in effect, a different seed. A claim of the book (checked by an ``assert`` in a
hidden cell) should therefore hold for every seed; re-seeding is a cheap stand-in for
other machines.

How: each chapter has one code cell tagged ``parameters`` (papermill's convention) that
sets ``SEED = 0``. For every seed k the tool inserts, right after it, a code cell
``SEED = k`` tagged ``injected-parameters`` and executes the notebook with nbclient
(``allow_errors``, working directory the notebook's folder, ``MPLBACKEND=Agg``).
Chapters without a parameters cell are reported as such and not run.

What is recorded, per chapter and seed: every hidden assert cell (a code cell tagged
``remove-cell`` whose source contains ``assert``), identified by its cell id and its
first assert line, is

- ``held``: the cell ran without an error;
- ``failed``: the cell raised (the error's last line is kept);
- ``not reached``: the cell was never executed (the kernel died or timed out first), or
  it raised a ``NameError`` after an earlier cell had already failed: it could not check
  anything because the quantities it tests were never computed. (A ``NameError`` with
  no earlier error is a bug in the assert cell and counts as ``failed``.)

Errors in other cells, output written to stderr (the strict build rejects it) and the
chapter's run time are recorded too. Results are merged into ``results/robustness.json``
(``--out``): entries of other chapters are kept, and runs of the same chapter with other
seeds are kept as long as the chapter's code is unchanged (same hash of its code cells).
Each chapter entry carries the date, the machine (platform, processor, CPU count) and
the versions of Python, numpy, scipy, autograd and matplotlib of its sweep.

Exit code: 1 if any assert failed or any cell raised an error, 0 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime as _dt
import hashlib
import json
import os
import pathlib
import platform
import re
import sys
import time
from importlib import metadata
from typing import Any

import nbformat
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "results" / "robustness.json"
DEFAULT_SEEDS = [1, 2, 3, 4, 5]
FORMAT_VERSION = 1
PACKAGES = ("numpy", "scipy", "autograd", "matplotlib")


# --- notebooks
# ------------------------------------------------------------------------------


def toc_notebooks(root: pathlib.Path = ROOT) -> list[pathlib.Path]:
    """The notebooks listed in ``_toc.yml``, in book order (Markdown pages are skipped).
    """
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    entries = [toc["root"]]
    for part in toc.get("parts", []):
        entries += [c["file"] for c in part.get("chapters", [])]
    return [root / f"{e}.ipynb" for e in entries if (root / f"{e}.ipynb").exists()]


def _tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def assert_cells(nb: Any) -> list[dict[str, Any]]:
    """Hidden assert cells: code cells tagged remove-cell whose source contains
    ``assert``."""
    found = []
    for index, cell in enumerate(nb.cells):
        if (
            cell.cell_type == "code"
            and "remove-cell" in _tags(cell)
            and "assert" in cell.source
        ):
            first = next(
                (ln.strip() for ln in cell.source.splitlines() if "assert" in ln), ""
            )
            found.append({"cell_id": cell.get("id", f"cell-{index}"), "index": index,
                          "first_assert": first[:200]})
    return found


def parameters_index(nb: Any) -> int | None:
    """Index of the first code cell tagged ``parameters``, or None."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "parameters" in _tags(cell):
            return index
    return None


def code_hash(nb: Any) -> str:
    """A hash of the code cells' sources: runs of different code are not merged."""
    h = hashlib.sha256()
    for cell in nb.cells:
        if cell.cell_type == "code" and "injected-parameters" not in _tags(cell):
            h.update(cell.source.encode())
            h.update(b"\0")
    return h.hexdigest()[:16]


def inject_seed(nb: Any, seed: int) -> Any:
    """A copy of ``nb`` with ``SEED = seed`` injected right after its parameters cell.
    """
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if "injected-parameters" not in _tags(c)]
    index = parameters_index(nb)
    if index is None:
        raise ValueError("the notebook has no cell tagged 'parameters'")
    cell = nbformat.v4.new_code_cell(
        f"# Parameters injected by tools/robustness.py\nSEED = {seed}",
        metadata={"tags": ["injected-parameters"]},
    )
    nb.cells.insert(index + 1, cell)
    return nb


def _error_line(out: Any) -> str:
    text = f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".strip()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return (lines[-1] if lines else text)[:300]


def _cell_error(cell: Any) -> Any | None:
    return next(
        (o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None
    )


def classify(
    nb: Any,
) -> tuple[dict[str, dict[str, str]], list[dict[str, Any]], list[str]]:
    """Statuses of the assert cells of an executed notebook, other errors, stderr cells.
    """
    statuses: dict[str, dict[str, str]] = {}
    errors: list[dict[str, Any]] = []
    stderr: list[str] = []
    earlier_error = False
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        cid = cell.get("id", f"cell-{index}")
        is_assert = "remove-cell" in _tags(cell) and "assert" in cell.source
        err = _cell_error(cell)
        if any(o.get("output_type") == "stream" and o.get("name") == "stderr"
               for o in cell.get("outputs", [])):
            stderr.append(cid)
        if is_assert:
            if err is not None:
                if err.get("ename") == "NameError" and earlier_error:
                    statuses[cid] = {"status": "not reached", "error": _error_line(err)}
                else:
                    statuses[cid] = {"status": "failed", "error": _error_line(err)}
            elif cell.get("execution_count") is None:
                statuses[cid] = {"status": "not reached"}
            else:
                statuses[cid] = {"status": "held"}
        elif err is not None:
            errors.append({"cell_id": cid, "index": index, "error": _error_line(err)})
        if err is not None:
            earlier_error = True
    return statuses, errors, stderr


def run_notebook(path: pathlib.Path, seed: int, timeout: int = 900) -> dict[str, Any]:
    """Execute ``path`` with ``SEED = seed``; return statuses, errors and run time."""
    from nbclient import NotebookClient

    nb = inject_seed(nbformat.read(path, as_version=4), seed)
    os.environ["MPLBACKEND"] = "Agg"  # the kernel inherits the environment
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    crash = None
    try:
        client.execute()
    except Exception as err:  # timeout or dead kernel: the rest is "not reached"
        message = str(err).strip()
        last_line = message.splitlines()[-1] if message else ""
        crash = f"{type(err).__name__}: {last_line}"[:300]
    seconds = time.perf_counter() - start
    statuses, errors, stderr = classify(nb)
    run: dict[str, Any] = {"seconds": round(seconds, 1), "asserts": statuses}
    if errors:
        run["errors"] = errors
    if stderr:
        run["stderr"] = stderr
    if crash:
        run["crash"] = crash
    return run


# --- the environment and the results file
# -----------------------------------------------


def environment() -> tuple[dict[str, Any], dict[str, str]]:
    machine = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
    }
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return machine, versions


def _key(path: pathlib.Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return path.resolve().as_posix()


@contextlib.contextmanager
def _locked(out: pathlib.Path):
    """Hold an exclusive lock while reading, merging and writing the results file."""
    out.parent.mkdir(parents=True, exist_ok=True)
    lock = out.with_name(out.name + ".lock")
    with open(lock, "w") as handle:
        try:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
        except ImportError:  # not on POSIX: no lock
            pass
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                lock.unlink()


def merge(out: pathlib.Path, key: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Merge one chapter's entry into the file at ``out`` and return the whole payload.
    """
    with _locked(out):
        payload: dict[str, Any] = {}
        if out.exists():
            try:
                payload = json.loads(out.read_text())
            except json.JSONDecodeError:
                payload = {}
        chapters = payload.get("chapters", {})
        old = chapters.get(key)
        if old and old.get("code_hash") == entry.get("code_hash"):
            runs = dict(old.get("runs", {}))
            runs.update(entry.get("runs", {}))
            entry = dict(
                entry, runs=dict(sorted(runs.items(), key=lambda kv: int(kv[0])))
            )
        chapters[key] = entry
        payload = {
            "format": FORMAT_VERSION,
            "tool": "tools/robustness.py",
            "updated": entry["date"],
            "chapters": dict(sorted(chapters.items())),
        }
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(json.dumps(payload, indent=1) + "\n")
        os.replace(tmp, out)
    return payload


def sweep_chapter(path: pathlib.Path, seeds: list[int], timeout: int) -> dict[str, Any]:
    nb = nbformat.read(path, as_version=4)
    machine, versions = environment()
    entry: dict[str, Any] = {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine,
        "versions": versions,
        "code_hash": code_hash(nb),
        "parameters_cell": parameters_index(nb) is not None,
        "asserts": assert_cells(nb),
        "runs": {},
    }
    if not entry["parameters_cell"]:
        print(f"{_key(path)}: no cell tagged 'parameters'; not run", flush=True)
        return entry
    for seed in seeds:
        run = run_notebook(path, seed, timeout)
        entry["runs"][str(seed)] = run
        counts = {s: sum(v["status"] == s for v in run["asserts"].values())
                  for s in ("held", "failed", "not reached")}
        print(
            f"{_key(path)} seed {seed}: {counts['held']} held, {counts['failed']} "
            "failed, "
            f"{counts['not reached']} not reached; {run['seconds']:.1f} s",
            flush=True,
        )
        first = {a["cell_id"]: a["first_assert"] for a in entry["asserts"]}
        for cid, v in run["asserts"].items():
            if v["status"] != "held":
                print(
                    f"    {v['status']}: cell {cid} ({first.get(cid, '')}): "
                    f"{v.get('error', '')}",
                    flush=True,
                )
        for e in run.get("errors", []):
            print(f"    error in cell {e['cell_id']}: {e['error']}", flush=True)
        for cid in run.get("stderr", []):
            print(f"    stderr output in cell {cid}", flush=True)
        if "crash" in run:
            print(f"    execution stopped: {run['crash']}", flush=True)
    return entry


def run_failed(run: dict[str, Any]) -> bool:
    return bool(run.get("errors") or run.get("crash")
                or any(v["status"] == "failed" for v in run["asserts"].values()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path,
                        help="chapters to sweep (default: every notebook in _toc.yml)")
    parser.add_argument("--seeds", nargs="+", type=int, default=DEFAULT_SEEDS,
                        help="seeds to inject (default: 1 2 3 4 5)")
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT,
                        help=f"results file (default: {DEFAULT_OUT.relative_to(ROOT)})")
    parser.add_argument(
        "--timeout", type=int, default=900, help="seconds per cell (default 900)"
    )
    args = parser.parse_args(argv)
    notebooks = args.notebooks or toc_notebooks()
    bad = False
    for path in notebooks:
        if not path.exists():
            print(f"{path}: no such notebook", file=sys.stderr)
            bad = True
            continue
        entry = sweep_chapter(path, args.seeds, args.timeout)
        merge(args.out, _key(path), entry)
        bad |= any(run_failed(r) for r in entry["runs"].values())
    print(f"results merged into {args.out}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
