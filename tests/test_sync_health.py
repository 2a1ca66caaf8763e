"""Issue 14 over the local stack: the sync's health and TikTok's own counts through GET /api/stores/{id}, and
"Check with TikTok" (POST /api/stores/{id}/reviews/check) correcting our records from the sandbox TikTok."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from sandboxes.common import FaultRule
from tests.app_stack import AppStack, app_stack
from tests.test_catalog_sync import connect_and_sync
from tests.test_product_events import send_event

STORE = 1003
UPLOAD = "/open_api/v1.3/catalog/product/upload/"
PAUSE_SECONDS = 6


@pytest.fixture
def short_pause() -> Iterator[AppStack]:
    with app_stack(parameters={"TikTokPauseSeconds": str(PAUSE_SECONDS)}) as running:
        yield running


def test_a_40100_pause_shows_when_it_ends_and_the_edits_it_holds(short_pause: AppStack):
    stack = short_pause
    store = stack.ecwid.add_store(STORE)
    ids = [store.add_product(f"Mug {n}", 10 + n) for n in range(3)]
    connect_and_sync(stack, store)
    session = stack.open_session(STORE)
    assert (
        stack.status(STORE, session)["sync"] | {"waiting_edits": 0, "stalled": False}
        == (stack.status(STORE, session)["sync"])
    )
    stack.tiktok.faults.add(FaultRule(kind="rate_limit", path_prefix=UPLOAD, count=1))
    for product_id in ids[:2]:
        store.update_product(product_id, name=f"Mug {product_id} renamed")
        send_event(stack, "product.updated", product_id)

    stack.run_worker(timeout=3)

    sync = stack.status(STORE, session)["sync"]
    assert "paused_until" in sync
    assert 1 <= sync["waiting_edits"] <= 2  # the failed event, and the one skipped behind it when received
    assert "oldest_waiting_at" in sync

    time.sleep(PAUSE_SECONDS + 0.5)
    stack.run_worker(until_empty=True)

    sync = stack.status(STORE, session)["sync"]
    assert sync["waiting_edits"] == 0
    assert "paused_until" not in sync
    assert "oldest_waiting_at" not in sync


def review_checks(stack: AppStack) -> None:
    """The review checks' schedule fires, and the worker takes what it queued."""
    assert stack.lambdas["ScheduledSyncFunction"].invoke({"job": "review_checks"})["review_checks"] == 1
    stack.run_worker()


def test_a_mismatch_with_tiktok_shows_after_two_checks_and_check_with_tiktok_fixes_it(stack: AppStack):
    store = stack.ecwid.add_store(STORE)
    for n in range(8):
        store.add_product(f"Cap {n}", 20 + n)
    connect_and_sync(stack, store)
    catalog_id = stack.store_item(STORE)["tiktok"]["catalog_id"]
    gone = sorted(stack.tiktok_catalog(STORE))[:3]
    with stack.tiktok.lock:  # deleted on TikTok's side, behind the app's back
        for sku_id in gone:
            del stack.tiktok.catalogs[catalog_id].products[sku_id]
    session = stack.open_session(STORE)

    review_checks(stack)
    assert stack.status(STORE, session)["tiktok_counts"]["mismatch"] is False  # one check alone
    review_checks(stack)
    counts = stack.status(STORE, session)["tiktok_counts"]
    assert (counts["mismatch"], counts["ours"]) == (True, 8)

    headers = {"Authorization": f"Bearer {session}"}
    first = stack.http.post(f"/api/stores/{STORE}/reviews/check", headers=headers)
    again = stack.http.post(f"/api/stores/{STORE}/reviews/check", headers=headers)
    assert first.status_code == 202, first.text
    assert (again.status_code, again.json()) == (200, first.json())
    other = stack.http.post("/api/stores/4321/reviews/check", headers=headers)
    assert other.status_code == 403
    stack.tiktok.reset_calls()

    stack.run_worker()

    assert not [c for c in stack.tiktok.calls if c.path.endswith(("/product/upload/", "/product/delete/"))]
    status = stack.status(STORE, session)
    assert status["products"]["held_back"] == 3
    counts = status["tiktok_counts"]
    assert counts["mismatch"] is False
    assert counts["check"] | {"job_id": first.json()["job_id"], "state": "done", "corrected": 3} == counts["check"]
    assert counts["ours"] == counts["approved"] + counts["processing"] + counts["rejected"] == 5
