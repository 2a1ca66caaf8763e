"""Journey 2 (services/connect.py): the Connect button's checks, and TikTok's callback through the business
profile or the fallback, resumable after a failure and refused when replayed."""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fakes import FakeServices
from tests.fast.steps import (
    BASE_URL,
    PHONE,
    STORE_ID,
    connect_store,
    deliver,
    fresh_services,
    install_store,
    refused,
    state_of,
    store_of,
)
from tiktok_channel.errors import AppError, TikTokRequestRejected, TikTokTokenRevoked, TikTokUnavailable
from tiktok_channel.models.store import OAuthState
from tiktok_channel.security import issue_state, verify_state
from tiktok_channel.services.connect import finish_connect, start_connect
from tiktok_channel.services.disconnect import disconnect_store

APP_PAGE = "https://my.ecwid.com/store/1003#app:name=tiktok"


def press_connect(services: FakeServices, phone: str = PHONE) -> str:
    """The merchant presses Connect: answers the state TikTok will bring back."""
    return state_of(start_connect(services, STORE_ID, phone, BASE_URL))


def authorize(services: FakeServices, **options: Any) -> str:
    """The merchant finishes TikTok's hosted setup: answers the auth code."""
    return services.tiktok().authorize(str(STORE_ID), **options)


def refused_callback(services: FakeServices, status: int, code: str, **query: str | None) -> None:
    """The callback answers this error and changes nothing."""
    before = services.table.snapshot()
    with pytest.raises(AppError) as error:
        finish_connect(services, auth_code=query.get("auth_code"), state=query.get("state"))
    refused(error, status, code)
    assert services.table.snapshot() == before


# -- the Connect button ------------------------------------------------------------------------------------------
def test_connect_sends_the_merchant_to_tiktok_with_a_state_and_the_stores_data(installed: FakeServices):
    url = start_connect(installed, STORE_ID, " +1 (415) 555-0123 ", BASE_URL)

    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://business-api.tiktok.com/portal/auth"
    assert query["app_id"] == installed.secrets().tiktok_app_id
    assert query["redirect_uri"] == "https://api.example.test/oauth/tiktok/callback"
    external = json.loads(base64.b64decode(query["external_data"]))
    assert {k: external[k] for k in ("external_business_id", "business_platform", "country_region", "currency")} == {
        "external_business_id": "1003",
        "business_platform": "ECWID",
        "country_region": "US",
        "currency": "USD",
    }
    assert external["phone_number"] == "+14155550123"
    store = store_of(installed)
    assert store.phone is not None
    assert installed.cipher.decrypt(store.phone, store_id=STORE_ID, field="phone") == "+14155550123"
    assert b"14155550123" not in store.phone


phone_digits = st.from_regex(r"[1-9][0-9]{6,14}", fullmatch=True)
separators = st.sampled_from(["", " ", "-", ".", "(", ")", "  "])


@st.composite
def written_phones(draw: st.DrawFn) -> tuple[str, str]:
    """An E.164 number as a merchant may type it (separators, spaces, 00 for +), and the number itself."""
    digits = draw(phone_digits)
    typed = "".join(draw(separators) + digit for digit in digits)
    prefix = draw(st.sampled_from(["+", "00", " +"]))
    return prefix + typed + draw(separators), "+" + digits


@settings(max_examples=80, deadline=None)
@given(phone=written_phones())
def test_a_phone_in_international_format_is_kept_as_e164(phone: tuple[str, str]):
    services = fresh_services()
    install_store(services)
    typed, expected = phone

    start_connect(services, STORE_ID, typed, BASE_URL)

    stored = store_of(services).phone
    assert stored is not None
    assert services.cipher.decrypt(stored, store_id=STORE_ID, field="phone") == expected


@settings(max_examples=150, deadline=None)
@given(phone=st.text(max_size=30) | st.from_regex(r"\+?0?[0-9 ]{0,20}", fullmatch=True))
def test_any_other_phone_is_refused_and_nothing_is_written(phone: str):
    services = fresh_services()
    install_store(services)
    before = services.table.snapshot()
    refusal: AppError | None = None
    try:
        start_connect(services, STORE_ID, phone, BASE_URL)
    except AppError as error:
        refusal = error
    if refusal is not None:
        assert (refusal.status, refusal.code) == (400, "invalid_phone")
        assert services.table.snapshot() == before
    else:
        stored = store_of(services).phone or b""
        assert re.fullmatch(r"\+[1-9][0-9]{6,14}", services.cipher.decrypt(stored, store_id=STORE_ID, field="phone"))


@pytest.mark.parametrize(
    ("country", "currency", "hint"),
    [
        ("BR", "BRL", "not available in your store's country"),
        ("IL", "ILS", "Switch your store currency to USD"),
        ("", "USD", "no country"),
    ],
)
def test_a_store_that_is_not_eligible_is_told_why_and_nothing_is_written(services, country, currency, hint):
    install_store(services, country=country, currency=currency)
    before = services.table.snapshot()

    with pytest.raises(AppError) as error:
        start_connect(services, STORE_ID, PHONE, BASE_URL)
    assert hint in refused(error, 422, "store_not_eligible")
    assert services.table.snapshot() == before


