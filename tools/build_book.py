"""Build the HTML book, and fail loudly if any chapter fails.

Usage: python tools/build_book.py [SOURCE] [extra jupyter-book build options]

Runs ``jupyter-book build SOURCE -W -n --keep-going`` (SOURCE defaults to the
repository root). Warnings are errors, so a chapter whose cell raises, a glue
key that was never computed or a cross-reference that does not resolve stops
the build with a non-zero exit instead of publishing a page with holes. When a
chapter fails to execute, the traceback report that MyST-NB writes (it names
the notebook and quotes the failing cell) is printed, then deleted so that it
is never published with the HTML.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
REPORT_LINES = 60


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
    jb = shutil.which("jupyter-book") or str(pathlib.Path(sys.executable).parent / "jupyter-book")
    cmd = [jb, "build", source, "-W", "-n", "--keep-going", *extra]
    proc = subprocess.run(cmd, cwd=ROOT)
    out = pathlib.Path(_option(extra, "--path-output") or source)
    reports = out / "_build" / "html" / "reports"
    logs = sorted(reports.rglob("*.err.log")) if reports.exists() else []
    for log in logs:
        chapter = log.relative_to(reports).as_posix().removesuffix(".err.log") + ".ipynb"
        lines = log.read_text(errors="replace").splitlines()
        print(f"\n=== chapter {chapter} failed to execute; report {log.name}:", file=sys.stderr)
        print("\n".join(lines[:REPORT_LINES]), file=sys.stderr)
        if len(lines) > REPORT_LINES:
            print(f"... ({len(lines) - REPORT_LINES} more lines in {log})", file=sys.stderr)
    if reports.exists():
        shutil.rmtree(reports)  # execution reports are for the developer, not the website
    if proc.returncode != 0 or logs:
        failed = ", ".join(log.relative_to(reports).as_posix().removesuffix(".err.log") for log in logs)
        print(f"\nBOOK BUILD FAILED{': chapters that did not execute: ' + failed if failed else ''}"
              " (warnings are errors; see above)", file=sys.stderr)
        return proc.returncode or 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
