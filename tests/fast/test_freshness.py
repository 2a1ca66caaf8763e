"""Issue 11, item 5: every SKU on TikTok is uploaded again at least every TIKTOK_REFRESH_DAYS, spread over the
scheduled runs, since TikTok expires products not updated for 30 days (tiktok-api.md, "Freshness")."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fakes import FakeServices
from tests.fast.steps import STORE_ID, deliver, fresh_services, install_store
from tests.fast.test_sync import connect, uploads
from tiktok_channel.catalog.freshness import DAY_SECONDS, refresh_cap, refresh_due, refresh_slot
from tiktok_channel.models.catalog import SkuRecord
from tiktok_channel.schedule import DEFAULT_CADENCE, Cadence, runs_per_day
from tiktok_channel.services.jobs import enqueue_scheduled_syncs

HALF_DAY = DAY_SECONDS / 2


def record(sku_id: str, uploaded_at: float | None, *, status: str = "listed") -> SkuRecord:
    iso = datetime.fromtimestamp(uploaded_at, UTC).isoformat() if uploaded_at is not None else None
    return SkuRecord.model_validate(
        {"sku_id": sku_id, "product_id": 1, "status": status, "on_tiktok": True, "hash": "h", "uploaded_at": iso}
    )


def due(records: list[SkuRecord], now: float, days: int = 7) -> frozenset[str]:
    return refresh_due(records, now=now, refresh_days=days, cadence=DEFAULT_CADENCE)


def scheduled_run(services: FakeServices) -> int:
    """The schedule fires; the worker runs the store's full sync. Answers the SKUs it uploaded."""
    before = len(uploads(services))
    assert enqueue_scheduled_syncs(services) == 1
    assert deliver(services) == ["done"]
    return sum(len(call) for call in uploads(services)[before:])


# -- the rule --------------------------------------------------------------------------------------------------
def test_a_run_right_after_a_full_upload_refreshes_nothing():
    now = 1_790_000_000.0
    records = [record(str(n), now - 60) for n in range(1000)]
    assert due(records, now) == frozenset()
    assert due(records, now + HALF_DAY - 61) == frozenset()


def test_items_without_an_upload_time_wait_for_their_slot_instead_of_falling_due_at_once():
    now = 1_790_000_000.0
    records = [record(str(n), None) for n in range(1200)]
    slots = 2 * 6
    chosen = due(records, now)
    current = DEFAULT_CADENCE.run_index(now) % slots
    in_slot = {r.sku_id for r in records if refresh_slot(r.sku_id, slots) == current}
    cap = refresh_cap(1200, refresh_days=7, runs_per_day=2)
    assert cap == 100
    assert chosen <= in_slot
    assert len(chosen) == min(cap, len(in_slot))


def test_no_run_refreshes_more_than_its_share_and_every_sku_comes_round_within_the_cycle():
    start = 1_790_000_000.0
    records = {str(n): record(str(n), start) for n in range(5000)}
    cap = refresh_cap(5000, refresh_days=7, runs_per_day=2)
    last: dict[str, float] = dict.fromkeys(records, start)
    worst = 0.0
    for run in range(1, 31):  # 15 days of twice-daily runs
        now = start + run * HALF_DAY
        chosen = due(list(records.values()), now)
        assert len(chosen) <= cap
        for sku in chosen:
            records[sku] = record(sku, now)
            last[sku] = now
        worst = max(worst, max(now - t for t in last.values()))
    assert worst <= 7 * DAY_SECONDS  # every SKU uploaded at least every TIKTOK_REFRESH_DAYS


def test_held_back_rejected_before_acceptance_and_off_tiktok_skus_are_not_refreshed():
    now = 1_790_000_000.0
    old = now - 10 * DAY_SECONDS
    off = record("off", old).model_copy(update={"on_tiktok": False})
    held = record("held", old, status="held_back")
    never_accepted = record("new", old).model_copy(update={"hash": None})
    assert due([off, held, never_accepted], now) == frozenset()


@settings(max_examples=60, deadline=None)
@given(
    sku_ids=st.sets(st.text(min_size=1, max_size=12), min_size=1, max_size=300),
    days=st.integers(min_value=2, max_value=29),
    per_day=st.integers(min_value=1, max_value=24),
    offset=st.floats(min_value=0, max_value=60 * DAY_SECONDS),
)
def test_any_catalog_any_schedule_stays_within_the_share(sku_ids: set[str], days: int, per_day: int, offset: float):
    now = 1_790_000_000.0 + offset
    records = [record(s, None) for s in sku_ids]
    chosen = refresh_due(records, now=now, refresh_days=days, cadence=Cadence(every_minutes=1440 // per_day))
    assert chosen <= sku_ids
    assert len(chosen) <= math.ceil(len(sku_ids) / (per_day * (days - 1)))


@pytest.mark.parametrize(
    ("expression", "runs"),
    [
        ("cron(0 6,18 * * ? *)", 2),
        ("cron(30 */4 * * ? *)", 6),
        ("cron(0 3 * * ? *)", 1),
        ("rate(12 hours)", 2),
        ("rate(1 day)", 1),
        ("rate(30 minutes)", 48),
        ("cron(0 6 ? * MON *)", 2),  # not a daily form: the default
        ("", 2),
    ],
)
def test_runs_per_day_of_the_schedule(expression: str, runs: int):
    assert runs_per_day(expression) == runs


# -- through the sync ------------------------------------------------------------------------------------------
def test_fifteen_days_of_unchanged_twice_daily_syncs_refresh_every_sku_at_least_twice_within_the_share():
    services = fresh_services()
    install_store(services)
    products = [services.ecwid().add_product(STORE_ID, f"Tee {n}") for n in range(240)]
    connect(services)
    first = len(uploads(services))
    cap = math.ceil(len(products) / (2 * (7 - 1)))

    per_run = []
    for _ in range(30):
        services.advance(HALF_DAY)
        per_run.append(scheduled_run(services))

    assert max(per_run) <= cap
    refreshed = Counter(sku for call in uploads(services)[first:] for sku in call)
    assert set(refreshed) == {str(p) for p in products}
    assert min(refreshed.values()) >= 2


def test_a_resync_within_one_interval_of_a_full_upload_writes_nothing():
    services = fresh_services()
    install_store(services)
    for n in range(50):
        services.ecwid().add_product(STORE_ID, f"Tee {n}")
    connect(services)
    services.advance(HALF_DAY - 60)
    assert scheduled_run(services) == 0
