"""Charts: small bar charts drawn as inline SVG on the server (no chart library, no CDN)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

__all__ = ["bar_chart"]


def _nice_top(peak: float) -> float:
    # Round the axis up to 1, 2 or 5 times a power of ten so the top label reads well.
    if peak <= 0:
        return 1.0
    scale = 1.0
    while scale * 10 <= peak:
        scale *= 10
    for step in (1, 2, 5, 10):
        if step * scale >= peak:
            return step * scale
    return 10 * scale


def bar_chart(
    points: Sequence[tuple[str, float]],
    *,
    title: str,
    color: str = "#2456a6",
    width: int = 560,
    height: int = 160,
) -> Markup:
    """An SVG bar chart of ``(label, value)`` points, with a hover title on every bar.

    Args:
        points: the bars, left to right.
        title: the chart's accessible name.
        color: the bar fill.
        width: in pixels.
        height: in pixels.

    Returns:
        Safe markup to place in a template.
    """
    left, bottom, top = 36, 18, 8
    plot_w, plot_h = width - left - 4, height - bottom - top
    peak = _nice_top(max((value for _, value in points), default=0))
    slot = plot_w / max(len(points), 1)
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 4}" y2="{top + plot_h}" '
        'stroke="#98a2b3"/>',
        f'<text x="{left - 4}" y="{top + 8}" font-size="10" text-anchor="end">{peak:g}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" font-size="10" text-anchor="end">0</text>',
    ]
    for index, (label, value) in enumerate(points):
        bar_h = plot_h * value / peak
        x = left + index * slot + slot * 0.1
        y = top + plot_h - bar_h
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.8:.1f}" '
            f'height="{bar_h:.1f}" fill="{escape(color)}"><title>{escape(label)}: {value:g}'
            "</title></rect>"
        )
        if index % max(len(points) // 6, 1) == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{height - 4}" font-size="10">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # every interpolated text is escaped above
