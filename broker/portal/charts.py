"""Charts drawn on the server as inline SVG: no script, no image files, no chart library.

Labels and values stay ``<text>``, so Chinese labels are drawn in the reader's own fonts,
can be selected and read aloud, and scale with the page. Each chart is an ``img`` with a
``<title>`` and ``<desc>``; the page puts the same numbers in a table next to it for
anyone who cannot see the bars. Bars run horizontally, one row per label, label above
its bar, so that long names fit a 375-pixel phone without being cut."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

ROW = 50
TOP = 4
LABEL_LINE = 18
BAR_GAP = 6
BAR_HEIGHT = 16


def _percent(value: float, largest: float) -> float:
    """The bar's length as a share of the chart's width (a sliver for tiny non-zero values)."""
    if largest <= 0 or value <= 0:
        return 0.0
    return max(0.5, 100.0 * value / largest)


def bar_chart(
    rows: Sequence[tuple[str, float, str]],
    *,
    chart_id: str,
    title: str,
    desc: str = "",
    empty: str = "",
) -> Markup:
    """A horizontal bar chart of ``(label, value, value as written)`` rows (``"¥1,234.50"``)
    as an inline ``<svg>``. ``chart_id`` keeps the ids of several charts on one page
    apart. With no rows, the chart says ``empty`` instead of drawing empty axes.

    The SVG has no viewBox: its units are CSS pixels, so text keeps the page's size on a
    phone and on a wide screen alike; bar lengths are percentages of the width. Each row
    is the label (left) and the value (right) on one line, the bar beneath."""
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    height = TOP + max(1, len(rows)) * ROW
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'width="100%" height="{height}" role="img" '
        f'aria-labelledby="{escape(title_id)} {escape(desc_id)}">',
        f'<title id="{escape(title_id)}">{escape(title)}</title>',
        f'<desc id="{escape(desc_id)}">{escape(desc)}</desc>',
    ]
    if not rows:
        parts.append(f'<text class="chart-empty" x="0" y="{TOP + LABEL_LINE}">{escape(empty)}</text>')
    largest = max((float(v) for _, v, _ in rows), default=0.0)
    for i, (label, value, written) in enumerate(rows):
        y = TOP + i * ROW
        baseline = y + LABEL_LINE
        parts.append('<g class="chart-row">')
        parts.append(f'<text class="chart-label" x="0" y="{baseline}">{escape(label)}</text>')
        parts.append(f'<text class="chart-value" x="100%" y="{baseline}" text-anchor="end">{escape(written)}</text>')
        parts.append(
            f'<rect class="chart-bar" x="0" y="{baseline + BAR_GAP}" width="{_percent(float(value), largest):.2f}%" '
            f'height="{BAR_HEIGHT}" rx="2"></rect>'
        )
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated value above is escaped
