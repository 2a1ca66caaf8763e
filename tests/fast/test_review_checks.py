"""Issue 12, item 2: TikTok's review outcomes reach the page without the merchant pressing anything: the review
checks' own schedule reads the statuses of stores with SKUs pending review, found through their sparse index, the
longest-waiting first, TikTok's overview before any status page, within REVIEW_REFRESH_SHARE of the app's daily
TikTok budget."""

from __future__ import annotations

from tests.fakes import FakeServices
from tests.fast.steps import connect_store, deliver, fresh_services, install_store
from tiktok_channel.services.reviews import check_cost, enqueue_review_checks, run_budget
from tiktok_channel.services.status import store_status

FIRST, SECOND = 1003, 1004


def shop(services: FakeServices, store_id: int, products: int) -> list[int]:
    install_store(services, store_id)
    ids = [services.ecwid().add_product(store_id, f"Tee {n}") for n in range(products)]
    connect_store(services, store_id)
    deliver(services)
    return ids


def review_run(services: FakeServices) -> int:
    """The review checks' schedule fires, and the worker takes what it queued."""
    queued = enqueue_review_checks(services)
    deliver(services)
    return queued


def test_tiktoks_decisions_reach_the_status_without_any_action(services: FakeServices):
    products = shop(services, FIRST, 3)
    assert store_status(services, FIRST)["products"]["pending"] == 3
    services.tiktok().review({str(products[0]): ("Prohibited product", "Remove it.")})
    services.advance(30 * 60)

    assert review_run(services) == 1

    status = store_status(services, FIRST)
    assert status["products"] | {"listed": 2, "pending": 0, "rejected": 1} == status["products"]
    assert status["sync"]["reviews_checked_at"] is not None
    assert status["tiktok_counts"] | {"approved": 2, "processing": 0, "rejected": 1} == status["tiktok_counts"]
    # Nothing pending any more: the store left the index, so the next run has no work for it.
    assert review_run(services) == 0


def test_tiktoks_overview_is_read_before_any_status_page(services: FakeServices):
    shop(services, FIRST, 3)
    services.tiktok().calls.clear()

    review_run(services)

    calls = [c for c in services.tiktok().calls if c in ("catalog_overview", "products_by_sku")]
    assert calls == ["catalog_overview", "products_by_sku"]


def test_stores_without_pending_skus_get_no_work(services: FakeServices):
    shop(services, FIRST, 2)
    shop(services, SECOND, 2)
    services.tiktok().review()  # every product of both stores decided
    assert review_run(services) == 2  # both checked once: nothing pending any more

    services.tiktok().calls.clear()
    assert review_run(services) == 0
    assert services.tiktok().calls == []


def test_the_longest_waiting_store_goes_first_and_the_share_stretches_the_interval():
    # A share so small one run's budget pays for one store's check (the overview and one status page).
    services = fresh_services({"REVIEW_REFRESH_SHARE": "0.0002"})
    assert run_budget(services) == 3
    assert check_cost(2) == 2
    shop(services, FIRST, 2)
    services.advance(60)
    shop(services, SECOND, 2)  # synced a minute later: it has waited less
    services.advance(30 * 60)

    assert review_run(services) == 1
    assert "tiktok_counts" in store_status(services, FIRST)  # the first store's turn: TikTok's overview read
    assert "tiktok_counts" not in store_status(services, SECOND)

    services.advance(30 * 60)
    assert review_run(services) == 1
    assert "tiktok_counts" in store_status(services, SECOND)
    services.advance(30 * 60)
    assert review_run(services) == 1  # and round again: the first store has waited longest now
    first, second = store_status(services, FIRST), store_status(services, SECOND)
    assert first["tiktok_counts"]["checked_at"] > second["tiktok_counts"]["checked_at"]


def test_a_store_disconnected_since_leaves_the_index_without_a_tiktok_call(services: FakeServices):
    shop(services, FIRST, 2)
    store = services.stores.get(FIRST)
    assert store is not None
    services.stores.set_notice(FIRST, store.epoch, None, status="reconnect_needed")
    services.tiktok().calls.clear()

    assert review_run(services) == 1  # still in the index: checked once, and dropped
    assert services.tiktok().calls == []
    assert review_run(services) == 0
