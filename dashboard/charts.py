"""Charts drawn on the server as inline SVG: no script, nothing the CSP refuses.

Each function turns a selector's data into shapes with coordinates; the templates under
templates/dashboard/charts/ only print them. Every chart also comes with its numbers as a
table (for screen readers, and for anyone who would rather read).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import formats
from django.utils.translation import gettext_lazy as _

from dashboard.selectors import OUTCOMES, Bucket, Reason, WeekBar

WIDTH = 640
HEIGHT = 220
MARGIN_LEFT = 36
MARGIN_BOTTOM = 28
MARGIN_TOP = 10

OUTCOME_LABELS = {
    "created": _("Order created"),
    "rejected": _("Rejected"),
    "pending": _("Still deciding"),
}
# Colours that keep their contrast on white (and between each other for colour blindness).
OUTCOME_COLOURS = {"created": "#1b7f3b", "rejected": "#b02a37", "pending": "#6c757d"}


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    rects: list[Rect]
    labels: list[Label]
    ticks: list[Label]
    legend: list[tuple[str, str]]
    empty: bool


def _scale_max(value: int) -> int:
    """A round upper bound for the axis."""
    if value <= 5:
        return 5
    for step in (10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000):
        if value <= step:
            return step
    return value


def _ticks(top: int, plot_height: float) -> list[Label]:
    ticks = []
    for fraction in (0, 0.5, 1):
        value = round(top * fraction)
        y = MARGIN_TOP + plot_height - plot_height * fraction
        ticks.append(Label(MARGIN_LEFT - 6, y + 4, formats.number_format(value)))
    return ticks


def weekly_chart(bars: list[WeekBar]) -> Chart:
    """Stacked bars: one per week, one colour per outcome."""
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    top = _scale_max(max((bar.total for bar in bars), default=0))
    slot = (WIDTH - MARGIN_LEFT) / max(len(bars), 1)
    bar_width = slot * 0.7
    rects: list[Rect] = []
    labels: list[Label] = []
    for index, bar in enumerate(bars):
        x = MARGIN_LEFT + index * slot + (slot - bar_width) / 2
        y = float(MARGIN_TOP + plot_height)
        week = formats.date_format(bar.week, "d/m")
        for outcome in OUTCOMES:
            count = bar.values.get(outcome, 0)
            if not count:
                continue
            height = plot_height * count / top
            y -= height
            rects.append(
                Rect(
                    round(x, 1),
                    round(y, 1),
                    round(bar_width, 1),
                    round(height, 1),
                    OUTCOME_COLOURS[outcome],
                    f"{week}: {OUTCOME_LABELS[outcome]} {count}",
                )
            )
        labels.append(Label(round(x + bar_width / 2, 1), HEIGHT - 10, week))
    legend = [(str(OUTCOME_LABELS[o]), OUTCOME_COLOURS[o]) for o in OUTCOMES]
    empty = not any(bar.total for bar in bars)
    return Chart(WIDTH, HEIGHT, rects, labels, _ticks(top, plot_height), legend, empty)


def histogram(buckets: list[Bucket], colour: str = "#0d6efd") -> Chart:
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    top = _scale_max(max((bucket.count for bucket in buckets), default=0))
    slot = (WIDTH - MARGIN_LEFT) / max(len(buckets), 1)
    bar_width = slot * 0.8
    rects: list[Rect] = []
    labels: list[Label] = []
    for index, bucket in enumerate(buckets):
        x = MARGIN_LEFT + index * slot + (slot - bar_width) / 2
        height = plot_height * bucket.count / top
        if bucket.count:
            rects.append(
                Rect(
                    round(x, 1),
                    round(MARGIN_TOP + plot_height - height, 1),
                    round(bar_width, 1),
                    round(height, 1),
                    colour,
                    f"{bucket.label}: {bucket.count}",
                )
            )
        labels.append(Label(round(x + bar_width / 2, 1), HEIGHT - 10, bucket.label))
    empty = not any(bucket.count for bucket in buckets)
    return Chart(WIDTH, HEIGHT, rects, labels, _ticks(top, plot_height), [], empty)


@dataclass(frozen=True)
class ReasonBar:
    reason: Reason
    width_percent: int


def reason_bars(reasons: list[Reason]) -> list[ReasonBar]:
    """Horizontal bars of the rejection reasons, widths relative to the commonest."""
    top = max((reason.count for reason in reasons), default=0) or 1
    return [ReasonBar(reason, max(2, round(100 * reason.count / top))) for reason in reasons]
