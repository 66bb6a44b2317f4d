"""Charts of report documents as inline SVG, for the PDF (no browser, no JavaScript).

A grouped bar chart (or a line chart) of one table's value columns by its category column, with
a dashed reference line (e.g. the 2025 target of 30 %) and a legend. Axis ticks are "nice"
steps (1, 2, 2.5, 5 × 10^n); ratios are shown as percentages.
"""

from __future__ import annotations

import math
from html import escape

from kilnwatch.reports.document import Table
from kilnwatch.reports.labels import cell_text, display, header, text

WIDTH, HEIGHT = 680, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 28, 70
PALETTE = ("#3b6ea5", "#e0893a", "#5a9e5a", "#b24a4a", "#7d63a8", "#8c8c8c")
TICKS = 5


def nice_step(span: float, ticks: int = TICKS) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^n at least ``span / ticks``."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    magnitude = math.pow(10.0, math.floor(math.log10(raw)))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * magnitude >= raw - 1e-12:
            return m * magnitude
    return 10 * magnitude


def _values(table: Table, key: str) -> list[float]:
    return [float(v) if isinstance(v, int | float) else 0.0 for v in table.column_values(key)]


def chart_svg(table: Table, lang: str, tz: str) -> str:
    """The SVG of ``table.chart``; an empty string when the table has no chart or rows."""
    chart = table.chart
    if chart is None or not table.rows:
        return ""
    series = [(table.columns[table.column_index(k)], _values(table, k)) for k in chart.series]
    kind = series[0][0].kind
    top = max([max(v, default=0.0) for _, v in series] + [chart.reference or 0.0])
    step = nice_step(top)
    y_max = step * max(1, math.ceil(top / step - 1e-9))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / y_max)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-size="10">',
        f'<text x="{WIDTH / 2}" y="14" text-anchor="middle" font-size="12" font-weight="bold">'
        f"{escape(text(chart.title, lang))}</text>",
    ]
    for i in range(round(y_max / step) + 1):
        v = i * step
        label = display(v, kind, lang, tz, digits=0 if step >= 1 or kind == "fraction" else 2)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
            f'stroke="#ddd"/><text x="{LEFT - 4}" y="{y(v) + 3:.1f}" text-anchor="end">'
            f"{escape(label)}</text>"
        )
    categories = table.column_values(chart.category)
    band = plot_w / len(categories)
    bar_w = band * 0.8 / len(series)
    for s, (column, values) in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        points = []
        for i, v in enumerate(values):
            x = LEFT + band * i + band * 0.1 + bar_w * s
            if chart.kind == "bar":
                parts.append(
                    f'<rect x="{x:.1f}" y="{y(v):.1f}" width="{bar_w:.1f}" '
                    f'height="{TOP + plot_h - y(v):.1f}" fill="{colour}"/>'
                )
            points.append(f"{LEFT + band * (i + 0.5):.1f},{y(v):.1f}")
        if chart.kind == "line":
            parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}"/>')
        parts.append(
            f'<rect x="{LEFT + 120 * s}" y="{HEIGHT - 14}" width="10" height="10" '
            f'fill="{colour}"/><text x="{LEFT + 120 * s + 14}" y="{HEIGHT - 5}">'
            f"{escape(header(column, lang))}</text>"
        )
    category_column = table.columns[table.column_index(chart.category)]
    for i, c in enumerate(categories):
        x = LEFT + band * (i + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{TOP + plot_h + 12}" text-anchor="end" '
            f'transform="rotate(-30 {x:.1f} {TOP + plot_h + 12})">'
            f"{escape(cell_text(c, category_column, lang, tz))}</text>"
        )
    if chart.reference is not None:
        ry = y(chart.reference)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ry:.1f}" y2="{ry:.1f}" '
            f'stroke="#c0392b" stroke-dasharray="5,3"/><text x="{WIDTH - RIGHT}" '
            f'y="{ry - 3:.1f}" text-anchor="end" fill="#c0392b">'
            f"{escape(text(chart.reference_label, lang))}</text>"
        )
    parts.append(
        f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#333"/>'
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" '
        'stroke="#333"/></svg>'
    )
    return "".join(parts)


__all__ = ["chart_svg", "nice_step"]
