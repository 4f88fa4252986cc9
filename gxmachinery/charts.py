"""Server-side charts: matplotlib -> inline SVG string (no JavaScript). Deterministic output
(`svg.hashsalt` fixed, no date metadata) so pages and tests are stable."""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

_RC: Any = {"svg.hashsalt": "gxmachinery", "svg.fonttype": "none", "font.size": 9}


def _to_svg(fig: plt.Figure) -> str:  # type: ignore[name-defined]
    buffer = io.StringIO()
    with warnings.catch_warnings():
        # Text stays text in the SVG (svg.fonttype none): the browser draws CJK labels with its own
        # fonts, so matplotlib's "Glyph missing from DejaVu Sans" layout warning does not apply.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.find("<svg") :]


def svg_bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str = "",
    ylabel: str = "",
    width: float = 6.0,
    height: float = 3.0,
) -> str:
    """A bar chart as an SVG string."""
    with matplotlib.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(width, height))
        ax.bar(list(range(len(values))), list(values), color="#2b7a4b")
        ax.set_xticks(list(range(len(labels))), list(labels), rotation=30, ha="right")
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        return _to_svg(fig)


def svg_line_chart(
    x: Sequence[Any],
    series: Mapping[str, Sequence[float]],
    *,
    title: str = "",
    ylabel: str = "",
    width: float = 6.0,
    height: float = 3.0,
) -> str:
    """A line chart with one line per series, as an SVG string."""
    with matplotlib.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(width, height))
        for name, values in series.items():
            ax.plot(list(x), [float(v) for v in values], marker="o", label=name)
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        if series:
            ax.legend()
        return _to_svg(fig)


def svg_strip_chart(
    groups: Mapping[str, Sequence[float]],
    *,
    markers: Mapping[str, Mapping[str, float]] | None = None,
    title: str = "",
    ylabel: str = "",
    width: float = 7.0,
    height: float = 3.5,
) -> str:
    """Points per group (a distribution per category/class) with optional horizontal markers per group
    (e.g. current baseline and proposals), as an SVG string."""
    with matplotlib.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(width, height))
        names = list(groups)
        for index, name in enumerate(names):
            values = list(groups[name])
            ax.scatter([index] * len(values), values, s=18, color="#2b7a4b", zorder=3)
            for label, level in (markers or {}).get(name, {}).items():
                ax.hlines(
                    level,
                    index - 0.3,
                    index + 0.3,
                    colors={"baseline": "#b00020"}.get(label, "#555555"),
                    linestyles="solid" if label == "baseline" else "dashed",
                )
        ax.set_xticks(list(range(len(names))), names, rotation=30, ha="right")
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        return _to_svg(fig)


def svg_stacked_barh_chart(
    labels: Sequence[str],
    parts: Mapping[str, Sequence[float]],
    *,
    title: str = "",
    xlabel: str = "",
    colors: Sequence[str] = ("#6b8fb3", "#3f9a5b", "#c9a227"),
) -> str:
    """Horizontal bars, one per label, stacked from ``parts`` (name -> values), as an SVG string."""
    with matplotlib.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(7.0, 1.2 + 0.45 * max(len(labels), 1)))
        y = list(range(len(labels)))
        left = [0.0] * len(labels)
        for (name, values), color in zip(parts.items(), colors, strict=False):
            widths = [float(v) for v in values]
            ax.barh(y, widths, left=left, color=color, label=name)
            left = [a + b for a, b in zip(left, widths, strict=True)]
        ax.set_yticks(y, list(labels))
        ax.invert_yaxis()
        ax.set_xlabel(xlabel)
        ax.set_title(title)
        if parts:
            ax.legend(loc="lower right", fontsize="small")
        return _to_svg(fig)
