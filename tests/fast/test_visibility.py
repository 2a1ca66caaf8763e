"""Issue 14, item 1: the merchant keeps products (or a category's products) off TikTok, and shows them again.

A product switched off leaves TikTok at once (every variation), stays off through edits, category changes and full
syncs, is listed as kept off by the merchant, and comes back when switched on; a category switched off is a rule
applied like a hidden category (a product also in a shown category stays). Choices outlive a disconnect and go at
uninstall; a request naming a product the store has not changes nothing.
"""

from __future__ import annotations

import pytest

from tests.fakes import FakeServices
from tests.fast.steps import STORE_ID, deliver, install_store, refused
from tests.fast.test_sync import connect, ecwid_event, full_sync, listed, on_tiktok, sku
from tiktok_channel.errors import AppError
from tiktok_channel.services.disconnect import disconnect_store, uninstall_store
from tiktok_channel.services.jobs import enqueue_scheduled_syncs
from tiktok_channel.services.status import store_status
from tiktok_channel.services.visibility import switch_category, switch_products


def switch(services: FakeServices, product_ids: list[int], *, show: bool) -> int:
    """The merchant's request, then the worker's job."""
    updated = switch_products(services, STORE_ID, product_ids, show=show)
    deliver(services)
    return updated


def choice_items(services: FakeServices) -> list[str]:
    return sorted(key[1] for key in services.table.items if key[1].startswith("CHOICE#"))


def test_a_product_switched_off_leaves_tiktok_whole_and_comes_back_when_switched_on(services: FakeServices):
    install_store(services)
    ecwid = services.ecwid()
    tee = ecwid.add_product(STORE_ID, "Tee", variations=[{"options": {"Size": "S"}}, {"options": {"Size": "M"}}])
    mug = ecwid.add_product(STORE_ID, "Mug")
    connect(services)
    tee_skus = {sku(tee, c) for c in ecwid.combination_ids(STORE_ID, tee)}
    assert set(on_tiktok(services)) == tee_skus | {sku(mug)}

    assert switch(services, [tee], show=False) == 1

    assert set(on_tiktok(services)) == {sku(mug)}  # every variation left
    kept_off = listed(services, "kept_off")
    assert list(kept_off) == [sku(tee)]  # one item per product
    assert kept_off[sku(tee)][0]["message"].startswith("You keep this product off TikTok")
    assert store_status(services, STORE_ID)["products"]["kept_off"] == 1
    assert listed(services, "pending").keys() == {sku(mug)}

    assert switch(services, [tee], show=True) == 1
    assert set(on_tiktok(services)) == tee_skus | {sku(mug)}
    assert listed(services, "kept_off") == {}
    assert "kept_off" not in store_status(services, STORE_ID)["products"]


def test_a_product_kept_off_stays_off_through_edits_category_changes_and_full_syncs(services: FakeServices):
    install_store(services)
    ecwid = services.ecwid()
    shown = ecwid.add_category(STORE_ID)
    tee = ecwid.add_product(STORE_ID, "Tee", category_ids=[shown])
    connect(services)
    switch(services, [tee], show=False)
    uploads_before = len(services.tiktok().catalog_of(str(STORE_ID)).uploads)

    ecwid.update_product(STORE_ID, tee, name="Tee, new colours", price=30.0)
    assert ecwid_event(services, "product.updated", tee) == ["applied"]
    ecwid.update_category(STORE_ID, shown, name="Tops")
    assert ecwid_event(services, "category.updated", shown) == ["applied"]
    full_sync(services)
    assert enqueue_scheduled_syncs(services) == 1  # the twice-daily schedule's full sync
    deliver(services)

    assert on_tiktok(services) == {}
    assert len(services.tiktok().catalog_of(str(STORE_ID)).uploads) == uploads_before  # never sent again
    assert list(listed(services, "kept_off")) == [sku(tee)]


def test_switching_repeats_changes_nothing_and_counts_nothing(services: FakeServices):
    install_store(services)
    tee = services.ecwid().add_product(STORE_ID, "Tee")
    connect(services)
    assert switch(services, [tee], show=False) == 1
    calls = len(services.tiktok().calls)

    assert switch(services, [tee, tee], show=False) == 0
    assert services.queue.waiting == []  # no job for nothing
    assert len(services.tiktok().calls) == calls


