"""Review of issues 13 and 14: faults found by trying to break the pixel's purchases and the merchant's switch.

Each test shows one fault over the fakes; the fix is in the same commit.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fakes import FakeServices
from tests.fast.steps import STORE_ID, deliver, install_store, next_message, signature, webhook, work_on
from tests.fast.test_purchases import open_shop, order_event, place, tracked
from tests.fast.test_sync import connect, on_tiktok, sku
from tiktok_channel.errors import EcwidError
from tiktok_channel.services.jobs import request_sync
from tiktok_channel.services.visibility import switch_category
from tiktok_channel.services.webhooks import receive_webhook


# -- a category switched during a full sync ------------------------------------------------------------------------
@pytest.mark.parametrize("show", [False, True])
def test_a_category_switch_during_a_long_full_sync_is_kept_by_the_syncs_later_parts(
    services: FakeServices, monkeypatch: pytest.MonkeyPatch, show: bool
):
    install_store(services)
    ecwid = services.ecwid()
    sale = ecwid.add_category(STORE_ID)
    products = [ecwid.add_product(STORE_ID, f"Sale item {n}", category_ids=[sale]) for n in range(250)]
    connect(services)
    if show:  # the category starts off TikTok, and the merchant shows it during the sync
        switch_category(services, STORE_ID, sale, show=False)
        deliver(services)
        assert on_tiktok(services) == {}

    request_sync(services, STORE_ID)
    first_part = next_message(services)
    page = ecwid.product_page
    switched: list[bool] = []

    def page_while_the_merchant_switches(*args: Any, **kwargs: Any) -> Any:
        if not switched:  # the merchant presses the category's switch while the sync's first part runs
            switched.append(switch_category(services, STORE_ID, sale, show=show) > 0)
        return page(*args, **kwargs)

    monkeypatch.setattr(ecwid, "product_page", page_while_the_merchant_switches)
    assert work_on(services, first_part, seconds=30.0) == "continued"
    monkeypatch.setattr(ecwid, "product_page", page)
    deliver(services)  # the switch's job, then the sync's next parts

    assert switched == [True]
    expected = {sku(p) for p in products} if show else set()
    assert set(on_tiktok(services)) == expected


# -- orders Ecwid answers in shapes the purchase did not expect ----------------------------------------------------
def test_an_order_with_a_custom_item_of_no_product_is_sent_with_its_catalog_items(services: FakeServices):
    shop = open_shop(services)
    order_id = place(services, shop)
    order = services.ecwid().stores[STORE_ID].orders[order_id]
    # An item the merchant typed into the order (Ecwid's order editor, or an order made through the API): no product.
    order["items"].append({"name": "Gift wrapping", "quantity": 1, "price": 5.0})
    order["total"] += 5.0

    order_event(services, "order.created", order_id)
    assert deliver(services) == ["sent"]

    [event] = tracked(services)
    shirt, hoodie, size_m = shop
    assert [c["content_id"] for c in event["properties"]["contents"]] == [str(shirt), f"{hoodie}-{size_m}"]
    assert event["properties"]["value"] == 97.5


def test_an_order_ecwid_answers_in_an_unexpected_shape_does_not_hold_the_stores_queue(services: FakeServices):
    shop = open_shop(services)
    order_id = place(services, shop)
    services.ecwid().fail("get_order", EcwidError(f"Ecwid's answer to /orders/{order_id} had an unexpected shape"))

    order_event(services, "order.created", order_id)
    # Not retried for hours in front of the store's catalog edits: the purchase is left out, and the page says so.
    assert deliver(services) == ["unreadable order"]

    assert tracked(services) == []
    assert services.pixels.get_purchase(STORE_ID, order_id) is None
    failure = services.pixels.get(STORE_ID).last_error
    assert failure is not None
    assert (failure.code, failure.order_id) == ("order_unreadable", order_id)


@pytest.mark.parametrize("order_id", [".", ".."])
def test_an_order_id_that_is_a_path_segment_of_dots_is_ignored_by_the_receiver(services: FakeServices, order_id: str):
    # GET /orders/. and /orders/.. are read by HTTP clients as /orders and the store itself: no order id of Ecwid's.
    open_shop(services)
    body = webhook("order.created", 1, order_id=order_id)

    assert receive_webhook(services, json.dumps(body), signature(body)) == "ignored"
    assert services.queue.waiting_fields() == []
