"""Issue 12, items 3 and 4: the store status keeps the last finished sync beside the running one, and a sync
waiting on a failing service says so, since when, and when it tries again; progress claims only what TikTok
confirmed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes import FakeServices
from tests.fast.steps import STORE_ID, connect_store, deliver, install_store, next_message, work_on
from tiktok_channel.errors import EcwidUnavailable, PausedError, TikTokUnavailable
from tiktok_channel.services.jobs import request_sync
from tiktok_channel.services.status import store_status


@pytest.fixture
def synced(services: FakeServices) -> FakeServices:
    install_store(services)
    for n in range(12):
        services.ecwid().add_product(STORE_ID, f"Tee {n}")
    connect_store(services)
    deliver(services)
    return services


def first_products(services: FakeServices, count: int) -> list[int]:
    return sorted(services.ecwid().stores[STORE_ID].products)[:count]


def sync_of(services: FakeServices) -> dict[str, Any]:
    sync: dict[str, Any] = store_status(services, STORE_ID)["sync"]
    return sync


def test_a_queued_or_running_sync_keeps_the_last_finished_one_beside_it(synced: FakeServices):
    finished = sync_of(synced)
    assert finished["last_finished_at"] is not None
    assert "12 uploaded" in finished["last_result"]

    synced.advance(60)
    request_sync(synced, STORE_ID)
    queued = sync_of(synced)
    assert queued["state"] == "queued"
    last = (finished["last_finished_at"], finished["last_result"])
    assert (queued["last_finished_at"], queued["last_result"]) == last

    synced.tiktok().fail("upload_products", TikTokUnavailable("down"))
    [product] = first_products(synced, 1)
    synced.ecwid().update_product(STORE_ID, product, name="Blue tee")
    with pytest.raises(TikTokUnavailable):
        deliver(synced)
    running = sync_of(synced)
    assert running["state"] == "running"
    assert (running["last_finished_at"], running["last_result"]) == last


@pytest.mark.parametrize(
    ("failure", "method", "says"),
    [
        (TikTokUnavailable("TikTok answered HTTP 503"), "upload_products", "TikTok is not answering"),
        (EcwidUnavailable("Ecwid answered HTTP 503"), "product_page", "Ecwid is not answering"),
    ],
)
def test_a_sync_waiting_on_a_failing_service_says_which_since_when_and_when_it_tries_again(
    synced: FakeServices, failure: Exception, method: str, says: str
):
    fake = synced.tiktok() if method == "upload_products" else synced.ecwid()
    for n, product in enumerate(first_products(synced, 3)):
        synced.ecwid().update_product(STORE_ID, product, name=f"Changed {n}")
    request_sync(synced, STORE_ID)
    message = next_message(synced)
    fake.fail(method, failure, times=2)

    started = synced.now
    with pytest.raises(type(failure)):
        work_on(synced, message, receive_count=1)
    first = store_status(synced, STORE_ID)
    assert first["notice"]["code"] == "sync_waiting"
    assert says in first["notice"]["message"]
    assert first["sync"]["waiting_since"] is not None
    assert first["sync"]["retry_at"] > first["sync"]["waiting_since"]
    assert first["sync"]["done"] == 0  # nothing confirmed: no progress claimed

    synced.advance(120)
    with pytest.raises(type(failure)):
        work_on(synced, message, receive_count=2)
    second = store_status(synced, STORE_ID)
    assert second["sync"]["waiting_since"] == first["sync"]["waiting_since"]  # since the first failure in a row
    assert second["sync"]["retry_at"] > first["sync"]["retry_at"]
    assert synced.now > started

    synced.advance(300)
    assert work_on(synced, message, receive_count=3) == "done"
    recovered = store_status(synced, STORE_ID)
    assert "notice" not in recovered
    assert "waiting_since" not in recovered["sync"]
    assert "retry_at" not in recovered["sync"]
    assert recovered["sync"]["state"] == "idle"


def test_a_fleet_pause_reads_as_tiktok_asking_to_slow_down(synced: FakeServices):
    [product] = first_products(synced, 1)
    synced.ecwid().update_product(STORE_ID, product, name="Changed")
    request_sync(synced, STORE_ID)
    message = next_message(synced)
    synced.tiktok().fail("upload_products", PausedError(synced.now + 300))

    with pytest.raises(PausedError):
        work_on(synced, message)

    status = store_status(synced, STORE_ID)
    assert "slow down" in status["notice"]["message"]
    assert status["sync"]["retry_at"] is not None


def test_a_waiting_note_never_hides_a_notice_that_says_more(synced: FakeServices):
    synced.tiktok().revoke_all()
    [product] = first_products(synced, 1)
    synced.ecwid().update_product(STORE_ID, product, name="Changed")
    request_sync(synced, STORE_ID)
    deliver(synced)  # TikTok answers 40105: the store must reconnect
    assert store_status(synced, STORE_ID)["notice"]["code"] == "reconnect_needed"
