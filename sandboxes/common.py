"""The HTTP machinery both sandboxes share: routing, a settable clock, injectable faults, a call log.

The sandboxes stand in for Ecwid and TikTok in tests and in the local run. They are plain threaded
HTTP servers on 127.0.0.1 so that faults can be real ones (a dropped connection, an answer that never
comes), which a framework that always answers would hide.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

FaultKind = Literal["rate_limit", "http_5xx", "slow", "drop", "applied_timeout"]


class SandboxClock:
    """Wall time plus an offset a test can move, so penalties and expiries need no real waiting."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds


@dataclass
class FaultRule:
    """One kind of fault, applied to requests whose path starts with `path_prefix`.

    `probability` draws from the plan's seeded generator; `count` (when set) limits how many
    requests the rule hits before it retires. `retry_after_seconds` (for "rate_limit") is the Retry-After a
    429 carries instead of the sandbox's usual one (Ecwid's; TikTok's rate limit answer has no such header).
    """

    kind: FaultKind
    path_prefix: str = ""
    probability: float = 1.0
    count: int | None = None
    delay_seconds: float = 2.0  # for "slow" and "applied_timeout"
    methods: tuple[str, ...] = ()
    query_contains: str = ""  # e.g. "offset=100": only requests whose query string holds it
    retry_after_seconds: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultRule:
        return cls(
            kind=data["kind"],
            path_prefix=data.get("path_prefix", ""),
            probability=float(data.get("probability", 1.0)),
            count=data.get("count"),
            delay_seconds=float(data.get("delay_seconds", 2.0)),
            methods=tuple(m.upper() for m in data.get("methods", ())),
            query_contains=data.get("query_contains", ""),
            retry_after_seconds=None if data.get("retry_after_seconds") is None else int(data["retry_after_seconds"]),
        )


