"""Issue 10: an Ecwid event acts only on what Ecwid confirms now (services/ecwid_events.py, through the worker).

Ecwid signs only `eventCreated` and `eventId`, so a signature taken from any delivery can be put on a body naming
another store and another event type, and an authentic event can be replayed. An uninstall therefore takes a store
down only once Ecwid refuses the store's token (403 or 401 `INVALID_API_TOKEN`); a token Ecwid still accepts means
the event is ignored and counted; any other answer is tried again later. Events older than Ecwid's retry horizon
(`WEBHOOK_MAX_AGE_SECONDS`) are ignored and counted, whatever their type.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools import Metrics

from tests.fakes import FakeServices
from tests.fast.steps import (
    STORE_ID,
    admin_payload,
    connect_store,
    connected_store,
    deliver,
    fresh_services,
    install_store,
    next_message,
    signature,
    store_of,
    webhook,
    work_on,
)
from tiktok_channel.errors import EcwidAccessLost, EcwidError, EcwidUnavailable, TransientError
from tiktok_channel.models.store import Store
from tiktok_channel.services.session import open_session
from tiktok_channel.services.webhooks import receive_webhook

ATTACKER = 2004  # a store whose owner installed the app too, and so receives Ecwid's signed webhooks
HOUR = 3600.0


def receive(services: FakeServices, body: dict[str, Any], sign: str | None = None) -> str:
    """Ecwid's POST (or anyone's): the JSON body and a signature header, by default the body's own."""
    return receive_webhook(services, json.dumps(body), signature(body) if sign is None else sign)


def uninstall_event(store_id: int = STORE_ID) -> dict[str, Any]:
    return webhook("application.uninstalled", str(store_id), store_id=store_id)


def counted(name: str) -> float:
    """How often the worker counted `name` (Powertools' metrics of this test, emptied by fresh_services)."""
    return float(sum(Metrics().metric_set.get(name, {}).get("Value", [])))


def tiktok_token(services: FakeServices, store_id: int = STORE_ID) -> str:
    store = store_of(services, store_id)
    assert store.tiktok is not None
    return services.cipher.decrypt(store.tiktok.access_token, store_id=store_id, field="tiktok_token")


def assert_untouched(services: FakeServices, before: Store) -> None:
    """The store keeps its Ecwid token, its TikTok connection and its catalog; TikTok was told nothing."""
    after = store_of(services, before.store_id)
    assert (after.status, after.epoch) == (before.status, before.epoch)
    assert after.ecwid_token == before.ecwid_token
    assert after.tiktok == before.tiktok
    assert after.phone == before.phone
    assert services.tiktok().revoked_by_app == []
    assert "disconnect_business_profile" not in services.tiktok().calls
    assert "disconnect_shop" not in services.tiktok().calls
    assert services.cleanups.pending(before.store_id) == []
    if before.tiktok is not None:
        assert list(services.catalog.all_skus(before.store_id))
        assert services.tiktok().catalog_of(str(before.store_id)).products
    assert open_session(services, admin_payload(services, before.store_id))["store_id"] == before.store_id


@pytest.fixture
def selling(services: FakeServices) -> FakeServices:
    """Store 1003 connected with a product on TikTok; the attacker's store installed."""
    install_store(services)
    services.ecwid().add_product(STORE_ID, "Shirt", 25.0)
    connect_store(services)
    deliver(services)
    install_store(services, ATTACKER)
    return services


# -- an uninstall Ecwid does not confirm ---------------------------------------------------------------------
def test_a_forged_uninstall_reusing_an_ignored_events_signature_changes_nothing(selling: FakeServices):
    before = store_of(selling)
    token = tiktok_token(selling)
    # An authentic delivery the app ignores: the attacker's own store's customer event, signed by Ecwid.
    ignored = webhook("customer.created", 5, store_id=ATTACKER)
    stolen = signature(ignored)
    assert receive(selling, ignored, stolen) == "ignored"
    forged = {**ignored, "eventType": "application.uninstalled", "storeId": STORE_ID, "entityId": str(STORE_ID)}
    assert receive(selling, forged, stolen) == "queued"  # the signature covers only eventCreated.eventId

    assert deliver(selling) == ["still installed"]

    assert_untouched(selling, before)
    assert token not in selling.tiktok().revoked_by_app
    assert counted("UninstallNotConfirmed") == 1
    assert counted("StoreUninstalled") == 0


def test_an_authentic_uninstall_replayed_after_a_reinstall_is_ignored(selling: FakeServices):
    selling.ecwid().revoke_tokens(STORE_ID)  # the merchant removes the app in Ecwid
    uninstall = uninstall_event()
    receive(selling, uninstall)
    assert deliver(selling)[0] == "uninstalled"
    install_store(selling)  # and installs it again, and connects again
    connect_store(selling)
    deliver(selling)
    before = store_of(selling)
    selling.tiktok().revoked_by_app.clear()
    selling.tiktok().calls.clear()
    selling.advance(HOUR)  # SQS forgot the deduplication id; within Ecwid's retry horizon

    assert receive(selling, uninstall) == "queued"
    assert deliver(selling) == ["still installed"]

    assert_untouched(selling, before)
    assert counted("UninstallNotConfirmed") == 1


