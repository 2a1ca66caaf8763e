"""Journey 6 (services/disconnect.py): Disconnect and uninstall take the store down here at once and tell TikTok,
at once or through the worker's cleanup message, until TikTok confirmed."""

from __future__ import annotations

import json

import pytest

from tests.fakes import FakeServices
from tests.fast.steps import (
    BASE_URL,
    PHONE,
    STORE_ID,
    admin_payload,
    apply_for_storefront,
    connect_store,
    connected_store,
    deliver,
    install_store,
    next_message,
    refused,
    signature,
    state_of,
    store_of,
    webhook,
    work_on,
)
from tiktok_channel.errors import (
    AppError,
    TikTokRequestRejected,
    TikTokUnavailable,
    TransientError,
    Unauthorized,
)
from tiktok_channel.services import connect
from tiktok_channel.services.disconnect import disconnect_store, uninstall_store
from tiktok_channel.services.jobs import request_sync
from tiktok_channel.services.session import open_session
from tiktok_channel.services.webhooks import receive_webhook


@pytest.fixture
def selling(services: FakeServices) -> FakeServices:
    """Connected, with two products on TikTok."""
    install_store(services)
    services.ecwid().add_product(STORE_ID, "Shirt")
    services.ecwid().add_product(STORE_ID, "Mug")
    connect_store(services)
    deliver(services)
    return services


def tiktok_token(services: FakeServices) -> str:
    store = store_of(services)
    assert store.tiktok is not None
    return services.cipher.decrypt(store.tiktok.access_token, store_id=STORE_ID, field="tiktok_token")


def on_tiktok(services: FakeServices) -> set[str]:
    return set(services.tiktok().catalog_of(str(STORE_ID)).products)


def test_disconnect_takes_the_store_down_here_and_tells_tiktok_at_once(selling: FakeServices):
    apply_for_storefront(selling)
    token = tiktok_token(selling)

    answer = disconnect_store(selling, STORE_ID)

    assert answer.as_json() == {"status": "disconnected", "remote_cleanup": "done"}
    store = store_of(selling)
    assert (store.status, store.epoch, store.tiktok, store.storefront_state) == ("disconnected", 2, None, "not_applied")
    assert (store.products.pending, store.sync.state) == (0, "idle")
    assert store.remote_cleanup is not None
    assert store.remote_cleanup.state == "done"
    assert list(selling.stores.connected_stores()) == []
    assert list(selling.catalog.all_skus(STORE_ID)) == []
    assert selling.storefronts.get(STORE_ID) is None
    assert selling.cleanups.pending(STORE_ID) == []
    tiktok = selling.tiktok()
    assert tiktok.tokens[token].revoked
    assert not tiktok.profiles[("ECWID", str(STORE_ID))].connected
    assert selling.quick_tiktok_asked == 1  # the merchant waits: short timeouts
    assert [m["kind"] for m in selling.queue.waiting_fields()] == ["cleanup"]
    assert open_session(selling, admin_payload(selling))["store_id"] == STORE_ID  # still installed


def test_work_queued_for_the_old_connection_does_nothing_after_a_disconnect(selling: FakeServices):
    request_sync(selling, STORE_ID)
    body = webhook("product.updated", next(iter(selling.ecwid().stores[STORE_ID].products)))
    receive_webhook(selling, json.dumps(body), signature(body))
    calls = len(selling.tiktok().calls)

    disconnect_store(selling, STORE_ID)
    after_disconnect = len(selling.tiktok().calls)

    assert deliver(selling) == ["dropped", "dropped", "done"]
    assert after_disconnect > calls
    assert selling.tiktok().calls[after_disconnect:] == []
    assert list(selling.catalog.all_skus(STORE_ID)) == []


def test_disconnecting_again_is_harmless(selling: FakeServices):
    disconnect_store(selling, STORE_ID)
    deliver(selling)
    before, calls = selling.table.snapshot(), len(selling.tiktok().calls)

    assert disconnect_store(selling, STORE_ID).as_json() == {"status": "disconnected", "remote_cleanup": "done"}
    assert selling.table.snapshot() == before
    assert selling.tiktok().calls[calls:] == []
    assert selling.queue.waiting == []


def test_a_store_that_never_installed_cannot_disconnect(services: FakeServices):
    with pytest.raises(AppError) as error:
        disconnect_store(services, STORE_ID)
    refused(error, 404, "store_not_found")


def test_tiktok_down_leaves_the_cleanup_to_the_worker_until_tiktok_confirms(selling: FakeServices):
    token = tiktok_token(selling)
    selling.tiktok().fail("disconnect_shop", TikTokUnavailable("TikTok failed with HTTP 503"), times=2)

    assert disconnect_store(selling, STORE_ID).remote_cleanup == "pending"

    store = store_of(selling)
    assert store.status == "disconnected"
    assert store.remote_cleanup is not None
    assert (store.remote_cleanup.state, store.remote_cleanup.attempts) == ("pending", 1)
    assert "TikTokUnavailable" in (store.remote_cleanup.last_error or "")
    [left] = selling.cleanups.pending(STORE_ID)
    assert selling.cipher.decrypt(left.access_token, store_id=STORE_ID, field="tiktok_token") == token
    assert not selling.tiktok().tokens[token].revoked

    with pytest.raises(TikTokUnavailable):
        deliver(selling)  # TikTok still down: the message comes back later
    assert len(selling.queue.delays) == 1
    assert deliver(selling) == ["done"]

    assert selling.tiktok().tokens[token].revoked
    assert selling.cleanups.pending(STORE_ID) == []
    outcome = store_of(selling).remote_cleanup
    assert outcome is not None
    assert outcome.state == "done"


