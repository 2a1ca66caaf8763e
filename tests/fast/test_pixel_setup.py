"""Journey 7, store side (services/pixel.py): every full sync puts the pixel's storefront config in Ecwid's public
app storage and binds the catalog to the pixel, once; what it cannot do is shown on the page, never failing the
sync; a disconnect takes the pixel off the storefront and an uninstall forgets it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fakes import FULL_SCOPES, FakeServices
from tests.fast.steps import BASE_URL, STORE_ID, connect_store, deliver, install_store, signature, store_of, webhook
from tiktok_channel.errors import EcwidError, EcwidUnavailable, TikTokRequestRejected
from tiktok_channel.models.pixel import PixelState
from tiktok_channel.services.disconnect import disconnect_store, uninstall_store
from tiktok_channel.services.jobs import request_sync
from tiktok_channel.services.pixel import pixel_status, set_server_events
from tiktok_channel.services.webhooks import receive_webhook

LEGACY_SCOPES = "read_store_profile read_catalog add_to_cp"


def selling(services: FakeServices, *, scope: str = FULL_SCOPES) -> int:
    """Installed with one product and connected (its first sync not run yet); answers the product id."""
    install_store(services, scope=scope)
    product = services.ecwid().add_product(STORE_ID, "Shirt")
    connect_store(services)
    return product


def connection(services: FakeServices) -> tuple[str, str]:
    """The store's (catalog id, pixel code)."""
    tiktok = store_of(services).tiktok
    assert tiktok is not None
    assert tiktok.catalog_id
    assert tiktok.pixel_code
    return tiktok.catalog_id, tiktok.pixel_code


def storage(services: FakeServices) -> dict[str, str]:
    return services.ecwid().stores[STORE_ID].storage


def status(services: FakeServices) -> dict[str, Any]:
    return pixel_status(services, STORE_ID, BASE_URL)


def full_sync(services: FakeServices) -> None:
    request_sync(services, STORE_ID)
    deliver(services)


def on_tiktok(services: FakeServices) -> set[str]:
    return set(services.tiktok().catalog_of(str(STORE_ID)).products)


def test_the_first_sync_puts_the_pixel_on_the_storefront_and_binds_the_catalog(services: FakeServices):
    selling(services)

    deliver(services)

    catalog_id, pixel_code = connection(services)
    assert json.loads(storage(services)["public"]) == {"pixel_code": pixel_code, "currency": "USD"}
    assert services.tiktok().event_sources[catalog_id] == [pixel_code]
    assert services.tiktok().binds == 1
    answer = status(services)
    assert (answer["pixel_code"], answer["storefront_script"]) == (pixel_code, "installed")
    assert answer["missing_scopes"] == []
    assert "last_error" not in answer
    assert "grant_access_url" not in answer


def test_later_syncs_bind_nothing_again(services: FakeServices):
    selling(services)
    deliver(services)

    full_sync(services)
    full_sync(services)

    assert services.tiktok().binds == 1
    assert services.tiktok().calls.count("bind_event_source") == 1
    assert "last_error" not in status(services)


def test_a_catalog_already_bound_to_the_pixel_is_not_bound_again(services: FakeServices):
    selling(services)
    catalog_id, pixel_code = connection(services)
    services.tiktok().event_sources[catalog_id] = [pixel_code]  # bound by TikTok's own setup

    deliver(services)

    assert services.tiktok().binds == 0
    assert "bind_event_source" not in services.tiktok().calls
    assert services.tiktok().event_sources[catalog_id] == [pixel_code]
    assert "last_error" not in status(services)


def test_a_store_installed_before_the_pixel_gets_it_once_the_merchant_grants_access(services: FakeServices):
    product = selling(services, scope=LEGACY_SCOPES)

    deliver(services)

    assert on_tiktok(services) == {str(product)}  # the catalog syncs as before
    assert "public" not in storage(services)
    assert "put_app_storage" not in services.ecwid().calls
    answer = status(services)
    assert answer["storefront_script"] == "not_installed"
    assert answer["last_error"]["code"] == "storefront_scope_missing"
    assert "Grant access" in answer["last_error"]["message"]
    assert "update_store_profile" in answer["missing_scopes"]
    assert "update_store_profile" in answer["grant_access_url"]

    install_store(services, scope=FULL_SCOPES)  # the merchant pressed Grant access and agreed
    full_sync(services)

    _, pixel_code = connection(services)
    assert json.loads(storage(services)["public"]) == {"pixel_code": pixel_code, "currency": "USD"}
    answer = status(services)
    assert (answer["storefront_script"], answer["missing_scopes"]) == ("installed", [])
    assert "last_error" not in answer


