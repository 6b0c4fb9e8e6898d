"""What every experiment of ``python -m hmc_lite.experiments`` shares, and the checks
the per-experiment test files (``test_experiments_<name>.py``) run at a tiny scale."""

from __future__ import annotations

import pathlib
from types import ModuleType

import numpy as np
import pytest

from hmc_lite.experiments.__main__ import main

NAMES = ("fig1", "fig2", "fig3", "table1", "tuning", "nuts")


def assert_same(a, b) -> None:
    """Two results of the same type hold identical arrays, field by field."""
    assert type(a) is type(b)
    for field in a._fields:
        np.testing.assert_array_equal(
            getattr(a, field), getattr(b, field), err_msg=field
        )


def check_shapes(result, shapes: dict[str, tuple[int, ...]]) -> None:
    """``shapes`` names every field of ``result`` with its documented shape."""
    assert set(shapes) == set(result._fields)
    for field, shape in shapes.items():
        assert getattr(result, field).shape == shape, field


def check_cli_on_dask(
    name: str, module: ModuleType, serial, tmp_path: pathlib.Path
) -> None:
    """With ``--workers 2`` (a local Dask cluster) the command writes the serial run."""
    pytest.importorskip("distributed")
    out = tmp_path / f"{name}.npz"
    argv = [
        name,
        "--scale",
        "tiny",
        "--out",
        str(out),
        "--workers",
        "2",
        "--no-progress",
    ]
    assert main(argv) == 0
    assert not (tmp_path / f"{name}.parts").exists()  # parts removed once saved
    assert_same(getattr(module, f"load_{name}")(out), serial)


def check_resume(
    name: str,
    module: ModuleType,
    serial,
    lost: str,
    rerun_forbidden: str,
    tmp_path: pathlib.Path,
    monkeypatch,
) -> None:
    """An interrupted run resumes: with every piece saved but ``lost`` and no result
    file, the command runs only what is missing (``rerun_forbidden``, a piece function
    of ``module``, fails if called) and writes the serial result; the parts of another
    seed are refused."""
    out, parts = tmp_path / f"{name}.npz", tmp_path / f"{name}.parts"
    settings = getattr(module, f"{name.upper()}_SCALES")["tiny"]
    run, load = getattr(module, f"run_{name}"), getattr(module, f"load_{name}")
    run(settings, parts=parts)
    (parts / f"{lost}.npz").unlink()
    assert not out.exists()
    with pytest.raises(ValueError, match="another run"):
        run(settings, parts=parts, seed=settings.seed + 1)
    monkeypatch.setattr(
        module, rerun_forbidden, lambda *a, **k: pytest.fail("ran again")
    )
    assert main([name, "--scale", "tiny", "--out", str(out), "--no-progress"]) == 0
    assert_same(load(out), serial)


def check_bad_output_refused(
    name: str, tmp_path: pathlib.Path, monkeypatch, capsys
) -> None:
    """Output paths that cannot hold a result are refused before any computing."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder.npz").mkdir()
    fail = lambda *a, **k: pytest.fail("ran")  # noqa: E731
    monkeypatch.setattr(f"hmc_lite.experiments.__main__.run_{name}", fail)
    for bad in ("x.txt", ".npz", "folder.npz"):
        with pytest.raises(SystemExit) as exc:
            main([name, "--scale", "tiny", "--out", bad, "--no-progress"])
        assert exc.value.code == 2 and "--out" in capsys.readouterr().err


@pytest.mark.parametrize("name", NAMES + ("fig2-real",))
def test_every_experiment_has_help_and_three_scales(name, capsys):
    with pytest.raises(SystemExit) as exc:
        main([name, "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for option in ("--scale", "--out", "--seed", "--parts", "--workers", "--scheduler"):
        assert option in text
    choices = text.split("--scale {", 1)[1].split("}", 1)[0].split(",")
    assert {"book", "paper", "tiny"} <= set(choices)


def test_the_overview_lists_every_experiment(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert all(name in text for name in NAMES + ("fig2-real",))
