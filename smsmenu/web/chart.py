"""The 30-day chart as server-rendered SVG: recharged amount as bars, commission as a line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from ledger.money import format_yuan
from smsmenu.web.i18n import Translate

Day = tuple[dt.date, int, int]
"""(business day, amount recharged in fen, commission in fen)."""
W, H = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 60, 60, 16, 34


def nice_ceiling(fen: int) -> int:
    """A round axis top at or above ``fen`` (1, 2 or 5 times a power of ten yuan)."""
    if fen <= 0:
        return 100
    step = 100
    while True:
        for factor in (1, 2, 5):
            if fen <= step * factor:
                return step * factor
        step *= 10


def bin_days(rows: Sequence[tuple[dt.date, int, int]], last: dt.date, n: int = 30) -> list[Day]:
    """Sum per day for the ``n`` days ending with ``last``; days with nothing are zero."""
    days = [last - dt.timedelta(days=n - 1 - i) for i in range(n)]
    sums = {d: [0, 0] for d in days}
    for day, amount, commission in rows:
        if day in sums:
            sums[day][0] += amount
            sums[day][1] += commission
    return [(d, sums[d][0], sums[d][1]) for d in days]


def svg(days: Sequence[Day], t: Translate) -> Markup:
    """An accessible SVG (title, per-day tooltips) styled by the site's stylesheet."""
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    top_a = nice_ceiling(max((a for _, a, _ in days), default=0))
    top_c = nice_ceiling(max((c for _, _, c in days), default=0))
    slot = plot_w / max(len(days), 1)
    parts = [f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" '
             f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(t("chart.title"))}">',
             f"<title>{escape(t('chart.title'))}</title>"]
    for frac in (0.0, 0.5, 1.0):
        y = TOP + plot_h * (1 - frac)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                     f"{format_yuan(int(top_a * frac))}</text>")
        parts.append(f'<text class="axis commission" x="{W - RIGHT + 6}" y="{y + 4:.1f}">'
                     f"{format_yuan(int(top_c * frac))}</text>")
    points = []
    for i, (day, amount, commission) in enumerate(days):
        x = LEFT + i * slot
        bar_h = plot_h * amount / top_a
        tip = escape(t("chart.tip", day=day.strftime("%m-%d"), amount=format_yuan(amount),
                       commission=format_yuan(commission)))
        parts.append(f'<rect class="bar" x="{x + slot * 0.15:.1f}" y="{TOP + plot_h - bar_h:.1f}"'
                     f' width="{slot * 0.7:.1f}" height="{bar_h:.1f}"><title>{tip}</title></rect>')
        points.append(f"{x + slot / 2:.1f},{TOP + plot_h * (1 - commission / top_c):.1f}")
        if i % 5 == 0 or i == len(days) - 1:
            parts.append(f'<text class="axis" x="{x + slot / 2:.1f}" y="{H - BOTTOM + 16}" '
                         f'text-anchor="middle">{day.strftime("%m-%d")}</text>')
    parts.append(f'<polyline class="line" points="{" ".join(points)}"/>')
    parts.append(f'<text class="legend" x="{LEFT}" y="{H - 4}">{escape(t("chart.legend"))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
