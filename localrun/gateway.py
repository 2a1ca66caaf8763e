"""A local stand-in for the template's HTTP API: API Gateway payload format 2.0 around the real handlers.

The event and the answer follow what API Gateway (HTTP API, payload 2.0) does, not what would be
convenient, so a handler that works here works behind the real API:
- the `cookie` header moves to `cookies`; duplicate headers and query keys are comma-joined;
- the body is a plain string only for text/*, application/json, application/xml and
  application/javascript; everything else (form posts and a missing content-type included) arrives
  base64-encoded with isBase64Encoded=true;
- the answer's `multiValueHeaders` is ignored (a 1.0 field), `cookies` become Set-Cookie headers, and
  a result without statusCode is sent as a 200 JSON body.

Query strings and bodies carry OAuth codes, Ecwid payloads and tokens: only the method, the path
without its query, the status and the duration are ever logged.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import struct
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote, urlsplit

from localrun.lambda_runtime import LocalLambda
from localrun.template import Template
from localrun.triggers import Scheduler, UnknownSchedule

log = logging.getLogger("localrun.gateway")

INTEGRATION_TIMEOUT_SECONDS = 30.0  # API Gateway cuts every integration at 30 s
_TEXT_TYPES = {"application/json", "application/xml", "application/javascript"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SCHEDULE_PATH = re.compile(r"^/_local/schedules/([A-Za-z0-9]+)$")


@dataclass(frozen=True)
class Route:
    """One HttpApi event of the template, compiled for matching."""

    function_id: str
    method: str  # "ANY" matches every method
    route_key: str  # "GET /api/stores/{storeId}" or "$default"
    pattern: re.Pattern[str] | None  # None for $default
    parameters: tuple[str, ...] = ()
    greedy: bool = False

    @property
    def priority(self) -> tuple[bool, bool, int, int, bool]:
        # API Gateway prefers a full match, then path variables, then a greedy variable, then $default;
        # among equals, the longer path, then an exact method over ANY.
        segments = self.route_key.count("/")
        return (self.pattern is None, self.greedy, len(self.parameters), -segments, self.method == "ANY")

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in ("ANY", method):
            return None
        if self.pattern is None:
            return {}
        found = self.pattern.fullmatch(path)
        if found is None:
            return None
        return {name: unquote(found.group(index + 1)) for index, name in enumerate(self.parameters)}


def compile_route(function_id: str, method: str, path: str | None) -> Route:
    if path is None:
        return Route(function_id, method, "$default", None)
    regex, parameters, greedy = "", [], False
    for segment in path.strip("/").split("/"):
        variable = re.fullmatch(r"\{([^}]+?)(\+?)\}", segment)
        if variable is None:
            regex += "/" + re.escape(segment)
            continue
        parameters.append(variable.group(1))
        greedy = bool(variable.group(2))
        regex += "/(.+)" if greedy else "/([^/]+)"
    return Route(function_id, method, f"{method} {path}", re.compile(regex or "/"), tuple(parameters), greedy)


def routes_of(template: Template, function_ids: Iterable[str] | None = None) -> list[Route]:
    """The template's HttpApi routes, most specific first."""
    wanted = set(template.functions if function_ids is None else function_ids)
    routes = [
        compile_route(function.logical_id, route.method, route.path)
        for function in template.functions.values()
        if function.logical_id in wanted
        for route in function.routes
    ]
    return sorted(routes, key=lambda route: route.priority)


def _is_text(content_type: str | None) -> bool:
    if not content_type:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type.startswith("text/") or media_type in _TEXT_TYPES


def _request_time(epoch: float) -> str:
    t = time.gmtime(epoch)
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


