"""Generated requests at every route of template.yaml (issue 10): whatever the bodies, ids, headers and query strings,
the functions never answer a 5xx, never change what is stored unless the request succeeded, and never answer a
secret. Each request is routed as API Gateway would (the local gateway's event) and handed to the real handler in
this process; the stack behind it is moto and the sandboxes."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localrun.gateway import Route, routes_of
from sandboxes.ecwid_webhooks import signature
from tests.app_stack import ECWID_CLIENT_SECRET, SESSION_KEY, TIKTOK_SECRET, AppStack
from tests.callback_answers import notice_of
from tests.test_storefront import APPLICATION
from tiktok_channel.security import issue_state

STORE, OTHER_STORE = 1003, 2004  # connected; installed only
EXAMPLES = 1000  # about 25 s on 2 shared cores (the stack itself starts in 3)

STORE_IDS = ["1003", "2004", "١٠٠٣", "１００３", "²", "१००३", "0", "-1", "01003", "9" * 30, " 1003", "1003 ", "1e3"]
FIELDS = ["payload", "phone", *APPLICATION, "business_address", "product_ids", "show"]
QUERY_NAMES = ["payload", "code", "store_id", "error", "error_description", "auth_code", "state", "status", "cursor"]
HOSTILE_BODIES = [
    "[" * 100_000,
    '{"a":' * 20_000,
    "[" * 33 + "]" * 33,
    '{"payload": "' + "x" * 70_000 + '"}',
    "{",
    "null",
    "[]",
    '"text"',
    '{"phone": "+1 ٤١٥ ٥٥٥ ٠١٢٣"}',
    '{"phone": "\\u0000"}',
    "\ud800",
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
forms = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), json_values, max_size=6)
mutated_applications = st.builds(
    lambda name, value: {**APPLICATION, name: value}, st.sampled_from(sorted(APPLICATION)), json_values
)
bodies = st.one_of(
    st.none(),
    st.sampled_from(HOSTILE_BODIES),
    json_values.map(json.dumps),
    forms.map(json.dumps),
    mutated_applications.map(json.dumps),
    st.text(max_size=200),
    st.binary(max_size=100),
)
content_types = st.sampled_from(
    [None, "application/json", "text/plain", "application/x-www-form-urlencoded", "Application/JSON; charset=utf-8"]
) | st.text(max_size=20)


def world(stack: AppStack) -> dict[str, Any]:
    """Store 1003 connected and 2004 installed, and what requests may carry: sessions, states and a payload, and
    the secrets no answer may hold."""
    stack.ecwid.add_store(STORE)
    assert stack.connect(STORE).status_code == 302
    stack.ecwid.add_store(OTHER_STORE)
    assert stack.install(OTHER_STORE).status_code == 302
    other_session = stack.open_session(OTHER_STORE)
    issued = stack.start_connect(OTHER_STORE, other_session).json()["authorize_url"]
    now = time.time()
    values = {
        "session": stack.open_session(STORE),
        "other_session": other_session,
        "issued_state": httpx.URL(issued).params["state"],
        "unissued_state": issue_state(SESSION_KEY, store_id=STORE, nonce="n", purpose="connect", now=now)[0],
        "storefront_state": issue_state(SESSION_KEY, store_id=STORE, nonce="s", purpose="storefront", now=now)[0],
        "payload": stack.ecwid.app_payload(STORE),
    }
    secrets = {ECWID_CLIENT_SECRET, TIKTOK_SECRET, SESSION_KEY, *stack.tiktok.tokens}
    secrets |= {stack.ecwid.token_for(STORE), stack.ecwid.token_for(OTHER_STORE)}
    return {"values": values, "secrets": {secret for secret in secrets if secret}}


# Webhooks signed with the stack's secret, so that the receiver's checks after the signature run too.
webhooks = st.fixed_dictionaries(
    {"eventId": st.text(max_size=20), "eventCreated": st.integers(0, 2**40) | st.text(max_size=12)},
    optional={
        "storeId": st.sampled_from([STORE, OTHER_STORE, *STORE_IDS]) | json_values,
        "entityId": st.integers() | st.text(max_size=12),
        "eventType": st.sampled_from(["product.updated", "application.uninstalled", "profile.updated"]) | st.text(),
        "data": json_values,
    },
)


def signed(event: dict[str, Any]) -> tuple[str, str]:
    return json.dumps(event), signature(ECWID_CLIENT_SECRET, event["eventCreated"], event["eventId"])


def requests(values: dict[str, str], routes: list[Route]) -> st.SearchStrategy[dict[str, Any]]:
    """Requests that mostly get past the first checks (this store's session and id, a JSON body of the route's
    fields), so that what comes after them is exercised too."""
    known = st.sampled_from(sorted(values.values()))
    texts = st.one_of(st.text(max_size=40), known, st.sampled_from(["access_denied", *STORE_IDS]))
    session = f"Bearer {values['session']}"
    authorizations = st.one_of(
        st.just(session),
        st.just(session),
        st.just(session),
        st.sampled_from([None, f"Bearer {values['other_session']}", "Bearer ", "Basic x"]),
        st.text(max_size=30),
        texts.map(lambda text: f"Bearer {text}"),
    )
    store_ids = st.one_of(
        st.just("1003"), st.just("1003"), st.sampled_from(STORE_IDS), st.text(min_size=1, max_size=12)
    )
    digits = st.sampled_from(["0123456789", "٠١٢٣٤٥٦٧٨٩", "０１２３４５６７８９", "०१२३४५६७८९", "²³¹"])
    phones = st.builds(
        lambda script, number, separator: "+" + separator.join(script[int(d) % len(script)] for d in number),
        digits,
        st.from_regex(r"[0-9]{1,16}", fullmatch=True),
        st.sampled_from(["", " ", "-", "\u2013", "\u00a0", ".", "_", "\x00"]),
    )
    bodies_by_shape = st.one_of(
        bodies,
        phones.map(lambda phone: json.dumps({"phone": phone})),
        phones.map(lambda phone: json.dumps({**APPLICATION, "business_phone": phone})),
        known.map(lambda value: json.dumps({"payload": value})),
    )
    return st.fixed_dictionaries(
        {
            "route": st.sampled_from(routes),
            "store_id": store_ids,
            "query": st.dictionaries(st.sampled_from(QUERY_NAMES) | st.text(max_size=8), texts, max_size=4),
            "authorization": authorizations,
            "content_type": content_types,
            "headers": st.dictionaries(st.text(min_size=1, max_size=12), st.text(max_size=30), max_size=2),
            "body": bodies_by_shape,
            "webhook": st.none() | webhooks.map(signed),
        }
    )


def test_no_request_gets_a_5xx_changes_what_is_stored_unless_it_succeeded_or_answers_a_secret(stack: AppStack):
    given_world = world(stack)
    routes = [route for route in routes_of(stack.resources.template) if route.pattern is not None]
    assert len(routes) >= 14

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(request=requests(given_world["values"], routes))
    def answer_is_safe(request: dict[str, Any]) -> None:
        route: Route = request["route"]
        path = route.route_key.split(" ", 1)[1].replace("{storeId}", quote(request["store_id"], safe=""))
        headers = [("host", "api.example.com"), *request["headers"].items()]
        if request["authorization"] is not None:
            headers.append(("authorization", request["authorization"]))
        if request["content_type"] is not None:
            headers.append(("content-type", request["content_type"]))
        body = request["body"]
        if request["webhook"] is not None and route.route_key == "POST /webhooks/ecwid":
            body, signed_with = request["webhook"]
            headers.append(("x-ecwid-webhook-signature", signed_with))
        if isinstance(body, str):
            body = body.encode("utf-8", "surrogatepass")
        target = f"{path}?{urlencode(request['query'])}" if request["query"] else path
        method = route.method if route.method != "ANY" else "GET"
        routed = stack.gateway.request_event(method, target, headers, body)
        assert routed is not None, target
        function_id, event = routed
        stored, queued = stack.all_items(), stack.queued()

        answer = stack.lambdas[function_id].invoke(event)

        status = answer["statusCode"]
        assert status < 500, (route.route_key, answer.get("body", "")[:500])
        succeeded = status < 400 and notice_of(answer.get("headers", {}).get("Location", "")) is None
        if not succeeded:
            assert stack.all_items() == stored, route.route_key
            assert stack.queued() == queued, route.route_key
        said = json.dumps(answer)
        for secret in given_world["secrets"]:
            assert secret not in said, route.route_key

    answer_is_safe()
