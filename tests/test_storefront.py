"""Journey 5 end to end: apply for TikTok Storefront, TikTok's decision recorded by the operator, connect.

Every merchant step goes over HTTP through the local gateway; the operator's step invokes the operator
function as `aws lambda invoke` would. Published applications are read from a queue behind a rule with the
template's own event pattern (what the stack's e-mail route receives); state is read from DynamoDB and the
sandbox TikTok.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest

from sandboxes.common import FaultRule
from tests.app_stack import (
    APP_PAGE_URL,
    SESSION_KEY,
    TIKTOK_APP_ID,
    AppStack,
    assert_error,
    captured_logs,
    decode_external_data,
    move_clock,
    read_form,
)
from tests.callback_answers import assert_back_on_the_page, assert_plain_page
from tiktok_channel.adapters.events import EventBridgePublisher
from tiktok_channel.runtime import services
from tiktok_channel.security import issue_state

STORE = 1003  # US
GB_STORE = 1004
DE_STORE = 2004
SHOP_STATUS = "/open_api/v1.3/tbp/shop/connection/get_status/"

APPLICATION: dict[str, Any] = {
    "legal_business_name": "Awesome Store LLC",
    "contact_name": "Jane Doe",
    "contact_email": "jane@awesome.example.com",
    "business_phone": "+1 (415) 555-0199",
    "business_address": {
        "street": "1 Market St",
        "city": "San Francisco",
        "region": "CA",
        "postal_code": "94105",
        "country": "US",
    },
    "store_url": "https://awesome.example.com",
    "product_categories": ["Apparel", "Accessories"],
    "monthly_orders": "50-200",
    "agrees_to_commerce_policies": True,
}
GB_APPLICATION: dict[str, Any] = {
    **APPLICATION,
    "legal_business_name": "Tea House Ltd",
    "business_phone": "+44 7700 900123",
    "business_address": {"street": "10 Downing St", "city": "London", "postal_code": "sw1a2aa", "country": "UK"},
    "monthly_orders": 120,
}


def bearer(session: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {session}"}


def connected(stack: AppStack, store_id: int = STORE, **profile: Any) -> str:
    """A store connected to TikTok through the real flow; answers a session for it."""
    stack.ecwid.add_store(store_id, **profile)
    assert stack.connect(store_id).status_code == 302
    return stack.open_session(store_id)


def applications_queue(stack: AppStack) -> str:
    """A queue behind a rule with the template's event pattern: it receives what the stack's topic would."""
    pattern = stack.resources.template.resources["StorefrontApplicationRule"].properties["EventPattern"]
    sqs, events = boto3.client("sqs"), boto3.client("events")
    url = sqs.create_queue(QueueName="test-storefront-applications")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="test-storefront-applications", EventPattern=json.dumps(pattern), State="ENABLED")
    events.put_targets(Rule="test-storefront-applications", Targets=[{"Id": "queue", "Arn": arn}])
    return str(url)


def published(url: str) -> list[dict[str, Any]]:
    """Every event the rule delivered so far (taken off the queue)."""
    sqs = boto3.client("sqs")
    seen: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return seen
        for message in messages:
            seen.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def apply(stack: AppStack, store_id: int, session: str, body: Any = None) -> httpx.Response:
    return stack.http.post(
        f"/api/stores/{store_id}/storefront/application",
        json=APPLICATION if body is None else body,
        headers=bearer(session),
    )


def storefront(stack: AppStack, store_id: int, session: str) -> dict[str, Any]:
    answer = stack.http.get(f"/api/stores/{store_id}/storefront", headers=bearer(session))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def decide(stack: AppStack, store_id: int, decision: str, note: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {"action": "record_storefront_decision", "store_id": store_id, "decision": decision}
    if note is not None:
        event["note"] = note
    return dict(stack.lambdas["OperatorFunction"].invoke(event))


def start_storefront_connect(stack: AppStack, store_id: int, session: str) -> httpx.Response:
    return stack.http.post(f"/api/stores/{store_id}/storefront/connect", headers=bearer(session))


def storefront_item(stack: AppStack, store_id: int) -> dict[str, Any]:
    [item] = [i for i in stack.items(store_id) if i["sk"] == "STOREFRONT"]
    return item


def approved(stack: AppStack, store_id: int = STORE, **profile: Any) -> str:
    """Connected, applied, and approved by TikTok (recorded by the operator); answers a session."""
    session = connected(stack, store_id, **profile)
    assert apply(stack, store_id, session).status_code == 201
    assert decide(stack, store_id, "approved")["ok"] is True
    return session


def authorized_storefront(stack: AppStack, store_id: int = STORE) -> tuple[str, str]:
    """Approved, Connect TikTok Storefront pressed, TikTok authorized: answer (session, callback URL)."""
    session = approved(stack, store_id)
    stack.tiktok.approve_shop(str(store_id))
    authorize_url = start_storefront_connect(stack, store_id, session).json()["authorize_url"]
    return session, stack.authorize_on_tiktok(authorize_url)


# -- apply -------------------------------------------------------------------------------------
def test_application_is_recorded_and_published_for_tiktok(stack: AppStack):
    session = connected(stack, STORE, country="US", currency="USD", store_name="Awesome store")
    queue = applications_queue(stack)
    page = storefront(stack, STORE, session)
    assert (page["state"], page["history"]) == ("not_applied", [])
    assert "Apply for TikTok Storefront" in page["next_step"]
    assert "application" not in page

    answer = apply(stack, STORE, session)

    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["state"] == "submitted"
    assert "two weeks" in body["next_step"]
    application = body["application"]
    assert application["business_phone"] == "+14155550199"
    assert application["legal_business_name"] == "Awesome Store LLC"
    assert application["business_address"]["country"] == "US"
    assert application["monthly_orders"] == "50-200"
    assert [move["state"] for move in body["history"]] == ["submitted"]
    assert body["history"][0]["by"] == "merchant"
    assert storefront(stack, STORE, session) == body
    assert stack.status(STORE, session)["storefront"] == {"state": "submitted"}

    [event] = published(queue)
    assert event["source"] == "tiktok-channel.storefront"
    assert event["detail-type"] == "Storefront application submitted"
    detail = event["detail"]
    assert detail["store_id"] == STORE
    assert detail["application_id"] == application["application_id"]
    assert detail["submitted_at"] == application["submitted_at"] == body["history"][0]["at"]
    assert detail["application"] == {**APPLICATION, "business_phone": "+14155550199"}
    assert detail["store"]["store_name"] == "Awesome store"

    item = stack.store_item(STORE)
    assert item["storefront_state"] == "submitted"
    record = storefront_item(stack, STORE)
    assert record["application"]["contact_email"] == "jane@awesome.example.com"
    assert "business_phone" not in record["application"]
    assert b"4155550199" not in bytes(record["business_phone"])  # KMS ciphertext
    assert "4155550199" not in repr(stack.all_items())


def test_a_uk_store_applies_with_a_uk_address(stack: AppStack):
    session = connected(stack, GB_STORE, country="GB", currency="GBP")
    answer = apply(stack, GB_STORE, session, GB_APPLICATION)
    assert answer.status_code == 201, answer.text
    address = answer.json()["application"]["business_address"]
    assert (address["country"], address["postal_code"]) == ("GB", "SW1A 2AA")
    assert answer.json()["application"]["monthly_orders"] == 120


def without(body: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in names}


def with_address(**changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(APPLICATION)
    changed["business_address"].update(changes)
    return {k: v for k, v in changed.items()}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, set(APPLICATION)),
        ({**APPLICATION, "contact_email": "jane-at-example"}, {"contact_email"}),
        ({**APPLICATION, "business_phone": "555-0199"}, {"business_phone"}),
        ({**APPLICATION, "business_phone": "+1 415 CALL NOW"}, {"business_phone"}),
        ({**APPLICATION, "store_url": "ftp://awesome.example.com"}, {"store_url"}),
        ({**APPLICATION, "product_categories": []}, {"product_categories"}),
        ({**APPLICATION, "product_categories": ["Apparel", ""]}, {"product_categories"}),
        ({**APPLICATION, "monthly_orders": "lots"}, {"monthly_orders"}),
        ({**APPLICATION, "monthly_orders": "200-50"}, {"monthly_orders"}),
        ({**APPLICATION, "agrees_to_commerce_policies": False}, {"agrees_to_commerce_policies"}),
        ({**APPLICATION, "agrees_to_commerce_policies": "yes"}, {"agrees_to_commerce_policies"}),
        ({**APPLICATION, "business_address": "1 Market St, San Francisco"}, {"business_address"}),
        (
            with_address(city="", country="DE", postal_code="10115"),
            {"business_address.city", "business_address.country"},
        ),
        (with_address(postal_code="ABC"), {"business_address.postal_code"}),
        (with_address(region=""), {"business_address.region"}),
        (
            {**without(APPLICATION, "legal_business_name"), "contact_email": "x", "monthly_orders": -1},
            {"legal_business_name", "contact_email", "monthly_orders"},
        ),
    ],
)
def test_each_wrong_field_is_named_and_nothing_is_written(stack: AppStack, body, fields):
    session = connected(stack)
    queue = applications_queue(stack)
    before = stack.all_items()

    error = assert_error(apply(stack, STORE, session, body), 400, "invalid_application")

    assert set(error["fields"]) == fields
    assert all(len(message) > 20 for message in error["fields"].values())
    assert "CALL NOW" not in json.dumps(error)
    assert "jane-at-example" not in json.dumps(error)
    assert stack.all_items() == before
    assert published(queue) == []


def test_application_must_be_a_json_object(stack: AppStack):
    session = connected(stack)
    url = f"/api/stores/{STORE}/storefront/application"
    assert_error(stack.http.post(url, content=b"{", headers=bearer(session)), 400, "invalid_json")
    assert_error(stack.http.post(url, json=[APPLICATION], headers=bearer(session)), 400, "invalid_json")


def test_a_store_outside_the_us_and_uk_is_told_why(stack: AppStack):
    session = connected(stack, DE_STORE, country="DE", currency="EUR")
    queue = applications_queue(stack)
    before = stack.all_items()

    error = assert_error(apply(stack, DE_STORE, session), 422, "storefront_not_available")

    assert "US or the UK" in error["message"]
    assert "DE" in error["message"]
    assert stack.all_items() == before
    assert published(queue) == []
    page = storefront(stack, DE_STORE, session)
    assert page["state"] == "not_applied"
    assert "US or the UK" in page["next_step"]
    assert stack.status(DE_STORE, session)["eligibility"]["shopping_allowed"] is False


def test_a_store_not_connected_to_tiktok_cannot_apply(stack: AppStack):
    stack.ecwid.add_store(STORE)
    assert stack.install(STORE).status_code == 302
    session = stack.open_session(STORE)
    before = stack.all_items()

    assert_error(apply(stack, STORE, session), 409, "not_connected")

    assert stack.all_items() == before
    assert "Connect your store to TikTok For Business first" in storefront(stack, STORE, session)["next_step"]


def test_one_open_application_at_a_time(stack: AppStack):
    session = connected(stack)
    queue = applications_queue(stack)
    assert apply(stack, STORE, session).status_code == 201
    before = stack.all_items()

    assert_error(apply(stack, STORE, session, {**APPLICATION, "contact_name": "John"}), 409, "application_open")

    assert stack.all_items() == before
    assert len(published(queue)) == 1


def test_an_application_that_could_not_be_published_is_not_recorded(stack: AppStack):
    session = connected(stack)
    before = stack.all_items()

    class RefusingEventBridge:
        """EventBridge refusing the entry: PutEvents answers a failed entry, not an error."""

        def put_events(self, **_: Any) -> dict[str, Any]:
            return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "ThrottlingException"}]}

    real = services().events
    services().events = EventBridgePublisher(RefusingEventBridge())  # type: ignore[arg-type]
    try:
        assert_error(apply(stack, STORE, session), 503, "application_not_sent")
    finally:
        services().events = real
    assert stack.all_items() == before
    assert apply(stack, STORE, session).status_code == 201  # trying again works


# -- TikTok's decision -------------------------------------------------------------------------
def test_operator_records_tiktoks_decisions_and_the_page_says_what_to_do(stack: AppStack):
    us = connected(stack, STORE, country="US", currency="USD")
    gb = connected(stack, GB_STORE, country="GB", currency="GBP")
    assert apply(stack, STORE, us).status_code == 201
    assert apply(stack, GB_STORE, gb, GB_APPLICATION).status_code == 201

    assert decide(stack, STORE, "approved") == {
        "ok": True,
        "action": "record_storefront_decision",
        "store_id": STORE,
        "state": "approved",
        "recorded": True,
        "message": "recorded",
    }
    note = "Your store needs a return policy page."
    assert decide(stack, GB_STORE, "rejected", note)["state"] == "rejected"

    page = storefront(stack, STORE, us)
    assert page["state"] == "approved"
    assert "Connect TikTok Storefront" in page["next_step"]
    assert [(m["state"], m["by"]) for m in page["history"]] == [("submitted", "merchant"), ("approved", "operator")]
    assert page["decision"]["decision"] == "approved"
    assert stack.status(STORE, us)["storefront"] == {"state": "approved"}

    rejected = storefront(stack, GB_STORE, gb)
    assert rejected["state"] == "rejected"
    assert "apply again" in rejected["next_step"]
    assert rejected["decision"]["note"] == note
    assert rejected["history"][-1]["note"] == note
    assert stack.store_item(GB_STORE)["storefront_state"] == "rejected"

    # A rejected merchant fixes what TikTok asked for and applies again.
    again = apply(stack, GB_STORE, gb, GB_APPLICATION)
    assert again.status_code == 201, again.text
    assert "decision" not in again.json()
    assert [m["state"] for m in again.json()["history"]] == ["submitted", "rejected", "submitted"]


# -- connect the storefront --------------------------------------------------------------------
def test_connect_storefront_through_tiktok(stack: AppStack):
    session = approved(stack, STORE, country="US", currency="USD", store_name="Awesome store")
    stack.tiktok.approve_shop(str(STORE))

    started = start_storefront_connect(stack, STORE, session)

    assert started.status_code == 200, started.text
    authorize_url = started.json()["authorize_url"]
    query = parse_qs(urlsplit(authorize_url).query)
    assert authorize_url.startswith(f"{stack.tiktok.base_url}/portal/auth?")
    assert query["app_id"] == [TIKTOK_APP_ID]
    assert query["redirect_uri"] == [f"{stack.url}/oauth/tiktok/storefront/callback"]
    assert decode_external_data(authorize_url)["external_business_id"] == str(STORE)
    assert storefront(stack, STORE, session)["state"] == "connecting"
    page = stack.browser.get(authorize_url)
    assert read_form(page.text).fields.get("connect_shop") == "1"  # TikTok's "Connect TikTok Shopping" box

    finished = stack.callback(stack.authorize_on_tiktok(authorize_url))

    assert finished.status_code == 302, finished.text
    assert finished.headers["location"] == APP_PAGE_URL.replace("{store_id}", str(STORE))
    assert stack.tiktok.shop_connections[str(STORE)].connected is True
    assert len(stack.tiktok.calls_to(SHOP_STATUS)) == 1
    assert stack.store_item(STORE)["storefront_state"] == "connected"
    record = storefront_item(stack, STORE)
    assert [(m["state"], m["by"]) for m in record["history"]] == [
        ("submitted", "merchant"),
        ("approved", "operator"),
        ("connecting", "merchant"),
        ("connected", "tiktok"),
    ]
    assert record["connected_at"] == record["history"][-1]["at"]
    [state] = [i for i in stack.items(STORE) if i["sk"].startswith("STATE#") and i["purpose"] == "storefront"]
    assert state["status"] == "completed"
    shown = storefront(stack, STORE, session)
    assert shown["state"] == "connected"
    assert "Store Manager" in shown["next_step"]
    assert stack.status(STORE, session)["storefront"] == {"state": "connected"}
    assert stack.store_item(STORE)["status"] == "connected"  # the catalog connection is untouched
    assert_error(start_storefront_connect(stack, STORE, session), 409, "storefront_connected")


def test_connect_before_approval_is_refused(stack: AppStack):
    session = connected(stack)
    before = stack.all_items()
    error = assert_error(start_storefront_connect(stack, STORE, session), 409, "storefront_not_approved")
    assert "Apply for TikTok Storefront" in error["message"]
    assert apply(stack, STORE, session).status_code == 201
    before = stack.all_items()
    assert_error(start_storefront_connect(stack, STORE, session), 409, "storefront_not_approved")
    assert stack.all_items() == before


def test_pressing_connect_again_while_connecting_records_one_move(stack: AppStack):
    session = approved(stack)
    first = start_storefront_connect(stack, STORE, session)
    second = start_storefront_connect(stack, STORE, session)
    assert first.status_code == second.status_code == 200
    assert first.json()["authorize_url"] != second.json()["authorize_url"]
    assert [m["state"] for m in storefront_item(stack, STORE)["history"]] == ["submitted", "approved", "connecting"]


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ({}, "TikTok did not finish connecting your storefront"),
        ({"auth_code": "abc"}, "TikTok did not finish connecting your storefront"),
        ({"state": "abc"}, "TikTok did not finish connecting your storefront"),
        ({"error": "access_denied", "state": "abc"}, "You did not finish connecting your storefront"),
    ],
)
def test_storefront_callback_without_code_or_state_gets_a_plain_page(stack: AppStack, query, said):
    # No state of this app's: the store cannot be known, so there is no app page to go back to.
    answer = stack.http.get("/oauth/tiktok/storefront/callback", params=query)
    assert_plain_page(answer, 400, "TikTok Storefront was not connected", said)
    assert stack.all_items() == []


def test_forged_expired_wrong_purpose_and_reused_states_change_nothing(stack: AppStack):
    _, callback = authorized_storefront(stack)
    auth_code, real_state = httpx.URL(callback).params["auth_code"], httpx.URL(callback).params["state"]
    nonce = next(
        i["nonce"] for i in stack.items(STORE) if str(i["sk"]).startswith("STATE#") and i["purpose"] == "storefront"
    )
    now = time.time()
    forged, _ = issue_state("k" * 64, store_id=STORE, nonce=nonce, purpose="storefront", now=now)
    wrong_purpose, _ = issue_state(SESSION_KEY, store_id=STORE, nonce=nonce, purpose="connect", now=now)
    connect_nonce = next(
        i["nonce"] for i in stack.items(STORE) if str(i["sk"]).startswith("STATE#") and i["purpose"] == "connect"
    )
    connect_state, _ = issue_state(SESSION_KEY, store_id=STORE, nonce=connect_nonce, purpose="storefront", now=now)
    other_store, _ = issue_state(SESSION_KEY, store_id=GB_STORE, nonce=nonce, purpose="storefront", now=now)
    before = stack.all_items()
    url = "/oauth/tiktok/storefront/callback"

    for state in [forged, wrong_purpose, "not-a-state"]:
        assert_plain_page(stack.http.get(url, params={"auth_code": auth_code, "state": state}), 400, "not valid")
    # Signed by the app for a store, but not a storefront state it issued: back to that store's page.
    for state, store_id in [(connect_state, STORE), (other_store, GB_STORE)]:
        answer = stack.http.get(url, params={"auth_code": auth_code, "state": state})
        assert_back_on_the_page(answer, store_id, "invalid_state")
    # The connect callback does not take a storefront state either.
    answer = stack.http.get("/oauth/tiktok/callback", params={"auth_code": auth_code, "state": real_state})
    assert_plain_page(answer, 400, "not valid")
    move_clock(601)
    assert_back_on_the_page(stack.http.get(callback), STORE, "state_expired")
    move_clock(0)

    assert stack.all_items() == before
    assert len(stack.tiktok.calls_to("/open_api/v1.3/oauth2/access_token/")) == 1  # the connect's only
    assert stack.store_item(STORE)["storefront_state"] == "connecting"

    assert stack.callback(callback).status_code == 302  # the real state still works, once
    after = stack.all_items()
    assert_back_on_the_page(stack.callback(callback), STORE, "state_used")
    assert stack.all_items() == after


def test_a_state_spent_on_one_code_is_refused_with_another(stack: AppStack):
    _, callback = authorized_storefront(stack)
    state = httpx.URL(callback).params["state"]
    assert stack.callback(callback).status_code == 302
    before = stack.all_items()
    answer = stack.http.get("/oauth/tiktok/storefront/callback", params={"auth_code": "another-code", "state": state})
    assert_back_on_the_page(answer, STORE, "state_used")
    assert stack.all_items() == before


def test_storefront_not_confirmed_by_tiktok_stays_connecting_and_a_reload_resumes(stack: AppStack):
    session = approved(stack)
    stack.tiktok.approve_shop(str(STORE))
    authorize_url = start_storefront_connect(stack, STORE, session).json()["authorize_url"]
    page = stack.browser.get(authorize_url)
    form = read_form(page.text)
    fields = {k: v for k, v in form.fields.items() if k != "connect_shop"}  # the merchant unticks the box
    back = stack.browser.post(f"{stack.tiktok.base_url}{form.action}", data={**fields, "decision": "connect"})
    callback = back.headers["location"]

    assert_back_on_the_page(stack.callback(callback), STORE, "storefront_not_confirmed")
    assert storefront(stack, STORE, session)["state"] == "connecting"

    with stack.tiktok.lock:  # the merchant finished TikTok's Shopping setup afterwards
        stack.tiktok.shop_connections[str(STORE)].connected = True
    assert stack.callback(callback).status_code == 302  # the same callback, reloaded
    assert storefront(stack, STORE, session)["state"] == "connected"


def test_tiktok_down_while_confirming_resumes_on_reload(stack: AppStack):
    session, callback = authorized_storefront(stack)
    stack.tiktok.faults.add(FaultRule(kind="http_5xx", path_prefix=SHOP_STATUS))
    assert_plain_page(stack.callback(callback), 503, "TikTok is not answering right now", "Reload this page")
    assert storefront(stack, STORE, session)["state"] == "connecting"
    stack.tiktok.faults.clear()
    assert stack.callback(callback).status_code == 302
    assert storefront(stack, STORE, session)["state"] == "connected"
    assert len(stack.tiktok.calls_to("/open_api/v1.3/oauth2/access_token/")) == 2  # connect's and storefront's


# -- sessions ----------------------------------------------------------------------------------
def test_a_session_cannot_read_apply_or_connect_another_store(stack: AppStack):
    session = connected(stack, STORE)
    connected(stack, GB_STORE, country="GB", currency="GBP")
    before = stack.all_items()
    headers = bearer(session)
    other = f"/api/stores/{GB_STORE}/storefront"
    assert_error(stack.http.get(other, headers=headers), 403, "wrong_store")
    assert_error(stack.http.post(f"{other}/application", json=GB_APPLICATION, headers=headers), 403, "wrong_store")
    assert_error(stack.http.post(f"{other}/connect", headers=headers), 403, "wrong_store")
    for request in (
        stack.http.get(other),
        stack.http.post(f"{other}/application", json=GB_APPLICATION),
        stack.http.post(f"{other}/connect"),
    ):
        assert_error(request, 401, "session_required")
    assert stack.all_items() == before


# -- logs --------------------------------------------------------------------------------------
def test_the_storefront_journey_logs_no_phone_contact_token_or_state(stack: AppStack, capsys):
    with captured_logs(stack) as records:
        session = connected(stack)
        apply(stack, STORE, session, {**APPLICATION, "business_phone": "+1 415 555 01999999999"})
        assert apply(stack, STORE, session).status_code == 201
        storefront(stack, STORE, session)
        decide(stack, STORE, "approved", "Approved by TikTok")
        stack.tiktok.approve_shop(str(STORE))
        authorize_url = start_storefront_connect(stack, STORE, session).json()["authorize_url"]
        callback = stack.authorize_on_tiktok(authorize_url)
        stack.tiktok.faults.add(FaultRule(kind="http_5xx", path_prefix=SHOP_STATUS))
        assert stack.callback(callback).status_code == 503
        stack.tiktok.faults.clear()
        assert stack.callback(callback).status_code == 302
        storefront(stack, STORE, session)
    printed = capsys.readouterr()
    output = "\n".join(records.texts) + printed.out + printed.err
    assert "Storefront application submitted" in output, "the logs were not captured"
    assert "TikTok storefront connected" in output, "the logs were not captured"
    url = httpx.URL(callback)
    secrets = {
        "4155550199",
        "415 555 0199",
        "01999999999",
        APPLICATION["contact_email"],
        APPLICATION["contact_name"],
        APPLICATION["business_address"]["street"],
        session,
        url.params["auth_code"],
        url.params["state"],
        *stack.tiktok.tokens,
    }
    assert sorted(secret for secret in secrets if secret in output) == []
