"""The local HTTP API: what a caller receives and what the handler gets, as with API Gateway (payload 2.0)."""

from __future__ import annotations

import base64
import dataclasses
import http.client
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from localrun.aws import LocalResources
from localrun.gateway import LocalGateway
from localrun.lambda_runtime import LocalLambda
from localrun.template import Template
from localrun.triggers import Scheduler
from tests.app_stack import app_stack


@dataclasses.dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    gateway: LocalGateway,
    method: str,
    target: str,
    body: bytes | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> Reply:
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=10)
    connection.putrequest(method, target)
    for name, value in headers:
        connection.putheader(name, value)  # putheader keeps duplicates, as a browser or proxy may send them
    if body is not None:
        connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    response = connection.getresponse()
    reply = Reply(response.status, response.getheaders(), response.read())
    connection.close()
    return reply


@pytest.fixture
def gateway(
    fixture_template: Template, resources: LocalResources, lambdas: dict[str, LocalLambda]
) -> Iterator[LocalGateway]:
    with LocalGateway(
        fixture_template, lambdas, scheduler=Scheduler(resources, lambdas), account_id=resources.account_id
    ) as running:
        yield running


def test_path_parameter_route_gets_a_payload_2_event(gateway: LocalGateway, calls: Any) -> None:
    reply = call(
        gateway,
        "GET",
        "/items/42?b=2&a=1&a=3&empty=",
        headers=(("X-Dup", "1"), ("X-Dup", "2"), ("Cookie", "s=abc; theme=dark"), ("User-Agent", "tests")),
    )

    assert reply.status == 200
    assert reply.json() == {
        "routeKey": "GET /items/{itemId}",
        "pathParameters": {"itemId": "42"},
        "service": "api",
        "function_name": "fx-ApiFunction",
        "remaining_ms": reply.json()["remaining_ms"],
    }
    assert 0 < reply.json()["remaining_ms"] <= 3000  # the function's own Timeout

    (got,) = calls("api")
    event = got["event"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /items/{itemId}"
    assert event["rawPath"] == "/items/42"
    assert event["rawQueryString"] == "b=2&a=1&a=3&empty="
    assert event["queryStringParameters"] == {"b": "2", "a": "1,3", "empty": ""}
    assert event["cookies"] == ["s=abc", "theme=dark"]
    assert event["headers"]["x-dup"] == "1,2"
    assert "cookie" not in event["headers"]
    assert event["headers"]["host"] == f"127.0.0.1:{gateway.port}"
    assert event["pathParameters"] == {"itemId": "42"}
    assert event["isBase64Encoded"] is False
    assert "body" not in event
    context = event["requestContext"]
    assert context["domainName"] == f"127.0.0.1:{gateway.port}"
    assert context["stage"] == "$default"
    assert context["http"] == {
        "method": "GET", "path": "/items/42", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "tests",
    }  # fmt: skip
    assert context["routeKey"] == "GET /items/{itemId}"
    assert context["requestId"]
    assert isinstance(context["timeEpoch"], int)
    assert context["time"].endswith("+0000")
    assert got["context"].invoked_function_arn.endswith(":function:fx-ApiFunction")
    assert got["context"].memory_limit_in_mb == "256"


def test_static_route_wins_and_greedy_route_takes_the_rest(gateway: LocalGateway, calls: Any) -> None:
    assert call(gateway, "GET", "/items/report").json()["routeKey"] == "GET /items/report"

    reply = call(gateway, "DELETE", "/files/a/b%20c.txt")
    assert reply.json()["routeKey"] == "ANY /files/{proxy+}"
    assert reply.json()["pathParameters"] == {"proxy": "a/b c.txt"}
    assert "pathParameters" not in calls("api")[0]["event"]


def test_request_event_is_the_event_the_route_gets(gateway: LocalGateway, calls: Any) -> None:
    routed = gateway.request_event("POST", "/echo?x=1", [("Content-Type", "application/json")], b'{"a": 1}')

    assert routed is not None
    function_id, event = routed
    assert function_id == "ApiFunction"
    assert (event["routeKey"], event["rawQueryString"], event["body"]) == ("POST /echo", "x=1", '{"a": 1}')
    assert event["requestContext"]["http"]["method"] == "POST"
    assert gateway.request_event("GET", "/nowhere", [], None) is None
    assert calls("api") == []  # nothing invoked


@pytest.mark.parametrize(
    ("content_type", "encoded"),
    [
        ("application/json", False),
        ("text/plain; charset=utf-8", False),
        ("application/x-www-form-urlencoded", True),  # API Gateway base64-encodes form posts too
        ("application/octet-stream", True),
    ],
)
def test_body_is_base64_unless_textual(gateway: LocalGateway, calls: Any, content_type: str, encoded: bool) -> None:
    body = b'{"payload": "a=1&b=\xc3\xa9"}'
    reply = call(gateway, "POST", "/echo", body, headers=(("Content-Type", content_type),))

    assert (reply.status, reply.body) == (200, body)
    event = calls("api")[0]["event"]
    assert event["isBase64Encoded"] is encoded
    assert event["body"] == (base64.b64encode(body).decode() if encoded else body.decode())


def test_answers_are_translated_as_api_gateway_does(gateway: LocalGateway) -> None:
    binary = call(gateway, "GET", "/behave/binary")
    assert (binary.status, binary.body) == (201, b"\x89PNG\x00")
    assert binary.header("Content-Type") == ["image/png"]
    assert binary.header("X-Multi") == ["a,b"]
    assert binary.header("Set-Cookie") == ["a=1; Path=/", "b=2; HttpOnly"]

    plain = call(gateway, "GET", "/behave/plain")
    assert (plain.status, plain.json()) == (200, {"answer": 42})
    assert plain.header("Content-Type") == ["application/json"]


@pytest.mark.parametrize(
    ("method", "target", "status", "message"),
    [
        ("GET", "/nowhere", 404, "Not Found"),
        ("POST", "/items/1", 404, "Not Found"),  # the path exists, not with this method
        ("GET", "/behave/raise", 500, "Internal Server Error"),
        ("GET", "/behave/malformed", 500, "Internal Server Error"),
    ],
)
def test_errors(gateway: LocalGateway, method: str, target: str, status: int, message: str) -> None:
    reply = call(gateway, method, target)
    assert (reply.status, reply.json()) == (status, {"message": message})


def test_integration_timeout_is_a_503(fixture_template: Template, lambdas: dict[str, LocalLambda], calls: Any) -> None:
    with LocalGateway(fixture_template, lambdas, integration_timeout=0.3) as gateway:
        reply = call(gateway, "GET", "/behave/sleep?seconds=0.8")
    assert (reply.status, reply.json()) == (503, {"message": "Service Unavailable"})


def test_function_timeout_is_a_500(fixture_template: Template, lambdas: dict[str, LocalLambda]) -> None:
    api = lambdas["ApiFunction"]
    short = dataclasses.replace(api, function=dataclasses.replace(api.function, timeout=0))
    with LocalGateway(fixture_template, {**lambdas, "ApiFunction": short}) as gateway:
        reply = call(gateway, "GET", "/behave/sleep?seconds=0.3")
    assert (reply.status, reply.json()) == (500, {"message": "Internal Server Error"})


def test_logs_carry_no_query_or_body(gateway: LocalGateway, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        call(gateway, "GET", "/items/7?code=SECRET-CODE")
        call(gateway, "POST", "/echo", b"TOKEN-IN-BODY", headers=(("Content-Type", "text/plain"),))
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "GET /items/7 -> 200" in text
    assert "POST /echo -> 200" in text
    assert "SECRET" not in text
    assert "TOKEN" not in text


def test_schedule_can_be_fired_over_http(gateway: LocalGateway, calls: Any) -> None:
    reply = call(gateway, "POST", "/_local/schedules/TickFunction")
    assert (reply.status, reply.json()) == (200, {"function": "TickFunction", "result": {"ticked": True}})
    (got,) = calls("ticker")
    assert got["event"]["detail-type"] == "Scheduled Event"

    assert call(gateway, "POST", "/_local/schedules/ApiFunction").status == 404


def test_the_stacks_review_checks_schedule_can_be_fired_by_its_event_name() -> None:
    with app_stack() as stack:
        gateway = stack.gateway
        assert gateway is not None
        reply = call(gateway, "POST", "/_local/schedules/ScheduledSyncFunction?event=ReviewChecks")
        assert (reply.status, reply.json()) == (
            200,
            {"function": "ScheduledSyncFunction", "result": {"review_checks": 0, "stalled": 0}},
        )
        reply = call(gateway, "POST", "/_local/schedules/ScheduledSyncFunction")
        assert reply.json()["result"] == {"queued": 0}  # the first Schedule event: the full syncs
