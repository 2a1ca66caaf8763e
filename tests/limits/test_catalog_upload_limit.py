"""TikTok's 1,000 upload calls per hour per catalog (tiktok-api.md, "Rate limits"), held fleet-wide."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest

from tests.limits.test_rate_limit import START, Atomic, FakeTime, most_in_window
from tests.limits.test_rate_limit import stores_table as stores_table  # the module's fixtures
from tests.limits.test_rate_limit import table as table
from tiktok_channel.adapters.catalog_upload_limit import (
    CATALOG_UPLOADS_PER_HOUR,
    SUB_WINDOW_SECONDS,
    catalog_uploads_key,
)
from tiktok_channel.adapters.rate_limit import FleetRateLimiter, Limit, call_spacing
from tiktok_channel.errors import PausedError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

FAST = {"upload": Limit(1000, 60_000), "delete": Limit(2, 120), "default": Limit(10, 600)}  # the app limit aside
FIRST_WINDOW_ENDS = (START // SUB_WINDOW_SECONDS + 1) * SUB_WINDOW_SECONDS
HOUR_AFTER_FIRST_WINDOW = FIRST_WINDOW_ENDS + 3600  # when calls counted in START's sub-window leave the count


class Recorded(Atomic):
    """Atomic, remembering which item each call touched, and able to slip another worker's call in before one."""

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.keys: list[tuple[str, str]] = []
        self.before_catalog_write: Callable[[], None] | None = None

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = super().__getattr__(name)

        def recorded(*args: Any, **kwargs: Any) -> Any:
            pk = kwargs.get("Key", {}).get("pk", {}).get("S", "")
            self.keys.append((name, pk))
            if pk.startswith("RATE#upload#") and self.before_catalog_write is not None:
                interleave, self.before_catalog_write = self.before_catalog_write, None
                interleave()
            return method(*args, **kwargs)

        return recorded


def worker(table: str, fake: FakeTime, **options: Any) -> tuple[FleetRateLimiter, Recorded]:
    client = Recorded(boto3.client("dynamodb"))
    options = {"limits": FAST, "clock": fake.clock, "sleep": fake.sleep, **options}
    return FleetRateLimiter(cast("DynamoDBClient", client), table, **options), client


def counted(table: str, catalog_id: str) -> dict[int, int]:
    item = boto3.client("dynamodb").get_item(TableName=table, Key=catalog_uploads_key(catalog_id))["Item"]
    return {int(w): int(n["N"]) for w, n in item["windows"]["M"].items()}


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


def test_a_thousand_uploads_an_hour_go_and_the_next_waits_for_the_first_sub_window(table: str, fake: FakeTime) -> None:
    limiter, client = worker(table, fake)
    grants: list[float] = []
    for n in range(CATALOG_UPLOADS_PER_HOUR):
        if n and n % 100 == 0:
            fake.now += 330.0  # ten bursts across ten sub-windows, all within the hour
        limiter.acquire("upload", max_wait_seconds=1.0, catalog_id="c1")
        grants.append(fake.now)
    assert fake.now < START + 3600
    assert sum(counted(table, "c1").values()) == CATALOG_UPLOADS_PER_HOUR
    # A lone worker reads the catalog's item once, then spends one conditional write on it per call.
    catalog_calls = [name for name, pk in client.keys if pk == "RATE#upload#c1"]
    assert catalog_calls == ["get_item"] + ["update_item"] * CATALOG_UPLOADS_PER_HOUR

    with pytest.raises(PausedError, match="1,000 uploads per hour for catalog c1 are used") as refused:
        limiter.acquire("upload", max_wait_seconds=60.0, catalog_id="c1")
    assert refused.value.until == HOUR_AFTER_FIRST_WINDOW
    assert fake.now == grants[-1]  # refused at once

    fake.now = refused.value.until - 2.0
    limiter.acquire("upload", max_wait_seconds=5.0, catalog_id="c1")  # waits for the first sub-window to leave
    assert fake.now == pytest.approx(HOUR_AFTER_FIRST_WINDOW)
    grants.append(fake.now)
    assert most_in_window(grants, 3600.0) <= CATALOG_UPLOADS_PER_HOUR


