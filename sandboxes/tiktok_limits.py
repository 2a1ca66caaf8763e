"""TikTok's per-app rate limits (tiktok-api.md, "Rate limits"), on the sandbox clock.

Limits belong to the developer app, not to a store: every call of the app counts, whichever token
it carries. Windows slide over the sandbox clock, so a test can cross them with `clock.advance()`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

API_PREFIX = "/open_api/v1.3"


@dataclass
class RateLimit:
    qps: int
    per_minute: int
    per_day: int | None = None


def default_limits() -> dict[str, RateLimit]:
    """TikTok's table for the basic access level."""
    return {
        "upload": RateLimit(qps=5, per_minute=300),
        "delete_update": RateLimit(qps=2, per_minute=120),
        # tiktok-api.md gives event/track 1,000 QPS only; the per-minute figure (60 s of it) is the sandbox's.
        "event": RateLimit(qps=1000, per_minute=60_000),
        "default": RateLimit(qps=10, per_minute=600, per_day=864_000),
    }


def bucket_for(path: str) -> str:
    """Which row of TikTok's table an API path falls under."""
    endpoint = path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else path
    endpoint = endpoint.rstrip("/") + "/"
    if endpoint in ("/catalog/product/upload/", "/catalog/product/file/"):
        return "upload"
    if endpoint in ("/catalog/product/update/", "/catalog/product/delete/"):
        return "delete_update"
    if endpoint == "/event/track/":
        return "event"
    return "default"


class RateLimiter:
    """Sliding windows per bucket, and the app-wide pause TikTok imposes past a longer limit.

    Over a QPS limit only that call is refused. Past a per-minute limit TikTok makes the app wait
    ("about 5 minutes"): every call of the app is refused until `paused_until`. Past a per-day limit
    the wait lasts until 00:00 UTC. Calls refused for QPS still count toward the minute (a client
    that hammers on 40100 earns the pause); calls refused during a pause count toward nothing.
    """

    def __init__(self, limits: dict[str, RateLimit], penalty_seconds: float) -> None:
        self.limits = limits
        self.penalty_seconds = penalty_seconds
        self.paused_until: float | None = None
        self._second: dict[str, deque[float]] = {}
        self._minute: dict[str, deque[float]] = {}
        self._day: dict[str, tuple[int, int]] = {}  # bucket -> (UTC day number, calls that day)

    def is_paused(self, now: float) -> bool:
        return self.paused_until is not None and now < self.paused_until

    def admit(self, bucket: str, now: float) -> bool:
        """Count a call of `bucket` at `now`; False when TikTok would answer 40100."""
        if self.is_paused(now):
            return False
        limit = self.limits.get(bucket) or self.limits["default"]
        second = self._window(self._second, bucket, now, 1.0)
        minute = self._window(self._minute, bucket, now, 60.0)
        day_number = int(now // 86_400)
        day, day_calls = self._day.get(bucket, (day_number, 0))
        if day != day_number:
            day_calls = 0
        if len(minute) >= limit.per_minute:
            self.paused_until = now + self.penalty_seconds
            return False
        if limit.per_day is not None and day_calls >= limit.per_day:
            self.paused_until = (day_number + 1) * 86_400.0  # the next 00:00 UTC
            return False
        minute.append(now)
        self._day[bucket] = (day_number, day_calls + 1)
        if len(second) >= limit.qps:
            return False
        second.append(now)
        return True

    @staticmethod
    def _window(windows: dict[str, deque[float]], bucket: str, now: float, span: float) -> deque[float]:
        window = windows.setdefault(bucket, deque())
        while window and window[0] <= now - span:
            window.popleft()
        return window


class CatalogUploadLimit:
    """TikTok's 1,000 upload requests per hour per catalog (tiktok-api.md, "Rate limits"), sliding over 3,600 s.

    Every upload call that reached the catalog check counts, whatever it answers afterwards (a request
    refused with 40002 still reached the catalog); a call this limit refuses does not count. Past it only
    that catalog's uploads answer 40100: unconfirmed whether TikTok also pauses the whole app, as it does
    past a per-minute limit; the sandbox does not.
    """

    def __init__(self, per_hour: int) -> None:
        self.per_hour = per_hour
        self._calls: dict[str, deque[float]] = {}

    def admit(self, catalog_id: str, now: float) -> bool:
        window = self._calls.setdefault(catalog_id, deque())
        while window and window[0] <= now - 3600.0:
            window.popleft()
        if len(window) >= self.per_hour:
            return False
        window.append(now)
        return True
