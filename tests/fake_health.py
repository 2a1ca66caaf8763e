"""The in-memory `SyncHealthRepository` (tiktok_channel/adapters/health_repository.py's rules over the fake
table), kept apart from tests/fakes.py, which hands it out as `FakeServices.health`."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tiktok_channel.errors import NotConnected
from tiktok_channel.models.store import Store, TikTokCheck

if TYPE_CHECKING:
    from tests.fakes import FakeTable

WAIT_MEMORY_SECONDS = 14 * 86_400
PAUSE_KEY = ("RATE#pause", "PAUSE")


def wait_key(store_id: int, event_id: str) -> tuple[str, str]:
    if len(event_id) > 200:
        event_id = hashlib.sha256(event_id.encode()).hexdigest()
    return f"STORE#{store_id}", f"WAIT#{event_id}"


class FakeSyncHealthRepository:
    """DynamoSyncHealthRepository's rules over the fake table. `pause(until)` records a fleet-wide pause as the
    rate limiter does after a 40100."""

    def __init__(self, table: FakeTable) -> None:
        self._t = table

    def pause(self, until: float) -> None:
        item = self._t.items.setdefault(PAUSE_KEY, {})
        item["paused_until"] = max(item.get("paused_until", 0), int(until))

    def hold_edit(self, store_id: int, event_id: str, *, at: float) -> None:
        self._t.items.setdefault(wait_key(store_id, event_id), {"since": int(at), "ttl": int(at) + WAIT_MEMORY_SECONDS})

    def release_edit(self, store_id: int, event_id: str) -> None:
        self._t.items.pop(wait_key(store_id, event_id), None)

    def waiting_edits(self, store_id: int, *, now: float) -> tuple[int, float | None]:
        times = [
            float(item["since"])
            for _, item in self._t.query(f"STORE#{store_id}", "WAIT#")
            if item["since"] + WAIT_MEMORY_SECONDS > now
        ]
        return len(times), min(times) if times else None

    def paused_until(self) -> float | None:
        item = self._t.read(PAUSE_KEY)
        return float(item["paused_until"]) if item and "paused_until" in item else None

    def stores(self, store_ids: Sequence[int]) -> list[Store]:
        found = [self._t.read((f"STORE#{store_id}", "STORE")) for store_id in dict.fromkeys(store_ids)]
        return [Store.model_validate(item) for item in found if item is not None]

    def note_stall(self, store_id: int, epoch: int, *, job_id: str, mark: str) -> bool:
        item = self._t.items.get((f"STORE#{store_id}", "STORE"))
        sync = item.get("sync", {}) if item is not None else {}
        if item is None or item.get("epoch") != epoch or sync.get("job_id") != job_id:
            return False
        if sync.get("stall_noted") == mark:
            return False
        sync["stall_noted"] = mark
        return True

    def queue_check(self, store_id: int, check: TikTokCheck, stale_before: str) -> tuple[TikTokCheck, bool]:
        item = self._t.items.get((f"STORE#{store_id}", "STORE"))
        current = item.get("tiktok_check") if item is not None else None
        if (
            item is not None
            and item.get("status") == "connected"
            and item.get("epoch") == check.epoch
            and (
                current is None
                or current.get("state") == "done"
                or current.get("epoch") != check.epoch
                or "queued_at" not in current
                or current["queued_at"] < stale_before
            )
        ):
            item["tiktok_check"] = check.model_dump(exclude_none=True)
            return check, True
        if item is not None and item.get("status") == "connected" and current and current["state"] != "done":
            return TikTokCheck.model_validate(current), False
        raise NotConnected(f"store {store_id} is not connected")

    def save_check(self, store_id: int, epoch: int, check: TikTokCheck) -> bool:
        item = self._t.items.get((f"STORE#{store_id}", "STORE"))
        if item is None or item.get("epoch") != epoch or (item.get("tiktok_check") or {}).get("job_id") != check.job_id:
            return False
        item["tiktok_check"] = check.model_dump(exclude_none=True)
        return True
