"""Bar charts drawn on the server as SVG (no script): stacked or grouped bars per month, laid out here so the
template only places rectangles. The table under each chart carries the same figures."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT, TOP, BOTTOM, LEFT = 640, 240, 16, 40, 48
# Okabe–Ito colours: told apart with the common colour-vision deficiencies; the legend and table name them too.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#7f7f7f", "#000000")


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str  # "03/2026 – Terminbuchungen: 12", read by screen readers and shown on hover


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Chart:
    rects: list[Rect]
    ticks: list[Tick]
    top: float  # the y-axis maximum
    top_label: str
    legend: list[tuple[str, str]]  # (colour, label)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: int = HEIGHT - BOTTOM


def layout(
    months: list[str],
    series: list[tuple[str, list[float | None]]],
    stacked: bool,
    fmt: str = "{:g}",
) -> Chart:
    """Bars for `series` ((label, one value per month)) over `months` (labels), stacked or side by side."""
    plot = HEIGHT - TOP - BOTTOM
    if stacked:
        sums = [sum(v or 0 for _, values in series for v in [values[i]]) for i in range(len(months))]
        top = max([*sums, 0])
    else:
        top = max([v or 0 for _, values in series for v in values] + [0])
    top = top or 1
    slot = (WIDTH - LEFT) / max(len(months), 1)
    rects: list[Rect] = []
    for index, month in enumerate(months):
        x0 = LEFT + index * slot + slot * 0.12
        inner = slot * 0.76
        base = float(TOP + plot)
        for number, (label, values) in enumerate(series):
            value = values[index]
            if not value:
                continue
            height = plot * value / top
            colour = PALETTE[number % len(PALETTE)]
            title = f"{month} – {label}: {fmt.format(value)}"
            if stacked:
                base -= height
                rects.append(Rect(round(x0, 1), round(base, 1), round(inner, 1), round(height, 1), colour, title))
            else:
                width = inner / max(len(series), 1)
                x = x0 + number * width
                y = TOP + plot - height
                rects.append(Rect(round(x, 1), round(y, 1), round(width, 1), round(height, 1), colour, title))
    ticks = [Tick(round(LEFT + (i + 0.5) * slot, 1), m) for i, m in enumerate(months)]
    if len(ticks) > 12:  # every other label, so they do not overlap
        ticks = ticks[::2]
    legend = [(PALETTE[n % len(PALETTE)], label) for n, (label, _) in enumerate(series)]
    return Chart(rects, ticks, top, fmt.format(top), legend)
