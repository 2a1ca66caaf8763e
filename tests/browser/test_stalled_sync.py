"""Issue 14, "Done when": a test stalls a job and sees the status and the page mark it stalled.

A `make run` of its own with `StallMinutes=1` (LOCAL_PARAMETERS): the store is connected, then TikTok answers every
upload with 40100, so the fleet pauses and an edit waits; "Sync Products" queues a job behind it that cannot move.
After a minute without progress the store status says `stalled`, with what happens next, and the page shows it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser.test_steer_and_health import MUG, STORE, UPLOAD, _at_widths, _open, _open_list, _product_id
from tests.local_run import LocalRun, local_run

STALL_MINUTES = 1


@pytest.fixture(scope="module")
def running() -> Iterator[LocalRun]:
    # The pause outlasts the test: nothing moves until the stall shows.
    with local_run({"LOCAL_PARAMETERS": f"StallMinutes={STALL_MINUTES},TikTokPauseSeconds=900"}) as run:
        yield run


def _status(running: LocalRun) -> dict[str, Any]:
    """The store status (GET /api/stores/{storeId}) with a session of the store, opened as the page opens one."""
    with httpx.Client(timeout=10) as http:
        opened = http.get(running.open_url)
        assert opened.status_code == 302, opened.text
        payload = parse_qs(urlsplit(opened.headers["location"]).query)["payload"][0]
        session = http.post(f"{running.gateway}/api/session", json={"payload": payload}).json()["session"]
        answer = http.get(f"{running.gateway}/api/stores/{STORE}", headers={"Authorization": f"Bearer {session}"})
    assert answer.status_code == 200, answer.text
    status: dict[str, Any] = answer.json()
    return status


def test_a_sync_that_stops_moving_is_marked_stalled_in_the_status_and_on_the_page(
    context: BrowserContext, running: LocalRun
):
    page = context.new_page()
    _open(page, running)
    mug = ""
    for label in ("Pending review", "Listed"):  # pending until the sandbox TikTok's review, listed after
        _open_list(page, label)
        page.wait_for_timeout(500)
        if page.locator("#list-items li.tt-row", has_text=MUG).count():
            mug = _product_id(page, MUG)
            break
    assert mug

    faults = {"rules": [{"kind": "rate_limit", "path_prefix": UPLOAD}]}
    assert httpx.post(f"{running.tiktok}/_sandbox/faults", json=faults).status_code == 200
    try:
        edited = httpx.patch(f"{running.ecwid}/_sandbox/stores/{STORE}/products/{mug}", json={"name": f"{MUG} XL"})
        assert edited.status_code == 200, edited.text
        page.get_by_role("button", name="Sync Products").click()
        started = time.time()
        expect(page.locator("#sync-progress")).to_be_visible(timeout=15_000)

        status = _status(running)
        deadline = started + STALL_MINUTES * 60 + 90
        while not status["sync"]["stalled"] and time.time() < deadline:
            page.wait_for_timeout(5_000)
            status = _status(running)
        sync = status["sync"]
        assert sync["stalled"], sync
        assert time.time() - started >= STALL_MINUTES * 60 - 5  # not before STALL_MINUTES without progress
        assert sync["state"] in ("queued", "running")
        assert sync["stall_message"]
        assert sync["stalled_since"]
        assert sync["restart_at"]

        page.goto(running.open_url)
        box = page.locator("#stalled")
        expect(box).to_contain_text("Your sync has stopped moving")
        expect(box.get_by_role("button", name="Start the sync again")).to_be_visible()
        _at_widths(page, "health-stalled-real", "#stalled")
    finally:
        httpx.delete(f"{running.tiktok}/_sandbox/faults")
