"""Run an experiment as independent pieces: in this process or on a Dask cluster,
resumably.

An experiment is cut into :class:`Piece` objects: a function and its arguments,
whose random numbers come from a seed of their own (never from a stream shared
with other pieces). The result of a piece therefore does not depend on where or
in which order it runs, and :func:`run_pieces` gives the same arrays whether
the pieces run one after the other here or in parallel on the workers of a
:class:`distributed.Client`.

Each finished piece is saved to a ``parts`` folder (one ``.npz`` file per piece,
written atomically), and a piece whose file is already there is read back
instead of run again: an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import json
import pathlib
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from .store import load_arrays, save_arrays

__all__ = [
    "Piece",
    "check_seed",
    "open_parts",
    "start_run",
    "run_pieces",
    "remove_parts",
]


class Piece(NamedTuple):
    """One independent unit of work of an experiment.

    Attributes
    ----------
    name:
        Unique within the experiment; also the file name (``name.npz``) in
        the parts folder.
    fn:
        A module-level function (so that Dask can send it to a worker) called
        as ``fn(*args, progress=...)``; it returns a dict of named arrays, and
        calls ``progress(n)`` as it does ``n`` chain-gradient evaluations of
        work (``progress`` is ``None`` on a cluster).
    args:
        Positional arguments; they must pickle.
    fields:
        Names of the arrays ``fn`` returns (to read a saved piece back).
    cost:
        Chain-gradient evaluations the piece reports through ``progress``.
    """

    name: str
    fn: Callable[..., dict[str, np.ndarray]]
    args: tuple
    fields: tuple[str, ...]
    cost: int


def open_parts(folder: str | pathlib.Path, run: dict[str, Any]) -> pathlib.Path:
    """Create (or reopen) the parts folder of a run described by ``run``.

    ``run`` (settings, seed, ...; JSON-serialisable) is written to
    ``run.json`` in the folder. Reopening a folder written for another run
    raises ``ValueError``: its pieces would not belong to this one; so does a
    folder that already holds other files.
    """
    folder = pathlib.Path(folder)
    record = folder / "run.json"
    if folder.is_dir() and any(folder.iterdir()) and not record.exists():
        raise ValueError(
            f"{str(folder)!r} is a folder with other files, not a parts folder"
        )
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(run, sort_keys=True, indent=1)
    if record.exists():
        if json.loads(record.read_text()) != json.loads(text):
            raise ValueError(
                f"parts folder {str(folder)!r} holds pieces of another run (see its "
                "run.json); "
                "remove it or choose another folder"
            )
    else:
        record.write_text(text + "\n")
    return folder


def run_pieces(
    pieces: Sequence[Piece],
    *,
    parts: pathlib.Path | None = None,
    client: Any | None = None,
    progress: Callable[[int], object] | None = None,
) -> dict[str, dict[str, np.ndarray]]:
    """Run ``pieces`` (skipping those already saved in ``parts``) and return their
    arrays by name.

    With ``client`` (a :class:`distributed.Client`) the pieces run as Dask
    tasks and ``progress`` moves by a piece's cost when it finishes; without,
    they run here one after the other and ``progress`` moves as they work.
    Each result is saved to ``parts`` (if given) as soon as it arrives.
    """
    names = [p.name for p in pieces]
    if len(set(names)) != len(names):
        raise ValueError(f"piece names must be unique; got {names}")
    tick = progress if progress is not None else (lambda n: None)
    results: dict[str, dict[str, np.ndarray]] = {}
    todo = []
    for piece in pieces:
        saved = None if parts is None else parts / f"{piece.name}.npz"
        if saved is not None and saved.exists():
            results[piece.name] = load_arrays(
                saved, piece.fields, f"the piece {piece.name!r}"
            )
            tick(piece.cost)
        else:
            todo.append(piece)

    def finish(piece: Piece, arrays: dict[str, np.ndarray]) -> None:
        if set(arrays) != set(piece.fields):
            raise RuntimeError(
                f"piece {piece.name!r} returned {sorted(arrays)}, not "
                f"{sorted(piece.fields)}"
            )
        if parts is not None:
            save_arrays(arrays, parts / f"{piece.name}.npz")
        results[piece.name] = arrays

    if client is None:
        for piece in todo:
            finish(piece, piece.fn(*piece.args, progress=tick))
    else:
        from distributed import as_completed  # only needed on a cluster

        futures = {
            client.submit(piece.fn, *piece.args, progress=None, pure=False): piece
            for piece in todo
        }
        for future in as_completed(futures):
            piece = futures[future]
            finish(piece, future.result())
            tick(piece.cost)
    return results


def remove_parts(folder: str | pathlib.Path) -> None:
    """Delete the pieces and ``run.json`` of a finished run, then the folder if nothing
    else is in it."""
    folder = pathlib.Path(folder)
    if not (folder / "run.json").exists():
        return
    for piece in folder.glob("*.npz"):
        piece.unlink()
    (folder / "run.json").unlink()
    with contextlib.suppress(OSError):
        folder.rmdir()


def check_seed(seed: object) -> int:
    """``seed`` as an ``int`` in ``[0, 2**63)``; else ``ValueError`` naming ``seed``."""
    try:
        ok = not isinstance(seed, bool) and int(seed) == seed and 0 <= seed < 2**63
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ValueError(f"seed must be an integer in [0, 2**63); got {seed!r}")
    return int(seed)


def start_run(
    experiment: str,
    settings: Any,
    *,
    seed: int | None,
    parts: str | pathlib.Path | None,
    client: Any | None,
    progress: Callable[[int], object] | None,
    record: dict[str, Any] | None = None,
) -> tuple[Any, dict[str, Any]]:
    """The settings of a run and the keyword arguments of :func:`run_pieces` for it.

    ``settings`` (a NamedTuple with a ``seed`` field) gets ``seed`` if one is given
    (checked by :func:`check_seed`); ``parts``, if given, is opened with
    :func:`open_parts` for ``experiment``, these settings and ``record`` (more
    JSON-serialisable facts that define the run).
    """
    if seed is not None:
        settings = settings._replace(seed=check_seed(seed))
    folder = None
    if parts is not None:
        run = {
            "experiment": experiment,
            "settings": settings._asdict(),
            **(record or {}),
        }
        folder = open_parts(parts, run)
    return settings, dict(parts=folder, client=client, progress=progress)
