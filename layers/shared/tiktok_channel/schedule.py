"""When the scheduled full sync runs next, read from the EventBridge schedule expression it runs on.

Only the daily form the template uses is understood (minutes and hours; every day); any other
expression answers None, and the page then shows no next run rather than a wrong one.
"""

from __future__ import annotations

import re
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


DEFAULT_RUNS_PER_DAY = 2  # the template's default schedule, cron(0 6,18 * * ? *)
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 1440}


def runs_per_day(expression: str) -> int:
    """How many times a day the schedule runs: the daily cron form or `rate(n unit)`; DEFAULT_RUNS_PER_DAY for any
    other expression (or none), so the freshness schedule stays sound rather than unknown."""
    expression = expression.strip()
    match = _CRON.match(expression)
    if match is not None:
        minute, hour, day, month, weekday, year = match.groups()
        minutes, hours = _values(minute, 59), _values(hour, 23)
        if day in ("*", "?") and month == "*" and weekday in ("*", "?") and year == "*" and minutes and hours:
            return len(minutes) * len(hours)
        return DEFAULT_RUNS_PER_DAY
    rate = _RATE.match(expression)
    if rate is not None:
        every = int(rate.group(1)) * _UNIT_MINUTES[rate.group(2).rstrip("s")]
        if every > 0:
            return max(1, 1440 // every)
    return DEFAULT_RUNS_PER_DAY
