"""The one local stack: AWS in moto, the sandbox Ecwid and TikTok, the template's functions behind the local
gateway, and a merchant's steps and what AWS holds as helpers. `make run`, the tests, `make bench` and
`make chaos` all build it here (`local_stack`).

Nothing of the project's own code is replaced: requests go over HTTP to the gateway, which invokes the real
handlers in this process; the handlers reach the sandboxes over HTTP and AWS through moto, either in this
process (`mock_aws`, as the tests run) or as a server in a process of its own (AWS_ENDPOINT_URL, as `make run`
and the benchmark run, whose worker process reaches the same AWS).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import boto3
import httpx
from boto3.dynamodb.types import TypeDeserializer

from localrun.aws import LocalResources, provision
from localrun.console import Console, app_page_url, install_url
from localrun.gateway import LocalGateway
from localrun.lambda_runtime import LocalLambda, lambdas_for
from localrun.template import load_template
from localrun.triggers import Scheduler, SqsPollers, queue_depth
from tiktok_channel.runtime import reset_services, services

if TYPE_CHECKING:
    # Imported where a stack starts: the benchmark's worker process imports this module for
    # `catalog_items_written`, and its peak memory is a measurement that moto and the sandboxes must not swell.
    from sandboxes.ecwid import EcwidSandbox
    from sandboxes.tiktok import TikTokSandbox

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
HOST = "127.0.0.1"
REGION = "us-east-1"
CATALOG_QUEUE = "CatalogQueue"

# The app's credentials, known to the sandboxes and written into the app secret; new in every process.
ECWID_CLIENT_ID = "tiktok-channel-local"
ECWID_CLIENT_SECRET = "local-ecwid-secret-" + secrets.token_hex(8)
TIKTOK_APP_ID = "7000000000000000001"
TIKTOK_SECRET = "local-tiktok-secret-" + secrets.token_hex(8)
SESSION_KEY = secrets.token_hex(32)
# ECWID_APP_PAGE_URL unless the stack stands the sandbox Ecwid in for the Ecwid admin (`admin_stand_in`).
APP_PAGE_URL = "https://my.ecwid.com/store/{store_id}#app:name=tiktok-channel"


# -- the functions' services (tiktok_channel.runtime): every use of them from outside a function is here ------
def reset_app_services() -> None:
    """Forget the services the functions built in this process, so that they build them again (against the
    AWS and settings in force now)."""
    reset_services()


def move_clock(seconds: float) -> None:
    """Move the functions' clock (they run in this process); sessions and states are checked against it."""
    now = time.time
    services().clock = lambda: now() + seconds


def catalog_items_written() -> int | None:
    """The DynamoDB items the functions' catalog repository wrote in this process, by its own count; None when
    no function has built its services here."""
    if not services.cache_info().currsize:
        return None
    return int(services().catalog.items_written)