def test_another_catalog_is_unaffected_and_the_allowance_comes_back_after_the_hour(table: str, fake: FakeTime) -> None:
    limiter, _ = worker(table, fake, catalog_uploads_per_hour=3)
    for _ in range(3):
        limiter.acquire("upload", max_wait_seconds=1.0, catalog_id="c1")
    with pytest.raises(PausedError, match="3 uploads per hour for catalog c1") as refused:
        limiter.acquire("upload", max_wait_seconds=0, catalog_id="c1")
    assert refused.value.until == HOUR_AFTER_FIRST_WINDOW
    for _ in range(3):
        limiter.acquire("upload", max_wait_seconds=1.0, catalog_id="c2")
    limiter.acquire("upload", max_wait_seconds=1.0)  # without a catalog: only the app's limit

    fake.now = HOUR_AFTER_FIRST_WINDOW - 0.001
    with pytest.raises(PausedError):  # strict to the end of the sub-window
        limiter.acquire("upload", max_wait_seconds=0, catalog_id="c1")
    fake.now = HOUR_AFTER_FIRST_WINDOW
    for _ in range(3):
        limiter.acquire("upload", max_wait_seconds=1.0, catalog_id="c1")
    with pytest.raises(PausedError):
        limiter.acquire("upload", max_wait_seconds=0, catalog_id="c1")
    assert list(counted(table, "c1")) == [HOUR_AFTER_FIRST_WINDOW // SUB_WINDOW_SECONDS]  # old sub-windows pruned


def test_two_workers_together_never_exceed_the_allowance_in_any_hour(table: str, fake: FakeTime) -> None:
    limit = 10
    workers = [worker(table, fake, catalog_uploads_per_hour=limit) for _ in range(2)]
    grants: list[float] = []
    refusals: list[tuple[float, PausedError]] = []
    for step in range(400):  # about three hours, the two workers alternating with stale views of the item
        for limiter, _ in workers if step % 3 else reversed(workers):
            try:
                limiter.acquire("upload", max_wait_seconds=1.0, catalog_id="c1")
                grants.append(fake.now)
            except PausedError as error:
                refusals.append((fake.now, error))
        fake.now += 27.0
    assert most_in_window(grants, 3600.0) <= limit
    assert refusals
    assert all("uploads per hour" in str(error) and error.until > at for at, error in refusals)
    assert len(grants) >= 0.9 * 3 * limit  # the allowance is used, up to the conservative sub-window


def test_a_write_made_meanwhile_in_another_sub_window_is_seen(table: str, fake: FakeTime) -> None:
    """Each sub-window in its own item, conditioned on its own count, would let both calls go."""
    (first, first_client), (second, _) = (worker(table, fake, catalog_uploads_per_hour=2) for _ in range(2))
    first.acquire("upload", max_wait_seconds=0, catalog_id="c1")
    fake.now = FIRST_WINDOW_ENDS - 1.0
    # The second worker may wait longer, so its call is counted in the next sub-window.
    first_client.before_catalog_write = lambda: second.acquire("upload", max_wait_seconds=5.0, catalog_id="c1")
    with pytest.raises(PausedError, match="uploads per hour"):
        first.acquire("upload", max_wait_seconds=0, catalog_id="c1")
    assert sum(counted(table, "c1").values()) == 2


def test_the_count_is_given_back_when_the_app_slot_is_refused(table: str, fake: FakeTime) -> None:
    slow = {"upload": Limit(1, 60)}
    limiter, _ = worker(table, fake, limits=slow, catalog_uploads_per_hour=2)
    limiter.acquire("upload", max_wait_seconds=0, catalog_id="c1")
    with pytest.raises(PausedError, match="'upload' limit"):
        limiter.acquire("upload", max_wait_seconds=0, catalog_id="c1")
    assert sum(counted(table, "c1").values()) == 1
    limiter.acquire("upload", max_wait_seconds=5.0, catalog_id="c1")
    assert fake.now == pytest.approx(START + call_spacing(slow["upload"]))
    assert sum(counted(table, "c1").values()) == 2


def test_a_fleet_pause_while_waiting_for_the_catalog_gives_up(table: str, fake: FakeTime) -> None:
    limiter, _ = worker(table, fake, catalog_uploads_per_hour=1)
    pausing, _ = worker(table, fake)
    limiter.acquire("upload", max_wait_seconds=0, catalog_id="c1")
    fake.now = HOUR_AFTER_FIRST_WINDOW - 5.0

    def another_worker_meets_40100() -> None:
        if pausing.paused_until() is None:
            pausing.pause(300)

    fake.on_sleep = another_worker_meets_40100
    with pytest.raises(PausedError, match="40100") as refused:
        limiter.acquire("upload", max_wait_seconds=10.0, catalog_id="c1")
    assert refused.value.until > HOUR_AFTER_FIRST_WINDOW
    assert sum(counted(table, "c1").values()) == 1


def test_calls_without_a_catalog_or_to_other_buckets_cost_nothing_more(table: str, fake: FakeTime) -> None:
    def calls(catalog_id: str | None) -> list[tuple[str, str]]:
        limiter, client = worker(table, fake)
        for _ in range(5):
            limiter.acquire("upload", max_wait_seconds=5.0)
            limiter.acquire("delete", max_wait_seconds=5.0, catalog_id=catalog_id)
            limiter.acquire("default", max_wait_seconds=5.0, catalog_id=catalog_id)
        fake.now += 60.0  # every bucket free again
        return client.keys

    assert calls("c1") == calls(None)
    assert not [pk for _, pk in calls("c1") if pk.startswith("RATE#upload#")]


def test_the_item_lives_about_two_hours(table: str, fake: FakeTime) -> None:
    limiter, _ = worker(table, fake)
    limiter.acquire("upload", max_wait_seconds=30.0, catalog_id="c1")
    item = boto3.client("dynamodb").get_item(TableName=table, Key=catalog_uploads_key("c1"))["Item"]
    assert START + 3600 < int(item["ttl"]["N"]) <= START + 2 * 3600
