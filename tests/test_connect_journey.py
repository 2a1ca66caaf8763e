"""Journeys 1 and 2 end to end: install from Ecwid, open the page, connect TikTok, first sync queued.

Every step goes over HTTP through the local gateway to the real handlers, which reach the sandboxes
over HTTP and AWS through moto. Assertions read what DynamoDB, SQS and the sandbox TikTok hold.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import boto3

from sandboxes.common import FaultRule
from sandboxes.tiktok_models import ALL_SCOPES, SCOPE_CATALOG, SCOPE_TBP
from tests.app_stack import APP_PAGE_URL, TIKTOK_APP_ID, AppStack, decode_external_data
from tests.callback_answers import assert_back_on_the_page, assert_plain_page

STORE = 1003


def test_install_keeps_the_store_with_its_token_encrypted(stack: AppStack):
    stack.ecwid.add_store(
        STORE,
        country="US",
        currency="USD",
        store_name="Awesome store",
        store_url="https://awesome.example.com",
        email="owner@awesome.example.com",
    )

    answer = stack.install(STORE)

    assert answer.status_code == 302
    assert answer.headers["location"] == APP_PAGE_URL.replace("{store_id}", str(STORE))
    item = stack.store_item(STORE)
    assert item["status"] == "installed"
    assert (item["country"], item["currency"], item["store_name"]) == ("US", "USD", "Awesome store")
    assert item["store_url"] == "https://awesome.example.com"
    token = stack.ecwid.token_for(STORE)
    ciphertext = bytes(item["ecwid_token"])
    assert token.encode() not in ciphertext
    assert token not in repr(stack.all_items())


def test_connect_through_the_business_profile_uses_what_tiktok_set_up(stack: AppStack):
    stack.ecwid.add_store(STORE, country="US", currency="USD", store_name="Awesome store")
    assert stack.install(STORE).status_code == 302
    session = stack.open_session(STORE)

    started = stack.start_connect(STORE, session, phone="+1 (415) 555-0123")

    assert started.status_code == 200, started.text
    authorize_url = started.json()["authorize_url"]
    query = parse_qs(urlsplit(authorize_url).query)
    assert authorize_url.startswith(f"{stack.tiktok.base_url}/portal/auth?")
    assert query["app_id"] == [TIKTOK_APP_ID]
    assert query["redirect_uri"] == [f"{stack.url}/oauth/tiktok/callback"]
    external = decode_external_data(authorize_url)
    assert external["external_business_id"] == str(STORE)
    assert (external["country_region"], external["currency"]) == ("US", "USD")
    assert external["store_name"] == "Awesome store"
    assert external["phone_number"] == "+14155550123"

    finished = stack.callback(stack.authorize_on_tiktok(authorize_url, setup="business_profile"))

    assert finished.status_code == 302, finished.text
    assert finished.headers["location"] == APP_PAGE_URL.replace("{store_id}", str(STORE))
    profile = next(p for (platform, store), p in stack.tiktok.business_profiles.items() if store == str(STORE))
    item = stack.store_item(STORE)
    assert item["status"] == "connected"
    assert item["epoch"] == 1
    tiktok = item["tiktok"]
    assert (tiktok["bc_id"], tiktok["adv_id"], tiktok["catalog_id"], tiktok["pixel_code"]) == (
        profile.bc_id,
        profile.adv_id,
        profile.catalog_id,
        profile.pixel_code,
    )
    assert tiktok["catalog_currency"] == "USD"
    assert stack.tiktok.catalogs[profile.catalog_id].currency == "USD"  # TikTok's setup used external_data
    assert tiktok["via_business_profile"] is True
    granted = [token for token in stack.tiktok.tokens]
    assert len(granted) == 1
    assert granted[0].encode() not in bytes(tiktok["access_token"])
    assert b"+14155550123" not in bytes(item["phone"])
    # Nothing was created on TikTok's side by the app: the hosted setup had made it all.
    assert not stack.tiktok.calls_to("/open_api/v1.3/catalog/create/")
    assert not stack.tiktok.calls_to("/open_api/v1.3/pixel/create/")
    # The first sync replaces whatever the TikTok catalog held.
    [message] = stack.queued_messages()
    assert message["body"] == {
        "kind": "sync",
        "store_id": STORE,
        "epoch": 1,
        "job_id": item["sync"]["job_id"],
        "mode": "replace",
        "part": 0,
    }
    assert message["attributes"]["MessageGroupId"] == str(STORE)
    assert item["sync"]["state"] == "queued"
    assert [entry["pk"] for entry in stack.connected_index()] == [f"STORE#{STORE}"]


def test_connect_without_a_business_profile_creates_catalog_and_pixel(stack: AppStack):
    stack.ecwid.add_store(STORE, country="GB", currency="GBP", store_name="Tea House")

    finished = stack.connect(STORE, setup="advertiser_only")

    assert finished.status_code == 302, finished.text
    item = stack.store_item(STORE)
    assert item["status"] == "connected"
    tiktok = item["tiktok"]
    assert tiktok["via_business_profile"] is False
    catalog = stack.tiktok.catalogs[tiktok["catalog_id"]]
    assert (catalog.region_code, catalog.currency, catalog.bc_id) == ("GB", "GBP", tiktok["bc_id"])
    assert catalog.name.startswith("Tea House")
    pixel = stack.tiktok.pixels[tiktok["pixel_code"]]
    assert pixel.advertiser_id == tiktok["adv_id"]
    assert len(stack.tiktok.calls_to("/open_api/v1.3/catalog/create/")) == 1
    assert len(stack.tiktok.calls_to("/open_api/v1.3/pixel/create/")) == 1
    [message] = stack.queued_messages()
    assert message["body"]["mode"] == "replace"


def test_a_create_whose_answer_was_lost_is_found_not_repeated(stack: AppStack):
    stack.ecwid.add_store(STORE, country="US", currency="USD")
    # TikTok creates the catalog, then the connection drops before the answer arrives.
    stack.tiktok.faults.add(
        FaultRule(kind="applied_timeout", path_prefix="/open_api/v1.3/catalog/create/", count=1, delay_seconds=0.05)
    )

    finished = stack.connect(STORE, setup="advertiser_only")

    assert finished.status_code == 302, finished.text
    item = stack.store_item(STORE)
    assert len(stack.tiktok.calls_to("/open_api/v1.3/catalog/create/")) == 1
    assert list(stack.tiktok.catalogs) == [item["tiktok"]["catalog_id"]]


def test_a_callback_retried_after_tiktok_failed_resumes_without_creating_twice(stack: AppStack):
    stack.ecwid.add_store(STORE, country="US", currency="USD")
    assert stack.install(STORE).status_code == 302
    started = stack.start_connect(STORE, stack.open_session(STORE))
    callback_url = stack.authorize_on_tiktok(started.json()["authorize_url"], setup="advertiser_only")
    stack.tiktok.faults.add(FaultRule(kind="http_5xx", path_prefix="/open_api/v1.3/pixel/"))

    failed = stack.callback(callback_url)

    # A plain page that asks for a reload (which resumes): the browser keeps the callback's address.
    assert_plain_page(failed, 503, "TikTok is not answering right now", "Reload this page")
    item = stack.store_item(STORE)
    assert item["status"] == "installed"
    assert item["pending_connection"]["catalog_id"] in stack.tiktok.catalogs  # kept for the retry
    assert not stack.queued_messages()

    stack.tiktok.faults.clear()
    resumed = stack.callback(callback_url)  # the merchant reloads the page

    assert resumed.status_code == 302, resumed.text
    item = stack.store_item(STORE)
    assert item["status"] == "connected"
    assert "pending_connection" not in item
    assert len(stack.tiktok.catalogs) == 1
    assert len(stack.tiktok.calls_to("/open_api/v1.3/catalog/create/")) == 1
    assert len(stack.tiktok.pixels) == 1
    assert len(stack.tiktok.calls_to("/open_api/v1.3/oauth2/access_token/")) == 1  # the code is not reused
    assert len(stack.queued_messages()) == 1

    replayed = stack.callback(callback_url)  # once complete, the state is spent

    assert_back_on_the_page(replayed, STORE, "state_used")
    assert stack.store_item(STORE)["epoch"] == 1


def test_reconnecting_raises_the_epoch_and_finds_the_same_catalog(stack: AppStack):
    stack.ecwid.add_store(STORE, country="US", currency="USD")
    assert stack.connect(STORE, setup="advertiser_only").status_code == 302
    first = stack.store_item(STORE)
    # TikTok revoked the token; the page offers Reconnect (the worker sets this status in production).
    boto3.client("dynamodb").update_item(
        TableName=stack.table,
        Key={"pk": {"S": f"STORE#{STORE}"}, "sk": {"S": "STORE"}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "reconnect_needed"}},
    )
    started = stack.start_connect(STORE, stack.open_session(STORE))
    again = stack.callback(stack.authorize_on_tiktok(started.json()["authorize_url"], setup="advertiser_only"))

    assert again.status_code == 302, again.text
    second = stack.store_item(STORE)
    assert (second["status"], second["epoch"]) == ("connected", 2)
    assert second["tiktok"]["catalog_id"] == first["tiktok"]["catalog_id"]
    assert len(stack.tiktok.calls_to("/open_api/v1.3/catalog/create/")) == 1
    assert [m["body"]["epoch"] for m in stack.queued_messages()] == [1, 2]


def test_connect_still_works_when_business_profiles_are_closed_to_the_app(stack: AppStack):
    # The TBP endpoints are not open to every developer app: TikTok answers 40001 there.
    stack.tiktok.default_scope = [scope for scope in ALL_SCOPES if scope != SCOPE_TBP]
    stack.ecwid.add_store(STORE, country="US", currency="USD")

    finished = stack.connect(STORE, setup="advertiser_only")

    assert finished.status_code == 302, finished.text
    item = stack.store_item(STORE)
    assert item["status"] == "connected"
    assert item["tiktok"]["catalog_id"] in stack.tiktok.catalogs
    assert item["tiktok"]["pixel_code"] in stack.tiktok.pixels


def test_connect_without_catalog_permission_tells_the_merchant_to_allow_it(stack: AppStack):
    stack.tiktok.default_scope = [scope for scope in ALL_SCOPES if scope != SCOPE_CATALOG]
    stack.ecwid.add_store(STORE, country="US", currency="USD")

    finished = stack.connect(STORE, setup="advertiser_only")

    assert_back_on_the_page(finished, STORE, "tiktok_permission_missing")
    assert stack.store_item(STORE)["status"] == "installed"
    assert not stack.tiktok.catalogs
    assert not stack.queued_messages()
