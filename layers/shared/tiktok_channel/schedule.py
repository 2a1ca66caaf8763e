"""When the scheduled full sync runs next, read from the EventBridge schedule expression it runs on.

Only the daily form the template uses is understood (minutes and hours; every day); any other
expression answers None, and the page then shows no next run rather than a wrong one.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_CRON = re.compile(r"^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$")


def _values(field: str, upper: int) -> list[int] | None:
    values: set[int] = set()
    for part in field.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) == 0:
                return None
            step = int(step_text)
        if part == "*":
            low, high = 0, upper
        elif "-" in part:
            low_text, high_text = part.split("-", 1)
            if not (low_text.isdigit() and high_text.isdigit()):
                return None
            low, high = int(low_text), int(high_text)
        elif part.isdigit():
            low = high = int(part)
            if step > 1:
                high = upper
        else:
            return None
        if high > upper or low > high:
            return None
        values.update(range(low, high + 1, step))
    return sorted(values)


def next_run(expression: str, after: datetime) -> datetime | None:
    match = _CRON.match(expression.strip())
    if match is None:
        return None
    minute, hour, day, month, weekday, year = match.groups()
    if day not in ("*", "?") or month != "*" or weekday not in ("*", "?") or year != "*":
        return None
    minutes, hours = _values(minute, 59), _values(hour, 23)
    if not minutes or not hours:
        return None
    start = after.astimezone(UTC).replace(second=0, microsecond=0)
    for days in (0, 1):
        base = start.replace(hour=0, minute=0) + timedelta(days=days)
        for h in hours:
            for m in minutes:
                candidate = base.replace(hour=h, minute=m)
                if candidate > after:
                    return candidate
    return None


_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 1440}
DAY_MINUTES = 1440


@dataclass(frozen=True)
class Cadence:
    """When the scheduled full syncs run, as the freshness slots count them: `minutes_of_day` (UTC, sorted) for
    the daily cron form, or `every_minutes` for `rate(…)`. Runs are numbered from the epoch."""

    minutes_of_day: tuple[int, ...] = ()
    every_minutes: int = 0

    def runs_per_day(self) -> float:
        return len(self.minutes_of_day) if self.minutes_of_day else DAY_MINUTES / self.every_minutes

    def run_index(self, at: float) -> int:
        """The number of the latest scheduled run at or before epoch second `at`."""
        minute = math.floor(at / 60)
        if not self.minutes_of_day:
            return minute // self.every_minutes
        day, of_day = divmod(minute, DAY_MINUTES)
        today = sum(1 for m in self.minutes_of_day if m <= of_day)
        return day * len(self.minutes_of_day) + today - 1  # -1: before today's first run, yesterday's last

    def run_time(self, index: int) -> float:
        """Epoch seconds of run number `index`."""
        if not self.minutes_of_day:
            return float(index * self.every_minutes * 60)
        day, position = divmod(index, len(self.minutes_of_day))
        return float((day * DAY_MINUTES + self.minutes_of_day[position]) * 60)


# The template's default schedule, cron(0 6,18 * * ? *); also what an expression this module cannot read counts as.
DEFAULT_CADENCE = Cadence(minutes_of_day=(6 * 60, 18 * 60))


def cadence(expression: str) -> Cadence:
    """The schedule's cadence: the daily cron form or `rate(n unit)`; DEFAULT_CADENCE for any other expression (or
    none), so the freshness slots stay sound rather than unknown (a weekly schedule cannot keep TikTok's products
    fresh anyway: README says to keep a daily one)."""
    expression = expression.strip()
    match = _CRON.match(expression)
    if match is not None:
        minute, hour, day, month, weekday, year = match.groups()
        minutes, hours = _values(minute, 59), _values(hour, 23)
        if day in ("*", "?") and month == "*" and weekday in ("*", "?") and year == "*" and minutes and hours:
            return Cadence(minutes_of_day=tuple(sorted(h * 60 + m for h in hours for m in minutes)))
        return DEFAULT_CADENCE
    rate = _RATE.match(expression)
    if rate is not None:
        every = int(rate.group(1)) * _UNIT_MINUTES[rate.group(2).rstrip("s")]
        if every > 0:
            return Cadence(every_minutes=every)
    return DEFAULT_CADENCE


def runs_per_day(expression: str) -> float:
    """How many times a day the schedule runs (see `cadence`)."""
    return cadence(expression).runs_per_day()
