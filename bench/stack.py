"""The product on 127.0.0.1 for one benchmark size: moto (its own process), the sandboxes, the template's routes
behind the local gateway, and the catalog worker run as a child process per sync.

Wired as tests/app_stack.py wires the tests' stack, but with moto as a server (AWS_ENDPOINT_URL) so that the
worker process reaches the same AWS state over HTTP, and with the catalog worker left out of the gateway:
only the child process runs it.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, Any

import boto3
import httpx
from boto3.dynamodb.types import TypeDeserializer

from bench.worker import RESULT_PREFIX
from localrun.aws import LocalResources, provision
from localrun.gateway import LocalGateway
from localrun.lambda_runtime import LocalLambda, lambdas_for
from localrun.template import load_template
from sandboxes.ecwid import EcwidSandbox
from sandboxes.tiktok import TikTokSandbox
from tiktok_channel.runtime import reset_services

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
WORKER = "CatalogWorkerFunction"
QUEUE = "CatalogQueue"
REGION = "us-east-1"

ECWID_CLIENT_ID = "tiktok-channel-bench"
ECWID_CLIENT_SECRET = "bench-ecwid-secret-" + secrets.token_hex(8)
TIKTOK_APP_ID = "7000000000000000077"
TIKTOK_SECRET = "bench-tiktok-secret-" + secrets.token_hex(8)
SESSION_KEY = secrets.token_hex(32)
APP_PAGE_URL = "https://my.ecwid.com/store/{store_id}#app:name=tiktok-channel"
INSTALL_SCOPE = "read_store_profile read_catalog add_to_cp"


class BenchError(RuntimeError):
    """A step of the benchmark failed; the message says which and what was seen."""


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
            if attributes.get("type", "text") in ("radio", "checkbox") and "checked" not in attributes:
                return
            self.fields[attributes["name"]] = attributes.get("value", "")


def _form(page: httpx.Response, base: str) -> tuple[str, dict[str, str]]:
    form = _Form()
    form.feed(page.text)
    if not form.action:
        raise BenchError(f"no form on {page.url} (HTTP {page.status_code})")
    return (form.action if form.action.startswith("http") else base + form.action), form.fields


def _expect(response: httpx.Response, status: int, step: str) -> httpx.Response:
    if response.status_code != status:
        raise BenchError(f"{step}: expected HTTP {status}, got {response.status_code}: {response.text[:500]}")
    return response


@dataclass
class WorkerRun:
    result: dict[str, Any]
    log: Path
    cpu_seconds: dict[str, float]  # of the worker, of this process (sandboxes, routes) and of moto, meanwhile


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine_busy_seconds() -> float:
    """CPU time the whole machine has been busy (Linux /proc/stat; 0 where there is none)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """CPU time of another process so far (Linux /proc; 0 where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class BenchStack:
    ecwid: EcwidSandbox
    tiktok: TikTokSandbox
    gateway: LocalGateway
    resources: LocalResources
    moto_url: str
    moto_pid: int
    logs: Path
    parameters: dict[str, str]
    http: httpx.Client
    browser: httpx.Client
    worker_environment: dict[str, str] = field(default_factory=dict)

    @property
    def table(self) -> str:
        return self.resources.tables["StoresTable"]

    @property
    def upload_batch_size(self) -> int:
        return int(self.resources.function_environment(WORKER)["TIKTOK_UPLOAD_BATCH_SIZE"])

    # -- the merchant's steps (tests/app_stack.py's, over HTTP) ------------------------------------------
    def install(self, store_id: int) -> None:
        """Press Install on the sandbox Ecwid's authorize page; the app's callback must answer 302."""
        page = _expect(
            self.browser.get(
                f"{self.ecwid.base_url}/api/oauth/authorize",
                params={
                    "client_id": ECWID_CLIENT_ID,
                    "redirect_uri": f"{self.gateway.url}/oauth/ecwid/callback",
                    "response_type": "code",
                    "scope": INSTALL_SCOPE,
                },
            ),
            200,
            "Ecwid authorize page",
        )
        action, fields = _form(page, self.ecwid.base_url)
        back = _expect(
            self.browser.post(action, data={**fields, "store_id": str(store_id), "decision": "allow"}),
            302,
            "Ecwid Install",
        )
        _expect(self.http.get(back.headers["location"]), 302, "the app's Ecwid callback")

    def open_session(self, store_id: int) -> str:
        answer = _expect(
            self.http.post("/api/session", json={"payload": self.ecwid.app_payload(store_id)}), 200, "POST /api/session"
        )
        return str(answer.json()["session"])

    def connect(self, store_id: int, phone: str = "+14155550123") -> None:
        """Install, open the app page, press Connect, finish TikTok's setup, come back through the callback."""
        self.install(store_id)
        session = self.open_session(store_id)
        started = _expect(
            self.http.post(
                f"/api/stores/{store_id}/connect", json={"phone": phone}, headers={"Authorization": f"Bearer {session}"}
            ),
            200,
            "POST /api/stores/{id}/connect",
        )
        page = _expect(self.browser.get(started.json()["authorize_url"]), 200, "TikTok authorize page")
        action, fields = _form(page, self.tiktok.base_url)
        back = _expect(
            self.browser.post(action, data={**fields, "setup": "business_profile", "decision": "connect"}),
            302,
            "TikTok Connect",
        )
        _expect(self.http.get(back.headers["location"]), 302, "the app's TikTok callback")

    def request_sync(self, store_id: int) -> str:
        """The merchant presses Sync Products: POST /api/stores/{id}/sync queues a "full" job; its id."""
        session = self.open_session(store_id)
        answer = self.http.post(f"/api/stores/{store_id}/sync", headers={"Authorization": f"Bearer {session}"})
        _expect(answer, 202, "POST /api/stores/{id}/sync")
        return str(answer.json()["job_id"])

    # -- what DynamoDB holds -------------------------------------------------------------------------
    def store_item(self, store_id: int) -> dict[str, Any]:
        answer = boto3.client("dynamodb").get_item(
            TableName=self.table, Key={"pk": {"S": f"STORE#{store_id}"}, "sk": {"S": "STORE"}}, ConsistentRead=True
        )
        if "Item" not in answer:
            raise BenchError(f"no store item for store {store_id}")
        deserializer = TypeDeserializer()
        return {k: deserializer.deserialize(v) for k, v in answer["Item"].items()}

    def sku_items(self, store_id: int) -> dict[str, dict[str, Any]]:
        """Every SKU item of the store (all pages of the query), as far as a write shows: the time every write
        stamps, and the state a write without a new stamp could change (moto answers a narrow query much faster)."""
        pages = (
            boto3.client("dynamodb")
            .get_paginator("query")
            .paginate(
                TableName=self.table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :sku)",
                ExpressionAttributeValues={":pk": {"S": f"STORE#{store_id}"}, ":sku": {"S": "SKU#"}},
                ProjectionExpression="sk, updated_at, #status, on_tiktok, #hash",
                ExpressionAttributeNames={"#status": "status", "#hash": "hash"},
                ConsistentRead=True,
            )
        )
        return {item["sk"]["S"][4:]: item for page in pages for item in page["Items"]}

    def queued(self) -> int:
        attributes = boto3.client("sqs").get_queue_attributes(
            QueueUrl=self.resources.queues[QUEUE],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    # -- the worker, in its own process --------------------------------------------------------------
    def run_worker(self, name: str, timeout_seconds: float) -> WorkerRun:
        """Drain the catalog queue with the catalog worker in a child process; its BENCH_RESULT."""
        spec = {
            "template": str(TEMPLATE),
            "stack_name": self.resources.stack_name,
            "region": self.resources.region,
            "account_id": self.resources.account_id,
            "parameters": self.parameters,
            "physical": {
                k: {"ref": v.ref, "attributes": dict(v.attributes)} for k, v in self.resources.physical.items()
            },
            "tables": self.resources.tables,
            "queues": self.resources.queues,
            "queue_arns": self.resources.queue_arns,
            "kms_keys": self.resources.kms_keys,
            "secrets": self.resources.secrets,
            "function": WORKER,
            "environment": self.resources.function_environment(WORKER),
            "function_name": self.resources.function_name(WORKER),
            "function_arn": self.resources.function_arn(WORKER),
            "queue": QUEUE,
            "timeout_seconds": timeout_seconds,
        }
        spec_path = self.logs / f"{name}.spec.json"
        spec_path.write_text(json.dumps(spec, indent=1))
        log_path = self.logs / f"{name}.log"
        own_before, moto_before, machine_before = (
            _own_cpu_seconds(),
            process_cpu_seconds(self.moto_pid),
            machine_busy_seconds(),
        )
        with log_path.open("wb") as log:
            try:
                process = subprocess.run(  # noqa: S603 - our own interpreter and module
                    [sys.executable, "-m", "bench.worker", str(spec_path)],
                    cwd=ROOT,
                    env=self.worker_environment,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    timeout=timeout_seconds + 120,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise BenchError(f"the worker process ({name}) did not finish; its log: {log_path}") from None
        text = log_path.read_text(errors="replace")
        lines = [line for line in text.splitlines() if line.startswith(RESULT_PREFIX)]
        if process.returncode != 0 or not lines:
            tail = "\n".join(text.splitlines()[-30:])
            raise BenchError(f"the worker process ({name}) failed with exit code {process.returncode}:\n{tail}")
        result = json.loads(lines[-1][len(RESULT_PREFIX) :])
        cpu = {
            "worker": float(result["cpu_seconds"]),
            "sandboxes_and_routes": round(_own_cpu_seconds() - own_before, 2),
            "moto": round(process_cpu_seconds(self.moto_pid) - moto_before, 2),
        }
        busy = machine_busy_seconds() - machine_before
        # What other processes of the machine used meanwhile (tests of other sessions, …): contention.
        cpu["other_processes"] = round(max(0.0, busy - sum(cpu.values())), 2)
        cpu["machine_cpus"] = float(os.cpu_count() or 1)
        return WorkerRun(result, log_path, cpu)


def _start_moto(log: IO[bytes]) -> tuple[subprocess.Popen[bytes], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.moto_process"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.kill()
        raise BenchError("moto did not start (see moto.log in the logs directory)")
    port = int(json.loads(line)["port"])
    return process, f"http://127.0.0.1:{port}"


def _stop_moto(process: subprocess.Popen[bytes]) -> None:
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
}


def _point_at_moto(url: str) -> dict[str, str]:
    """This process's environment (and the worker's) reaching moto's server, and nothing else of AWS."""
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL_") or name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            del os.environ[name]
    os.environ.update({**_AWS_ENVIRONMENT, "AWS_ENDPOINT_URL": url})
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_LAMBDA_"))}
    return {**environment, **_AWS_ENVIRONMENT, "AWS_ENDPOINT_URL": url, "PYTHONUNBUFFERED": "1"}


@contextlib.contextmanager
def bench_stack(*, logs: Path, latency_seconds: float, review_delay_seconds: float) -> Iterator[BenchStack]:
    """Fresh moto, sandboxes and gateway; the template provisioned; torn down on exit."""
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / "moto.log").open("ab") as moto_log:
        moto, moto_url = _start_moto(moto_log)
    ecwid = EcwidSandbox(ECWID_CLIENT_ID, ECWID_CLIENT_SECRET, latency_seconds=latency_seconds)
    tiktok = TikTokSandbox(
        app_id=TIKTOK_APP_ID,
        secret=TIKTOK_SECRET,
        latency_seconds=latency_seconds,
        enforce_rate_limits=True,  # TikTok's documented table (sandboxes/tiktok_limits.default_limits)
        review_delay_seconds=review_delay_seconds,
    )
    gateway: LocalGateway | None = None
    try:
        worker_environment = _point_at_moto(moto_url)
        reset_services()  # this process's handlers build their clients afresh, against this moto
        ecwid.start()
        tiktok.start()
        template = load_template(TEMPLATE)
        routes: dict[str, LocalLambda] = {}
        gateway = LocalGateway(template, routes, port=0).start()
        parameters = {
            "PublicBaseUrl": gateway.url,
            "EcwidAppPageUrl": APP_PAGE_URL,
            "EcwidApiUrl": f"{ecwid.base_url}/api/v3",
            "EcwidOAuthUrl": f"{ecwid.base_url}/api/oauth",
            "TikTokApiUrl": tiktok.base_url,
            "TikTokAuthUrl": f"{tiktok.base_url}/portal/auth",
        }
        resources = provision(
            template,
            secret_value={
                "ecwid_client_id": ECWID_CLIENT_ID,
                "ecwid_client_secret": ECWID_CLIENT_SECRET,
                "tiktok_app_id": TIKTOK_APP_ID,
                "tiktok_secret": TIKTOK_SECRET,
                "session_key": SESSION_KEY,
            },
            parameter_overrides=parameters,
            session=boto3.session.Session(region_name=REGION),
            stack_name="bench",
        )
        # Every function but the catalog worker serves here; the worker runs only in its own process.
        routes.update({k: v for k, v in lambdas_for(resources).items() if k != WORKER})
        with httpx.Client(base_url=gateway.url, timeout=60) as http, httpx.Client(timeout=60) as browser:
            yield BenchStack(
                ecwid,
                tiktok,
                gateway,
                resources,
                moto_url,
                moto.pid,
                logs,
                parameters,
                http,
                browser,
                worker_environment,
            )
    finally:
        reset_services()
        if gateway is not None:
            gateway.stop()
        ecwid.stop()
        tiktok.stop()
        _stop_moto(moto)


def wait_until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise BenchError(f"timed out waiting for {what}")
        time.sleep(0.1)
