"""PNG charts of a corpus report, drawn with matplotlib's Agg canvas.

The figures are built with :class:`matplotlib.figure.Figure` and its Agg canvas, never
``pyplot``: no global backend switch, no GUI, no state shared between calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..types import LABELS
from .citations import STRENGTHS

__all__ = ["cooccurrence_heatmap", "label_bar_chart", "label_trend_chart"]

LABEL_COLOURS: dict[str, str] = {
    "none": "#9e9e9e",
    "aligned": "#1b9e77",
    "coopted": "#b2182b",
    "copresent": "#d95f02",
    "critical": "#5e3c99",
    "extension": "#4575b4",
    "opposed": "#444444",
}


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(path, format="png", dpi=100)
    return path


def _empty(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#777")
    ax.set_xticks([])
    ax.set_yticks([])


def label_bar_chart(counts: Mapping[str, int], path: str | Path) -> Path:
    """Bar chart of documents per label (every label shown, zero included)."""
    fig = Figure(figsize=(7, 3.6), layout="constrained")
    ax = fig.add_subplot()
    labels = list(LABELS) + sorted(k for k in counts if k not in LABELS)
    values = [int(counts.get(k, 0)) for k in labels]
    bars = ax.bar(labels, values, color=[LABEL_COLOURS.get(k, "#777") for k in labels])
    ax.bar_label(bars, padding=2, fontsize=9)
    ax.set_ylabel("documents")
    ax.set_title("Documents per label")
    ax.spines[["top", "right"]].set_visible(False)
    ax.margins(y=0.15)
    return _save(fig, Path(path))


def label_trend_chart(by_year: Mapping[str, Mapping[str, int]], path: str | Path) -> Path:
    """Documents per label and year (lines; documents without a year are left out)."""
    fig = Figure(figsize=(7, 3.6), layout="constrained")
    ax = fig.add_subplot()
    years = sorted(y for y in by_year if y)
    if not years:
        _empty(ax, "no dated documents")
    else:
        for label in LABELS:
            values = [int(by_year[y].get(label, 0)) for y in years]
            if any(values):
                ax.plot(years, values, marker="o", label=label, color=LABEL_COLOURS.get(label))
        ax.set_ylabel("documents")
        ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
        ax.spines[["top", "right"]].set_visible(False)
    ax.set_title("Labels by year")
    return _save(fig, Path(path))


def cooccurrence_heatmap(
    matrix: Mapping[str, Mapping[str, int]], path: str | Path, *, strengths: Sequence[str] = STRENGTHS
) -> Path:
    """Heatmap of signal category x link strength (documents), counts written in the cells."""
    categories = sorted(matrix)
    fig = Figure(figsize=(7, max(2.4, 0.38 * len(categories) + 1.4)), layout="constrained")
    ax = fig.add_subplot()
    if not categories:
        _empty(ax, "no harm-reduction mention linked to a signal")
    else:
        data = [[int(matrix[c].get(s, 0)) for s in strengths] for c in categories]
        top = max(max(row) for row in data) or 1
        im = ax.imshow(data, cmap="OrRd", aspect="auto", vmin=0, vmax=top)
        ax.set_xticks(range(len(strengths)), labels=list(strengths))
        ax.set_yticks(range(len(categories)), labels=categories)
        for i, row in enumerate(data):
            for j, value in enumerate(row):
                ax.text(
                    j, i, str(value), ha="center", va="center", color="white" if value > top / 2 else "#222"
                )
        fig.colorbar(im, ax=ax, label="documents")
    ax.set_title("Harm reduction x signal category, by link strength")
    return _save(fig, Path(path))
