"""Journeys 1 and 2 end to end: install from Ecwid, open the page, connect TikTok, first sync queued.

Every step goes over HTTP through the local gateway to the real handlers, which reach the sandboxes
over HTTP and AWS through moto. Assertions read what DynamoDB, SQS and the sandbox TikTok hold.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.app_stack import APP_PAGE_URL, TIKTOK_APP_ID, AppStack, decode_external_data

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
    assert item is not None
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
    assert item is not None
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