# -- an uninstall Ecwid confirms -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "ecwid_refuses",
    [
        lambda services: services.ecwid().revoke_tokens(STORE_ID),  # 403 INVALID_API_TOKEN, as Ecwid answers
        lambda services: services.ecwid().fail(
            "get_profile",
            EcwidError(
                "Ecwid rejected the request (HTTP 401 INVALID_API_TOKEN)", status=401, error_code="INVALID_API_TOKEN"
            ),
        ),
    ],
    ids=["403", "401"],
)
def test_an_uninstall_ecwid_confirms_takes_the_store_down(selling: FakeServices, ecwid_refuses: Any):
    token = tiktok_token(selling)
    ecwid_refuses(selling)
    selling.ecwid().calls.clear()
    receive(selling, uninstall_event())

    assert deliver(selling)[0] == "uninstalled"

    assert selling.ecwid().calls[0] == "get_profile"  # Ecwid was asked before anything else happened
    store = store_of(selling)
    assert (store.status, store.ecwid_token, store.phone, store.tiktok) == ("disconnected", None, None, None)
    assert selling.tiktok().revoked_by_app == [token]
    assert list(selling.catalog.all_skus(STORE_ID)) == []
    assert "disconnect_business_profile" in selling.tiktok().calls
    assert counted("StoreUninstalled") == 1
    assert counted("UninstallNotConfirmed") == 0


def test_an_uninstall_of_a_store_the_app_does_not_know_or_without_a_token_asks_ecwid_nothing(selling: FakeServices):
    selling.ecwid().revoke_tokens(STORE_ID)
    receive(selling, uninstall_event())
    deliver(selling)
    selling.ecwid().calls.clear()

    receive(selling, uninstall_event(4242))
    receive(selling, uninstall_event(STORE_ID))  # its Ecwid token is gone already

    assert deliver(selling) == ["ignored", "uninstalled"]
    assert selling.ecwid().calls == []


# -- an answer that confirms nothing -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "failure",
    [
        EcwidUnavailable("Ecwid failed with HTTP 503", status=503),
        EcwidUnavailable("Ecwid rate limit reached", status=429, retry_after=10.0),
        EcwidUnavailable("Ecwid did not answer /profile: ConnectTimeout"),
        EcwidAccessLost(
            "Ecwid refused access (HTTP 402 STORE_IS_SUSPENDED)", status=402, error_code="STORE_IS_SUSPENDED"
        ),
        EcwidAccessLost("Ecwid refused access (HTTP 403)", status=403),
        EcwidError("Ecwid rejected the request (HTTP 400)", status=400),
    ],
    ids=["5xx", "429", "network", "402", "403 without a code", "400"],
)
def test_an_answer_that_confirms_nothing_gives_the_message_back_and_changes_nothing(
    selling: FakeServices, failure: Exception
):
    before = store_of(selling)
    selling.ecwid().fail("get_profile", failure)
    receive(selling, uninstall_event())
    message = next_message(selling)

    with pytest.raises(TransientError):
        work_on(selling, message)

    assert selling.queue.delays == [(message.receipt_handle, selling.settings.catalog_retry_base_seconds)]
    assert_untouched(selling, before)
    # Next time Ecwid answers: the token works, so the store is still installed.
    assert work_on(selling, message, receive_count=2) == "still installed"
    assert_untouched(selling, before)


# -- events older than Ecwid's retry horizon ---------------------------------------------------------------
def test_an_event_older_than_the_horizon_is_ignored_and_counted(selling: FakeServices):
    [shirt] = selling.ecwid().stores[STORE_ID].products
    selling.ecwid().update_product(STORE_ID, shirt, price=30.0)
    old_edit = webhook("product.updated", shirt)
    selling.ecwid().revoke_tokens(ATTACKER)  # Ecwid would confirm this uninstall: its age alone decides
    old_uninstall = uninstall_event(ATTACKER)
    receive(selling, old_edit)
    receive(selling, old_uninstall)
    selling.advance(72 * HOUR + 1)
    selling.ecwid().calls.clear()

    assert deliver(selling) == ["too old", "too old"]

    assert selling.ecwid().calls == []
    assert selling.tiktok().catalog_of(str(STORE_ID)).products[str(shirt)].fields["price_info"]["price"] == 25.0
    assert store_of(selling, ATTACKER).ecwid_token is not None
    assert counted("EventTooOld") == 2


def test_an_event_within_the_horizon_is_applied():
    services = fresh_services()
    install_store(services)
    shirt = services.ecwid().add_product(STORE_ID, "Shirt", 25.0)
    connect_store(services)
    deliver(services)
    services.ecwid().update_product(STORE_ID, shirt, price=30.0)
    receive(services, webhook("product.updated", shirt))
    services.advance(72 * HOUR)

    assert deliver(services) == ["applied"]
    assert services.tiktok().catalog_of(str(STORE_ID)).products[str(shirt)].fields["price_info"]["price"] == 30.0
    assert counted("EventTooOld") == 0


def test_the_horizon_is_a_setting():
    services = fresh_services({"WEBHOOK_MAX_AGE_SECONDS": "86400"})
    connected_store(services)
    receive(services, uninstall_event())
    services.advance(24 * HOUR + 1)

    assert deliver(services) == ["too old"]
    assert store_of(services).status == "connected"
    assert counted("EventTooOld") == 1


def test_an_event_queued_by_the_earlier_release_without_its_time_is_still_applied(selling: FakeServices):
    [shirt] = selling.ecwid().stores[STORE_ID].products
    selling.ecwid().update_product(STORE_ID, shirt, price=30.0)
    selling.queue.put(
        json.dumps(
            {
                "kind": "ecwid_event",
                "store_id": STORE_ID,
                "epoch": 0,
                "event_id": "e-before-this-release",
                "event_type": "product.updated",
                "entity_id": str(shirt),
            },
            separators=(",", ":"),
        ),
        str(STORE_ID),
        "e-before-this-release",
    )
    selling.advance(30 * 24 * HOUR)

    assert deliver(selling) == ["applied"]
    assert counted("EventTooOld") == 0