def test_a_cleanup_the_worker_has_no_time_for_comes_back_untouched(selling: FakeServices):
    token = tiktok_token(selling)
    selling.tiktok().fail("disconnect_shop", TikTokUnavailable("TikTok failed with HTTP 503"))
    disconnect_store(selling, STORE_ID)
    message = next_message(selling)
    calls = len(selling.tiktok().calls)

    with pytest.raises(TransientError):
        work_on(selling, message, receive_count=2, seconds=10.0)

    assert selling.queue.delays == [(message.receipt_handle, 60.0)]
    assert selling.tiktok().calls[calls:] == []
    assert not selling.tiktok().tokens[token].revoked
    assert len(selling.cleanups.pending(STORE_ID)) == 1


def test_a_token_tiktok_already_revoked_counts_as_done(selling: FakeServices):
    selling.tiktok().revoke_all()

    assert disconnect_store(selling, STORE_ID).remote_cleanup == "done"
    assert selling.cleanups.pending(STORE_ID) == []


def test_a_business_profile_tiktok_refuses_to_touch_is_not_asked_again(selling: FakeServices):
    token = tiktok_token(selling)
    selling.tiktok().fail("disconnect_business_profile", TikTokRequestRejected("code 40001", code=40001))

    assert disconnect_store(selling, STORE_ID).remote_cleanup == "done"
    assert selling.tiktok().tokens[token].revoked
    assert selling.tiktok().calls.count("disconnect_business_profile") == 1


def test_a_half_made_connections_token_is_revoked_too(services: FakeServices):
    install_store(services)
    url = connect.start_connect(services, STORE_ID, PHONE, BASE_URL)
    code = services.tiktok().authorize(str(STORE_ID), profile=False)
    services.tiktok().fail("create_pixel", TikTokUnavailable("TikTok failed with HTTP 503"))
    with pytest.raises(AppError):
        connect.finish_connect(services, auth_code=code, state=state_of(url))
    [token] = services.tiktok().tokens

    assert disconnect_store(services, STORE_ID).remote_cleanup == "done"

    assert services.tiktok().tokens[token].revoked
    assert store_of(services).pending_connection is None


def test_a_tiktok_page_left_open_cannot_connect_the_store_after_a_disconnect(services: FakeServices):
    install_store(services)
    url = connect.start_connect(services, STORE_ID, PHONE, BASE_URL)
    code = services.tiktok().authorize(str(STORE_ID))

    disconnect_store(services, STORE_ID)

    with pytest.raises(AppError) as error:
        connect.finish_connect(services, auth_code=code, state=state_of(url))
    refused(error, 400, "state_used")
    assert store_of(services).status == "disconnected"
    assert services.tiktok().tokens == {}


def test_reconnecting_finds_the_same_catalog_and_replaces_its_content(selling: FakeServices):
    catalog_id = selling.tiktok().catalog_of(str(STORE_ID)).catalog_id
    shirt, mug = selling.ecwid().stores[STORE_ID].products
    disconnect_store(selling, STORE_ID)
    deliver(selling)
    selling.ecwid().delete_product(STORE_ID, mug)

    connect_store(selling)
    deliver(selling)

    store = store_of(selling)
    assert store.tiktok is not None
    assert store.tiktok.catalog_id == catalog_id
    assert (store.status, store.epoch) == ("connected", 3)
    assert on_tiktok(selling) == {str(shirt)}
    assert selling.tiktok().created_catalogs == []


def test_uninstall_forgets_the_ecwid_token_the_phone_and_the_email(selling: FakeServices):
    payload = admin_payload(selling)
    selling.ecwid().revoke_tokens(STORE_ID)  # Ecwid refuses the app's token once it is uninstalled
    body = webhook("application.uninstalled", str(STORE_ID))
    receive_webhook(selling, json.dumps(body), signature(body))

    assert deliver(selling)[0] == "uninstalled"

    store = store_of(selling)
    assert (store.status, store.ecwid_token, store.phone, store.email) == ("disconnected", None, None, "")
    assert store.tiktok is None
    with pytest.raises(Unauthorized):
        open_session(selling, payload)
    assert selling.tiktok().revoked_by_app


def test_an_uninstall_of_a_store_the_app_does_not_know_is_ignored(services: FakeServices):
    assert uninstall_store(services, 4242) == "ignored"
    assert services.table.items == {}


def test_an_uninstalled_store_installs_again_from_scratch(services: FakeServices):
    connected_store(services)
    services.ecwid().revoke_tokens(STORE_ID)
    uninstall_store(services, STORE_ID)

    install_store(services)

    store = store_of(services)
    assert (store.status, store.tiktok) == ("installed", None)
    assert open_session(services, admin_payload(services))["store_id"] == STORE_ID
