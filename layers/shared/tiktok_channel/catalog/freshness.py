"""Which unchanged SKUs a full sync uploads again so that TikTok never expires them (tiktok-api.md "Freshness":
products not updated for 30 days expire; TikTok recommends refreshing daily).

A cycle is the scheduled runs of at most `TIKTOK_REFRESH_DAYS` − 1 days (slots = runs per day × (days − 1), from
the schedule's own run times, so uneven or multi-day schedules count right). Each run refreshes at most
⌈SKUs on TikTok / slots⌉ SKUs besides what changed: those uploaded longest ago, never one uploaded since the
scheduled run before it. So a run right after a full upload refreshes nothing, and after one cycle every SKU
comes round once per cycle, in turn, whatever the hash of its id; the cap holds exactly (a slot per hash would
overfill some runs and leave SKUs past the cycle). SKU items written before upload times were kept have a slot
from a hash of their id, and wait for it instead of all falling due on the first run after a deploy.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from datetime import datetime

from tiktok_channel.models.catalog import SkuRecord
from tiktok_channel.schedule import Cadence

DAY_SECONDS = 86_400


def refresh_slot(sku_id: str, slots: int) -> int:
    """The SKU's slot among `slots` (stable across deploys and processes, unlike Python's hash())."""
    digest = hashlib.blake2b(sku_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % slots


def refresh_slots(*, refresh_days: int, runs_per_day: float) -> int:
    """Scheduled runs in a cycle of at most `refresh_days` − 1 days (at least one)."""
    return max(1, math.floor(runs_per_day * (refresh_days - 1) + 1e-9))


def refresh_cap(on_tiktok: int, *, refresh_days: int, runs_per_day: float) -> int:
    """The most SKUs one run refreshes: ⌈SKUs on TikTok / slots⌉, slots = runs per day × (refresh days − 1)."""
    return math.ceil(on_tiktok / refresh_slots(refresh_days=refresh_days, runs_per_day=runs_per_day))


def refresh_due(records: Iterable[SkuRecord], *, now: float, refresh_days: int, cadence: Cadence) -> frozenset[str]:
    """The SKUs this run uploads again although unchanged: at most `refresh_cap`, the longest unrefreshed first.

    `records`: every SKU record of the store; only SKUs on TikTok with accepted content count. `now` in epoch
    seconds; `refresh_days` ≥ 2; `cadence`: when the scheduled runs come (schedule.cadence).
    """
    per_day = cadence.runs_per_day()
    slots = refresh_slots(refresh_days=refresh_days, runs_per_day=per_day)
    run = cadence.run_index(now)
    current = run % slots
    since = cadence.run_time(run - 1)  # what was uploaded since the run before this one is fresh
    live = [r for r in records if r.on_tiktok and r.hash is not None and r.status != "held_back"]
    candidates: list[tuple[float, str]] = []
    for record in live:
        uploaded = _epoch(record.uploaded_at)
        if uploaded is None:
            if refresh_slot(record.sku_id, slots) == current:
                candidates.append((-math.inf, record.sku_id))
        elif uploaded < since:
            candidates.append((uploaded, record.sku_id))
    candidates.sort()
    cap = refresh_cap(len(live), refresh_days=refresh_days, runs_per_day=per_day)
    return frozenset(sku for _, sku in candidates[:cap])


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return None