# -- AWS ---------------------------------------------------------------------------------------------------
def local_aws_environment(endpoint_url: str | None = None) -> dict[str, str]:
    """The variables that give boto3 (here, or in a child process) moto: fake credentials, the region, no X-Ray
    daemon, and moto's server when there is one."""
    environment = {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    if endpoint_url:
        environment["AWS_ENDPOINT_URL"] = endpoint_url
    return environment


def use_local_aws(endpoint_url: str | None = None) -> None:
    """Point boto3 in this process at moto and nothing else of AWS: the shell's endpoints, profile and session
    token are set aside; with `endpoint_url` moto's server answers, without it moto in-process (mock_aws)."""
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL") or name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            del os.environ[name]
    os.environ.update(local_aws_environment(endpoint_url))


@contextlib.contextmanager
def _moto_in_process() -> Iterator[None]:
    """moto's in-process mock with its dispatch serialized: its backends are not thread-safe (SQS iterates sets
    another thread changes), and the gateway's handlers, the pollers and the caller reach it at once."""
    from moto import mock_aws
    from moto.core.botocore_stubber import BotocoreStubber

    dispatch = BotocoreStubber.__call__
    lock = threading.RLock()

    def serialized(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
        with lock:
            return dispatch(self, event_name, request, **kwargs)

    BotocoreStubber.__call__ = serialized  # type: ignore[method-assign]
    try:
        with mock_aws():
            yield
    finally:
        BotocoreStubber.__call__ = dispatch  # type: ignore[method-assign]


@dataclass(frozen=True)
class MotoServer:
    url: str
    pid: int


@contextlib.contextmanager
def _moto_server(port: int, log: IO[bytes] | None) -> Iterator[MotoServer]:
    """moto's server in a process of its own (localrun.moto_server), stopped on exit."""
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "localrun.moto_server", str(port)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("moto's server did not start (its errors went to the moto log or stderr)")
        yield MotoServer(f"http://{HOST}:{json.loads(line)['port']}", process.pid)
    finally:
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()  # the server's signal to stop
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- a browser's view of a page ------------------------------------------------------------------------------
class StepFailed(AssertionError):
    """A merchant's step, or a read of what AWS holds, did not give what it must; the message says which."""


class Form(HTMLParser):
    """The first form of a page: its action and the values a browser would submit."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = attributes.get("action", "")
        elif tag == "input" and attributes.get("name"):
            if attributes.get("type", "text") in ("radio", "checkbox") and "checked" not in attributes:
                return
            self.fields[attributes["name"]] = attributes.get("value", "")

    def target(self, base_url: str) -> str:
        """Where the browser posts the form, for a page served from `base_url`."""
        if not self.action:
            raise StepFailed("the form has no action")
        return self.action if self.action.startswith("http") else base_url + self.action


def read_form(html: str) -> Form:
    """The first form of a page."""
    form = Form()
    form.feed(html)
    if form.action is None:
        raise StepFailed("the page has no form")
    return form


def expect_status(response: httpx.Response, status: int, step: str) -> httpx.Response:
    """The response, when it has this status; otherwise StepFailed naming the step and what came instead."""
    if response.status_code != status:
        raise StepFailed(f"{step}: expected HTTP {status}, got {response.status_code}: {response.text[:500]}")
    return response


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    deserializer = TypeDeserializer()
    return {k: deserializer.deserialize(v) for k, v in item.items()}


# -- the stack -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ports:
    """Where the stack listens on 127.0.0.1; 0 is any free port."""

    gateway: int = 0
    moto: int = 0  # only with moto as a server
    ecwid: int = 0
    tiktok: int = 0


@dataclass
class LocalStack:
    """A running local stack, with a merchant's steps (over HTTP, as a browser would take them) and readers of
    what AWS and the sandbox TikTok hold."""

    resources: LocalResources
    gateway: LocalGateway
    lambdas: dict[str, LocalLambda]  # the functions this process runs, by logical id
    pollers: SqsPollers  # the template's SQS events, delivered on demand (`run_worker`) or in the background
    scheduler: Scheduler
    console: Console
    ecwid: EcwidSandbox
    tiktok: TikTokSandbox
    http: httpx.Client  # the app's API, at the gateway
    browser: httpx.Client  # the sandboxes' own pages
    moto: MotoServer | None  # None: moto in this process

    @property
    def url(self) -> str:
        return self.gateway.url

    @property
    def table(self) -> str:
        return self.resources.tables["StoresTable"]

    @cached_property
    def _dynamodb(self) -> Any:
        return boto3.client("dynamodb", region_name=self.resources.region)

    @cached_property
    def _sqs(self) -> Any:
        return boto3.client("sqs", region_name=self.resources.region)

    # -- a merchant's steps ------------------------------------------------------------------------------
    def install(self, store_id: int) -> httpx.Response:
        """Press Install on the sandbox Ecwid's authorize page; the app's callback's answer."""
        page = expect_status(self.browser.get(install_url(self.ecwid, self.url)), 200, "the Ecwid authorize page")
        form = read_form(page.text)
        fields = {**form.fields, "store_id": str(store_id), "decision": "allow"}
        back = expect_status(self.browser.post(form.target(self.ecwid.base_url), data=fields), 302, "Ecwid's Install")
        return self.http.get(back.headers["location"])

    def open_session(self, store_id: int) -> str:
        """Open the store's TikTok page as the Ecwid admin does (its payload): the session."""
        answer = self.http.post("/api/session", json={"payload": self.ecwid.app_payload(store_id)})
        return str(expect_status(answer, 200, "POST /api/session").json()["session"])

    def start_connect(self, store_id: int, session: str, phone: str = "+14155550123") -> httpx.Response:
        """Press "+ Connect TikTok Account" with this phone number; the app's answer."""
        return self.http.post(
            f"/api/stores/{store_id}/connect", json={"phone": phone}, headers={"Authorization": f"Bearer {session}"}
        )

    def authorize_on_tiktok(self, authorize_url: str, setup: str = "business_profile") -> str:
        """Walk the sandbox TikTok's authorize page; the callback URL it sends the merchant to."""
        page = expect_status(self.browser.get(authorize_url), 200, "the TikTok authorize page")
        form = read_form(page.text)
        fields = {**form.fields, "setup": setup, "decision": "connect"}
        back = expect_status(self.browser.post(form.target(self.tiktok.base_url), data=fields), 302, "TikTok's Connect")
        return str(back.headers["location"])

    def callback(self, url: str) -> httpx.Response:
        return self.http.get(url)

    def connect(self, store_id: int, setup: str = "business_profile", phone: str = "+14155550123") -> httpx.Response:
        """Install, open the page, press Connect, finish TikTok's setup: the app's TikTok callback's answer."""
        expect_status(self.install(store_id), 302, "the app's Ecwid callback")
        session = self.open_session(store_id)
        started = expect_status(self.start_connect(store_id, session, phone), 200, "POST /api/stores/{id}/connect")
        return self.callback(self.authorize_on_tiktok(started.json()["authorize_url"], setup))

    def request_sync(self, store_id: int) -> str:
        """Press Sync Products: the id of the "full" job queued."""
        session = self.open_session(store_id)
        answer = self.http.post(f"/api/stores/{store_id}/sync", headers={"Authorization": f"Bearer {session}"})
        return str(expect_status(answer, 202, "POST /api/stores/{id}/sync").json()["job_id"])

    def status(self, store_id: int, session: str | None = None) -> dict[str, Any]:
        """What the store's TikTok page shows (GET /api/stores/{id})."""
        session = session or self.open_session(store_id)
        answer = self.http.get(f"/api/stores/{store_id}", headers={"Authorization": f"Bearer {session}"})
        return dict(expect_status(answer, 200, "GET /api/stores/{id}").json())

    # -- what AWS holds ----------------------------------------------------------------------------------
    def _query(self, **request: Any) -> list[dict[str, Any]]:
        pages = self._dynamodb.get_paginator("query").paginate(TableName=self.table, ConsistentRead=True, **request)
        return [_plain(item) for page in pages for item in page["Items"]]

    def _scan(self, **request: Any) -> list[dict[str, Any]]:
        pages = self._dynamodb.get_paginator("scan").paginate(TableName=self.table, **request)
        return [_plain(item) for page in pages for item in page["Items"]]

    def items(self, store_id: int) -> list[dict[str, Any]]:
        """Every item of the store."""
        return self._query(
            KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": f"STORE#{store_id}"}}
        )

    def store_item(self, store_id: int) -> dict[str, Any]:
        answer = self._dynamodb.get_item(
            TableName=self.table, Key={"pk": {"S": f"STORE#{store_id}"}, "sk": {"S": "STORE"}}, ConsistentRead=True
        )
        if "Item" not in answer:
            raise StepFailed(f"no store item for store {store_id}")
        return _plain(answer["Item"])

    def sku_items(self, store_id: int, fields: Sequence[str] = ()) -> dict[str, dict[str, Any]]:
        """sku_id → the store's SKU item; only `fields` of it when given (moto answers a narrow query faster)."""
        request: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :sku)",
            "ExpressionAttributeValues": {":pk": {"S": f"STORE#{store_id}"}, ":sku": {"S": "SKU#"}},
        }
        if fields:
            names = {f"#f{n}": name for n, name in enumerate(("sk", *fields))}
            request |= {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
        return {str(item["sk"]).removeprefix("SKU#"): item for item in self._query(**request)}

    def all_items(self) -> list[dict[str, Any]]:
        """Every store's items (the fleet-wide rate limiter's bookkeeping, RATE#…, is not a store's)."""
        items = [i for i in self._scan() if str(i["pk"]).startswith("STORE#")]
        return sorted(items, key=lambda i: (i["pk"], i["sk"]))

    def connected_index(self) -> list[dict[str, Any]]:
        return self._scan(IndexName="connected-stores")

    def queued_messages(self) -> list[dict[str, Any]]:
        """Every message on the catalog queue (received, then made visible again)."""
        url = self.resources.queues[CATALOG_QUEUE]
        seen: list[dict[str, Any]] = []
        handles = []
        while True:
            answer = self._sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=30
            )
            messages = answer.get("Messages", [])
            if not messages:
                break
            for message in messages:
                seen.append({"body": json.loads(message["Body"]), "attributes": message["Attributes"]})
                handles.append(message["ReceiptHandle"])
        for handle in handles:
            self._sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
        return seen

    def queued(self, queue: str = CATALOG_QUEUE) -> int:
        """Messages on a queue of the template, waiting or in flight."""
        return sum(queue_depth(self._sqs, self.resources.queues[queue]))

    # -- the functions the queues feed, as Lambda would --------------------------------------------------
    def run_worker(self, timeout: float = 60.0, *, until_empty: bool = False, concurrency: int = 1) -> int:
        """Deliver queued messages to their functions (the catalog worker) until no queue gives one; how many.

        `until_empty` waits also for messages in flight (given back for later, or failed), `concurrency`
        delivers with that many pollers at once: see SqsPollers.drain.
        """
        return self.pollers.drain(timeout, until_empty=until_empty, concurrency=concurrency)

    def tiktok_catalog(self, store_id: int) -> dict[str, Any]:
        """sku_id → fields of what the store's TikTok catalog holds."""
        catalog_id = self.store_item(store_id)["tiktok"]["catalog_id"]
        with self.tiktok.lock:
            return {sku: dict(product.fields) for sku, product in self.tiktok.catalogs[catalog_id].products.items()}


