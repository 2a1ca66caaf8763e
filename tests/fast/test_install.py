"""Journey 1 (services/install.py): the install callback keeps the store's encrypted Ecwid token and profile."""

from __future__ import annotations

import json

import pytest

from tests.fakes import FakeServices, store_key
from tests.fast.steps import (
    BASE_URL,
    STORE_ID,
    connected_store,
    deliver,
    install_store,
    refused,
    signature,
    store_of,
    webhook,
)
from tiktok_channel.errors import AppError, EcwidError, EcwidUnavailable
from tiktok_channel.services.install import ECWID_CALLBACK_PATH
from tiktok_channel.services.install import install_store as install
from tiktok_channel.services.jobs import enqueue_scheduled_syncs
from tiktok_channel.services.webhooks import receive_webhook

REDIRECT_URI = BASE_URL + ECWID_CALLBACK_PATH


def callback(
    services: FakeServices, code: str | None, store_id: str | None = str(STORE_ID), error: str | None = None
) -> str:
    return install(services, code=code, store_id=store_id, error=error, base_url=BASE_URL)


def refused_install(services: FakeServices, code: str | None, status: int, expected: str, **query: str | None) -> None:
    """The callback answers this error and the table is as it was."""
    before = services.table.snapshot()
    with pytest.raises(AppError) as refusal:
        callback(services, code, **query)
    refused(refusal, status, expected)
    assert services.table.snapshot() == before


def test_install_keeps_the_profile_and_the_token_encrypted(services: FakeServices):
    services.ecwid().add_store(STORE_ID, country="GB", currency="GBP", name="Tea Shop", email="tea@example.com")
    code = services.ecwid().issue_code(STORE_ID, REDIRECT_URI)

    assert callback(services, code) == "https://my.ecwid.com/store/1003#app:name=tiktok"

    store = store_of(services)
    assert (store.status, store.country, store.currency, store.store_name, store.email) == (
        "installed",
        "GB",
        "GBP",
        "Tea Shop",
        "tea@example.com",
    )
    assert store.store_url == "https://store1003.example.com"
    token = services.ecwid().token_for(STORE_ID)
    assert store.ecwid_token is not None
    assert services.cipher.decrypt(store.ecwid_token, store_id=STORE_ID, field="ecwid_token") == token
    assert token.encode() not in repr(services.table.items[store_key(STORE_ID)]).encode()
    assert store.install_code_hash
    assert code not in store.install_code_hash


def test_a_reloaded_callback_does_not_exchange_the_code_again(services: FakeServices):
    services.ecwid().add_store(STORE_ID)
    code = services.ecwid().issue_code(STORE_ID, REDIRECT_URI)
    callback(services, code)
    before = services.table.snapshot()

    assert callback(services, code) == "https://my.ecwid.com/store/1003#app:name=tiktok"
    assert services.ecwid().calls.count("exchange_code") == 1
    assert services.table.snapshot() == before


@pytest.mark.parametrize(
    ("code", "store_id", "error", "expected"),
    [
        ("c", str(STORE_ID), "access_denied", "ecwid_install_declined"),
        (None, str(STORE_ID), None, "missing_parameter"),
        ("c", None, None, "missing_parameter"),
        ("c", "10o3", None, "missing_parameter"),
        ("unknown-code", str(STORE_ID), None, "ecwid_code_invalid"),
    ],
)
def test_a_bad_install_callback_is_refused_and_writes_nothing(services: FakeServices, code, store_id, error, expected):
    services.ecwid().add_store(STORE_ID)
    refused_install(services, code, 400, expected, store_id=store_id, error=error)
    assert services.table.items == {}


def test_a_code_issued_for_another_store_is_refused(services: FakeServices):
    services.ecwid().add_store(STORE_ID)
    services.ecwid().add_store(2004)
    code = services.ecwid().issue_code(2004, REDIRECT_URI)

    refused_install(services, code, 400, "ecwid_code_invalid")
    assert services.table.items == {}


def test_a_used_code_is_refused(services: FakeServices):
    install_store(services)
    code = services.ecwid().issue_code(STORE_ID, REDIRECT_URI)
    services.ecwid().exchange_code(
        store_id=STORE_ID,
        code=code,
        client_id=services.secrets().ecwid_client_id,
        client_secret=services.secrets().ecwid_client_secret,
        redirect_uri=REDIRECT_URI,
    )

    refused_install(services, code, 400, "ecwid_code_invalid")


@pytest.mark.parametrize(
    ("failure", "status", "expected"),
    [
        (EcwidUnavailable("Ecwid failed with HTTP 503", status=503), 503, "ecwid_unavailable"),
        (EcwidError("Ecwid's answer to /profile had an unexpected shape"), 503, "ecwid_unavailable"),
    ],
)
def test_ecwid_failing_while_installing_asks_to_retry_and_writes_nothing(services, failure, status, expected):
    services.ecwid().add_store(STORE_ID)
    code = services.ecwid().issue_code(STORE_ID, REDIRECT_URI)
    services.ecwid().fail("get_profile", failure)

    refused_install(services, code, status, expected)
    assert services.table.items == {}


def test_a_suspended_store_is_told_ecwid_refused_access(services: FakeServices):
    services.ecwid().add_store(STORE_ID).suspended = True
    code = services.ecwid().issue_code(STORE_ID, REDIRECT_URI)

    refused_install(services, code, 403, "ecwid_access_denied")
    assert services.table.items == {}


def test_a_reinstall_after_lost_access_resumes_the_connection(services: FakeServices):
    connected_store(services)
    body = webhook("product.updated", services.ecwid().add_product(STORE_ID))
    services.ecwid().revoke_tokens(STORE_ID)  # the next event's worker meets the dead token
    receive_webhook(services, json.dumps(body), signature(body))
    deliver(services)
    assert store_of(services).status == "ecwid_access_lost"

    install_store(services)

    store = store_of(services)
    assert store.status == "connected"
    assert services.cipher.decrypt(store.ecwid_token or b"", store_id=STORE_ID, field="ecwid_token") == (
        services.ecwid().token_for(STORE_ID)
    )


def test_reinstalling_keeps_a_connected_store_in_the_scheduled_syncs(services: FakeServices):
    connected_store(services)

    install_store(services)  # the merchant installs again (e.g. from another admin tab)

    assert store_of(services).status == "connected"
    assert enqueue_scheduled_syncs(services) == 1


def test_a_reinstall_after_lost_access_clears_the_notice_and_resumes_scheduled_syncs(services: FakeServices):
    connected_store(services)
    body = webhook("product.updated", services.ecwid().add_product(STORE_ID))
    services.ecwid().revoke_tokens(STORE_ID)
    receive_webhook(services, json.dumps(body), signature(body))
    deliver(services)

    install_store(services)

    assert store_of(services).notice is None
    assert enqueue_scheduled_syncs(services) == 1
