"""Bad input of every kind in journeys 1 and 2: a clear 4xx `{"error": {"code", "message"}}` on the API, a plain page
or the app page with a notice on the callbacks a browser follows, and nothing written."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
import pytest

from sandboxes.common import FaultRule
from sandboxes.ecwid import EcwidSandbox
from tests.app_stack import SESSION_KEY, AppStack, assert_error, move_clock
from tests.callback_answers import assert_back_on_the_page, assert_plain_page
from tiktok_channel.security import issue_session, issue_state

STORE = 1003
OTHER_STORE = 2004


def installed(stack: AppStack, store_id: int = STORE, **profile: Any) -> str:
    """An installed store, answering a session for it."""
    stack.ecwid.add_store(store_id, **profile)
    assert stack.install(store_id).status_code == 302
    return stack.open_session(store_id)


# -- install callback (a browser route: a plain page says what went wrong, never JSON) -----------
@pytest.mark.parametrize(
    ("query", "said"),
    [
        ({}, "install link is incomplete"),
        ({"code": "abc"}, "install link is incomplete"),
        ({"store_id": str(STORE)}, "install link is incomplete"),
        ({"code": "abc", "store_id": "10x3"}, "install link is incomplete"),
        ({"error": "access_denied", "store_id": str(STORE)}, "access was not granted"),
        ({"code": "made-up-code", "store_id": str(STORE)}, "has expired or was already used"),
    ],
)
def test_bad_install_callback_is_refused(stack: AppStack, query, said):
    stack.ecwid.add_store(STORE)
    assert_plain_page(stack.http.get("/oauth/ecwid/callback", params=query), 400, "The app was not installed", said)
    assert stack.all_items() == []


def test_install_code_for_another_store_is_refused(stack: AppStack):
    stack.ecwid.add_store(STORE)
    stack.ecwid.add_store(OTHER_STORE)
    code = stack.ecwid.create_auth_code(STORE, f"{stack.url}/oauth/ecwid/callback")
    answer = stack.http.get("/oauth/ecwid/callback", params={"code": code, "store_id": str(OTHER_STORE)})
    assert_plain_page(answer, 400, "has expired or was already used")
    assert stack.all_items() == []


def test_reloaded_install_callback_keeps_the_token_working(stack: AppStack):
    stack.ecwid.add_store(STORE)
    code = stack.ecwid.create_auth_code(STORE, f"{stack.url}/oauth/ecwid/callback")
    url = f"/oauth/ecwid/callback?code={code}&store_id={STORE}"
    assert stack.http.get(url).status_code == 302
    assert stack.http.get(url).status_code == 302  # the browser reloads
    assert len(stack.ecwid.calls_to(f"/api/oauth/token/{STORE}")) == 1
    stack.open_session(STORE)  # the stored token is still Ecwid's current one


def test_install_refused_by_ecwid_with_invalid_api_token_writes_nothing(stack: AppStack):
    stack.ecwid.add_store(STORE)
    code = stack.ecwid.create_auth_code(STORE, f"{stack.url}/oauth/ecwid/callback")
    profile = f"/api/v3/{STORE}/profile"
    # The profile read is held back while the store's tokens are revoked (the app uninstalled meanwhile).
    stack.ecwid.faults.add(FaultRule(kind="slow", path_prefix=profile, count=1, delay_seconds=0.5))
    answers: list[httpx.Response] = []
    request = threading.Thread(
        target=lambda: answers.append(stack.http.get(f"/oauth/ecwid/callback?code={code}&store_id={STORE}"))
    )
    request.start()
    deadline = time.time() + 5
    while not stack.ecwid.calls_to(profile) and time.time() < deadline:
        time.sleep(0.01)
    stack.ecwid.revoke_tokens(STORE)
    request.join(10)

    assert_plain_page(answers[0], 403, "Ecwid refused this app access")
    assert stack.all_items() == []


def test_install_of_a_suspended_store_writes_nothing(stack: AppStack):
    stack.ecwid.add_store(STORE)
    stack.ecwid.suspend(STORE)
    code = stack.ecwid.create_auth_code(STORE, f"{stack.url}/oauth/ecwid/callback")
    answer = stack.http.get(f"/oauth/ecwid/callback?code={code}&store_id={STORE}")
    assert_plain_page(answer, 403, "Ecwid refused this app access")
    assert stack.all_items() == []


def test_install_while_ecwid_is_down_asks_to_retry(stack: AppStack):
    stack.ecwid.add_store(STORE)
    code = stack.ecwid.create_auth_code(STORE, f"{stack.url}/oauth/ecwid/callback")
    stack.ecwid.faults.add(FaultRule(kind="http_5xx", path_prefix=f"/api/v3/{STORE}/profile"))
    answer = stack.http.get(f"/oauth/ecwid/callback?code={code}&store_id={STORE}")
    assert_plain_page(answer, 503, "Ecwid is not answering right now")
    assert stack.all_items() == []


# -- session -----------------------------------------------------------------------------------
def test_every_bad_payload_gets_the_same_401(stack: AppStack):
    installed(stack)
    stack.ecwid.add_store(OTHER_STORE)  # in Ecwid, but the app was never installed there
    good = stack.ecwid.app_payload(STORE)
    tampered = good[:30] + ("A" if good[30] != "A" else "B") + good[31:]
    other_app = EcwidSandbox("another-app", "another-app-secret-0000")
    foreign_app = other_app.encrypt_payload(
        json.dumps({"store_id": STORE, "access_token": stack.ecwid.token_for(STORE), "lang": "en"}).encode()
    )
    wrong_token = stack.ecwid.encrypt_payload(
        json.dumps({"store_id": STORE, "access_token": "secret_not-the-token", "lang": "en"}).encode()
    )
    not_installed = stack.ecwid.app_payload(OTHER_STORE)
    not_json = stack.ecwid.encrypt_payload(b"not json at all")
    bodies = set()
    for payload in ["", "%%%", "abcd", good[:-8], tampered, foreign_app, wrong_token, not_installed, not_json]:
        answer = stack.http.post("/api/session", json={"payload": payload})
        if payload == "":
            assert_error(answer, 400, "invalid_request")
            continue
        assert_error(answer, 401, "unauthorized")
        bodies.add(answer.text)
    assert len(bodies) == 1, "every failure must look the same"


def test_session_request_that_is_not_json_is_refused(stack: AppStack):
    answer = stack.http.post("/api/session", content=b"payload=abc", headers={"content-type": "text/plain"})
    assert_error(answer, 400, "invalid_json")


@pytest.mark.parametrize(
    ("authorization", "status", "code"),
    [
        (None, 401, "session_required"),
        ("Bearer", 401, "session_required"),
        ("Basic dXNlcjpwYXNz", 401, "session_required"),
        ("Bearer not-a-session", 401, "session_invalid"),
    ],
)
def test_store_routes_require_a_session(stack: AppStack, authorization, status, code):
    installed(stack)
    headers = {"Authorization": authorization} if authorization else {}
    assert_error(stack.http.get(f"/api/stores/{STORE}", headers=headers), status, code)
    assert_error(
        stack.http.post(f"/api/stores/{STORE}/connect", json={"phone": "+14155550123"}, headers=headers), status, code
    )


def test_a_session_forged_with_another_key_is_refused(stack: AppStack):
    installed(stack)
    forged, _ = issue_session("k" * 64, STORE, time.time())
    answer = stack.http.get(f"/api/stores/{STORE}", headers={"Authorization": f"Bearer {forged}"})
    assert_error(answer, 401, "session_invalid")


def test_a_session_expires_after_an_hour(stack: AppStack):
    session = installed(stack)
    assert stack.http.get(f"/api/stores/{STORE}", headers={"Authorization": f"Bearer {session}"}).status_code == 200
    move_clock(3601)
    answer = stack.http.get(f"/api/stores/{STORE}", headers={"Authorization": f"Bearer {session}"})
    assert_error(answer, 401, "session_invalid")


def test_a_session_cannot_act_on_another_store(stack: AppStack):
    session = installed(stack)
    installed(stack, OTHER_STORE)
    before = stack.all_items()
    headers = {"Authorization": f"Bearer {session}"}
    assert_error(stack.http.get(f"/api/stores/{OTHER_STORE}", headers=headers), 403, "wrong_store")
    answer = stack.http.post(f"/api/stores/{OTHER_STORE}/connect", json={"phone": "+14155550123"}, headers=headers)
    assert_error(answer, 403, "wrong_store")
    assert stack.all_items() == before


# -- connect button ----------------------------------------------------------------------------
@pytest.mark.parametrize("phone", ["", "12345", "4155550123", "+0123456789", "+1 415 CALL NOW", "+1234567890123456"])
def test_malformed_phone_is_refused_and_nothing_is_written(stack: AppStack, phone):
    session = installed(stack)
    before = stack.all_items()
    answer = stack.start_connect(STORE, session, phone=phone)
    error = assert_error(answer, 400, "invalid_phone")
    assert "+14155550123" in error["message"]  # the example, never the merchant's input
    assert stack.all_items() == before


def test_connect_body_must_be_json_with_a_phone(stack: AppStack):
    session = installed(stack)
    headers = {"Authorization": f"Bearer {session}"}
    assert_error(stack.http.post(f"/api/stores/{STORE}/connect", content=b"{", headers=headers), 400, "invalid_json")
    assert_error(stack.http.post(f"/api/stores/{STORE}/connect", json={}, headers=headers), 400, "invalid_request")
    assert_error(stack.http.post(f"/api/stores/{STORE}/connect", json=[1], headers=headers), 400, "invalid_json")


@pytest.mark.parametrize(
    ("country", "currency", "hint"),
    [("BR", "BRL", "not available in your store's country"), ("CA", "EUR", "CAD or USD"), ("IL", "ILS", "USD")],
)
def test_ineligible_store_is_told_why_and_nothing_is_written(stack: AppStack, country, currency, hint):
    session = installed(stack, country=country, currency=currency)
    before = stack.all_items()
    error = assert_error(stack.start_connect(STORE, session), 422, "store_not_eligible")
    assert hint in error["message"]
    assert stack.all_items() == before
    status = stack.http.get(f"/api/stores/{STORE}", headers={"Authorization": f"Bearer {session}"}).json()
    assert status["eligibility"]["catalog_allowed"] is False
    assert hint in status["eligibility"]["reason"]


def test_a_connected_store_must_disconnect_before_connecting_again(stack: AppStack):
    stack.ecwid.add_store(STORE)
    assert stack.connect(STORE).status_code == 302
    before = stack.all_items()
    assert_error(stack.start_connect(STORE, stack.open_session(STORE)), 409, "already_connected")
    assert stack.all_items() == before


# -- TikTok callback ---------------------------------------------------------------------------
def started_connect(stack: AppStack) -> tuple[str, str]:
    """Connect pressed and TikTok authorized: answer (callback URL, state)."""
    session = installed(stack)
    authorize_url = stack.start_connect(STORE, session).json()["authorize_url"]
    callback = stack.authorize_on_tiktok(authorize_url)
    state = httpx.URL(callback).params["state"]
    return callback, state


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ({}, "TikTok did not finish the connection"),
        ({"auth_code": "abc"}, "TikTok did not finish the connection"),
        ({"state": "abc"}, "TikTok did not finish the connection"),
        ({"error": "access_denied", "state": "abc"}, "You did not finish connecting on TikTok"),
    ],
)
def test_callback_without_code_or_state_gets_a_plain_page(stack: AppStack, query, said):
    # No state of this app's: the store cannot be known, so there is no app page to go back to.
    assert_plain_page(stack.http.get("/oauth/tiktok/callback", params=query), 400, "TikTok was not connected", said)
    assert stack.all_items() == []


def test_forged_foreign_or_unknown_state_is_refused(stack: AppStack):
    callback, _ = started_connect(stack)
    auth_code = httpx.URL(callback).params["auth_code"]
    now = time.time()
    forged, _ = issue_state("k" * 64, store_id=STORE, nonce="n1", purpose="connect", now=now)
    wrong_purpose, _ = issue_state(SESSION_KEY, store_id=STORE, nonce="n2", purpose="storefront", now=now)
    unknown_nonce, _ = issue_state(SESSION_KEY, store_id=STORE, nonce="never-issued", purpose="connect", now=now)
    session_as_state, _ = issue_session(SESSION_KEY, STORE, now)
    before = stack.all_items()
    for state in [forged, wrong_purpose, session_as_state, "not-a-state"]:
        answer = stack.http.get("/oauth/tiktok/callback", params={"auth_code": auth_code, "state": state})
        assert_plain_page(answer, 400, "link is not valid")
    # Signed by the app for this store, but never issued: back to that store's page.
    answer = stack.http.get("/oauth/tiktok/callback", params={"auth_code": auth_code, "state": unknown_nonce})
    assert_back_on_the_page(answer, STORE, "invalid_state")
    assert stack.all_items() == before
    assert not stack.tiktok.calls_to("/open_api/v1.3/oauth2/access_token/")


def test_state_expires_after_ten_minutes(stack: AppStack):
    callback, _ = started_connect(stack)
    before = stack.all_items()
    move_clock(601)
    assert_back_on_the_page(stack.http.get(callback), STORE, "state_expired")
    assert stack.all_items() == before
    assert not stack.tiktok.calls_to("/open_api/v1.3/oauth2/access_token/")


def test_invalid_auth_code_40110_writes_nothing(stack: AppStack):
    _, state = started_connect(stack)
    before = stack.all_items()
    answer = stack.http.get("/oauth/tiktok/callback", params={"auth_code": "not-a-real-code", "state": state})
    assert_back_on_the_page(answer, STORE, "tiktok_auth_code_invalid")
    assert stack.all_items() == before


def test_token_revoked_40105_during_setup_leaves_the_store_unconnected(stack: AppStack):
    callback, _ = started_connect(stack)
    stack.tiktok.faults.add(FaultRule(kind="http_5xx", path_prefix="/open_api/v1.3/tbp/business_profile/get/"))
    # A reload resumes: the plain page says so, and the browser keeps the callback's address.
    assert_plain_page(stack.http.get(callback), 503, "TikTok is not answering right now", "Reload this page")
    [token] = list(stack.tiktok.tokens)
    stack.tiktok.revoke(token)
    stack.tiktok.faults.clear()

    assert_back_on_the_page(stack.http.get(callback), STORE, "tiktok_access_revoked")

    item = stack.store_item(STORE)
    assert item["status"] == "installed"
    assert "pending_connection" not in item
    assert "tiktok" not in item
    assert not stack.queued_messages()
    assert_back_on_the_page(stack.http.get(callback), STORE, "state_used")