def test_a_store_that_never_installed_cannot_connect(services: FakeServices):
    with pytest.raises(AppError) as error:
        start_connect(services, STORE_ID, PHONE, BASE_URL)
    refused(error, 404, "store_not_found")


def test_a_connected_store_must_disconnect_before_connecting_again(installed: FakeServices):
    connect_store(installed)
    with pytest.raises(AppError) as error:
        start_connect(installed, STORE_ID, PHONE, BASE_URL)
    refused(error, 409, "already_connected")


# -- the callback: business profile --------------------------------------------------------------------------------
def test_the_callback_connects_with_what_tiktoks_setup_made_and_queues_the_first_replace(installed: FakeServices):
    state = press_connect(installed)
    code = authorize(installed, profile=True)

    assert finish_connect(installed, auth_code=code, state=state) == APP_PAGE

    tiktok = installed.tiktok()
    profile = tiktok.profiles[("ECWID", "1003")]
    store = store_of(installed)
    assert (store.status, store.epoch, store.sync.state) == ("connected", 1, "queued")
    assert store.tiktok is not None
    assert (store.tiktok.bc_id, store.tiktok.adv_id, store.tiktok.catalog_id, store.tiktok.pixel_code) == (
        profile.bc_id,
        profile.adv_id,
        profile.catalog_id,
        profile.pixel_code,
    )
    assert store.tiktok.via_business_profile
    assert (store.tiktok.catalog_currency, store.tiktok.catalog_region) == ("USD", "US")
    assert (tiktok.created_catalogs, tiktok.created_pixels) == ([], [])
    [message] = installed.queue.waiting_fields()
    assert message == {
        "kind": "sync",
        "store_id": STORE_ID,
        "epoch": 1,
        "job_id": store.sync.job_id,
        "mode": "replace",
        "part": 0,
    }
    assert state_record(installed, state).status == "completed"


def test_the_tiktok_token_is_kept_encrypted_for_this_store_only(installed: FakeServices):
    connect_store(installed)

    store = store_of(installed)
    assert store.tiktok is not None
    token = installed.cipher.decrypt(store.tiktok.access_token, store_id=STORE_ID, field="tiktok_token")
    assert token in installed.tiktok().tokens
    assert token.encode() not in repr(installed.table.items).encode()
    with pytest.raises(Exception, match="InvalidCiphertext"):
        installed.cipher.decrypt(store.tiktok.access_token, store_id=2004, field="tiktok_token")
    with pytest.raises(Exception, match="InvalidCiphertext"):
        installed.cipher.decrypt(store.tiktok.access_token, store_id=STORE_ID, field="ecwid_token")


# -- the callback: the fallback without a business profile ----------------------------------------------------------
@pytest.mark.parametrize("tbp_allowed", [True, False], ids=["no profile", "profile endpoints refused"])
def test_without_a_business_profile_catalog_and_pixel_are_created_once(installed: FakeServices, tbp_allowed: bool):
    installed.tiktok().tbp_allowed = tbp_allowed
    connect_store(installed, profile=False)

    tiktok = installed.tiktok()
    store = store_of(installed)
    assert store.status == "connected"
    assert store.tiktok is not None
    assert not store.tiktok.via_business_profile
    assert (store.tiktok.bc_id, store.tiktok.adv_id) == tiktok.accounts["1003"]
    assert tiktok.created_catalogs == [store.tiktok.catalog_id]
    catalog = tiktok.catalogs[store.tiktok.catalog_id or ""]
    assert (catalog.currency, catalog.region_code) == ("USD", "US")
    assert catalog.name.endswith("(Ecwid 1003, USD)")
    assert tiktok.created_pixels == [store.tiktok.pixel_code]
    assert tiktok.pixels[store.tiktok.pixel_code or ""][1] == "Ecwid 1003"


def test_the_fallback_finds_the_catalog_and_pixel_an_earlier_connection_made(installed: FakeServices):
    connect_store(installed, profile=False)
    first = store_of(installed).tiktok
    disconnect_store(installed, STORE_ID)
    deliver(installed)
    connect_store(installed, profile=False)

    again = store_of(installed).tiktok
    assert again is not None
    assert first is not None
    assert (again.catalog_id, again.pixel_code) == (first.catalog_id, first.pixel_code)
    assert len(installed.tiktok().created_catalogs) == 1
    assert len(installed.tiktok().created_pixels) == 1


@pytest.mark.parametrize(
    ("grant", "missing"),
    [({"with_business_center": False}, "Business Center"), ({"with_ad_account": False}, "ad account")],
)
def test_an_account_without_business_center_or_ad_account_is_told_to_finish_tiktoks_setup(installed, grant, missing):
    state = press_connect(installed)
    code = authorize(installed, profile=False, **grant)

    with pytest.raises(AppError) as error:
        finish_connect(installed, auth_code=code, state=state)
    assert missing in refused(error, 409, "tiktok_setup_incomplete")
    assert store_of(installed).status == "installed"


