"""Results on disk: ``.npz`` files written atomically and read back without pickle.

Generic: a result is a dict of named numpy arrays. Each experiment module turns
its result type into such a dict and back (e.g.
:func:`~hmc_lite.experiments.fig1.save_fig1`).
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import tempfile
import zipfile
from typing import Any, TypeVar

import numpy as np

R = TypeVar("R")

__all__ = [
    "check_output_path",
    "save_arrays",
    "load_arrays",
    "save_result",
    "load_result",
]


def check_output_path(path: str | os.PathLike) -> pathlib.Path:
    """Check, before any work is done, that a result can be written to ``path``.

    The path must end in ``.npz`` and have a name before the suffix, must not be
    a folder, and its folder must exist or be creatable and accept new files
    (checked by creating and removing an empty temporary file there).

    Raises
    ------
    ValueError
        Naming ``path`` and what is wrong with it.
    """
    text = os.fspath(path)
    path = pathlib.Path(path)
    if (
        path.suffix != ".npz"
        or not path.stem
        or path.name.startswith(".")
        or str(text).endswith(("/", os.sep))
    ):
        raise ValueError(f"path must be a file name ending in .npz; got {str(text)!r}")
    if path.is_dir():
        raise ValueError(f"path {str(path)!r} is a folder, not a file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        ):
            pass
    except OSError as err:
        raise ValueError(
            f"cannot write to the folder of path {str(path)!r}: {err}"
        ) from err
    return path


def save_arrays(arrays: dict[str, np.ndarray], path: str | os.PathLike) -> pathlib.Path:
    """Write named arrays to ``path`` (``.npz``) with :func:`numpy.savez`, atomically.

    The arrays are written to a temporary file in the same folder, which then
    replaces ``path`` in one step (:func:`os.replace`): an interrupted save
    leaves either the old file or the new one, never a partial file.
    """
    path = check_output_path(path)
    fd, tmp_name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(
            fd, "wb"
        ) as fh:  # an open file keeps numpy from renaming the path
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    return path


def load_arrays(
    path: str | os.PathLike, fields: tuple[str, ...], what: str
) -> dict[str, np.ndarray]:
    """Read the arrays ``fields`` of a file written by :func:`save_arrays`, without
    pickle.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file is not an ``.npz`` archive (empty, truncated, another
        format), lacks one of ``fields`` or needs pickle; ``what`` names the
        kind of file expected in the message.
    """
    path = pathlib.Path(path)
    try:
        npz = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (EOFError, OSError, zipfile.BadZipFile, ValueError) as err:
        raise ValueError(f"{path} is not a readable .npz file: {err}") from err
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} holds a single array, not {what}")
    with npz:
        missing = [f for f in fields if f not in npz.files]
        if missing:
            raise ValueError(f"{path} is not {what}; missing {missing}")
        try:
            return {f: npz[f] for f in fields}
        except (EOFError, OSError, zipfile.BadZipFile, ValueError) as err:
            raise ValueError(f"{path} is damaged or needs pickle: {err}") from err


def save_result(
    result: Any, path: str | os.PathLike, result_type: type
) -> pathlib.Path:
    """Write an experiment's result (a NamedTuple of arrays) to ``path``, atomically.

    Raises ``TypeError`` naming ``result`` unless it is a ``result_type``.
    """
    if not isinstance(result, result_type):
        raise TypeError(
            f"result must be a {result_type.__name__}; got {type(result).__name__}"
        )
    return save_arrays(result._asdict(), path)


def load_result(path: str | os.PathLike, result_type: type[R], what: str) -> R:
    """Read a file written by :func:`save_result` into a ``result_type``, no pickle.

    Raises ``FileNotFoundError`` or ``ValueError`` as :func:`load_arrays` does.
    """
    return result_type(**load_arrays(path, result_type._fields, what))