class FaultPlan:
    """The faults currently switched on; thread-safe, reproducible with a seed."""

    def __init__(self, seed: int = 0) -> None:
        self._rules: list[FaultRule] = []
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.injected: Counter[str] = Counter()

    def set(self, rules: list[FaultRule], seed: int | None = None) -> None:
        with self._lock:
            self._rules = list(rules)
            if seed is not None:
                self._random = random.Random(seed)

    def add(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def pick(self, method: str, path: str, query: str = "") -> FaultRule | None:
        with self._lock:
            for rule in self._rules:
                if not path.startswith(rule.path_prefix) or rule.query_contains not in query:
                    continue
                if rule.methods and method not in rule.methods:
                    continue
                if rule.count is not None and rule.count <= 0:
                    continue
                if self._random.random() >= rule.probability:
                    continue
                if rule.count is not None:
                    rule.count -= 1
                self.injected[rule.kind] += 1
                return rule
        return None


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    path_params: dict[str, str] = field(default_factory=dict)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return cls(status, json.dumps(data).encode(), {"Content-Type": "application/json", **(headers or {})})

    @classmethod
    def html(cls, text: str, status: int = 200) -> Response:
        return cls(status, text.encode(), {"Content-Type": "text/html; charset=utf-8"})

    @classmethod
    def redirect(cls, location: str) -> Response:
        return cls(302, b"", {"Location": location})


Handler = Callable[[Request], Response]


@dataclass
class RecordedCall:
    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes
    at: float


class _DropConnection(Exception):
    """Raised inside the request cycle to close the socket without an answer."""


class Sandbox:
    """Base of a sandbox server: register routes, start on a free port, inject faults, count calls."""

    name = "sandbox"

    def __init__(self, *, latency_seconds: float = 0.0, seed: int = 0) -> None:
        self.clock = SandboxClock()
        self.faults = FaultPlan(seed)
        self.latency_seconds = latency_seconds
        self.calls: list[RecordedCall] = []
        self._calls_lock = threading.Lock()
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.lock = threading.RLock()  # guards the sandbox's own state across request threads
        self.route("POST", "/_sandbox/faults", self._set_faults)
        self.route("DELETE", "/_sandbox/faults", self._clear_faults)
        self.route("POST", "/_sandbox/clock", self._advance_clock)
        self.route("GET", "/_sandbox/calls", self._list_calls)

    # -- routing -------------------------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Register `handler` for `pattern`, where `{name}` matches one path segment."""
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "/?$"
        self._routes.append((method.upper(), re.compile(regex), handler))

    def dispatch(self, request: Request) -> Response:
        allowed = False
        for method, regex, handler in self._routes:
            match = regex.match(request.path)
            if not match:
                continue
            if method != request.method:
                allowed = True
                continue
            request.path_params = match.groupdict()
            return handler(request)
        if allowed:
            return Response.json({"message": "method not allowed"}, 405)
        return self.not_found(request)

    def not_found(self, request: Request) -> Response:
        return Response.json({"message": f"no route for {request.method} {request.path}"}, 404)

    def rate_limited(self, request: Request) -> Response:
        """The answer this API gives when a caller goes over its rate limit (each sandbox overrides it)."""
        return Response.json({"message": "rate limited"}, 429, {"Retry-After": "1"})

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self, port: int = 0) -> str:
        sandbox = self

        class _RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes: without TCP_NODELAY, Nagle plus the
            # client's delayed ACK add ~40 ms to every keep-alive request.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                return  # request lines carry codes and tokens in their query strings

            def _handle(self) -> None:
                try:
                    sandbox._serve(self)
                except _DropConnection:
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle  # noqa: N815 - http.server's names

        self._server = ThreadingHTTPServer(("127.0.0.1", port), _RequestHandler)
        self._server.daemon_threads = True
        # A short poll interval keeps stop() (which waits for the loop to notice) fast in tests.
        server = self._server
        self._thread = threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.05), name=self.name, daemon=True
        )
        self._thread.start()
        return self.base_url

    @property
    def base_url(self) -> str:
        assert self._server is not None, "sandbox not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- request cycle -------------------------------------------------------------------------
    def _serve(self, raw: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(raw.path)
        length = int(raw.headers.get("Content-Length") or 0)
        body = raw.rfile.read(length) if length else b""
        request = Request(
            method=raw.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in raw.headers.items()},
            body=body,
        )
        is_control = request.path.startswith("/_sandbox/")
        if not is_control:
            with self._calls_lock:
                self.calls.append(RecordedCall(request.method, request.path, request.query, body, self.clock.now()))
            if self.latency_seconds:
                time.sleep(self.latency_seconds)
        fault = None if is_control else self.faults.pick(request.method, request.path, parts.query)
        if fault is not None and fault.kind == "drop":
            raise _DropConnection
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay_seconds)
        if fault is not None and fault.kind == "http_5xx":
            response = Response(
                503, b"<html><body>503 Service Temporarily Unavailable</body></html>", {"Content-Type": "text/html"}
            )
        elif fault is not None and fault.kind == "rate_limit":
            response = self.rate_limited(request)
            if fault.retry_after_seconds is not None and "Retry-After" in response.headers:
                response.headers["Retry-After"] = str(fault.retry_after_seconds)
        else:
            with self.lock:
                response = self.dispatch(request)
        if fault is not None and fault.kind == "applied_timeout":
            # The request took effect; the caller never learns it.
            time.sleep(fault.delay_seconds)
            raise _DropConnection
        self._write(raw, response, head_only=request.method == "HEAD")

    @staticmethod
    def _write(raw: BaseHTTPRequestHandler, response: Response, head_only: bool = False) -> None:
        raw.send_response(response.status)
        headers = {"Content-Length": str(len(response.body)), **response.headers}
        for name, value in headers.items():
            raw.send_header(name, value)
        raw.end_headers()
        if not head_only:
            raw.wfile.write(response.body)

    # -- calls ---------------------------------------------------------------------------------
    def calls_to(self, path_prefix: str, method: str | None = None) -> list[RecordedCall]:
        with self._calls_lock:
            return [c for c in self.calls if c.path.startswith(path_prefix) and (method is None or c.method == method)]

    def call_counts(self) -> Counter[str]:
        with self._calls_lock:
            return Counter(f"{c.method} {c.path}" for c in self.calls)

    def reset_calls(self) -> None:
        with self._calls_lock:
            self.calls.clear()

    # -- control endpoints (for the local run and for tests in another process) ---------------
    def _set_faults(self, request: Request) -> Response:
        data = request.json() or {}
        self.faults.set([FaultRule.from_json(r) for r in data.get("rules", [])], data.get("seed"))
        return Response.json({"ok": True})

    def _clear_faults(self, request: Request) -> Response:
        self.faults.clear()
        return Response.json({"ok": True})

    def _advance_clock(self, request: Request) -> Response:
        self.clock.advance(float((request.json() or {}).get("advance_seconds", 0)))
        return Response.json({"now": self.clock.now()})

    def _list_calls(self, request: Request) -> Response:
        return Response.json({"counts": dict(self.call_counts())})
