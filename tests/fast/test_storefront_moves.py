"""Journey 5 (services/storefront.py): not_applied → submitted → approved | rejected → connecting → connected;
every other move is refused with a clear error and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes import FakeServices, refused_event
from tests.fast.steps import (
    APPLICATION,
    BASE_URL,
    STORE_ID,
    apply_for_storefront,
    connected_store,
    install_store,
    refused,
    state_of,
    store_of,
)
from tiktok_channel.errors import AppError, InvalidFields
from tiktok_channel.security import issue_state
from tiktok_channel.services import storefront, storefront_connect
from tiktok_channel.services.storefront import read_application, record_decision, storefront_status

APP_PAGE = "https://my.ecwid.com/store/1003#app:name=tiktok"


def refused_move(services: FakeServices, move: Any, status: int, code: str) -> str:
    """The move answers this error, and nothing was written or published."""
    before, published = services.table.snapshot(), list(services.events.published)
    with pytest.raises(AppError) as error:
        move()
    message = refused(error, status, code)
    assert services.table.snapshot() == before
    assert services.events.published == published
    return message


def moves(services: FakeServices) -> list[tuple[str, str]]:
    record = services.storefronts.get(STORE_ID)
    return [(m.state, m.by) for m in record.history] if record else []


def approved(services: FakeServices) -> FakeServices:
    apply_for_storefront(services)
    record_decision(services, STORE_ID, "approved", "Welcome aboard")
    return services


def start_storefront_connect(services: FakeServices) -> str:
    """The merchant clicks Connect TikTok Storefront: answers the state TikTok brings back."""
    return state_of(storefront_connect.start_connect(services, STORE_ID, BASE_URL))


# -- applying --------------------------------------------------------------------------------------------------------
def test_an_application_is_published_for_tiktok_then_recorded_as_submitted(connected: FakeServices):
    answer = apply_for_storefront(connected)

    assert answer["state"] == "submitted"
    assert answer["application"]["business_phone"] == "+14155550199"
    assert answer["application"]["legal_business_name"] == "Demo Store LLC"
    [event] = connected.events.published
    assert (event["source"], event["detail_type"]) == ("tiktok-channel.storefront", "Storefront application submitted")
    assert event["detail"]["store_id"] == STORE_ID
    assert event["detail"]["application_id"] == answer["application"]["application_id"]
    assert event["detail"]["application"]["business_phone"] == "+14155550199"
    assert event["detail"]["store"]["country"] == "US"
    assert store_of(connected).storefront_state == "submitted"
    assert moves(connected) == [("submitted", "merchant")]
    record = connected.storefronts.get(STORE_ID)
    assert record is not None
    assert record.business_phone is not None
    assert b"4155550199" not in record.business_phone
    assert connected.cipher.decrypt(record.business_phone, store_id=STORE_ID, field="storefront_phone") == (
        "+14155550199"
    )
    assert storefront_status(connected, STORE_ID)["application"]["business_phone"] == "+14155550199"


def test_a_uk_store_applies_with_a_uk_address(services: FakeServices):
    connected_store(services, country="GB")
    form = {
        **APPLICATION,
        "business_phone": "+44 20 7946 0958",
        "business_address": {"street": "1 Strand", "city": "London", "postal_code": "wc2n5dn", "country": "uk"},
    }

    answer = storefront.apply(services, STORE_ID, read_application(form))

    assert answer["state"] == "submitted"
    assert answer["application"]["business_address"]["postal_code"] == "WC2N 5DN"
    assert answer["application"]["business_address"]["country"] == "GB"


def test_each_wrong_field_is_named_without_echoing_it():
    form = {
        **APPLICATION,
        "contact_email": "owner-at-example",
        "business_phone": "call me",
        "business_address": {**APPLICATION["business_address"], "postal_code": "ABCDE"},
        "agrees_to_commerce_policies": False,
        "product_categories": [],
    }

    with pytest.raises(InvalidFields) as error:
        read_application(form)

    assert set(error.value.fields) == {
        "contact_email",
        "business_phone",
        "business_address.postal_code",
        "agrees_to_commerce_policies",
        "product_categories",
    }
    assert error.value.code == "invalid_application"
    assert "owner-at-example" not in str(error.value.fields)
    assert "ABCDE" not in str(error.value.fields)


def test_an_application_that_could_not_be_published_is_not_recorded(connected: FakeServices):
    connected.events.fail("publish", refused_event())

    refused_move(connected, lambda: apply_for_storefront(connected), 503, "application_not_sent")
    assert connected.storefronts.get(STORE_ID) is None


def test_one_open_application_at_a_time(connected: FakeServices):
    apply_for_storefront(connected)

    refused_move(connected, lambda: apply_for_storefront(connected), 409, "application_open")
    assert len(connected.events.published) == 1


def test_a_store_not_connected_to_tiktok_cannot_apply(services: FakeServices):
    install_store(services)
    refused_move(services, lambda: apply_for_storefront(services), 409, "not_connected")


def test_a_store_outside_the_us_and_uk_is_told_why(services: FakeServices):
    connected_store(services, country="DE")
    # (the Ecwid store is in Germany with USD, which TikTok accepts for a catalog there)
    message = refused_move(services, lambda: apply_for_storefront(services), 422, "storefront_not_available")
    assert "US or the UK" in message
    assert "US or the UK" in storefront_status(services, STORE_ID)["next_step"]


# -- TikTok's decision -----------------------------------------------------------------------------------------------
def test_the_operator_records_tiktoks_approval_once(connected: FakeServices):
    apply_for_storefront(connected)

    first = record_decision(connected, STORE_ID, "approved", "Welcome aboard")
    again = record_decision(connected, STORE_ID, "approved", None)

    assert (first["recorded"], again["recorded"]) == (True, False)
    status = storefront_status(connected, STORE_ID)
    assert status["state"] == "approved"
    assert status["decision"]["note"] == "Welcome aboard"
    assert "Connect TikTok Storefront" in status["next_step"]
    assert moves(connected) == [("submitted", "merchant"), ("approved", "operator")]


def test_the_opposite_decision_is_refused(connected: FakeServices):
    approved(connected)
    refused_move(connected, lambda: record_decision(connected, STORE_ID, "rejected", None), 409, "decision_conflict")


def test_a_decision_without_an_open_application_is_refused(connected: FakeServices):
    refused_move(connected, lambda: record_decision(connected, STORE_ID, "approved", None), 409, "no_open_application")


def test_a_rejected_merchant_may_apply_again(connected: FakeServices):
    apply_for_storefront(connected)
    record_decision(connected, STORE_ID, "rejected", "Add a returns policy to your store")
    assert "apply again" in storefront_status(connected, STORE_ID)["next_step"]

    answer = apply_for_storefront(connected)

    assert answer["state"] == "submitted"
    assert "decision" not in answer
    assert [state for state, _ in moves(connected)] == ["submitted", "rejected", "submitted"]
    assert len(connected.events.published) == 2


# -- connecting the storefront ---------------------------------------------------------------------------------------
def test_an_approved_store_connects_its_storefront_through_tiktok(connected: FakeServices):
    approved(connected)
    state = start_storefront_connect(connected)
    assert store_of(connected).storefront_state == "connecting"
    connected.tiktok().connect_shop(str(STORE_ID))
    code = connected.tiktok().authorize(str(STORE_ID))

    assert storefront_connect.finish_connect(connected, auth_code=code, state=state) == APP_PAGE

    status = storefront_status(connected, STORE_ID)
    assert status["state"] == "connected"
    assert "connected_at" in status
    assert moves(connected)[-2:] == [("connecting", "merchant"), ("connected", "tiktok")]
    replay = storefront_connect.finish_connect
    refused_move(connected, lambda: replay(connected, auth_code=code, state=state), 400, "state_used")


def test_connect_before_approval_is_refused(connected: FakeServices):
    apply_for_storefront(connected)
    refused_move(connected, lambda: start_storefront_connect(connected), 409, "storefront_not_approved")


def test_pressing_connect_again_while_connecting_records_one_move(connected: FakeServices):
    approved(connected)
    start_storefront_connect(connected)
    start_storefront_connect(connected)

    assert [state for state, _ in moves(connected)].count("connecting") == 1


def test_a_storefront_tiktok_has_not_connected_stays_connecting_and_a_reload_resumes(connected: FakeServices):
    approved(connected)
    state = start_storefront_connect(connected)
    code = connected.tiktok().authorize(str(STORE_ID))

    with pytest.raises(AppError) as error:
        storefront_connect.finish_connect(connected, auth_code=code, state=state)
    refused(error, 409, "storefront_not_confirmed")
    assert store_of(connected).storefront_state == "connecting"

    connected.tiktok().connect_shop(str(STORE_ID))
    assert storefront_connect.finish_connect(connected, auth_code=code, state=state) == APP_PAGE
    assert store_of(connected).storefront_state == "connected"


def test_a_connect_state_cannot_finish_a_storefront_connection(connected: FakeServices):
    approved(connected)
    start_storefront_connect(connected)
    wrong_purpose, _ = issue_state(
        connected.secrets().session_key, store_id=STORE_ID, nonce="n", purpose="connect", now=connected.now
    )
    code = connected.tiktok().authorize(str(STORE_ID))

    refused_move(
        connected,
        lambda: storefront_connect.finish_connect(connected, auth_code=code, state=wrong_purpose),
        400,
        "invalid_state",
    )


def test_a_storefront_state_spent_on_one_code_is_refused_with_another(connected: FakeServices):
    approved(connected)
    state = start_storefront_connect(connected)
    connected.tiktok().connect_shop(str(STORE_ID))
    storefront_connect.finish_connect(connected, auth_code=connected.tiktok().authorize(str(STORE_ID)), state=state)
    other = connected.tiktok().authorize(str(STORE_ID))

    refused_move(
        connected, lambda: storefront_connect.finish_connect(connected, auth_code=other, state=state), 400, "state_used"
    )
