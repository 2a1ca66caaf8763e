"""Every file in events/ goes through the handler template.yaml names for it (as `sam local invoke` would).

As committed, a sample carries placeholder codes and sessions, so it must get a clean 4xx, never a crash;
with live values filled in, the same event walks the connect journey.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from localrun.gateway import routes_of
from tests.app_stack import ROOT, AppStack

EVENTS = ROOT / "events"
STORE = 1003  # the store the samples name


def load(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / name).read_text()))


def function_for(stack: AppStack, event: dict[str, Any]) -> str:
    """The logical id of the function whose HttpApi route is the event's routeKey, per template.yaml."""
    matches = [
        route.function_id for route in routes_of(stack.resources.template) if route.route_key == event["routeKey"]
    ]
    assert len(matches) == 1, f"{event['routeKey']} is served by {matches}"
    return matches[0]


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
            "connect_tiktok.json",
            "tiktok_oauth_callback.json",
        ]
    )


def test_samples_as_committed_get_clean_refusals(stack: AppStack):
    expected = {
        "ecwid_install_callback.json": (400, "ecwid_code_invalid"),
        "create_session.json": (401, "unauthorized"),
        "get_store_status.json": (401, "session_invalid"),
        "connect_tiktok.json": (401, "session_invalid"),
        "tiktok_oauth_callback.json": (400, "invalid_state"),
    }
    stack.ecwid.add_store(STORE)
    for name, (status, code) in expected.items():
        answer = invoke(stack, load(name))
        assert (answer["statusCode"], error_code(answer)) == (status, code), name


def test_samples_with_live_values_walk_the_journey(stack: AppStack):
    stack.ecwid.add_store(STORE)
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
    assert [m["body"]["mode"] for m in stack.queued_messages()] == ["replace"]


def test_event_files_are_valid_http_api_events():
    for path in EVENTS.glob("*.json"):
        event = json.loads(Path(path).read_text())
        assert event["version"] == "2.0", path.name
        assert event["routeKey"] == event["requestContext"]["routeKey"], path.name
        assert event["rawPath"] == event["requestContext"]["http"]["path"], path.name