def build_event(
    route: Route,
    path_parameters: Mapping[str, str],
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Iterable[tuple[str, str]],
    body: bytes | None,
    source_ip: str,
    protocol: str = "HTTP/1.1",
    api_id: str = "local",
    account_id: str = "123456789012",
    server_port: int = 80,
) -> dict[str, Any]:
    """The API Gateway HTTP API payload-format-2.0 event for one request."""
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        name = name.lower()
        if name == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    # What API Gateway adds in front of the integration.
    forwarded = joined.get("x-forwarded-for")
    joined["x-forwarded-for"] = f"{forwarded}, {source_ip}" if forwarded else source_ip
    joined.setdefault("x-forwarded-port", str(server_port))
    joined.setdefault("x-forwarded-proto", "http")
    now = time.time()
    request_id = base64.b64encode(os.urandom(10)).decode()
    joined.setdefault("x-amzn-trace-id", f"Root=1-{int(now):08x}-{os.urandom(12).hex()}")

    domain_name = joined.get("host", f"127.0.0.1:{server_port}")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = joined
    if raw_query:
        query: dict[str, str] = {}
        for key, value in parse_qsl(raw_query, keep_blank_values=True):
            query[key] = f"{query[key]},{value}" if key in query else value
        event["queryStringParameters"] = query
    event["requestContext"] = {
        "accountId": account_id,
        "apiId": api_id,
        "domainName": domain_name,
        "domainPrefix": domain_name.split(":", 1)[0].split(".", 1)[0],
        "http": {
            "method": method,
            "path": raw_path,
            "protocol": protocol,
            "sourceIp": source_ip,
            "userAgent": joined.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": route.route_key,
        "stage": "$default",
        "time": _request_time(now),
        "timeEpoch": int(now * 1000),
    }
    encoded = False
    if body:
        if _is_text(joined.get("content-type")):
            event["body"] = body.decode("utf-8", errors="replace")
        else:
            event["body"] = base64.b64encode(body).decode()
            encoded = True
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    event["isBase64Encoded"] = encoded
    return event


@dataclass
class HttpAnswer:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def json(cls, status: int, payload: Any) -> HttpAnswer:
        return cls(status, [("Content-Type", "application/json")], json.dumps(payload, default=str).encode())


def _message(status: int, text: str) -> HttpAnswer:
    return HttpAnswer.json(status, {"message": text})


FAVICON_PATH = "/favicon.ico"
_DARK, _WHITE, _CYAN, _PINK, _CLEAR = (
    (17, 17, 17, 255),
    (255, 255, 255, 255),
    (37, 244, 238, 255),
    (254, 44, 85, 255),
    (0, 0, 0, 0),
)


@cache
def favicon() -> bytes:
    """A 16x16 icon (ICO, 32-bit BMP): a note in TikTok's colours on a dark rounded square."""
    size = 16

    def note(x: int, y: int) -> bool:
        stem = 8 <= x <= 9 and 3 <= y <= 11
        flag = 10 <= x <= 11 and 3 <= y <= 5
        head = (x - 6.5) ** 2 + (y - 11.5) ** 2 <= 5.0
        return stem or flag or head

    def pixel(x: int, y: int) -> tuple[int, int, int, int]:
        corner = min(x, size - 1 - x) + min(y, size - 1 - y) < 2
        if corner:
            return _CLEAR
        if note(x, y):
            return _WHITE
        if note(x + 1, y + 1):
            return _CYAN
        if note(x - 1, y - 1):
            return _PINK
        return _DARK

    rows = []
    for y in reversed(range(size)):  # a BMP's rows go bottom-up, its pixels are BGRA
        rows.append(b"".join(bytes((b, g, r, a)) for r, g, b, a in (pixel(x, y) for x in range(size))))
    header = struct.pack("<IiiHHIIiiII", 40, size, size * 2, 1, 32, 0, 0, 0, 0, 0, 0)
    image = header + b"".join(rows) + bytes(4 * size)  # the AND mask: opacity comes from the alpha channel
    entry = struct.pack("<BBBBHHII", size, size, 0, 0, 1, 32, len(image), 6 + 16)
    return struct.pack("<HHH", 0, 1, 1) + entry + image


def favicon_answer() -> HttpAnswer:
    return HttpAnswer(200, [("Content-Type", "image/x-icon"), ("Cache-Control", "public, max-age=86400")], favicon())


class MalformedResponse(ValueError):
    """The handler returned something API Gateway would answer with a 500."""


def translate_result(result: Any) -> HttpAnswer:
    """The HTTP answer API Gateway makes of a handler's payload-2.0 result."""
    if not (isinstance(result, dict) and "statusCode" in result):
        # "Valid JSON without a statusCode": API Gateway sends it as a 200 JSON body.
        return HttpAnswer.json(200, result)
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError):
        raise MalformedResponse("statusCode is not an integer") from None
    if not 100 <= status <= 599:
        raise MalformedResponse(f"statusCode {status} is out of range")
    headers = [(str(name), str(value)) for name, value in (result.get("headers") or {}).items()]
    if "multiValueHeaders" in result:
        log.warning("multiValueHeaders is a payload-1.0 field: API Gateway ignores it for this API")
    headers += [("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or ()]
    body = result.get("body")
    if body is None:
        content = b""
    elif not isinstance(body, str):
        raise MalformedResponse("body must be a string")
    elif result.get("isBase64Encoded"):
        content = base64.b64decode(body)
    else:
        content = body.encode()
    return HttpAnswer(status, headers, content)


class LocalGateway:
    """Serves the template's HttpApi routes on 127.0.0.1 by invoking the handlers in-process."""

    def __init__(
        self,
        template: Template,
        lambdas: Mapping[str, LocalLambda],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        scheduler: Scheduler | None = None,
        integration_timeout: float = INTEGRATION_TIMEOUT_SECONDS,
        api_id: str = "local",
        account_id: str = "123456789012",
    ) -> None:
        self.host = host
        # Looked up per request, so a caller may bind first (port=0), learn `url`, provision with it
        # (e.g. PublicBaseUrl) and only then fill this mapping.
        self.lambdas = lambdas
        self.routes = routes_of(template)
        self.scheduler = scheduler
        # The local run's own pages under /_local/ (see localrun.console), given the method, path, query and
        # body; None serves only the template.
        self.console: Callable[[str, str, str, bytes | None], HttpAnswer | None] | None = None
        self.integration_timeout = integration_timeout
        self.api_id = api_id
        self.account_id = account_id
        self._server = ThreadingHTTPServer((host, port), _make_handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalGateway:
        # A short poll interval only makes stop() quick (shutdown waits for the loop to look).
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="localrun-gateway", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> LocalGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            parameters = route.match(method, path)
            if parameters is not None:
                return route, parameters
        return None

    def handle(
        self,
        method: str,
        target: str,
        headers: Iterable[tuple[str, str]],
        body: bytes | None,
        *,
        source_ip: str = "127.0.0.1",
        protocol: str = "HTTP/1.1",
    ) -> HttpAnswer:
        """Route one request and answer it (the HTTP server's work, without the socket)."""
        split = urlsplit(target)
        raw_path = split.path or "/"
        schedule = _SCHEDULE_PATH.match(raw_path)
        if schedule is not None and method == "POST":
            # `?event=<name>` picks one of a function's Schedule events (the first by default).
            return self._fire_schedule(schedule.group(1), parse_qs(split.query).get("event", [None])[0])
        if self.console is not None and raw_path.startswith("/_local/"):
            page = self.console(method, raw_path, split.query, body)
            if page is not None:
                return page
        routed = self.request_event(method, target, headers, body, source_ip=source_ip, protocol=protocol)
        if routed is None:
            if raw_path == FAVICON_PATH and method in ("GET", "HEAD"):
                return favicon_answer()  # browsers ask every origin for it: the app page's and the console's
            return _message(404, "Not Found")
        function_id, event = routed
        function = self.lambdas.get(function_id)
        if function is None:
            log.error("%s is not loaded in this local run", function_id)
            return _message(500, "Internal Server Error")
        return self._invoke(function, event)

    def request_event(
        self,
        method: str,
        target: str,
        headers: Iterable[tuple[str, str]],
        body: bytes | None,
        *,
        source_ip: str = "127.0.0.1",
        protocol: str = "HTTP/1.1",
    ) -> tuple[str, dict[str, Any]] | None:
        """The function a request goes to (logical id) and the event API Gateway would give it; None when
        no route matches. For invoking a handler straight, without the socket (e.g. to time it)."""
        split = urlsplit(target)
        raw_path = split.path or "/"
        found = self.match(method, raw_path)
        if found is None:
            return None
        route, parameters = found
        event = build_event(
            route,
            parameters,
            method=method,
            raw_path=raw_path,
            raw_query=split.query,
            headers=headers,
            body=body,
            source_ip=source_ip,
            protocol=protocol,
            api_id=self.api_id,
            account_id=self.account_id,
            server_port=self.port,
        )
        return route.function_id, event

    def _invoke(self, function: LocalLambda, event: dict[str, Any]) -> HttpAnswer:
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["result"] = function.invoke(event)
            except BaseException as error:  # reported below as Lambda would
                outcome["error"] = error

        # The handler runs in its own thread so that the gateway can give up on it at the deadline
        # (it cannot be killed; it finishes in the background, which Lambda would not allow).
        worker = threading.Thread(target=run, name=f"invoke-{function.logical_id}", daemon=True)
        worker.start()
        lambda_times_out = function.timeout <= self.integration_timeout
        worker.join(min(function.timeout, self.integration_timeout))
        if worker.is_alive():
            if lambda_times_out:
                log.error("%s: task timed out after %s seconds", function.logical_id, function.timeout)
                return _message(500, "Internal Server Error")
            log.error("%s: no answer within the %ss integration timeout", function.logical_id, self.integration_timeout)
            return _message(503, "Service Unavailable")
        if "error" in outcome:
            error = outcome["error"]
            log.error("%s raised %s", function.logical_id, type(error).__name__, exc_info=error)
            return _message(500, "Internal Server Error")
        try:
            return translate_result(outcome.get("result"))
        except (MalformedResponse, TypeError, ValueError) as error:
            log.error("%s: malformed response: %s", function.logical_id, error)
            return _message(500, "Internal Server Error")

    def _fire_schedule(self, logical_id: str, event_name: str | None = None) -> HttpAnswer:
        if self.scheduler is None:
            return _message(404, "Not Found")
        try:
            result = self.scheduler.fire(logical_id, event_name)
        except UnknownSchedule:
            return _message(404, "Not Found")
        except Exception as error:  # the person who pressed it gets a 500, the log the trace
            log.error("%s raised %s", logical_id, type(error).__name__, exc_info=error)
            return _message(500, "Internal Server Error")
        return HttpAnswer.json(200, {"function": logical_id, "result": result})


def _make_handler(gateway: LocalGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "localrun-gateway"

        def _dispatch(self) -> None:
            started = time.monotonic()
            path = urlsplit(self.path).path  # only ever log this, never the query
            try:
                body = self._read_body()
            except ValueError:
                self._send(_message(400, "Bad Request"))
                return
            answer = gateway.handle(
                self.command,
                self.path,
                self.headers.items(),
                body,
                source_ip=self.client_address[0],
                protocol=self.request_version,
            )
            # Logged before the answer goes: a caller that reads its logs once answered finds the line there.
            log.info("%s %s -> %d (%.0f ms)", self.command, path, answer.status, (time.monotonic() - started) * 1000)
            self._send(answer)

        def _read_body(self) -> bytes | None:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                chunks: list[bytes] = []
                while True:
                    size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length > 0 else None

        def _send(self, answer: HttpAnswer) -> None:
            self.send_response(answer.status)
            for name, value in answer.headers:
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            # The default logs the request line, query string included: never.
            pass

    return Handler
