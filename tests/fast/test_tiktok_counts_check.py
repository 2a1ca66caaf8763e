"""Issue 14, item 3: TikTok's own counts beside ours, a mismatch shown only when two checks in a row find them
apart by more than max(2 SKUs, 1%), and "Check with TikTok": one queued job (202, then 200 with the same job while
it is queued or running) that re-reads every SKU's status on TikTok and corrects our records, reads only."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes import FakeServices, TikTokCatalog
from tests.fast.steps import STORE_ID, connect_store, deliver, install_store, next_message, refused
from tiktok_channel.errors import AppError
from tiktok_channel.services.jobs import request_sync
from tiktok_channel.services.reviews import enqueue_review_checks
from tiktok_channel.services.status import store_status
from tiktok_channel.services.tiktok_check import GONE, request_check
from tiktok_channel.services.tiktok_counts import apart
from tiktok_channel.services.worker import handle_message


@pytest.fixture
def shop(services: FakeServices) -> list[int]:
    install_store(services)
    ids = [services.ecwid().add_product(STORE_ID, f"Tee {n}") for n in range(10)]
    connect_store(services)
    deliver(services)
    return ids


def catalog(services: FakeServices) -> TikTokCatalog:
    return services.tiktok().catalog_of(str(STORE_ID))


def review_run(services: FakeServices) -> None:
    enqueue_review_checks(services)
    deliver(services)
    services.advance(30 * 60)


def counts(services: FakeServices) -> dict[str, Any]:
    return dict(store_status(services, STORE_ID)["tiktok_counts"])


def test_the_rule_is_more_than_two_skus_and_more_than_one_percent():
    assert not apart(10, 8)
    assert apart(10, 7)
    assert not apart(1000, 990)
    assert apart(1000, 989)


def test_a_mismatch_shows_after_two_checks_in_a_row_not_one(services: FakeServices, shop: list[int]):
    for product_id in shop[:4]:  # TikTok lost four products (deleted in its own catalog)
        del catalog(services).products[str(product_id)]

    review_run(services)
    first = counts(services)
    assert (first["ours"], first["processing"], first["mismatch"]) == (10, 6, False)

    review_run(services)
    assert counts(services)["mismatch"] is True


def test_one_check_apart_then_agreeing_shows_nothing(services: FakeServices, shop: list[int]):
    gone = {str(product_id): catalog(services).products.pop(str(product_id)) for product_id in shop[:4]}
    review_run(services)
    catalog(services).products.update(gone)  # TikTok's overview caught up
    review_run(services)
    review_run(services)
    assert counts(services)["mismatch"] is False


def test_check_with_tiktok_answers_the_job_queued_and_fixes_our_records(services: FakeServices, shop: list[int]):
    for product_id in shop[:3]:
        del catalog(services).products[str(product_id)]
    review_run(services)
    review_run(services)
    assert counts(services)["mismatch"] is True
    # Since then TikTok rejected one we think pending, and approved another.
    rejected = catalog(services).products[str(shop[3])]
    rejected.audit_status, rejected.reject_info = "rejected", [{"reason": "Blurry image", "suggestion": "Re-shoot"}]
    catalog(services).products[str(shop[4])].audit_status = "approved"

    job = request_check(services, STORE_ID)
    again = request_check(services, STORE_ID)
    assert (job.created, again.created, again.job_id, again.state) == (True, False, job.job_id, "queued")
    assert counts(services)["check"] == {"job_id": job.job_id, "state": "queued"}
    services.tiktok().calls.clear()

    assert deliver(services) == ["checked"]

    assert not {"upload_products", "delete_products"} & set(services.tiktok().calls)  # reads only
    status = store_status(services, STORE_ID)
    assert status["products"] | {"listed": 1, "pending": 5, "rejected": 1, "held_back": 3} == status["products"]
    tiktok = status["tiktok_counts"]
    assert (tiktok["approved"], tiktok["processing"], tiktok["rejected"], tiktok["ours"]) == (1, 5, 1, 7)
    assert tiktok["mismatch"] is False
    assert tiktok["check"] | {"job_id": job.job_id, "state": "done", "corrected": 5} == tiktok["check"]
    records = services.catalog.get_skus(STORE_ID, [str(p) for p in shop[:4]])
    gone = records[str(shop[0])]
    assert (gone.status, gone.on_tiktok, gone.hash, gone.reasons) == ("held_back", False, None, [GONE])
    assert records[str(shop[3])].status == "rejected"
    assert records[str(shop[3])].reasons[0].message == "Blurry image"

    # A new check may start once that one is done; the next sync sends the lost products to TikTok again.
    assert request_check(services, STORE_ID).created is True
    deliver(services)
    request_sync(services, STORE_ID)
    deliver(services)
    assert {str(p) for p in shop[:3]} <= set(catalog(services).products)
    assert store_status(services, STORE_ID)["products"]["held_back"] == 0


def test_a_check_too_long_for_one_invocation_goes_on_in_a_next_part(services: FakeServices, shop: list[int]):
    del catalog(services).products[str(shop[0])]
    request_check(services, STORE_ID)
    times = iter([300.0, 10.0])  # time enough for the listed SKUs, not for the pending ones
    message = next_message(services)

    outcome = handle_message(
        services,
        message.body,
        receipt_handle=message.receipt_handle,
        receive_count=1,
        remaining_seconds=lambda: next(times, 300.0),
    )

    assert outcome == "continued"
    assert counts(services)["check"]["state"] == "running"
    assert (
        services.queue.waiting_fields()[0] | {"kind": "tiktok_check", "part": 1, "cursor": "pending:"}
        == (services.queue.waiting_fields()[0])
    )
    assert deliver(services) == ["checked"]
    assert store_status(services, STORE_ID)["products"]["held_back"] == 1


def test_check_with_tiktok_is_refused_for_a_store_not_connected_or_unknown(services: FakeServices):
    install_store(services)
    with pytest.raises(AppError) as not_connected:
        request_check(services, STORE_ID)
    refused(not_connected, 409, "not_connected")
    with pytest.raises(AppError) as unknown:
        request_check(services, 4321)
    refused(unknown, 404, "store_not_found")
