"""The geometry of the dashboard's charts, computed on the server so the pages need no chart
library and no script of their own: templates draw these shapes as inline SVG."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

WIDTH, HEIGHT = 600, 100


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: list[float]
    css: str = ""  # a class of dashboard.css (``failed``: the failure colour)


def _peak(values: list[float]) -> float:
    return max(values, default=0.0) or 1.0


def _when(index: int, count: int) -> str:
    minutes_ago = count - 1 - index
    return f"{minutes_ago} min ago" if minutes_ago else "this minute"


def stacked_bars(series: list[Series], unit: str) -> dict[str, Any]:
    """One bar per minute, the series stacked in order (the first at the bottom)."""
    count = len(series[0].values)
    totals = [sum(s.values[i] for s in series) for i in range(count)]
    peak, step = _peak(totals), WIDTH / count
    bars = []
    for index in range(count):
        base = float(HEIGHT)
        for s in series:
            height = round(HEIGHT * s.values[index] / peak, 1)
            if height:
                bars.append({
                    "x": round(index * step + 1, 1), "y": round(base - height, 1),
                    "w": round(step - 2, 1), "h": height, "css": s.css,
                    "title": f"{_when(index, count)}: {s.values[index]:g} {s.name}",
                })  # fmt: skip
            base -= height
    return _frame(series, bars=bars, peak=max(totals, default=0), unit=unit)


def lines(series: list[Series], unit: str) -> dict[str, Any]:
    """One polyline per series over the minutes, on a shared scale."""
    count = len(series[0].values)
    peak = _peak([v for s in series for v in s.values])
    step = WIDTH / max(1, count - 1)
    drawn = []
    for s in series:
        points = " ".join(
            f"{round(i * step, 1)},{round(HEIGHT - HEIGHT * v / peak, 1)}"
            for i, v in enumerate(s.values)
        )
        drawn.append({"points": points, "css": s.css, "name": s.name, "last": f"{s.values[-1]:g}"})
    return _frame(
        series, lines=drawn, peak=max((v for s in series for v in s.values), default=0), unit=unit
    )


def _frame(series: list[Series], *, peak: float, unit: str, **shapes: Any) -> dict[str, Any]:
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "minutes": len(series[0].values),
        "peak": f"{round(peak, 2):g}",
        "unit": unit,
        "legend": [{"name": s.name, "css": s.css} for s in series],
        "bars": [],
        "lines": [],
        **shapes,
    }


def by_minute(
    points: Iterable[tuple[int, float | None]], minutes: int, scale: float = 1.0
) -> list[float]:
    """Per-minute values from (minutes ago, value) points, oldest minute first."""
    values = [0.0] * minutes
    for ago, value in points:
        if 0 <= ago < minutes:
            values[minutes - 1 - ago] = round(float(value or 0) * scale, 2)
    return values
