"""The whole product on 127.0.0.1 for a test: moto, both sandboxes, and the template's routes behind the
local gateway, with a merchant's browser steps (the Ecwid and TikTok authorize forms) as helpers.

Nothing of the project's own code is replaced: requests go over HTTP to the gateway, which invokes the
real handlers; the handlers reach the sandboxes over HTTP and AWS through moto.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
from boto3.dynamodb.types import TypeDeserializer
from moto import mock_aws

from localrun.aws import LocalResources, provision
from localrun.gateway import LocalGateway
from localrun.lambda_runtime import LocalLambda, lambdas_for
from localrun.template import load_template
from localrun.triggers import SqsPollers
from sandboxes.ecwid import EcwidSandbox
from sandboxes.tiktok import TikTokSandbox
from tiktok_channel.runtime import reset_services, services

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"

ECWID_CLIENT_ID = "tiktok-channel-test"
ECWID_CLIENT_SECRET = "test-ecwid-secret-" + secrets.token_hex(8)
TIKTOK_APP_ID = "7000000000000000042"
TIKTOK_SECRET = "test-tiktok-secret-" + secrets.token_hex(8)
SESSION_KEY = secrets.token_hex(32)
APP_PAGE_URL = "https://my.ecwid.com/store/{store_id}#app:name=tiktok-channel"
INSTALL_SCOPE = "read_store_profile read_catalog add_to_cp"


class _Form(HTMLParser):
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
            kind = attributes.get("type", "text")
            if kind in ("radio", "checkbox") and "checked" not in attributes:
                return
            self.fields[attributes["name"]] = attributes.get("value", "")


def read_form(html: str) -> _Form:
    form = _Form()
    form.feed(html)
    assert form.action is not None, "the page has no form"
    return form


@dataclass
class AppStack:
    resources: LocalResources
    gateway: LocalGateway
    lambdas: dict[str, LocalLambda]
    ecwid: EcwidSandbox
    tiktok: TikTokSandbox
    http: httpx.Client
    browser: httpx.Client  # for the sandboxes' own pages

    @property
    def url(self) -> str:
        return self.gateway.url

    # -- what AWS holds ----------------------------------------------------------------------
    @property
    def table(self) -> str:
        return self.resources.tables["StoresTable"]

    def items(self, store_id: int) -> list[dict[str, Any]]:
        client = boto3.client("dynamodb")
        answer = client.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"STORE#{store_id}"}},
            ConsistentRead=True,
        )
        deserializer = TypeDeserializer()
        return [{k: deserializer.deserialize(v) for k, v in item.items()} for item in answer["Items"]]

    def store_item(self, store_id: int) -> dict[str, Any]:
        found = [item for item in self.items(store_id) if item["sk"] == "STORE"]
        assert found, f"no store item for {store_id}"
        return found[0]

    def all_items(self) -> list[dict[str, Any]]:
        """Every store's items (the fleet-wide rate limiter's bookkeeping, RATE#…, is not a store's)."""
        answer = boto3.client("dynamodb").scan(TableName=self.table)
        deserializer = TypeDeserializer()
        items = [{k: deserializer.deserialize(v) for k, v in item.items()} for item in answer["Items"]]
        return sorted((i for i in items if str(i["pk"]).startswith("STORE#")), key=lambda i: (i["pk"], i["sk"]))

    def connected_index(self) -> list[dict[str, Any]]:
        answer = boto3.client("dynamodb").scan(TableName=self.table, IndexName="connected-stores")
        deserializer = TypeDeserializer()
        return [{k: deserializer.deserialize(v) for k, v in item.items()} for item in answer["Items"]]

    def queued_messages(self) -> list[dict[str, Any]]:
        """Every message on the catalog queue (received, then made visible again)."""
        sqs = boto3.client("sqs")
        url = self.resources.queues["CatalogQueue"]
        seen: list[dict[str, Any]] = []
        handles = []
        while True:
            answer = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=30
            )
            messages = answer.get("Messages", [])
            if not messages:
                break
            for message in messages:
                seen.append({"body": json.loads(message["Body"]), "attributes": message["Attributes"]})
                handles.append(message["ReceiptHandle"])
        for handle in handles:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
        return seen

    # -- the catalog worker, fed by the queue as Lambda would ---------------------------------------
    def run_worker(self, timeout: float = 60.0) -> int:
        """Deliver queued messages to the catalog worker until the queue is empty; answers how many."""
        return SqsPollers(self.resources, self.lambdas, wait_seconds=0).drain(timeout)

    def tiktok_catalog(self, store_id: int) -> dict[str, Any]:
        """sku_id → fields of what the store's TikTok catalog holds."""
        catalog_id = self.store_item(store_id)["tiktok"]["catalog_id"]
        with self.tiktok.lock:
            return {sku: dict(product.fields) for sku, product in self.tiktok.catalogs[catalog_id].products.items()}

    def sku_items(self, store_id: int) -> dict[str, dict[str, Any]]:
        return {str(i["sku_id"]): i for i in self.items(store_id) if str(i["sk"]).startswith("SKU#")}

    def status(self, store_id: int, session: str | None = None) -> dict[str, Any]:
        session = session or self.open_session(store_id)
        answer = self.http.get(f"/api/stores/{store_id}", headers={"Authorization": f"Bearer {session}"})
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    # -- a merchant's steps --------------------------------------------------------------------
    def install(self, store_id: int) -> httpx.Response:
        """Press Install on Ecwid's authorize page; answer the app's callback response."""
        redirect_uri = f"{self.url}/oauth/ecwid/callback"
        page = self.browser.get(
            f"{self.ecwid.base_url}/api/oauth/authorize",
            params={
                "client_id": ECWID_CLIENT_ID,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": INSTALL_SCOPE,
            },
        )
        assert page.status_code == 200, page.text
        form = read_form(page.text)
        fields = {**form.fields, "store_id": str(store_id), "decision": "allow"}
        back = self.browser.post(_absolute(self.ecwid.base_url, form.action), data=fields)
        assert back.status_code == 302, back.text
        return self.http.get(back.headers["location"])

    def open_session(self, store_id: int) -> str:
        answer = self.http.post("/api/session", json={"payload": self.ecwid.app_payload(store_id)})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["session"])

    def start_connect(self, store_id: int, session: str, phone: str = "+14155550123") -> httpx.Response:
        return self.http.post(
            f"/api/stores/{store_id}/connect", json={"phone": phone}, headers={"Authorization": f"Bearer {session}"}
        )

    def authorize_on_tiktok(self, authorize_url: str, setup: str = "business_profile") -> str:
        """Walk the sandbox TikTok's authorize page; answer the callback URL it sends the merchant to."""
        page = self.browser.get(authorize_url)
        assert page.status_code == 200, page.text
        form = read_form(page.text)
        fields = {**form.fields, "setup": setup, "decision": "connect"}
        back = self.browser.post(_absolute(self.tiktok.base_url, form.action), data=fields)
        assert back.status_code == 302, back.text
        return str(back.headers["location"])

    def callback(self, url: str) -> httpx.Response:
        return self.http.get(url)

    def connect(self, store_id: int, setup: str = "business_profile") -> httpx.Response:
        """Install, open the page, press Connect, finish TikTok's setup: answer the callback's response."""
        assert self.install(store_id).status_code == 302
        session = self.open_session(store_id)
        started = self.start_connect(store_id, session)
        assert started.status_code == 200, started.text
        return self.callback(self.authorize_on_tiktok(started.json()["authorize_url"], setup))


