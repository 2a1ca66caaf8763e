"""Every file in events/ goes through the handler template.yaml names for it (as `sam local invoke` would).

As committed, a sample carries placeholder codes and sessions, so it must get a clean 4xx, never a crash;
with live values filled in, the same event walks the connect journey.

The webhook samples (webhook_*.json) are signed with the documented sample secret SAMPLE_ECWID_CLIENT_SECRET
(`sam local invoke` against a stack whose app secret holds it accepts them); a stack with another secret
answers them 401, and re-signed with that stack's secret they are queued.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model, EventBridgeModel, SqsModel

from localrun.gateway import routes_of
from localrun.template import Function, load_template
from sandboxes.ecwid_webhooks import SIGNATURE_HEADER, signature
from tests.app_stack import ROOT, AppStack
from tiktok_channel.models.messages import decode_message
from tiktok_channel.models.operator import OPERATOR_ACTION

EVENTS = ROOT / "events"
STORE = 1003  # the store the samples name
SAMPLE_ECWID_CLIENT_SECRET = "sample-ecwid-client-secret"  # signs the committed webhook samples
WEBHOOK_SAMPLES = {
    "webhook_product_created.json": ("product.created", "690012345"),
    "webhook_product_updated.json": ("product.updated", "690012345"),
    "webhook_product_deleted.json": ("product.deleted", "690012345"),
    "webhook_category_created.json": ("category.created", "172000001"),
    "webhook_category_updated.json": ("category.updated", "172000001"),
    "webhook_category_deleted.json": ("category.deleted", "172000001"),
    "webhook_profile_updated.json": ("profile.updated", "1003"),
    "webhook_application_uninstalled.json": ("application.uninstalled", "1003"),
    "webhook_order_created.json": ("order.created", "51234567"),
    "webhook_order_updated.json": ("order.updated", "51234568"),
}
ORDER_IDS = {"webhook_order_created.json": "K8XTQ", "webhook_order_updated.json": "SALE-G01ZG"}  # `data.orderId`

# As committed: status and code of the answer (the session and state are placeholders).
STOREFRONT_SAMPLES = {
    "get_storefront.json": (401, "session_invalid"),
    "apply_for_storefront.json": (401, "session_invalid"),
    "connect_storefront.json": (401, "session_invalid"),
}
# The callbacks a browser follows answer a placeholder state with a plain page (the store cannot be known).
CALLBACK_SAMPLES = {
    "ecwid_install_callback.json": "This install link has expired or was already used",
    "tiktok_oauth_callback.json": "This TikTok connection link is not valid",
    "tiktok_storefront_callback.json": "This TikTok Storefront connection link is not valid",
}
OPERATOR_SAMPLES = ("operator_record_decision.json", "operator_redrive.json", "operator_start_sync.json")


def load(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / name).read_text()))


def function_for(stack: AppStack, event: dict[str, Any]) -> str:
    """The logical id of the function template.yaml names for the event: by route, queue or schedule."""
    functions = stack.resources.template.functions
    if "routeKey" in event:
        matches = [r.function_id for r in routes_of(stack.resources.template) if r.route_key == event["routeKey"]]
    elif event.get("Records", [{}])[0].get("eventSource") == "aws:sqs":
        matches = [f for f, function in functions.items() if function.sqs_triggers]
    elif event.get("detail-type") == "Scheduled Event":
        matches = [f for f, function in functions.items() if function.schedules]
    elif "job" in event:  # a schedule rule with Input: the function whose rule sends exactly this
        matches = functions_with_input(functions, event)
    elif "action" in event:  # the operator's: a function with no trigger at all, invoked with IAM
        matches = [f for f, fn in functions.items() if not (fn.routes or fn.sqs_triggers or fn.schedules)]
    else:
        matches = []
    assert len(matches) == 1, f"the event is served by {matches}"
    return matches[0]


def functions_with_input(functions: Mapping[str, Function], event: dict[str, Any]) -> list[str]:
    """The functions with a Schedule rule whose Input is this event."""
    sent = json.dumps(event, sort_keys=True)
    return [
        f
        for f, function in functions.items()
        if any(s.input and json.dumps(json.loads(s.input), sort_keys=True) == sent for s in function.schedules)
    ]


def invoke(stack: AppStack, event: dict[str, Any]) -> dict[str, Any]:
    answer = stack.lambdas[function_for(stack, event)].invoke(event)
    assert isinstance(answer, dict)
    return answer


def with_query(event: dict[str, Any], **values: str) -> dict[str, Any]:
    changed = copy.deepcopy(event)
    changed["queryStringParameters"] = {**changed.get("queryStringParameters", {}), **values}
    changed["rawQueryString"] = urlencode(changed["queryStringParameters"])
    return changed


def with_body(event: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(event)
    changed["body"] = json.dumps(body)
    return changed


def with_session(event: dict[str, Any], session: str) -> dict[str, Any]:
    changed = copy.deepcopy(event)
    changed["headers"]["authorization"] = f"Bearer {session}"
    return changed


def error_code(answer: dict[str, Any]) -> str:
    return str(json.loads(answer["body"])["error"]["code"])


def test_every_event_file_is_covered_below():
    assert sorted(p.name for p in EVENTS.glob("*.json")) == sorted(
        [
            "ecwid_install_callback.json",
            "create_session.json",
            "get_store_status.json",
            "merchant_page.json",
            "list_products.json",
            "connect_tiktok.json",
            "tiktok_oauth_callback.json",
            *STOREFRONT_SAMPLES,
            "tiktok_storefront_callback.json",
            *OPERATOR_SAMPLES,
            "sync_products.json",
            "catalog_worker_sync.json",
            "scheduled_sync.json",
            "scheduled_review_checks.json",
            "catalog_worker_reviews.json",
            "check_with_tiktok.json",
            "catalog_worker_tiktok_check.json",
            "disconnect_store.json",
            "catalog_worker_cleanup.json",
            "get_pixel.json",
            "put_pixel.json",
            "storefront_script.json",
            *WEBHOOK_SAMPLES,
        ]
    )


def test_samples_as_committed_get_clean_refusals(stack: AppStack):
    expected = {
        "create_session.json": (401, "unauthorized"),
        "get_store_status.json": (401, "session_invalid"),
        "list_products.json": (401, "session_invalid"),
        "connect_tiktok.json": (401, "session_invalid"),
        "sync_products.json": (401, "session_invalid"),
        "check_with_tiktok.json": (401, "session_invalid"),
        **STOREFRONT_SAMPLES,
        "disconnect_store.json": (401, "session_invalid"),
        "get_pixel.json": (401, "session_invalid"),
        "put_pixel.json": (401, "session_invalid"),
        # Signed with the sample secret, not this stack's.
        **dict.fromkeys(WEBHOOK_SAMPLES, (401, "invalid_signature")),
    }
    stack.ecwid.add_store(STORE)
    for name, (status, code) in expected.items():
        answer = invoke(stack, load(name))
        assert (answer["statusCode"], error_code(answer)) == (status, code), name
    for name, said in CALLBACK_SAMPLES.items():
        answer = invoke(stack, load(name))
        assert (answer["statusCode"], answer["headers"]["Content-Type"]) == (400, "text/html; charset=utf-8"), name
        assert said in answer["body"], name
    # The storefront script needs no session: the same public, cacheable file for every store.
    script = invoke(stack, load("storefront_script.json"))
    assert (script["statusCode"], script["headers"]["Content-Type"]) == (200, "application/javascript; charset=utf-8")
    assert script["headers"]["Cache-Control"] == "public, max-age=600"
    assert "OnAPILoaded" in script["body"]
    # The merchant page with a placeholder payload: a plain page that says what to do, and no session.
    page = invoke(stack, load("merchant_page.json"))
    assert page["statusCode"] == 401
    assert "We could not confirm it is you" in page["body"]
    # A sync message for a store that is not connected is acknowledged and dropped; no store, no job.
    assert invoke(stack, load("catalog_worker_sync.json")) == {"batchItemFailures": []}
    # A cleanup message for a store with nothing left to clean up is done at once.
    assert invoke(stack, load("catalog_worker_cleanup.json")) == {"batchItemFailures": []}
    assert invoke(stack, load("scheduled_sync.json")) == {"queued": 0}
    # No store waits for TikTok's review: no check queued; a check for a store the app does not know is dropped.
    # ... and no connected store whose sync stopped moving.
    assert invoke(stack, load("scheduled_review_checks.json")) == {"review_checks": 0, "stalled": 0}
    assert invoke(stack, load("catalog_worker_reviews.json")) == {"batchItemFailures": []}
    # A "Check with TikTok" part for a store the app does not know is dropped.
    assert invoke(stack, load("catalog_worker_tiktok_check.json")) == {"batchItemFailures": []}
    assert stack.all_items() == []
    assert stack.queued_messages() == []


def test_samples_with_live_values_walk_the_journey(stack: AppStack):
    stack.ecwid.add_store(STORE).add_product("Cotton T-shirt", 25.0)  # to wait for TikTok's review once synced
    install_code = stack.ecwid.create_auth_code(STORE, f"{stack.url}/oauth/ecwid/callback")

    installed = invoke(stack, with_query(load("ecwid_install_callback.json"), code=install_code))
    assert installed["statusCode"] == 302
    assert stack.store_item(STORE)["status"] == "installed"

    opened = invoke(stack, with_body(load("create_session.json"), {"payload": stack.ecwid.app_payload(STORE)}))
    assert opened["statusCode"] == 200
    session = json.loads(opened["body"])["session"]

    status = invoke(stack, with_session(load("get_store_status.json"), session))
    assert status["statusCode"] == 200
    assert json.loads(status["body"])["status"] == "installed"
    page = invoke(stack, with_query(load("merchant_page.json"), payload=stack.ecwid.app_payload(STORE)))
    assert page["statusCode"] == 200
    assert "+ Connect TikTok Account" in page["body"]
    listed = invoke(stack, with_session(load("list_products.json"), session))
    assert listed["statusCode"] == 200
    assert json.loads(listed["body"]) == {"items": [], "next_cursor": None}

    connect = invoke(stack, with_session(load("connect_tiktok.json"), session))
    assert connect["statusCode"] == 200
    callback = httpx.URL(stack.authorize_on_tiktok(json.loads(connect["body"])["authorize_url"]))

    finished = invoke(
        stack,
        with_query(
            load("tiktok_oauth_callback.json"), auth_code=callback.params["auth_code"], state=callback.params["state"]
        ),
    )
    assert finished["statusCode"] == 302
    assert stack.store_item(STORE)["status"] == "connected"
    [queued] = stack.queued_messages()
    assert queued["body"]["mode"] == "replace"

    worker_event = copy.deepcopy(load("catalog_worker_sync.json"))
    worker_event["Records"][0]["body"] = json.dumps(queued["body"])
    assert invoke(stack, worker_event) == {"batchItemFailures": []}
    assert stack.store_item(STORE)["sync"]["state"] == "idle"

    # The products wait for TikTok's review: the review checks' schedule queues the store's check.
    assert invoke(stack, load("scheduled_review_checks.json")) == {"review_checks": 1, "stalled": 0}
    [check] = [m["body"] for m in stack.queued_messages() if m["body"]["kind"] == "reviews"]
    review_event = copy.deepcopy(load("catalog_worker_reviews.json"))
    review_event["Records"][0]["body"] = json.dumps(check)
    assert invoke(stack, review_event) == {"batchItemFailures": []}
    checked = stack.status(STORE)  # what the page reads (GET /api/stores/{storeId})
    assert checked["sync"]["reviews_checked_at"]
    assert checked["tiktok_counts"]["processing"] + checked["tiktok_counts"]["approved"] == 1

    # The first sync put the pixel on the storefront; the merchant switches server-side purchases off.
    pixel = invoke(stack, with_session(load("get_pixel.json"), session))
    assert pixel["statusCode"] == 200
    assert json.loads(pixel["body"])["storefront_script"] == "installed"
    switched = invoke(stack, with_body(with_session(load("put_pixel.json"), session), {"server_events": False}))
    assert switched["statusCode"] == 200
    assert json.loads(switched["body"])["server_events"] is False

    again = invoke(stack, with_session(load("sync_products.json"), session))
    assert again["statusCode"] == 202
    assert json.loads(again["body"])["state"] == "queued"
    assert invoke(stack, load("scheduled_sync.json")) == {"queued": 0}  # that store's sync is already queued

    disconnected = invoke(stack, with_session(load("disconnect_store.json"), session))
    assert disconnected["statusCode"] == 200
    assert json.loads(disconnected["body"]) == {"status": "disconnected", "remote_cleanup": "done"}
    assert stack.store_item(STORE)["status"] == "disconnected"
    cleanup = next(m["body"] for m in stack.queued_messages() if m["body"]["kind"] == "cleanup")
    cleanup_event = copy.deepcopy(load("catalog_worker_cleanup.json"))
    cleanup_event["Records"][0]["body"] = json.dumps(cleanup)
    assert invoke(stack, cleanup_event) == {"batchItemFailures": []}
    assert json.loads(load("catalog_worker_cleanup.json")["Records"][0]["body"])["kind"] == "cleanup"


def test_webhook_samples_are_signed_with_the_sample_secret():
    for name in WEBHOOK_SAMPLES:
        event = load(name)
        body = json.loads(event["body"])
        expected = signature(SAMPLE_ECWID_CLIENT_SECRET, body["eventCreated"], body["eventId"])
        assert event["headers"][SIGNATURE_HEADER.lower()] == expected, name


def test_webhook_samples_signed_with_the_stack_secret_are_queued(stack: AppStack):
    expected = []
    for name, (event_type, entity_id) in WEBHOOK_SAMPLES.items():
        event = load(name)
        headers, body = stack.ecwid.sign_webhook(json.loads(event["body"]))
        event["body"] = body.decode()
        event["headers"][SIGNATURE_HEADER.lower()] = headers[SIGNATURE_HEADER]
        answer = invoke(stack, event)
        assert (answer["statusCode"], json.loads(answer["body"])) == (200, {}), name
        event_id = json.loads(body)["eventId"]
        message = {
            "kind": "ecwid_event",
            "store_id": STORE,
            "epoch": 0,
            "event_id": event_id,
            "event_type": event_type,
            "entity_id": entity_id,
            "event_created": json.loads(body)["eventCreated"],
        }
        if name in ORDER_IDS:
            message["order_id"] = ORDER_IDS[name]
        expected.append(message)
    queued = stack.queued_messages()
    assert [m["body"] for m in queued] == expected
    assert {(m["attributes"]["MessageGroupId"], m["attributes"]["MessageDeduplicationId"]) for m in queued} == {
        (str(STORE), m["event_id"]) for m in expected
    }


def test_event_files_are_valid_lambda_events():
    """Each sample parses as the event its source sends (Powertools' models of AWS's event shapes)."""
    for path in EVENTS.glob("*.json"):
        event = json.loads(Path(path).read_text())
        if "routeKey" in event:
            http = APIGatewayProxyEventV2Model.model_validate(event)
            assert http.routeKey == http.requestContext.routeKey, path.name
            assert http.rawPath == http.requestContext.http.path, path.name
        elif "Records" in event:
            [record] = SqsModel.model_validate(event).Records
            decode_message(str(record.body))
        elif "action" in event:
            OPERATOR_ACTION.validate_python(event)
        elif "job" in event:  # what a schedule rule with Input sends instead of the EventBridge event
            assert functions_with_input(load_template(ROOT / "template.yaml").functions, event), path.name
        else:
            assert EventBridgeModel.model_validate(event).detail_type == "Scheduled Event"


def test_operator_samples_as_committed_answer_cleanly(stack: AppStack):
    """Against a stack where store 1003 never installed: clear refusals, and an empty dead-letter queue."""
    assert invoke(stack, load("operator_record_decision.json"))["error"]["code"] == "store_not_found"
    assert invoke(stack, load("operator_start_sync.json"))["error"]["code"] == "store_not_found"
    assert invoke(stack, load("operator_redrive.json")) == {"ok": True, "action": "redrive_dead_letters", "moved": 0}
    assert stack.all_items() == []
    assert stack.queued_messages() == []


def test_storefront_and_operator_samples_with_live_values_walk_journey_5(stack: AppStack):
    stack.ecwid.add_store(STORE, country="US", currency="USD")
    assert stack.connect(STORE).status_code == 302
    session = stack.open_session(STORE)
    assert stack.run_worker() >= 1  # the first sync, so that the operator's sync below starts a new job

    applied = invoke(stack, with_session(load("apply_for_storefront.json"), session))
    assert applied["statusCode"] == 201, applied["body"]
    assert json.loads(applied["body"])["state"] == "submitted"

    assert invoke(stack, load("operator_record_decision.json"))["recorded"] is True
    page = invoke(stack, with_session(load("get_storefront.json"), session))
    assert json.loads(page["body"])["state"] == "approved"

    stack.tiktok.approve_shop(str(STORE))
    started = invoke(stack, with_session(load("connect_storefront.json"), session))
    assert started["statusCode"] == 200
    callback = httpx.URL(stack.authorize_on_tiktok(json.loads(started["body"])["authorize_url"]))
    finished = invoke(
        stack,
        with_query(
            load("tiktok_storefront_callback.json"),
            auth_code=callback.params["auth_code"],
            state=callback.params["state"],
        ),
    )
    assert finished["statusCode"] == 302
    assert stack.store_item(STORE)["storefront_state"] == "connected"

    synced = invoke(stack, load("operator_start_sync.json"))
    assert (synced["ok"], synced["created"]) == (True, True)
    assert invoke(stack, load("operator_start_sync.json"))["job_id"] == synced["job_id"]
    assert invoke(stack, load("operator_redrive.json"))["moved"] == 0
