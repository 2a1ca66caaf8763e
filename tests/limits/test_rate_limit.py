"""The fleet-wide rate limiter keeps every worker together within TikTok's sliding windows, and honours the pause."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import boto3
import httpx
import pytest
from moto import mock_aws

from localrun.aws import provision
from localrun.template import load_template
from sandboxes.tiktok import TikTokSandbox
from tests.sandboxes.test_tiktok_sandbox import APP_ID, KEY, REDIRECT, SECRET, external_data, product
from tiktok_channel.adapters.rate_limit import (
    TIKTOK_LIMITS,
    FleetRateLimiter,
    Limit,
    call_spacing,
    tiktok_bucket,
)
from tiktok_channel.errors import PausedError
from tiktok_channel.runtime import TIKTOK_HEADROOM

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ROOT = Path(__file__).resolve().parents[2]
API = "/open_api/v1.3"
START = 1_700_000_000.0


class Atomic:
    """A DynamoDB client whose calls never interleave.

    DynamoDB applies each conditional write atomically; moto's in-process backend checks the condition
    and then writes in separate steps that threads can interleave, so the test serialises its calls.
    """

    _lock = threading.Lock()

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._client, name)

        def locked(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.calls.append(name)
                return method(*args, **kwargs)

        return locked


class FakeTime:
    """A clock that only sleeping moves, shared by every worker of a test; `on_sleep` runs at each step."""

    def __init__(self) -> None:
        self.now = START
        self.on_sleep: Callable[[], None] | None = None

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep()


@pytest.fixture(scope="module")
def stores_table() -> Iterator[str]:
    """The template's stores table in moto, made once for the module (conftest's environment is per test)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL") or name == "AWS_PROFILE"]:
            patch.delenv(name)
        for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
            patch.setenv(name, value)
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        with mock_aws():
            resources = provision(load_template(ROOT / "template.yaml"), secret_value={}, stack_name="t")
            yield resources.tables["StoresTable"]


@pytest.fixture
def table(stores_table: str) -> str:
    """The stores table without any limiter items, as if no worker had called TikTok yet."""
    client = boto3.client("dynamodb")
    for page in client.get_paginator("scan").paginate(
        TableName=stores_table,
        FilterExpression="begins_with(pk, :rate)",
        ExpressionAttributeValues={":rate": {"S": "RATE#"}},
    ):
        for item in page["Items"]:
            client.delete_item(TableName=stores_table, Key={"pk": item["pk"], "sk": item["sk"]})
    return stores_table


def worker(table: str, **options: Any) -> tuple[FleetRateLimiter, Atomic]:
    """A limiter with its own client, as a separate Lambda would have."""
    client = Atomic(boto3.client("dynamodb"))
    return FleetRateLimiter(cast("DynamoDBClient", client), table, **options), client


def most_in_window(times: list[float], span: float) -> int:
    """The most calls any window (t - span, t] holds, as the sandbox's sliding windows count them."""
    ordered, best, first = sorted(times), 0, 0
    for last, at in enumerate(ordered):
        while ordered[first] <= at - span:
            first += 1
        best = max(best, last - first + 1)
    return best


def run_workers(count: int, seconds: float, work: Callable[[int], None]) -> None:
    """Run `work(index)` in `count` threads until they return; re-raise the first failure."""
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            work(index)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 10)
    assert not errors, errors


# -- buckets and spacing ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "bucket"),
    [
        ("/catalog/product/upload/", "upload"),
        (f"{API}/catalog/product/upload/", "upload"),
        ("https://business-api.tiktok.com/open_api/v1.3/catalog/product/upload", "upload"),
        (f"{API}/catalog/product/file/", "upload"),
        (f"{API}/catalog/product/update/", "delete"),
        (f"{API}/catalog/product/delete/?x=1", "delete"),
        (f"{API}/catalog/product/log/", "default"),
        (f"{API}/oauth2/access_token/", "default"),
        (f"{API}/catalog/product/get/", "default"),
    ],
)
def test_bucket_of_a_path(path: str, bucket: str) -> None:
    assert tiktok_bucket(path) == bucket


