"""The dashboard's chart of evidence received per day, stacked by verdict, as geometry for an inline SVG.

Drawn on the server so the page needs no charting library and reads the same without JavaScript; the template
only places the rectangles computed here, and the summary sentence doubles as the SVG's accessible description.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .models import Verdict

WIDTH, HEIGHT = 720, 220
PLOT_LEFT, PLOT_TOP, PLOT_BOTTOM = 36, 12, 190
# Bottom to top; items whose analysis has not given a verdict yet stack last.
SERIES = [
    (Verdict.OK.value, gettext_lazy("No signs of tampering")),
    (Verdict.ATTENTION.value, gettext_lazy("Needs attention")),
    (Verdict.COMPROMISED.value, gettext_lazy("Compromised")),
    ("", gettext_lazy("No verdict yet")),
]


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

    @property
    def title(self) -> str:
        parts = ", ".join(f"{s.count} {s.label.lower()}" for s in self.segments)
        received = _("%(day)s: %(total)d received") % {"day": date_format(self.day, "d M"), "total": self.total}
        return f"{received} ({parts})" if parts else received


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


def received_chart(counts: dict[tuple[date, str], int], *, today: date, days: int = 30) -> ReceivedChart:
    """Lay out `counts` ({(day, verdict): items received that day with that verdict}) over the last `days`."""
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
    bars = []
    for n, (day, by_series) in enumerate(per_day.items()):
        bar = Bar(day=day, x=round(PLOT_LEFT + n * slot + slot * 0.15, 2), width=round(slot * 0.7, 2))
        bottom = float(PLOT_BOTTOM)
        for series, label in SERIES:
            count = by_series[series]
            if not count:
                continue
            height = count / scale_top * plot_height
            bottom -= height
            bar.segments.append(Segment(series or "pending", label, count, round(bottom, 2), round(height, 2)))
            bar.total += count
        bars.append(bar)
    ticks = [(round(PLOT_BOTTOM - value / scale_top * plot_height, 2), value) for value in _tick_values(peak)]
    labels = [(round(bar.x + bar.width / 2, 2), date_format(bar.day, "d M")) for bar in bars[::7]]
    totals = {label: sum(v[series] for v in per_day.values()) for series, label in SERIES}
    received = sum(totals.values())
    summary = ngettext(
        "%(count)d item received from %(first)s to %(last)s",
        "%(count)d items received from %(first)s to %(last)s",
        received,
    ) % {"count": received, "first": date_format(first, "d F"), "last": date_format(today, "d F Y")}
    if received:
        by_verdict = ", ".join(f"{n} {label.lower()}" for label, n in totals.items() if n)
        summary += ": " + by_verdict + _("; at most %(peak)d on one day.") % {"peak": peak}
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
    )


def _tick_values(peak: int) -> list[int]:
    """Zero, the peak, and a middle tick when it is a whole number distinct from both."""
    if peak == 0:
        return [0]
    middle = peak // 2
    return [0, middle, peak] if 0 < middle < peak else [0, peak]
