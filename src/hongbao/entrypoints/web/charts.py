"""Charts as inline SVG, drawn on the server: no script, no external service, nothing to
build. Each chart is an image with its title and description (``role="img"``,
``aria-labelledby``); the page puts the same figures in a table beside it for screen readers
and for anyone who prefers numbers. Text is escaped; sizes are in the SVG's own units."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from markupsafe import Markup, escape

WIDTH: Final = 480
BAR_HEIGHT: Final = 24
GAP: Final = 8
LABEL_WIDTH: Final = 170
VALUE_WIDTH: Final = 84
LABEL_CHARACTERS: Final = 15  # longer labels are cut on the chart; its title and table say all
PLOT_HEIGHT: Final = 200
TOP: Final = 10
BOTTOM: Final = 40
LEGEND: Final = 30


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: Sequence[float]
    css: str  # a class of console.css giving its fill (colours with enough contrast)


@dataclass(frozen=True, slots=True)
class Chart:
    key: str  # a page-unique id stem
    title: str
    description: str


def _open(chart: Chart, height: int) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-labelledby="{chart.key}-t {chart.key}-d" data-chart="{chart.key}" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart.key}-t">{escape(chart.title)}</title>'
        f'<desc id="{chart.key}-d">{escape(chart.description)}</desc>'
    )


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARACTERS else label[: LABEL_CHARACTERS - 1] + "…"


def _number(value: float, unit: str) -> str:
    shown = f"{value:.1f}" if unit else f"{value:.0f}"
    return f"{shown}{unit}"


def horizontal_bars(chart: Chart, items: Sequence[tuple[str, float]], unit: str = "") -> Markup:
    """One bar per item, longest to the plot's width."""
    height = TOP + len(items) * (BAR_HEIGHT + GAP) + GAP
    most = max((value for _, value in items), default=0) or 1
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    parts = [_open(chart, height)]
    for row, (label, value) in enumerate(items):
        y = TOP + row * (BAR_HEIGHT + GAP)
        length = round(plot * value / most)
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 18}" text-anchor="end" class="label">'
            f"{escape(_short(label))}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR_HEIGHT}" class="bar-a">'
            f"<title>{escape(label)}: {_number(value, unit)}</title></rect>"
            f'<text x="{LABEL_WIDTH + length + 6}" y="{y + 18}" class="value">'
            f"{_number(value, unit)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it was escaped above


def paired_bars(
    chart: Chart,
    items: Sequence[tuple[str, float | None, float | None]],
    names: tuple[str, str],
    unit: str,
) -> Markup:
    """Two bars per item (measured, baseline); a missing figure draws no bar and says "-"."""
    pair = 2 * BAR_HEIGHT + GAP
    height = TOP + LEGEND + len(items) * (pair + GAP) + GAP
    most = max((v for _, *values in items for v in values if v is not None), default=0) or 1
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    parts = [_open(chart, height), _legend(((names[0], "bar-a"), (names[1], "bar-b")))]
    for row, (label, *values) in enumerate(items):
        y = TOP + LEGEND + row * (pair + GAP)
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR_HEIGHT + 4}" text-anchor="end" '
            f'class="label">{escape(_short(label))}</text>'
        )
        for index, (value, css) in enumerate(zip(values, ("bar-a", "bar-b"), strict=True)):
            top = y + index * (BAR_HEIGHT + 2)
            shown = "-" if value is None else _number(value, unit)
            length = 0 if value is None else round(plot * value / most)
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{top}" width="{length}" height="{BAR_HEIGHT}" '
                f'class="{css}"><title>{escape(label)} {escape(names[index])}: {shown}</title>'
                f'</rect><text x="{LABEL_WIDTH + length + 6}" y="{top + 18}" class="value">'
                f"{shown}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it was escaped above


def stacked_columns(chart: Chart, labels: Sequence[str], series: Sequence[Series]) -> Markup:
    """A column per label, its series stacked: outcomes over time."""
    height = TOP + LEGEND + PLOT_HEIGHT + BOTTOM
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    most = max(totals, default=0) or 1
    step = (WIDTH - 40) / max(len(labels), 1)
    width = max(step * 0.7, 2)
    base = TOP + LEGEND + PLOT_HEIGHT
    parts = [_open(chart, height), _legend(tuple((s.name, s.css) for s in series))]
    parts.append(f'<line x1="30" y1="{base}" x2="{WIDTH - 10}" y2="{base}" class="axis"/>')
    parts.append(
        f'<text x="26" y="{TOP + LEGEND + 10}" text-anchor="end" class="value">'
        f"{_number(most, '')}</text>"
    )
    for index, label in enumerate(labels):
        x = 30 + index * step + (step - width) / 2
        top = float(base)
        for one in series:
            value = one.values[index]
            size = PLOT_HEIGHT * value / most
            top -= size
            if value:
                parts.append(
                    f'<rect x="{x:.1f}" y="{top:.1f}" width="{width:.1f}" height="{size:.1f}" '
                    f'class="{one.css}"><title>{escape(label)} {escape(one.name)}: '
                    f"{_number(value, '')}</title></rect>"
                )
        if index % 3 == 0 or len(labels) <= 5:
            parts.append(
                f'<text x="{x + width / 2:.1f}" y="{base + 20}" text-anchor="middle" '
                f'class="tick">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it was escaped above


def _legend(entries: Sequence[tuple[str, str]]) -> str:
    parts = []
    x = 30
    for name, css in entries:
        parts.append(
            f'<rect x="{x}" y="{TOP}" width="14" height="14" class="{css}"/>'
            f'<text x="{x + 18}" y="{TOP + 13}" class="value">{escape(name)}</text>'
        )
        x += 36 + 16 * len(name)
    return "".join(parts)