@contextlib.contextmanager
def local_stack(
    *,
    moto_server: bool = False,
    ports: Ports | None = None,
    host: str = HOST,
    ecwid_options: Mapping[str, Any] | None = None,
    tiktok_options: Mapping[str, Any] | None = None,
    parameters: Mapping[str, str] | None = None,
    admin_stand_in: bool = False,
    without: Collection[str] = (),
    background: bool = False,
    moto_log: IO[bytes] | None = None,
    stop_timeout: float | None = None,
) -> Iterator[LocalStack]:
    """Start a local stack; everything it started stops on exit, and the environment is as it was.

    - moto_server: moto as a server in its own process (AWS_ENDPOINT_URL, `moto_log` takes its stderr)
      instead of in this process (mock_aws);
    - ports, host: where the gateway (on `host`), moto's server and the sandboxes listen;
    - ecwid_options, tiktok_options: the sandboxes' settings (latency, limits, review delay, …);
    - parameters: template parameters over the stack's own (its URLs);
    - admin_stand_in: ECWID_APP_PAGE_URL is the sandbox Ecwid's admin stand-in, which opens the store's page
      (`make run`), rather than Ecwid's real admin;
    - without: functions this process does not run (the benchmark runs the catalog worker in its own process);
    - background: the queues' pollers, the schedules and the sandbox Ecwid's webhooks run by themselves, as
      in AWS (`make run`); otherwise messages wait for `run_worker` and webhooks for `ecwid.take_webhooks`;
    - stop_timeout: on exit, how long the background pollers and the scheduler are waited for each when a
      function they invoked is still running (None: until it returns); `make run` bounds its stop with it.
    """
    from sandboxes.ecwid import EcwidSandbox
    from sandboxes.tiktok import TikTokSandbox

    ports = ports or Ports()
    saved_environment = dict(os.environ)
    with contextlib.ExitStack() as running:
        running.callback(_restore_environment, saved_environment)  # the functions write theirs into it
        running.callback(reset_app_services)
        moto = running.enter_context(_moto_server(ports.moto, moto_log)) if moto_server else None
        if moto is None:
            running.enter_context(_moto_in_process())
        use_local_aws(moto.url if moto else None)
        reset_app_services()  # built against another stack's AWS, if any

        ecwid = EcwidSandbox(ECWID_CLIENT_ID, ECWID_CLIENT_SECRET, **(ecwid_options or {}))
        ecwid.start(ports.ecwid)
        running.callback(ecwid.stop)
        tiktok = TikTokSandbox(app_id=TIKTOK_APP_ID, secret=TIKTOK_SECRET, **(tiktok_options or {}))
        if tiktok.page_prices is None:  # TikTok checks prices against the sandbox Ecwid's product pages
            tiktok.page_prices = ecwid.page_prices
        tiktok.start(ports.tiktok)
        running.callback(tiktok.stop)

        template = load_template(TEMPLATE)
        unknown = set(without) - set(template.functions)
        if unknown:
            raise ValueError(f"the template has no function {', '.join(sorted(unknown))}")
        lambdas: dict[str, LocalLambda] = {}
        # Bound now, served later: its URL is a parameter of the functions it will invoke.
        gateway = LocalGateway(template, lambdas, host=host, port=ports.gateway)
        running.callback(gateway.stop)
        resources = provision(
            template,
            secret_value={
                "ecwid_client_id": ECWID_CLIENT_ID,
                "ecwid_client_secret": ECWID_CLIENT_SECRET,
                "tiktok_app_id": TIKTOK_APP_ID,
                "tiktok_secret": TIKTOK_SECRET,
                "session_key": SESSION_KEY,
            },
            parameter_overrides={
                "PublicBaseUrl": gateway.url,
                "EcwidAppPageUrl": app_page_url(ecwid.base_url, gateway.url) if admin_stand_in else APP_PAGE_URL,
                "EcwidApiUrl": f"{ecwid.base_url}/api/v3",
                "EcwidOAuthUrl": f"{ecwid.base_url}/api/oauth",
                "TikTokApiUrl": tiktok.base_url,
                "TikTokAuthUrl": f"{tiktok.base_url}/portal/auth",
                "TikTokPixelScriptUrl": tiktok.pixel_script_url,
                **(parameters or {}),
            },
            session=boto3.session.Session(region_name=REGION),
        )
        lambdas.update({k: v for k, v in lambdas_for(resources).items() if k not in without})
        # The custom JS URL Ecwid's support sets on the app at registration: every storefront of a store that
        # installed the app loads it (ecwid-api.md, "Storefront JavaScript").
        ecwid.custom_js_url = f"{gateway.url}/storefront.js"
        pollers = SqsPollers(resources, lambdas)
        scheduler = Scheduler(resources, lambdas)
        console = Console(gateway.url, ecwid, tiktok, resources, lambdas)
        gateway.scheduler = scheduler
        gateway.console = console
        gateway.start()
        if background:
            ecwid.webhook_url = f"{gateway.url}/webhooks/ecwid"
            ecwid.start_webhook_delivery()
            pollers.start()
            running.callback(pollers.stop, stop_timeout)
            scheduler.start()
            running.callback(scheduler.stop, stop_timeout)
        http = running.enter_context(httpx.Client(base_url=gateway.url, timeout=60))
        browser = running.enter_context(httpx.Client(timeout=60))
        yield LocalStack(resources, gateway, lambdas, pollers, scheduler, console, ecwid, tiktok, http, browser, moto)


def _restore_environment(saved: Mapping[str, str]) -> None:
    os.environ.clear()
    os.environ.update(saved)
