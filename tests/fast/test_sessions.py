"""Merchant sessions (services/session.py): Ecwid's payload opens one, only for its own store, for an hour."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fakes import FakeServices
from tests.fast.steps import STORE_ID, admin_payload, encrypt_payload, fresh_services, install_store, refused
from tiktok_channel.errors import AppError, Forbidden, Unauthorized
from tiktok_channel.services.disconnect import uninstall_store
from tiktok_channel.services.session import authorize_store, open_session


def bearer(services: FakeServices, store_id: int = STORE_ID) -> str:
    return f"Bearer {open_session(services, admin_payload(services, store_id))['session']}"


def test_a_genuine_payload_opens_a_session_for_its_store(installed: FakeServices):
    answer = open_session(installed, admin_payload(installed))

    assert answer["store_id"] == STORE_ID
    assert answer["expires_at"] == "2026-09-21T15:13:20Z"  # an hour after 14:13:20, the clock's now
    assert authorize_store(installed, f"Bearer {answer['session']}", str(STORE_ID)) == STORE_ID


def test_a_payload_with_another_token_is_refused_like_every_failure(installed: FakeServices):
    forged = encrypt_payload({"store_id": STORE_ID, "access_token": "secret_guessed", "lang": "en"})
    with pytest.raises(Unauthorized) as wrong_token:
        open_session(installed, forged)
    with pytest.raises(Unauthorized) as unknown_store:
        open_session(installed, encrypt_payload({"store_id": 4242, "access_token": "secret_x"}))
    with pytest.raises(Unauthorized) as other_key:
        open_session(installed, encrypt_payload({"store_id": STORE_ID, "access_token": "x"}, "another-secret-0123"))

    messages = {refused(e, 401, "unauthorized") for e in (wrong_token, unknown_store, other_key)}
    assert len(messages) == 1


@settings(max_examples=60, deadline=None)
@given(payload=st.text(max_size=300) | st.binary(max_size=200).map(encrypt_payload))
def test_any_other_payload_gets_the_same_401(payload: str):
    services = fresh_services()
    install_store(services)
    with pytest.raises(Unauthorized) as error:
        open_session(services, payload)
    assert error.value.code == "unauthorized"


def test_a_payload_made_before_an_uninstall_opens_nothing(installed: FakeServices):
    payload = admin_payload(installed)
    uninstall_store(installed, STORE_ID)

    with pytest.raises(Unauthorized):
        open_session(installed, payload)


def test_a_session_for_one_store_cannot_act_on_another(installed: FakeServices):
    install_store(installed, 2004)
    with pytest.raises(Forbidden) as error:
        authorize_store(installed, bearer(installed), "2004")
    refused(error, 403, "wrong_store")


@pytest.mark.parametrize("path_id", ["", "abc", "-1003", "1003 ", "10030"])
def test_a_store_id_that_is_not_the_sessions_store_is_forbidden(installed: FakeServices, path_id: str):
    with pytest.raises(Forbidden):
        authorize_store(installed, bearer(installed), path_id)


def test_a_session_expires_after_an_hour(installed: FakeServices):
    authorization = bearer(installed)
    installed.advance(3599)
    assert authorize_store(installed, authorization, str(STORE_ID)) == STORE_ID

    installed.advance(1)
    with pytest.raises(Unauthorized) as error:
        authorize_store(installed, authorization, str(STORE_ID))
    refused(error, 401, "session_invalid")


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "session_required"),
        ("", "session_required"),
        ("Bearer ", "session_required"),
        ("Basic abc", "session_required"),
        ("Bearer not-a-session", "session_invalid"),
    ],
)
def test_store_routes_need_a_valid_session(installed: FakeServices, authorization: str | None, code: str):
    with pytest.raises(AppError) as error:
        authorize_store(installed, authorization, str(STORE_ID))
    refused(error, 401, code)


def test_a_session_signed_with_another_key_is_refused(installed: FakeServices):
    other = FakeServices(app_secrets={"session_key": "another-session-key-0123456789abcdef"})
    install_store(other)
    foreign = bearer(other)

    with pytest.raises(Unauthorized) as error:
        authorize_store(installed, foreign, str(STORE_ID))
    refused(error, 401, "session_invalid")
