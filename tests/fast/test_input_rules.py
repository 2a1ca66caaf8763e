"""What the services take from outside (issue 10), over the fakes: store ids in ASCII digits only, phones in any
digits kept and sent in ASCII, the storefront form's free text without control or bidi characters, a real e-mail
syntax, and the callbacks' refusals when the merchant cancelled on TikTok."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.fakes import FakeServices
from tests.fast.steps import APPLICATION, BASE_URL, STORE_ID, admin_payload, refused
from tiktok_channel.errors import AppError, Forbidden, InvalidFields
from tiktok_channel.security import issue_state
from tiktok_channel.services import connect, install, oauth_state, storefront, storefront_connect
from tiktok_channel.services.session import authorize_store, open_session

OTHER_DIGITS = ["١٠٠٣", "１００３", "१००३", "²", "1003²", "٠"]


def sent_phone(authorize_url: str) -> str:
    external_data = parse_qs(urlsplit(authorize_url).query)["external_data"][0]
    return str(json.loads(base64.b64decode(external_data))["phone_number"])


@pytest.mark.parametrize("path_id", OTHER_DIGITS)
def test_a_store_id_in_other_digits_names_no_store(installed: FakeServices, path_id: str):
    authorization = f"Bearer {open_session(installed, admin_payload(installed))['session']}"
    with pytest.raises(Forbidden) as error:
        authorize_store(installed, authorization, path_id)
    refused(error, 403, "invalid_store_id")


@pytest.mark.parametrize("store_id", OTHER_DIGITS)
def test_an_install_link_with_a_store_id_in_other_digits_is_incomplete(services: FakeServices, store_id: str):
    services.ecwid().add_store(STORE_ID)
    code = services.ecwid().issue_code(STORE_ID, BASE_URL + install.ECWID_CALLBACK_PATH)
    with pytest.raises(AppError) as error:
        install.install_store(services, code=code, store_id=store_id, error=None, base_url=BASE_URL)
    refused(error, 400, "missing_parameter")
    assert services.stores.get(STORE_ID) is None


@pytest.mark.parametrize(
    "typed",
    [
        "+1 ٤١٥ ٥٥٥ ٠١٢٣",
        "+١ ٤١٥ ٥٥٥ ٠١٢٣",
        "＋１ ４１５－５５５－０１２３",
        "+१ ४१५ ५५५ ०१२३",
        "+1 (415) 555-0123",
        "0014155550123",
    ],
)
def test_a_phone_in_any_digits_is_sent_to_tiktok_in_ascii(installed: FakeServices, typed: str):
    assert sent_phone(connect.start_connect(installed, STORE_ID, typed, BASE_URL)) == "+14155550123"


@pytest.mark.parametrize("typed", ["+1 415 555 O123", "+1²415555012", "+1 415 555 0123\x00", "+1_415_555_0123"])
def test_a_phone_with_anything_but_digits_and_separators_is_refused(installed: FakeServices, typed: str):
    before = installed.table.snapshot()
    with pytest.raises(AppError) as error:
        connect.start_connect(installed, STORE_ID, typed, BASE_URL)
    refused(error, 400, "invalid_phone")
    assert installed.table.snapshot() == before


@pytest.mark.parametrize("unsafe", ["Acme\x00", "Acme\r\nBcc: all@example.com", "Acme\x1b[2J", "Acme\u202egpj"])
@pytest.mark.parametrize("field", ["legal_business_name", "contact_name", "store_url"])
def test_the_storefront_form_refuses_control_and_bidi_characters_naming_the_field(field: str, unsafe: str):
    value = f"https://acme.example.com/{unsafe}" if field == "store_url" else unsafe
    with pytest.raises(InvalidFields) as error:
        storefront.read_application({**APPLICATION, field: value})
    assert set(error.value.fields) == {field}
    assert unsafe not in json.dumps(error.value.fields)


def test_the_storefront_form_refuses_control_characters_in_the_address_and_categories():
    address = {**APPLICATION["business_address"], "street": "1 Market St\r\nX"}
    with pytest.raises(InvalidFields) as error:
        storefront.read_application({**APPLICATION, "business_address": address, "product_categories": ["\x07"]})
    assert set(error.value.fields) == {"business_address.street", "product_categories"}


@pytest.mark.parametrize(
    ("email", "valid"),
    [
        ("<script>alert(1)</script>@example.com", False),
        ("jane@example", False),
        ("jane..doe@example.com", False),
        ("jane@-example.com", False),
        ("jane@exa_mple.com", False),
        ("jane.doe+tiktok@mail.example.co.uk", True),
        ("o'neil@example.com", True),
    ],
)
def test_the_contact_email_must_be_an_address_mail_servers_take(email: str, valid: bool):
    body = {**APPLICATION, "contact_email": email}
    if valid:
        assert storefront.read_application(body).contact_email == email
        return
    with pytest.raises(InvalidFields) as error:
        storefront.read_application(body)
    assert set(error.value.fields) == {"contact_email"}


def test_a_storefront_phone_in_arabic_indic_digits_is_kept_in_ascii():
    application = storefront.read_application({**APPLICATION, "business_phone": "+١ (٤١٥) ٥٥٥-٠١٩٩"})
    assert application.business_phone == "+14155550199"


def test_a_merchant_who_cancelled_on_tiktok_is_told_so_and_nothing_changes(installed: FakeServices):
    before = installed.table.snapshot()
    for finish, code in [
        (connect.finish_connect, "connect_cancelled"),
        (storefront_connect.finish_connect, "storefront_cancelled"),
    ]:
        with pytest.raises(AppError) as error:
            finish(installed, auth_code=None, state="anything", error="access_denied")
        refused(error, 400, code)
    assert installed.table.snapshot() == before


def test_a_callback_state_names_its_store_only_when_the_app_signed_it(installed: FakeServices):
    key = installed.secrets().session_key
    expired, _ = issue_state(key, store_id=STORE_ID, nonce="n", purpose="connect", now=installed.clock() - 3600)
    forged, _ = issue_state("k" * 64, store_id=STORE_ID, nonce="n", purpose="connect", now=installed.clock())
    assert oauth_state.state_store(installed, expired, purpose="connect") == STORE_ID
    assert oauth_state.state_store(installed, expired, purpose="storefront") is None
    assert oauth_state.state_store(installed, forged, purpose="connect") is None
    assert oauth_state.state_store(installed, None, purpose="connect") is None
