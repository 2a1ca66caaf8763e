"""Which unchanged SKUs a full sync uploads again so that TikTok never expires them (tiktok-api.md "Freshness":
products not updated for 30 days expire; TikTok recommends refreshing daily).

Every SKU on TikTok has a slot, from a hash of its sku_id, among the scheduled runs of a cycle of
`TIKTOK_REFRESH_DAYS` − 1 days (runs per day × (days − 1) slots); a run refreshes the SKUs of its slot, except those
uploaded within the last schedule interval. So each run refreshes about 1/slots of the catalog, a run right after
a full upload refreshes nothing, and SKU items written before upload times were kept wait for their slot instead of
all falling due at once. A run never refreshes more than ⌈SKUs / slots⌉: a slot the hash made fuller than that
leaves its newest SKUs to the next runs, which take SKUs overdue (older than the cycle plus half an interval) first.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from datetime import datetime

from tiktok_channel.models.catalog import SkuRecord

DAY_SECONDS = 86_400


def refresh_slot(sku_id: str, slots: int) -> int:
    """The SKU's slot among `slots` (stable across deploys and processes, unlike Python's hash())."""
    digest = hashlib.blake2b(sku_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % slots


def refresh_cap(on_tiktok: int, *, refresh_days: int, runs_per_day: int) -> int:
    """The most SKUs one run refreshes: ⌈SKUs on TikTok / (runs per day × (refresh days − 1))⌉."""
    return math.ceil(on_tiktok / (runs_per_day * (refresh_days - 1)))


def refresh_due(records: Iterable[SkuRecord], *, now: float, refresh_days: int, runs_per_day: int) -> frozenset[str]:
    """The SKUs this run uploads again although unchanged (at most `refresh_cap`).

    `records`: every SKU record of the store; only SKUs on TikTok with accepted content count. `now` in epoch
    seconds; `refresh_days` ≥ 2; `runs_per_day` ≥ 1 (the schedule's, see schedule.runs_per_day).
    """
    slots = runs_per_day * (refresh_days - 1)
    interval = DAY_SECONDS / runs_per_day
    current = int(now // interval) % slots
    overdue_after = (refresh_days - 1) * DAY_SECONDS + interval / 2
    live = [r for r in records if r.on_tiktok and r.hash is not None and r.status != "held_back"]
    candidates: list[tuple[float, str]] = []
    for record in live:
        uploaded = _epoch(record.uploaded_at)
        age = math.inf if uploaded is None else now - uploaded
        if age < interval:
            continue
        if refresh_slot(record.sku_id, slots) == current or (uploaded is not None and age > overdue_after):
            candidates.append((-age, record.sku_id))
    candidates.sort()  # the oldest first; items without an upload time before any
    cap = refresh_cap(len(live), refresh_days=refresh_days, runs_per_day=runs_per_day)
    return frozenset(sku for _, sku in candidates[:cap])


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return None
