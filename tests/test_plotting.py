"""The book's figure helpers: figures display as PNG images whatever the backend."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import pytest
from IPython.core.formatters import format_display_data
from IPython.core.interactiveshell import InteractiveShell

from hmc_lite import plotting


@pytest.fixture
def shell():
    shell = InteractiveShell.instance()
    yield shell
    InteractiveShell.clear_instance()


def test_figures_render_as_png_under_agg(shell):
    # the backend of make book and make test
    assert matplotlib.get_backend().lower() == "agg"
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    shell.display_formatter.formatters["image/png"].pop(type(fig), None)
    before, _ = format_display_data(fig)
    assert "image/png" not in before  # the bug: only "<Figure size ...>" as text
    assert plotting.enable_figure_display() is True
    after, _ = format_display_data(fig)
    assert after["image/png"][:8] == b"\x89PNG\r\n\x1a\n"
    plt.close(fig)


def test_use_style_enables_figure_display(shell):
    plotting.use_style()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    data, _ = format_display_data(fig)
    assert "image/png" in data
    plt.close(fig)


def test_show_displays_and_closes(shell, monkeypatch):
    plotting.enable_figure_display()
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    fig = plt.figure()
    plotting.show(fig)
    assert shown == [fig]
    assert not plt.fignum_exists(fig.number)


def test_outside_ipython_nothing_is_registered():
    InteractiveShell.clear_instance()
    assert plotting.enable_figure_display() is False


def test_activation_color_names_unknown_activation():
    assert plotting.activation_color("relu").startswith("#")
    with pytest.raises(ValueError, match="swish"):
        plotting.activation_color("swish")


def test_numpy_scalars_display_as_plain_numbers(shell):
    """A glued NumPy scalar must reach the book as a number that ``{glue:text}`` can
    format."""
    import numpy as np

    shell.display_formatter.formatters["text/plain"].pop(np.float64, None)
    before, _ = format_display_data(np.float64(0.25))
    # the bug: "could not convert to float"
    assert before["text/plain"] == "np.float64(0.25)"
    assert plotting.enable_number_display() is True
    for value, text in [
        (np.float64(0.25), "0.25"),
        (np.int64(7), "7"),
        (np.bool_(True), "True"),
    ]:
        data, _ = format_display_data(value)
        assert data["text/plain"] == text
    assert float(format_display_data(np.float64(1 / 3))[0]["text/plain"]) == 1 / 3


def test_use_style_enables_number_display(shell):
    import numpy as np

    shell.display_formatter.formatters["text/plain"].pop(np.float32, None)
    plotting.use_style()
    assert format_display_data(np.float32(0.5))[0]["text/plain"] == "0.5"


def test_activation_labels_cover_every_activation_and_refuse_others():
    from hmc_lite import ACTIVATIONS

    assert set(ACTIVATIONS) <= set(plotting.ACTIVATION_LABELS)
    assert plotting.activation_label("relu") == "ReLU"
    with pytest.raises(ValueError, match="swish"):
        plotting.activation_label("swish")


@pytest.mark.parametrize("axis", ["x", "y"])
def test_log_axis_writes_its_ticks_plainly(axis):
    fig, ax = plt.subplots()
    ax.plot([0.3, 3.0], [0.3, 3.0])
    plotting.log_axis(ax, [0.5, 1.0, 2], axis=axis)
    which = getattr(ax, f"{axis}axis")
    assert getattr(ax, f"get_{axis}scale")() == "log"
    assert [t.get_text() for t in which.get_ticklabels()] == ["0.5", "1", "2"]
    assert len(which.get_minorticklocs()) == 0
    with pytest.raises(ValueError, match="axis"):
        plotting.log_axis(ax, [1], axis="z")
    plt.close(fig)
