"""Waiting for TikTok to finish processing a feed (an upload or a delete), read from its feed log."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tiktok_channel.models.tiktok import FeedLog
    from tiktok_channel.ports import TikTokApi

FEED_LOG_WAITS = (1.0, 2.0, 4.0, 8.0)  # when TikTok has not finished processing a feed yet


def wait_for_feed_log(
    tiktok: TikTokApi,
    token: str,
    *,
    bc_id: str,
    catalog_id: str,
    feed_log_id: str,
    sleep: Callable[[float], None] = time.sleep,
    keep_waiting: Callable[[], bool] = lambda: True,
    waits: Sequence[float] = FEED_LOG_WAITS,
) -> FeedLog:
    """The feed log once TikTok finished processing it, or as it stands after `waits` (about 15 s by default;
    sooner once `keep_waiting()` is false). A log not `done` proves nothing: nothing it names is committed.
    Used by the sync's uploads and deletes and by the disconnect's catalog deletion."""
    for wait in (0.0, *waits):
        if wait:
            if not keep_waiting():
                break
            sleep(wait)
        log = tiktok.feed_log(token, bc_id=bc_id, catalog_id=catalog_id, feed_log_id=feed_log_id)
        if log.done:
            return log
    return log
