"""Issue 11, item 2: TikTok requires a brand; a product without a Brand attribute goes up under the store's name
(design.md "Catalog rules": "brand from the Brand attribute, else the store name")."""

from __future__ import annotations

import json

from tests.fakes import FakeServices
from tests.fast.steps import STORE_ID, connect_store, deliver, install_store, signature, webhook
from tiktok_channel.services.products import list_products
from tiktok_channel.services.webhooks import receive_webhook


def brands_on_tiktok(services: FakeServices) -> dict[str, str | None]:
    catalog = services.tiktok().catalog_of(str(STORE_ID))
    return {sku: p.fields.get("brand") for sku, p in catalog.products.items()}


def test_a_product_without_a_brand_attribute_goes_up_under_the_store_name(services: FakeServices):
    ecwid = services.ecwid()
    ecwid.add_store(STORE_ID, name="Kiln & Co Pottery")
    install_store(services)
    plain = ecwid.add_product(STORE_ID, "Mug")
    branded = ecwid.add_product(STORE_ID, "Bowl", attributes=[{"name": "Brand", "value": "Acme", "type": "BRAND"}])
    blank = ecwid.add_product(STORE_ID, "Plate", attributes=[{"name": "Brand", "value": " \n ", "type": "BRAND"}])
    connect_store(services)
    assert deliver(services) == ["done"]

    later = ecwid.add_product(STORE_ID, "Cup")  # through an Ecwid event, not a full sync
    body = webhook("product.created", later)
    receive_webhook(services, json.dumps(body), signature(body))
    deliver(services)

    assert brands_on_tiktok(services) == {
        str(plain): "Kiln & Co Pottery",
        str(branded): "Acme",
        str(blank): "Kiln & Co Pottery",
        str(later): "Kiln & Co Pottery",
    }


def test_the_product_list_says_which_products_went_up_under_the_store_name(services: FakeServices):
    ecwid = services.ecwid()
    ecwid.add_store(STORE_ID, name="Kiln & Co Pottery")
    install_store(services)
    plain = ecwid.add_product(STORE_ID, "Mug")
    branded = ecwid.add_product(STORE_ID, "Bowl", attributes=[{"name": "Brand", "value": "Acme", "type": "BRAND"}])
    connect_store(services)
    deliver(services)

    def flags() -> dict[str, bool]:
        items = list_products(services, STORE_ID, "pending", None)["items"]
        return {item["sku_id"]: item["brand_from_store_name"] for item in items}

    assert flags() == {str(plain): True, str(branded): False}

    ecwid.update_product(STORE_ID, plain, attributes=[{"name": "Brand", "value": "Kiln", "type": "BRAND"}])
    body = webhook("product.updated", plain)
    receive_webhook(services, json.dumps(body), signature(body))
    deliver(services)
    assert flags() == {str(plain): False, str(branded): False}
