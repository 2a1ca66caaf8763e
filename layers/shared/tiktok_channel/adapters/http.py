"""Retries with backoff for the Ecwid and TikTok clients, bounded by a time budget.

A callback answers within API Gateway's 30 s, so retries stop when the budget would be exceeded,
and a server's Retry-After is honoured only when it fits.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx

from tiktok_channel.errors import TransientError

# httpx logs every request URL at INFO; TikTok puts the app secret in some query strings.
logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)

T = TypeVar("T")

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_delay_seconds: float = 0.25
    max_delay_seconds: float = 8.0
    budget_seconds: float = 20.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return max(0.0, retry_after)
        backoff: float = min(self.max_delay_seconds, self.base_delay_seconds * 2**attempt)
        return backoff * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not a secret


def call_with_retries(
    call: Callable[[], T],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> T:
    """Run `call`, retrying TransientError with exponential backoff while attempts and budget last."""
    deadline = monotonic() + policy.budget_seconds
    attempt = 0
    while True:
        try:
            return call()
        except TransientError as error:
            attempt += 1
            wait = policy.delay(attempt - 1, error.retry_after)
            if attempt >= policy.attempts or monotonic() + wait > deadline:
                raise
            sleep(wait)


def new_http_client(timeout: httpx.Timeout = DEFAULT_TIMEOUT) -> httpx.Client:
    """One pooled client per cold start; redirects are never followed (APIs answer, they do not redirect)."""
    return httpx.Client(timeout=timeout, follow_redirects=False, headers={"User-Agent": "tiktok-channel-for-ecwid"})