class CapturedLogs(logging.Handler):
    """Keeps every record with all its attributes (message, arguments, extra keys, exception text)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        exception = logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
        self.texts.append(f"{record.getMessage()} {record.__dict__!r} {exception}")


@contextmanager
def captured_logs(stack: AppStack) -> Iterator[CapturedLogs]:
    """What reaches CloudWatch meanwhile: the functions' Powertools loggers (DEBUG in tests, through the
    LogLevel parameter; they do not propagate) and whatever any library sends the root logger at INFO."""
    for function in stack.lambdas.values():
        function.handler  # noqa: B018 - import the handlers now, so their loggers exist to listen to
    records = CapturedLogs()
    root = logging.getLogger()
    own = [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    previous_level = root.level
    root.setLevel(logging.INFO)
    for logger in [root, *own]:
        logger.addHandler(records)
    try:
        yield records
    finally:
        for logger in [root, *own]:
            logger.removeHandler(records)
        root.setLevel(previous_level)


def assert_error(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The app's error answer: this status and code, and a sentence that tells the merchant what to do."""
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    assert len(error["message"]) > 20
    return dict(error)


def move_clock(seconds: float) -> None:
    """Move the functions' clock (they run in this process); sessions and states are checked against it."""
    now = time.time
    services().clock = lambda: now() + seconds


def _absolute(base: str, action: str | None) -> str:
    if not action:
        raise AssertionError("form without action")
    return action if action.startswith("http") else base + action


def decode_external_data(authorize_url: str) -> dict[str, Any]:
    value = parse_qs(urlsplit(authorize_url).query)["external_data"][0]
    return dict(json.loads(base64.b64decode(value)))


@contextmanager
def app_stack(
    *,
    ecwid_options: dict[str, Any] | None = None,
    tiktok_options: dict[str, Any] | None = None,
    parameters: dict[str, str] | None = None,
) -> Iterator[AppStack]:
    ecwid = EcwidSandbox(ECWID_CLIENT_ID, ECWID_CLIENT_SECRET, **(ecwid_options or {}))
    tiktok = TikTokSandbox(app_id=TIKTOK_APP_ID, secret=TIKTOK_SECRET, **(tiktok_options or {}))
    ecwid.start()
    tiktok.start()
    template = load_template(TEMPLATE)
    gateway = LocalGateway(template, {}, port=0).start()
    reset_services()
    try:
        with mock_aws():
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
                    "EcwidAppPageUrl": APP_PAGE_URL,
                    "EcwidApiUrl": f"{ecwid.base_url}/api/v3",
                    "EcwidOAuthUrl": f"{ecwid.base_url}/api/oauth",
                    "TikTokApiUrl": tiktok.base_url,
                    "TikTokAuthUrl": f"{tiktok.base_url}/portal/auth",
                    "LogLevel": "DEBUG",  # the no-secrets-in-logs checks read the most verbose output
                    **(parameters or {}),
                },
                stack_name="test",
            )
            lambdas = lambdas_for(resources)
            gateway.lambdas.update(lambdas)  # type: ignore[attr-defined]
            with httpx.Client(base_url=gateway.url, timeout=30) as http, httpx.Client(timeout=30) as browser:
                yield AppStack(resources, gateway, lambdas, ecwid, tiktok, http, browser)
    finally:
        reset_services()
        gateway.stop()
        ecwid.stop()
        tiktok.stop()
