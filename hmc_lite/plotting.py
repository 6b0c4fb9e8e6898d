"""One look for every figure of the book."""

from __future__ import annotations

import matplotlib as mpl
import seaborn as sns

__all__ = ["use_style", "ACTIVATION_COLORS", "activation_color"]

#: One colour per activation, used by every chapter (seaborn's colour-blind palette).
ACTIVATION_COLORS = dict(
    zip(
        ["sigmoid", "relu", "leaky_relu", "tanh", "softplus", "smooth", "kinked"],
        sns.color_palette("colorblind", 7).as_hex(),
    )
)


def activation_color(name: str) -> str:
    """The book's colour for an activation (or for ``"smooth"`` / ``"kinked"``)."""
    try:
        return ACTIVATION_COLORS[name]
    except KeyError:
        raise ValueError(f"no colour for {name!r}; known: {sorted(ACTIVATION_COLORS)}") from None


def use_style() -> None:
    """Set the book's matplotlib/seaborn style: white grid, colour-blind palette,
    readable fonts, tight layout and crisp inline figures."""
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
