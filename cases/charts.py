"""The dashboard's chart of evidence received per day, stacked by verdict, as an inline SVG.

Drawn on the server so the page needs no charting library and reads the same without JavaScript; the summary
sentence doubles as the SVG's accessible description. The grid, bars and day labels are written here as markup,
once a page: placed by the template's loops, the 30 bars' rectangles, titles and coordinates were most of the
dashboard's rendering. Coordinates are written as Python writes a float, with a decimal point in every language (the
template's localization wrote German's decimal comma, `x="678,19"`, which SVG does not read as one number).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils.dateformat import format as date_format
from django.utils.dates import MONTHS_3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .models import Verdict

WIDTH, HEIGHT = 720, 220
PLOT_LEFT, PLOT_TOP, PLOT_BOTTOM = 36, 12, 190
# Bottom to top; items whose analysis has not given a verdict yet stack last. Each verdict in its own sentence, as
# the rest of the site and the reports state it: a shorter name ("no signs of tampering") claims more than it.
SERIES = [*Verdict.choices, ("", gettext_lazy("No verdict yet"))]


@dataclass(frozen=True)
class Segment:
    series: str
    label: str
    count: int
    y: float
    height: float


@dataclass
class Bar:
    day: date
    x: float
    width: float
    total: int = 0
    segments: list[Segment] = field(default_factory=list)
    title: str = ""


@dataclass
class ReceivedChart:
    width: int
    height: int
    plot_bottom: int
    plot_left: int
    plot_right: int
    bars: list[Bar]
    peak: int
    ticks: list[tuple[float, int]]
    labels: list[tuple[float, str]]
    totals: dict[str, int]
    series: list[tuple[str, str]]
    summary: str
    # The SVG's horizontal grid lines with their values, its bars and its day labels, drawn from the above.
    grid_markup: SafeString
    bars_markup: SafeString
    labels_markup: SafeString


def received_chart(counts: dict[tuple[date, str], int], *, today: date, days: int = 30) -> ReceivedChart:
    """Lay out `counts` ({(day, verdict): items received that day with that verdict}) over the last `days`, in the
    active language."""
    first = today - timedelta(days=days - 1)
    plot_right = WIDTH - 8
    slot = (plot_right - PLOT_LEFT) / days
    per_day = {
        first + timedelta(days=n): {s: counts.get((first + timedelta(days=n), s), 0) for s, _ in SERIES}
        for n in range(days)
    }
    peak = max((sum(v.values()) for v in per_day.values()), default=0)
    scale_top = max(peak, 1)
    plot_height = PLOT_BOTTOM - PLOT_TOP
    # Each label translated once a chart, not once a bar.
    series_labels = [(series, str(label)) for series, label in SERIES]
    received_on = _("%(day)s: %(total)d received")
    day_month = _day_month_texts(per_day)
    bars = []
    for n, (day, by_series) in enumerate(per_day.items()):
        bar = Bar(day=day, x=round(PLOT_LEFT + n * slot + slot * 0.15, 2), width=round(slot * 0.7, 2))
        bottom = float(PLOT_BOTTOM)
        for series, label in series_labels:
            count = by_series[series]
            if not count:
                continue
            height = count / scale_top * plot_height
            bottom -= height
            bar.segments.append(Segment(series or "pending", label, count, round(bottom, 2), round(height, 2)))
            bar.total += count
        received = received_on % {"day": day_month[day], "total": bar.total}
        parts = "; ".join(f"{s.label}: {s.count}" for s in bar.segments)
        bar.title = f"{received} ({parts})" if parts else received
        bars.append(bar)
    ticks = [(round(PLOT_BOTTOM - value / scale_top * plot_height, 2), value) for value in _tick_values(peak)]
    labels = [(round(bar.x + bar.width / 2, 2), day_month[bar.day]) for bar in bars[::7]]
    totals = {label: sum(v[series] for v in per_day.values()) for series, label in series_labels}
    received = sum(totals.values())
    summary = ngettext(
        "%(count)d item received from %(first)s to %(last)s",
        "%(count)d items received from %(first)s to %(last)s",
        received,
    ) % {"count": received, "first": date_format(first, "d F"), "last": date_format(today, "d F Y")}
    if received:
        by_verdict = "; ".join(f"{label}: {n}" for label, n in totals.items() if n)
        summary += f" ({by_verdict})" + _("; at most %(peak)d on one day.") % {"peak": peak}
    else:
        summary += "."
    return ReceivedChart(
        width=WIDTH,
        height=HEIGHT,
        plot_bottom=PLOT_BOTTOM,
        plot_left=PLOT_LEFT,
        plot_right=plot_right,
        bars=bars,
        peak=peak,
        ticks=ticks,
        labels=labels,
        totals=totals,
        series=[(series or "pending", label) for series, label in SERIES],
        summary=summary,
        grid_markup=mark_safe(
            "".join(
                f'<line x1="{PLOT_LEFT}" x2="{plot_right}" y1="{y}" y2="{y}" class="grid"/>'
                f'<text x="{PLOT_LEFT - 6}" y="{y}" class="axis" text-anchor="end"'
                f' dominant-baseline="middle">{value}</text>'
                for y, value in ticks
            )
        ),
        bars_markup=mark_safe("".join(_bar_markup(bar) for bar in bars)),
        labels_markup=mark_safe(
            "".join(
                f'<text x="{x}" y="{PLOT_BOTTOM + 18}" class="axis" text-anchor="middle">{escape(label)}</text>'
                for x, label in labels
            )
        ),
    )


def _bar_markup(bar: Bar) -> str:
    rectangles = "".join(
        f'<rect x="{bar.x}" y="{segment.y}" width="{bar.width}" height="{segment.height}"'
        f' class="series-{segment.series}"/>'
        for segment in bar.segments
    )
    # A day without items shows as a line on the axis.
    rectangles = (
        rectangles or f'<rect x="{bar.x}" y="{PLOT_BOTTOM - 1}" width="{bar.width}" height="1" class="series-none"/>'
    )
    return f"<g><title>{escape(bar.title)}</title>{rectangles}</g>"


def _day_month_texts(days: Iterable[date]) -> dict[date, str]:
    """{day: what date_format(day, "d M") shows}: the day in two digits and the month's abbreviation in the active
    language, each month's translated once rather than once a day."""
    months = {month: MONTHS_3[month].title() for month in {day.month for day in days}}
    return {day: f"{day.day:02d} {months[day.month]}" for day in days}


def _tick_values(peak: int) -> list[int]:
    """Zero, the peak, and a middle tick when it is a whole number distinct from both."""
    if peak == 0:
        return [0]
    middle = peak // 2
    return [0, middle, peak] if 0 < middle < peak else [0, peak]