def test_a_disconnect_takes_the_pixel_off_the_storefront(services: FakeServices):
    selling(services)
    deliver(services)

    disconnect_store(services, STORE_ID)

    assert "public" not in storage(services)
    answer = status(services)
    assert (answer["pixel_code"], answer["storefront_script"]) == (None, "not_installed")


def test_a_disconnect_keeps_the_merchants_server_events_choice(services: FakeServices):
    selling(services)
    deliver(services)
    set_server_events(services, STORE_ID, False, BASE_URL)

    disconnect_store(services, STORE_ID)

    assert status(services)["server_events"] is False


def test_an_uninstall_forgets_the_pixel_and_the_stores_purchases(services: FakeServices):
    product = selling(services)
    deliver(services)
    set_server_events(services, STORE_ID, True, BASE_URL)
    order_id = services.ecwid().add_order(STORE_ID, [(product, None, 1)])
    body = webhook("order.created", 1, order_id=order_id)
    body["eventCreated"] = int(services.now)
    receive_webhook(services, json.dumps(body), signature(body))
    deliver(services)
    assert services.pixels.get_purchase(STORE_ID, order_id) is not None

    services.ecwid().revoke_tokens(STORE_ID)
    uninstall_store(services, STORE_ID)

    assert services.pixels.get(STORE_ID) == PixelState()
    assert services.pixels.get_purchase(STORE_ID, order_id) is None
    assert status(services)["purchases_sent_24h"] == 0
    left = [key[1] for key in services.table.items if key[0] == f"STORE#{STORE_ID}"]
    assert not [sk for sk in left if sk == "PIXEL" or sk.startswith(("ORDER#", "PURCHASES#"))]


def test_tiktok_refusing_the_binding_leaves_the_sync_working_and_tells_the_merchant(services: FakeServices):
    product = selling(services)
    services.tiktok().fail(
        "bind_event_source",
        TikTokRequestRejected(
            "TikTok answered code 40002: catalog is under review", code=40002, detail="catalog is under review"
        ),
    )

    deliver(services)

    assert on_tiktok(services) == {str(product)}
    assert store_of(services).sync.state == "idle"
    error = status(services)["last_error"]
    assert error["code"] == "catalog_binding_refused"
    assert "catalog is under review" in error["message"]
    assert "public" in storage(services)
    calls = services.ecwid().calls.count("put_app_storage")
    full_sync(services)  # written already: a sync that changes nothing asks Ecwid nothing about it
    assert services.ecwid().calls.count("put_app_storage") == calls  # the storefront config went in regardless

    full_sync(services)  # TikTok takes it the next time

    catalog_id, pixel_code = connection(services)
    assert services.tiktok().event_sources[catalog_id] == [pixel_code]
    assert "last_error" not in status(services)


@pytest.mark.parametrize(
    ("method", "failure"),
    [
        ("put_app_storage", EcwidUnavailable("Ecwid failed with HTTP 503", status=503)),
        ("put_app_storage", EcwidError("Ecwid rejected the request (HTTP 400)", status=400)),
    ],
)
def test_ecwid_failing_the_storefront_config_never_fails_the_sync(
    services: FakeServices, method: str, failure: Exception
):
    product = selling(services)
    services.ecwid().fail(method, failure)

    deliver(services)

    assert on_tiktok(services) == {str(product)}
    assert store_of(services).sync.state == "idle"
    assert "public" not in storage(services)
    assert status(services)["last_error"]["code"] == "storefront_config_failed"
    assert services.tiktok().binds == 1  # the binding was not skipped for it

    full_sync(services)

    assert "public" in storage(services)
    assert "last_error" not in status(services)