def test_spacing_keeps_most_of_each_limit() -> None:
    for limit in TIKTOK_LIMITS.values():
        assert 0.9 * limit.per_second <= 1 / call_spacing(limit) < limit.per_second
        assert 0.8 * limit.per_second <= 1 / call_spacing(limit, headroom=0.9) < 0.9 * limit.per_second
    with pytest.raises(ValueError, match="headroom"):
        call_spacing(Limit(5, 300), headroom=0)


# -- the limits, fleet-wide ---------------------------------------------------------------------
def test_workers_together_stay_within_the_per_second_limit(table: str) -> None:
    workers = [worker(table) for _ in range(4)]
    grants: list[float] = []
    start = time.time()
    deadline = start + 3.0

    def work(index: int) -> None:
        limiter = workers[index][0]
        while time.time() < deadline:
            limiter.acquire("upload", max_wait_seconds=5.0)
            grants.append(time.time())

    run_workers(4, 3.0, work)
    assert most_in_window(grants, 1.0) <= TIKTOK_LIMITS["upload"].per_second
    assert sum(1 for at in grants if at <= deadline) >= 0.8 * 5 * 3.0
    writes = sum(client.calls.count("update_item") for _, client in workers)
    assert writes <= 1.5 * len(grants)  # mostly one write per call; a wrong first guess costs one more


def test_per_minute_limit_holds(table: str) -> None:
    fake = FakeTime()
    limits = {"bursty": Limit(per_second=50, per_minute=120)}
    first, second = (worker(table, limits=limits, clock=fake.clock, sleep=fake.sleep)[0] for _ in range(2))
    grants: list[float] = []
    for _ in range(100):
        for limiter in (first, second):
            limiter.acquire("bursty", max_wait_seconds=5.0)
            grants.append(fake.now)
    assert grants[-1] - grants[0] > 90  # windows slide over more than a minute
    assert most_in_window(grants, 60.0) <= 120
    assert most_in_window(grants, 1.0) <= 50
    assert sum(1 for at in grants if at < START + 60) >= 0.95 * 120


def test_lone_worker_spends_one_write_per_call(table: str) -> None:
    fake = FakeTime()
    limiter, client = worker(table, clock=fake.clock, sleep=fake.sleep)
    for _ in range(20):
        limiter.acquire("delete", max_wait_seconds=5.0)
    assert client.calls.count("update_item") == 20
    assert client.calls.count("get_item") <= 1 + (fake.now - START)  # the pause is read at most once a second


# -- waiting ------------------------------------------------------------------------------------
def test_max_wait_raises_instead_of_sleeping_past_it(table: str) -> None:
    fake = FakeTime()
    limiter, _ = worker(table, limits={"slow": Limit(1, 60)}, clock=fake.clock, sleep=fake.sleep)
    spacing = call_spacing(Limit(1, 60))
    limiter.acquire("slow", max_wait_seconds=0)
    with pytest.raises(PausedError) as refused:
        limiter.acquire("slow", max_wait_seconds=0.5)
    assert refused.value.until == pytest.approx(START + spacing)
    assert fake.now == START  # refused at once, without sleeping
    limiter.acquire("slow", max_wait_seconds=2.0)
    assert fake.now == pytest.approx(START + spacing)


def test_workers_queue_behind_one_another(table: str) -> None:
    limits = {"slow": Limit(1, 60)}
    spacing = call_spacing(limits["slow"])
    times = [FakeTime() for _ in range(3)]  # each worker sleeps on its own, from the same instant
    workers = [worker(table, limits=limits, clock=fake.clock, sleep=fake.sleep)[0] for fake in times]
    workers[0].acquire("slow", max_wait_seconds=0)
    workers[1].acquire("slow", max_wait_seconds=5.0)
    assert times[1].now == pytest.approx(START + spacing)
    with pytest.raises(PausedError) as refused:
        workers[2].acquire("slow", max_wait_seconds=spacing)
    assert refused.value.until == pytest.approx(START + 2 * spacing)
    workers[2].acquire("slow", max_wait_seconds=5.0)
    assert times[2].now == pytest.approx(START + 2 * spacing)


def test_unknown_bucket_is_refused(table: str) -> None:
    limiter, _ = worker(table)
    with pytest.raises(ValueError, match="event"):
        limiter.acquire("event", max_wait_seconds=1.0)


