"""One look for every figure of the book, and figures that display under any backend.

Figures reach a page in two ways: a chapter glues them (``glue("fig-...", fig)``),
or a solution shows them (:func:`show`). Both go through IPython's display
machinery, which only renders a matplotlib figure as an image when a PNG
formatter is registered for it. The inline backend registers one, but a kernel
started with ``MPLBACKEND=Agg`` (as ``make book`` and the tests do) would not,
and the page would show the text ``<Figure size ...>``. :func:`use_style`
therefore registers the formatter itself, so that the same notebook shows its
figures in JupyterLab, Colab, ``nbclient`` and the HTML book, whatever the
backend.

Glued numbers go through the same machinery: ``glue`` stores a value's
``text/plain`` repr, and NumPy 2 writes a scalar as ``np.float64(0.95)``, which
a ``{glue:text}`` role with a number format such as ``:.3f`` cannot parse.
:func:`enable_number_display` (also called by :func:`use_style`) makes NumPy
scalars print as the plain Python numbers they hold.
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import matplotlib.pyplot as plt
import seaborn as sns
from matplotlib.figure import Figure

__all__ = [
    "use_style",
    "ACTIVATION_COLORS",
    "activation_color",
    "ACTIVATION_LABELS",
    "activation_label",
    "log_axis",
    "enable_figure_display",
    "enable_number_display",
    "show",
]

_COLORBLIND = sns.color_palette("colorblind", 10).as_hex()

#: One colour per activation, used by every chapter (seaborn's colour-blind palette).
#: SiLU and GELU take its sky blue and grey, not its yellow (faint on white).
ACTIVATION_COLORS = {
    **dict(
        zip(
            ["sigmoid", "relu", "leaky_relu", "tanh", "softplus", "smooth", "kinked"],
            _COLORBLIND,
        )
    ),
    "silu": _COLORBLIND[9],
    "gelu": _COLORBLIND[7],
}


def activation_color(name: str) -> str:
    """The book's colour for an activation (or for ``"smooth"`` / ``"kinked"``)."""
    try:
        return ACTIVATION_COLORS[name]
    except KeyError:
        raise ValueError(
            f"no colour for {name!r}; known: {sorted(ACTIVATION_COLORS)}"
        ) from None


#: How figures, tables and printed lines name each activation.
ACTIVATION_LABELS = {
    "sigmoid": "sigmoid",
    "relu": "ReLU",
    "leaky_relu": "leaky ReLU",
    "tanh": "tanh",
    "softplus": "softplus",
    "silu": "SiLU",
    "gelu": "GELU",
}


def activation_label(name: str) -> str:
    """The book's label for an activation (``"relu"`` is written ``"ReLU"``)."""
    try:
        return ACTIVATION_LABELS[name]
    except KeyError:
        raise ValueError(
            f"no label for {name!r}; known: {sorted(ACTIVATION_LABELS)}"
        ) from None


# noqa: ANN001 - an Axes
def log_axis(ax, ticks, labels=None, *, axis: str = "x") -> None:
    """Make ``axis`` of ``ax`` logarithmic with the given ticks written plainly.

    Tick labels are ``labels``, by default the ticks in ``:g`` format (``0.5``,
    ``1``, ``2`` rather than powers of ten), and the minor ticks of that axis
    are removed: a step-size or dimension axis reads best this way.
    """
    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y'; got {axis!r}")
    ticks = list(ticks)
    labels = [f"{t:g}" for t in ticks] if labels is None else list(labels)
    getattr(ax, f"set_{axis}scale")("log")
    getattr(ax, f"set_{axis}ticks")(ticks, labels)
    getattr(ax, f"{axis}axis").set_minor_locator(mpl.ticker.NullLocator())


def enable_figure_display() -> bool:
    """Register a PNG formatter for matplotlib figures in the running IPython kernel.

    Afterwards ``IPython.display.display(fig)`` and ``myst_nb.glue(name, fig)``
    produce an ``image/png`` output under every matplotlib backend, Agg included.
    Returns ``False`` (and does nothing) outside IPython.
    """
    formatter = _formatter("image/png")
    if formatter is None:
        return False
    from IPython.core.pylabtools import print_figure

    formatter.for_type(
        Figure, lambda fig: print_figure(fig, "png", bbox_inches="tight")
    )
    return True


def enable_number_display() -> bool:
    """Make NumPy scalars print as plain Python numbers in the running IPython kernel.

    Afterwards ``np.float64(0.95)`` displays (and is glued) as ``0.95`` rather
    than ``np.float64(0.95)``, so every ``{glue:text}`` format spec applies to
    it; likewise for NumPy integers and booleans. Returns ``False`` (and does
    nothing) outside IPython.
    """
    formatter = _formatter("text/plain")
    if formatter is None:
        return False
    # Each scalar type defines its own __repr__, which IPython would find before
    # a printer registered on a base class, so register every concrete type.
    for scalar_type in set(np.sctypeDict.values()):
        if issubclass(scalar_type, (np.number, np.bool_)):
            formatter.for_type(scalar_type, _print_item)
    return True


def _formatter(mime_type: str):  # noqa: ANN202 - an IPython formatter, or None
    """The running IPython kernel's display formatter for ``mime_type`` (None outside
    IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of the book
        return None
    shell = get_ipython()
    return None if shell is None else shell.display_formatter.formatters[mime_type]


# noqa: ANN001 - IPython's printer protocol
def _print_item(obj, printer, cycle) -> None:
    printer.text(repr(obj.item()))


def show(fig: Figure) -> None:
    """Display ``fig`` as an image in the notebook, then close it.

    Unlike ``plt.show()``, this works whatever the backend, and closing the
    figure keeps the inline backend from drawing it a second time.
    """
    from IPython.display import display

    display(fig)
    plt.close(fig)


def use_style() -> None:
    """Set the book's matplotlib/seaborn style (white grid, colour-blind palette,
    readable fonts, tight layout), make figures display as images in IPython
    under any backend (:func:`enable_figure_display`) and NumPy scalars as plain
    numbers (:func:`enable_number_display`)."""
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    mpl.rcParams.update(
        {
            "figure.figsize": (7.0, 4.0),
            "figure.dpi": 110,
            "savefig.dpi": 150,
            "figure.constrained_layout.use": True,
            "axes.titlesize": 12,
            "axes.labelsize": 11,
            "legend.fontsize": 9,
            "legend.frameon": False,
            "lines.linewidth": 1.8,
        }
    )
    enable_figure_display()
    enable_number_display()
