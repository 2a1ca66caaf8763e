"""Issue 12, item 8: products the store's own settings keep off TikTok (disabled, or only in hidden categories) are
listed with why (`status=excluded`, one item per product), instead of appearing nowhere."""

from __future__ import annotations

from tests.fakes import FakeServices
from tests.fast.steps import STORE_ID, install_store
from tests.fast.test_sync import connect, ecwid_event, full_sync, listed, on_tiktok, sku
from tiktok_channel.services.status import store_status


def test_disabled_and_hidden_category_products_are_listed_with_why_once_each(services: FakeServices):
    install_store(services)
    ecwid = services.ecwid()
    shown = ecwid.add_category(STORE_ID)
    hidden = ecwid.add_category(STORE_ID, enabled=False)
    disabled = ecwid.add_product(STORE_ID, "Old tee", enabled=False, variations=[{"options": {"Size": "S"}}])
    archived = ecwid.add_product(STORE_ID, "Archived mug", category_ids=[hidden])
    both = ecwid.add_product(STORE_ID, "Bag", category_ids=[hidden, shown])
    connect(services)

    excluded = listed(services, "excluded")
    assert set(excluded) == {sku(disabled), sku(archived)}  # one item per product, variations or not
    assert excluded[sku(disabled)][0]["message"].startswith("Disabled in Ecwid")
    assert excluded[sku(archived)][0]["message"].startswith("Every category it is in is hidden")
    assert set(on_tiktok(services)) == {sku(both)}
    assert store_status(services, STORE_ID)["products"]["excluded"] == 2

    services.tiktok().calls.clear()
    before = services.table.snapshot()
    full_sync(services)  # nothing changed: the excluded items are not written again
    sku_items = {k: v for k, v in services.table.snapshot().items() if k[1].startswith("SKU#")}
    assert sku_items == {k: v for k, v in before.items() if k[1].startswith("SKU#")}


def test_a_product_switched_off_in_ecwid_leaves_tiktok_and_comes_back_when_switched_on(services: FakeServices):
    install_store(services)
    tee = services.ecwid().add_product(STORE_ID, "Tee")
    connect(services)
    assert sku(tee) in on_tiktok(services)

    services.ecwid().update_product(STORE_ID, tee, enabled=False)
    assert ecwid_event(services, "product.updated", tee) == ["applied"]
    assert on_tiktok(services) == {}
    assert set(listed(services, "excluded")) == {sku(tee)}
    assert listed(services, "pending") == {}
    assert store_status(services, STORE_ID)["products"]["excluded"] == 1

    services.ecwid().update_product(STORE_ID, tee, enabled=True)
    assert ecwid_event(services, "product.updated", tee) == ["applied"]
    assert sku(tee) in on_tiktok(services)
    assert listed(services, "excluded") == {}
    assert "excluded" not in store_status(services, STORE_ID)["products"]  # shown only when there are some


def test_a_product_that_gained_variations_and_was_hidden_leaves_tiktok_whole_at_the_next_full_sync(
    services: FakeServices,
):
    install_store(services)
    shown = services.ecwid().add_category(STORE_ID)
    hat = services.ecwid().add_product(STORE_ID, "Hat", category_ids=[shown])
    connect(services)
    assert set(on_tiktok(services)) == {sku(hat)}

    # No events on the way (missed webhooks): only the twice-daily full sync sees both changes.
    ecwid = services.ecwid()
    ecwid.update_product(STORE_ID, hat, combinations=[ecwid._combination(hat, {"options": {"Size": "S"}})])
    ecwid.update_category(STORE_ID, shown, enabled=False)
    full_sync(services)

    assert on_tiktok(services) == {}  # the SKU it had without variations is gone too
    assert set(listed(services, "excluded")) == {sku(hat)}