# -- the fleet-wide pause -----------------------------------------------------------------------
def test_pause_stops_every_worker_and_never_shortens(table: str) -> None:
    fake = FakeTime()
    workers = [worker(table, clock=fake.clock, sleep=fake.sleep)[0] for _ in range(3)]
    for limiter in workers:
        limiter.acquire("default", max_wait_seconds=5.0)  # each has now seen "not paused"
    paused_at = fake.now

    until = workers[0].pause(300)
    assert until == paused_at + 300
    fake.now += 1.0  # "not paused" is remembered for a second at most
    for limiter in workers:
        assert limiter.paused_until() == until
        with pytest.raises(PausedError) as refused:
            limiter.acquire("upload", max_wait_seconds=5.0)
        assert refused.value.until == until

    assert workers[1].pause(10) == until  # a shorter pause keeps the longer one
    assert worker(table, clock=fake.clock)[0].paused_until() == until
    longer = workers[2].pause(400)
    assert longer == fake.now + 400 > until
    fake.now += 2.0
    assert workers[0].paused_until() == longer

    fake.now = longer
    for limiter in workers:
        assert limiter.paused_until() is None
        limiter.acquire("upload", max_wait_seconds=5.0)


def test_pause_that_comes_on_while_waiting_stops_the_wait(table: str) -> None:
    fake = FakeTime()
    limits = {"slow": Limit(1, 20)}  # a call every 3 seconds
    waiting, _ = worker(table, limits=limits, clock=fake.clock, sleep=fake.sleep)
    pausing, _ = worker(table, limits=limits, clock=fake.clock)
    waiting.acquire("slow", max_wait_seconds=0)
    paused: list[float] = []

    def another_worker_meets_40100() -> None:
        if not paused:
            paused.append(pausing.pause(300))

    fake.on_sleep = another_worker_meets_40100
    with pytest.raises(PausedError) as refused:
        waiting.acquire("slow", max_wait_seconds=10.0)
    assert refused.value.until == paused[0]
    assert fake.now < START + call_spacing(limits["slow"])  # gave up before its slot


# -- against the sandbox TikTok -----------------------------------------------------------------
def test_sandbox_tiktok_never_answers_40100(table: str) -> None:
    tiktok = TikTokSandbox(app_id=APP_ID, secret=SECRET, external_data_key=KEY)
    tiktok.start()
    try:
        with httpx.Client(base_url=tiktok.base_url, timeout=5.0) as http:
            code = tiktok.authorize(state="s1", redirect_uri=REDIRECT, external_data=external_data())
            granted = http.post(
                f"{API}/oauth2/access_token/", json={"app_id": APP_ID, "secret": SECRET, "auth_code": code}
            ).json()
        token = granted["data"]["access_token"]
        catalog = next(iter(tiktok.catalogs.values()))
        ids = {"bc_id": catalog.bc_id, "catalog_id": catalog.catalog_id}
        path = f"{API}/catalog/product/upload/"
        # As deployed: the runtime's headroom is the slack for calls that reach TikTok unevenly (a loaded machine
        # delays one worker's call after its slot while another's goes on time).
        workers = [worker(table, headroom=TIKTOK_HEADROOM)[0] for _ in range(3)]
        codes: list[int] = []
        deadline = time.time() + 3.0

        def work(index: int) -> None:
            limiter = workers[index]
            with httpx.Client(base_url=tiktok.base_url, timeout=5.0, headers={"Access-Token": token}) as http:
                batch = 0
                while time.time() < deadline:
                    limiter.acquire(tiktok_bucket(path), max_wait_seconds=5.0)
                    products = [product(f"{index}-{batch}-{n}") for n in range(2)]
                    codes.append(http.post(path, json={**ids, "products": products}).json()["code"])
                    batch += 1

        run_workers(3, 3.0, work)
    finally:
        tiktok.stop()
    assert 40100 not in codes
    assert set(codes) == {0}
    assert tiktok.paused_until is None
    arrivals = [call.at for call in tiktok.calls if call.path == path]
    assert most_in_window(arrivals, 1.0) <= TIKTOK_LIMITS["upload"].per_second
    assert len(codes) >= 0.8 * 5 * 3.0
