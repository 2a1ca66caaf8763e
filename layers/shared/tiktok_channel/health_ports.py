"""The port behind the sync's health in the store status (journey 8), re-exported by ports.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from tiktok_channel.models.store import Store, TikTokCheck


class SyncHealthRepository(Protocol):
    """Catalog events the worker received and could not apply yet (one item per event id, so a duplicate or a
    redrive counts once), the fleet-wide TikTok pause, stalls counted once, and the merchant's "Check with TikTok"
    job. `queue_check` raises `NotConnected` for a store without a live connection."""

    def hold_edit(self, store_id: int, event_id: str, *, at: float) -> None:
        """The event is waiting since `at` (epoch seconds), unless it already was (its first time is kept)."""

    def release_edit(self, store_id: int, event_id: str) -> None: ...

    def waiting_edits(self, store_id: int, *, now: float) -> tuple[int, float | None]:
        """(events waiting, when the oldest began waiting) for the store."""

    def paused_until(self) -> float | None:
        """The end of the fleet-wide TikTok pause as recorded (epoch seconds), None when none is recorded."""

    def stores(self, store_ids: Sequence[int]) -> list[Store]:
        """The store items of these ids (those that exist), read in batches."""

    def note_stall(self, store_id: int, epoch: int, *, job_id: str, mark: str) -> bool:
        """Record the stall `mark` of the store's sync job `job_id`: True the first time only (False too when
        the job moved on meanwhile, or the store moved to another connection)."""

    def queue_check(self, store_id: int, check: TikTokCheck, stale_before: str) -> tuple[TikTokCheck, bool]:
        """(the check queued or running, whether it is this new one); one queued before `stale_before` or of an
        older connection is lost."""

    def save_check(self, store_id: int, epoch: int, check: TikTokCheck) -> bool:
        """Record the check's state while it is still the store's check (same job id, same connection)."""
