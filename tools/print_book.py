"""The printable edition: the whole book as one PDF (``make pdf``).

Usage: python tools/print_book.py [--out _build/book.pdf] [--browser chromium]

Builds the book as one HTML page (``tools/build_book.py --builder singlehtml``: the
chapters are executed only where the execution cache does not hold them, so after
``make book`` this only renders) and prints that page with a headless Chromium or
Google Chrome, which must be installed (``apt install chromium``; GitHub's runners have
Chrome). The page is served on a local port while it prints. The mathematics is typeset
by MathJax, which the page loads from its CDN: without internet access the PDF shows the
LaTeX source of the formulas instead, so the deploy workflow, not the test suite, makes
the published PDF.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import pathlib
import shutil
import subprocess
import sys
import tempfile
import threading

ROOT = pathlib.Path(__file__).resolve().parents[1]
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# virtual time the browser gives the page (MathJax) before printing
MATHJAX_SECONDS = 60


def find_browser(name: str | None) -> str:
    """The browser to print with: ``name`` if given, else the first of BROWSERS found.
    """
    for candidate in (name,) if name else BROWSERS:
        path = shutil.which(candidate)
        if path:
            return path
    raise SystemExit("print_book: no Chromium or Chrome found (tried "
                     f"{', '.join((name,) if name else BROWSERS)}); install one, "
                     "e.g. `apt install chromium`, or pass --browser")


@contextlib.contextmanager
def serve(folder: pathlib.Path):
    """Serve ``folder`` over HTTP on a free local port; yield the base address."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base's name
        pass


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "_build" / "book.pdf"),
                        help="the PDF to write (default: _build/book.pdf)")
    parser.add_argument(
        "--browser",
        default=None,
        help="Chromium or Chrome executable (default: the first found of "
        + ", ".join(BROWSERS)
        + ")",
    )
    args = parser.parse_args(argv)
    browser = find_browser(args.browser)
    build = subprocess.run([sys.executable, str(ROOT / "tools" / "build_book.py"),
                            str(ROOT), "--builder", "singlehtml"], cwd=ROOT)
    if build.returncode != 0:
        return build.returncode
    site = ROOT / "_build" / "singlehtml"
    # The root page is book/intro, but the one-page build keeps _static and _images at
    # the top of the site and links them relative to it: make them reachable from book/
    # too.
    for name in ("_static", "_images"):
        link = site / "book" / name
        if not link.exists() and (site / name).exists():
            link.symlink_to(pathlib.Path("..") / name)
    out = pathlib.Path(args.out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with serve(site) as base, tempfile.TemporaryDirectory() as profile:
        cmd = [
            browser,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--virtual-time-budget={MATHJAX_SECONDS * 1000}",
            f"--print-to-pdf={out}",
            f"{base}/book/intro.html",
        ]
        printed = subprocess.run(cmd, capture_output=True, text=True)
    if printed.returncode != 0 or not out.exists() or out.stat().st_size == 0:
        print(printed.stderr, file=sys.stderr)
        print("print_book: the browser did not write the PDF", file=sys.stderr)
        return 1
    print(f"Wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