def test_a_bulk_switch_is_one_job_with_one_delete_call_per_thousand_skus(services: FakeServices):
    install_store(services)
    ecwid = services.ecwid()
    products = [ecwid.add_product(STORE_ID, f"Sticker {i}") for i in range(150)]
    keep = ecwid.add_product(STORE_ID, "Poster")
    connect(services)
    services.tiktok().calls.clear()

    updated = switch_products(services, STORE_ID, products, show=False)
    assert updated == 150
    assert [m.fields["kind"] for m in services.queue.waiting] == ["visibility"]
    deliver(services)

    assert set(on_tiktok(services)) == {sku(keep)}
    assert services.tiktok().calls.count("delete_products") == 1
    assert len(listed(services, "kept_off")) == 50  # a page of the list; 150 in all
    assert store_status(services, STORE_ID)["products"]["kept_off"] == 150


def test_a_request_naming_a_product_the_store_has_not_changes_nothing(services: FakeServices):
    install_store(services)
    tee = services.ecwid().add_product(STORE_ID, "Tee")
    connect(services)
    before = services.table.snapshot()

    with pytest.raises(AppError) as error:
        switch_products(services, STORE_ID, [tee, 999_999_999], show=False)

    assert "999999999" in refused(error, 400, "unknown_products")
    assert services.table.snapshot() == before
    assert services.queue.waiting == []
    assert set(on_tiktok(services)) == {sku(tee)}


def test_a_category_switched_off_keeps_its_products_and_subcategories_off_but_not_those_also_shown(
    services: FakeServices,
):
    install_store(services)
    ecwid = services.ecwid()
    sale = ecwid.add_category(STORE_ID)
    under_sale = ecwid.add_category(STORE_ID, parent_id=sale)
    other = ecwid.add_category(STORE_ID)
    only_sale = ecwid.add_product(STORE_ID, "Clearance tee", category_ids=[sale])
    nested = ecwid.add_product(STORE_ID, "Clearance cap", category_ids=[under_sale])
    also_other = ecwid.add_product(STORE_ID, "Bag", category_ids=[sale, other])
    elsewhere = ecwid.add_product(STORE_ID, "Mug", category_ids=[other])
    connect(services)

    assert switch_category(services, STORE_ID, sale, show=False) == 3  # as Ecwid counts the category's products
    deliver(services)

    assert set(on_tiktok(services)) == {sku(also_other), sku(elsewhere)}
    kept_off = listed(services, "kept_off")
    assert set(kept_off) == {sku(only_sale), sku(nested)}
    assert kept_off[sku(nested)][0]["message"].startswith("You keep its category off TikTok")

    # A product added to the category later is kept off too, by the rule.
    later = ecwid.add_product(STORE_ID, "Clearance socks", category_ids=[sale])
    assert ecwid_event(services, "product.created", later) == ["applied"]
    assert sku(later) not in on_tiktok(services)
    full_sync(services)
    assert set(on_tiktok(services)) == {sku(also_other), sku(elsewhere)}

    assert switch_category(services, STORE_ID, sale, show=False) == 0  # already off: nothing changed
    assert switch_category(services, STORE_ID, sale, show=True) == 4
    deliver(services)
    assert set(on_tiktok(services)) == {sku(p) for p in (only_sale, nested, also_other, elsewhere, later)}
    assert listed(services, "kept_off") == {}


def test_an_unknown_category_is_refused_and_changes_nothing(services: FakeServices):
    install_store(services)
    connect(services)
    before = services.table.snapshot()
    with pytest.raises(AppError) as error:
        switch_category(services, STORE_ID, 123_456, show=False)
    refused(error, 400, "unknown_category")
    assert services.table.snapshot() == before


def test_choices_outlive_a_disconnect_and_reconnect_and_go_at_uninstall(services: FakeServices):
    install_store(services)
    ecwid = services.ecwid()
    tee = ecwid.add_product(STORE_ID, "Tee")
    mug = ecwid.add_product(STORE_ID, "Mug")
    connect(services)
    switch(services, [tee], show=False)

    disconnect_store(services, STORE_ID)
    deliver(services)
    assert choice_items(services) == [f"CHOICE#P#{tee}"]
    connect(services)  # the reconnect's first sync replaces the catalog: the choice still holds
    assert set(on_tiktok(services)) == {sku(mug)}
    assert list(listed(services, "kept_off")) == [sku(tee)]

    uninstall_store(services, STORE_ID)
    assert choice_items(services) == []


def test_a_store_not_connected_keeps_its_choice_for_its_first_sync(services: FakeServices):
    install_store(services)
    tee = services.ecwid().add_product(STORE_ID, "Tee")
    mug = services.ecwid().add_product(STORE_ID, "Mug")

    assert switch_products(services, STORE_ID, [tee], show=False) == 1
    assert services.queue.waiting == []  # nothing to take off TikTok yet

    connect(services)
    assert set(on_tiktok(services)) == {sku(mug)}