# -- resumable, and single use -------------------------------------------------------------------------------------
def test_a_callback_that_failed_half_way_resumes_when_reloaded(installed: FakeServices):
    state = press_connect(installed)
    code = authorize(installed, profile=False)
    installed.tiktok().fail("create_pixel", TikTokUnavailable("TikTok failed with HTTP 503"))

    with pytest.raises(AppError) as error:
        finish_connect(installed, auth_code=code, state=state)
    refused(error, 503, "tiktok_unavailable")
    half = store_of(installed)
    assert half.status == "installed"
    assert half.pending_connection is not None
    assert half.pending_connection.catalog_id == installed.tiktok().created_catalogs[0]
    assert installed.queue.waiting == []

    assert finish_connect(installed, auth_code=code, state=state) == APP_PAGE

    store = store_of(installed)
    assert store.status == "connected"
    assert store.pending_connection is None
    assert len(installed.tiktok().created_catalogs) == 1
    assert len(installed.tiktok().created_pixels) == 1
    assert installed.tiktok().calls.count("exchange_auth_code") == 1
    assert [m["mode"] for m in installed.queue.waiting_fields()] == ["replace"]


def test_a_completed_callback_replayed_is_refused_and_changes_nothing(installed: FakeServices):
    state = press_connect(installed)
    code = authorize(installed)
    finish_connect(installed, auth_code=code, state=state)
    queued = list(installed.queue.waiting)

    refused_callback(installed, 400, "state_used", auth_code=code, state=state)
    assert installed.queue.waiting == queued


def test_a_state_spent_on_one_code_is_refused_with_another(installed: FakeServices):
    state = press_connect(installed)
    first = authorize(installed)
    installed.tiktok().fail("get_business_profile", TikTokUnavailable("TikTok failed with HTTP 503"))
    with pytest.raises(AppError):
        finish_connect(installed, auth_code=first, state=state)

    refused_callback(installed, 400, "state_used", auth_code=authorize(installed), state=state)


def test_an_auth_code_tiktok_refuses_writes_nothing(installed: FakeServices):
    state = press_connect(installed)
    refused_callback(installed, 400, "tiktok_auth_code_invalid", auth_code="made-up-code", state=state)


@pytest.mark.parametrize(
    ("step", "failure", "status", "code", "resumable"),
    [
        ("create_catalog", TikTokRequestRejected("code 40001", code=40001), 403, "tiktok_permission_missing", True),
        ("list_business_centers", TikTokTokenRevoked("code 40105", code=40105), 400, "tiktok_access_revoked", False),
    ],
    ids=["permission missing", "access revoked"],
)
def test_tiktok_refusing_a_setup_step_leaves_the_store_unconnected(installed, step, failure, status, code, resumable):
    state = press_connect(installed)
    auth_code = authorize(installed, profile=False)
    installed.tiktok().fail(step, failure)

    with pytest.raises(AppError) as error:
        finish_connect(installed, auth_code=auth_code, state=state)
    refused(error, status, code)
    store = store_of(installed)
    assert (store.status, store.tiktok) == ("installed", None)
    assert (store.pending_connection is not None) is resumable
    assert state_record(installed, state).status == ("consumed" if resumable else "failed")


@pytest.mark.parametrize(("auth_code", "state"), [(None, "s"), ("c", None), ("", "")])
def test_a_callback_without_code_or_state_is_refused(installed: FakeServices, auth_code, state):
    refused_callback(installed, 400, "missing_parameter", auth_code=auth_code, state=state)


def test_a_state_older_than_ten_minutes_is_refused(installed: FakeServices):
    state = press_connect(installed)
    code = authorize(installed)
    installed.advance(600)

    refused_callback(installed, 400, "state_expired", auth_code=code, state=state)


def test_a_forged_or_foreign_state_is_refused(installed: FakeServices):
    press_connect(installed)
    code = authorize(installed)
    forged, _ = issue_state(
        "a-key-that-is-not-the-apps-0123456789", store_id=STORE_ID, nonce="n", purpose="connect", now=installed.now
    )
    unknown, _ = issue_state(
        installed.secrets().session_key, store_id=STORE_ID, nonce="never-issued", purpose="connect", now=installed.now
    )
    storefront, _ = issue_state(
        installed.secrets().session_key, store_id=STORE_ID, nonce="n", purpose="storefront", now=installed.now
    )

    for state in (forged, unknown, storefront, "not-a-state"):
        refused_callback(installed, 400, "invalid_state", auth_code=code, state=state)


def state_record(services: FakeServices, state: str) -> OAuthState:
    """What the app keeps of a state it issued."""
    nonce = verify_state(services.secrets().session_key, state, purpose="connect", now=services.now).nonce
    record = services.connections.get_state(STORE_ID, nonce)
    assert record is not None
    return record
