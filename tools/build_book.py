"""Build the HTML book, and fail loudly if any chapter fails.

Usage: python tools/build_book.py [SOURCE] [extra jupyter-book build options]

Runs ``jupyter-book build SOURCE -W -n --keep-going`` (SOURCE defaults to the
repository root). Warnings are errors, so a chapter whose cell raises, a glue
key that was never computed or a cross-reference that does not resolve stops
the build with a non-zero exit instead of publishing a page with holes. When a
chapter fails to execute, the traceback report that MyST-NB writes (it names
the notebook and quotes the failing cell) is printed, then deleted so that it
is never published with the HTML.

Before the build, the notebooks that the execution cache does not hold yet are
executed ``--jobs`` at a time (default: one per CPU), longest first, into the
same cache (jupyter-cache, the one MyST-NB reads with ``execute_notebooks:
cache``); the build then only renders. Chapters are independent, so running
them side by side changes nothing but the wall-clock time. A notebook that
fails here is left out of the cache and executed again by the build, which
reports the failure as above. ``--jobs 1`` leaves all execution to the build.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import time

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
REPORT_LINES = 60


def _notebooks(source: pathlib.Path) -> list[pathlib.Path]:
    """The notebooks of the table of contents, in the order they appear."""
    toc = yaml.safe_load((source / "_toc.yml").read_text())
    names = [toc["root"]]
    for part in toc.get("parts", []):
        names += [chapter["file"] for chapter in part.get("chapters", [])]
    paths = [source / (n if n.endswith(".ipynb") else n + ".ipynb") for n in names]
    return [path for path in paths if path.exists()]


def _execute_one(args: tuple) -> tuple[str, int, float]:
    """Execute one project notebook of the cache; return (uri, status, seconds)."""
    from jupyter_cache.executors.basic import ExecutionWorkerLocalMProc, ProcessData

    pk, uri, cache, timeout = args
    start = time.perf_counter()
    status, _ = ExecutionWorkerLocalMProc()(ProcessData(pk, uri, cache, timeout, False))
    return uri, status, time.perf_counter() - start


def _run_times(source: pathlib.Path, cache) -> dict[str, float]:
    """Seconds each notebook took last time, to start the longest first.

    From the cache where it recorded a run, else from the seed sweeps of
    ``results/robustness.json`` (the median over seeds); unknown notebooks
    are absent and start first.
    """
    times: dict[str, float] = {}
    sweeps = source / "results" / "robustness.json"
    if sweeps.exists():
        chapters = json.loads(sweeps.read_text()).get("chapters", {})
        for name, entry in chapters.items():
            runs = [run["seconds"] for run in entry.get("runs", {}).values()
                    if isinstance(run.get("seconds"), (int, float))]
            if runs:
                times[str((source / name).resolve())] = statistics.median(runs)
    for record in cache.list_cache_records():
        seconds = record.data.get("execution_seconds")
        if isinstance(seconds, (int, float)):
            times[str(pathlib.Path(record.uri).resolve())] = seconds
    return times


def prefill_cache(source: pathlib.Path, output: pathlib.Path, jobs: int) -> None:
    """Execute, ``jobs`` at a time, the book's notebooks missing from the cache."""
    from jupyter_cache import get_cache

    config = yaml.safe_load((source / "_config.yml").read_text())
    execute = config.get("execute", {})
    if jobs < 2 or execute.get("execute_notebooks") != "cache":
        return
    timeout = int(execute.get("timeout", 30))
    cache = get_cache(str(output / "_build" / ".jupyter_cache"))
    seconds = _run_times(source, cache)
    todo = []
    for path in _notebooks(source):
        record = cache.add_nb_to_project(str(path))
        try:
            cache.match_cache_notebook(cache.get_project_notebook(record.pk).nb)
        except KeyError:
            todo.append((record.pk, record.uri, cache, timeout))
    if not todo:
        return
    todo.sort(key=lambda item: -seconds.get(str(pathlib.Path(item[1]).resolve()),
                                            float("inf")))
    print(f"Executing {len(todo)} notebooks, {jobs} at a time", flush=True)
    start = time.perf_counter()
    with multiprocessing.Pool(min(jobs, len(todo))) as pool:
        for uri, status, took in pool.imap_unordered(_execute_one, todo, chunksize=1):
            outcome = "executed" if status == 0 else "FAILED (the build will report it)"
            print(f"  {pathlib.Path(uri).name}: {outcome} in {took:.1f} s", flush=True)
    print(f"Executed in {time.perf_counter() - start:.1f} s", flush=True)


def _option(args: list[str], name: str) -> str | None:
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def main(argv: list[str]) -> int:
    source = argv[0] if argv and not argv[0].startswith("-") else str(ROOT)
    extra = argv[1:] if argv and not argv[0].startswith("-") else argv
    ours = argparse.ArgumentParser(add_help=False)
    ours.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    known, extra = ours.parse_known_args(extra)  # the rest goes to jupyter-book
    jobs = known.jobs
    output = pathlib.Path(_option(extra, "--path-output") or source)
    prefill_cache(pathlib.Path(source), output, jobs)
    jb = shutil.which("jupyter-book") or str(
        pathlib.Path(sys.executable).parent / "jupyter-book"
    )
    cmd = [jb, "build", source, "-W", "-n", "--keep-going", *extra]
    proc = subprocess.run(cmd, cwd=ROOT)
    out = pathlib.Path(_option(extra, "--path-output") or source)
    reports = out / "_build" / "html" / "reports"
    logs = sorted(reports.rglob("*.err.log")) if reports.exists() else []
    for log in logs:
        chapter = (
            log.relative_to(reports).as_posix().removesuffix(".err.log") + ".ipynb"
        )
        lines = log.read_text(errors="replace").splitlines()
        print(
            f"\n=== chapter {chapter} failed to execute; report {log.name}:",
            file=sys.stderr,
        )
        print("\n".join(lines[:REPORT_LINES]), file=sys.stderr)
        if len(lines) > REPORT_LINES:
            print(
                f"... ({len(lines) - REPORT_LINES} more lines in {log})",
                file=sys.stderr,
            )
    if reports.exists():
        # execution reports are for the developer, not the website
        shutil.rmtree(reports)
    if proc.returncode != 0 or logs:
        failed = ", ".join(
            log.relative_to(reports).as_posix().removesuffix(".err.log") for log in logs
        )
        print(
            "\nBOOK BUILD "
            f"FAILED{': chapters that did not execute: ' + failed if failed else ''}"
            " (warnings are errors; see above)",
            file=sys.stderr,
        )
        return proc.returncode or 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
