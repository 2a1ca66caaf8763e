"""Ecwid's Retry-After holds also when it is longer than the Ecwid client's own retry budget (issue 11, case 6):
the worker gives the message back no sooner than Ecwid asked, and no call with that store's token goes out before.

The worker's side runs over the fakes (FakeEcwid holds a token after a 429 as the port says); the client's side
runs the real Ecwid client over httpx's in-memory transport, with a clock the test moves."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from tests.fakes import FakeServices
from tests.fast.steps import (
    STORE_ID,
    connected_store,
    fresh_services,
    next_message,
    signature,
    webhook,
    work_on,
)
from tiktok_channel.adapters.ecwid import EcwidClient
from tiktok_channel.errors import EcwidUnavailable
from tiktok_channel.services.webhooks import receive_webhook

OTHER_STORE = 2004


def rate_limited(retry_after: float) -> EcwidUnavailable:
    """What the Ecwid client raises when Ecwid answers 429 with a Retry-After longer than its budget."""
    return EcwidUnavailable("Ecwid rate limit reached", status=429, retry_after=retry_after)


def product_event(services: FakeServices, product_id: int) -> None:
    body = webhook("product.updated", product_id)
    receive_webhook(services, json.dumps(body), signature(body))


@pytest.fixture
def selling() -> FakeServices:
    """A connected store with two products on TikTok, whose Ecwid token is held after a 429 (the port's rule)."""
    services = fresh_services()
    ecwid = services.ecwid()
    ecwid.add_store(STORE_ID)
    ecwid.add_product(STORE_ID, "Mug", 10)
    ecwid.add_product(STORE_ID, "Cup", 5)
    connected_store(services)
    ecwid.clock = lambda: services.clock()
    return services


# -- the worker --------------------------------------------------------------------------------------------------
def test_a_retry_after_longer_than_the_clients_budget_holds_the_message_and_the_store_until_then(
    selling: FakeServices,
):
    ecwid = selling.ecwid()
    mug, cup = list(ecwid.stores[STORE_ID].products)
    ecwid.update_product(STORE_ID, mug, price=12)
    ecwid.fail("get_product", rate_limited(60.0))
    product_event(selling, mug)
    first = next_message(selling)

    with pytest.raises(EcwidUnavailable):
        work_on(selling, first)

    [(_, wait)] = selling.queue.delays
    assert wait >= 60.0  # not the 30 s backoff of a first failure
    asked_at = selling.now

    # Another event of the same store, handled 20 s later (by this process): no call goes out, and it waits too.
    selling.advance(20)
    product_event(selling, cup)
    second = next_message(selling)
    calls = list(ecwid.calls)

    with pytest.raises(EcwidUnavailable):
        work_on(selling, second)

    assert ecwid.calls == calls
    assert selling.queue.delays[1] == (second.receipt_handle, 40.0)  # what is left of Ecwid's 60 s (over 30 s)

    # Once the time Ecwid asked for has passed, the messages are applied.
    selling.now = asked_at + 60
    assert work_on(selling, first, receive_count=2) == "applied"
    assert work_on(selling, second, receive_count=2) == "applied"
    assert ecwid.calls[len(calls) :] == ["get_product", "get_product"]
    [mug_on_tiktok] = [p for sku, p in selling.tiktok().catalog_of(str(STORE_ID)).products.items() if sku == str(mug)]
    assert mug_on_tiktok.fields["price_info"]["price"] == 12


@pytest.mark.parametrize(
    ("retry_after", "receive_count", "wait"),
    [(60.0, 1, 60.0), (59.2, 1, 60.0), (200.0, 3, 200.0), (10.0, 1, 30.0), (100.0, 3, 120.0), (5000.0, 1, 900.0)],
    ids=["longer", "whole seconds up", "longer than a later backoff", "shorter", "shorter than a later backoff", "cap"],
)
def test_the_wait_is_ecwids_retry_after_or_the_backoff_whichever_is_longer(
    selling: FakeServices, retry_after: float, receive_count: int, wait: float
):
    mug = next(iter(selling.ecwid().stores[STORE_ID].products))
    selling.ecwid().fail("get_product", rate_limited(retry_after))
    product_event(selling, mug)
    message = next_message(selling)

    with pytest.raises(EcwidUnavailable):
        work_on(selling, message, receive_count=receive_count)

    assert selling.queue.delays == [(message.receipt_handle, wait)]


# -- the Ecwid client ---------------------------------------------------------------------------------------------
class _Ecwid:
    """Ecwid's REST API in memory: answers each product read from a script of (status, Retry-After) and records
    (store id, time) of every request that reached it."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.script: list[tuple[int, str | None]] = []
        self.requests: list[tuple[int, float]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        store_id = int(request.url.path.split("/")[3])
        self.requests.append((store_id, self.clock()))
        status, retry_after = self.script.pop(0) if self.script else (200, None)
        if status == 429:
            headers = {"Retry-After": retry_after} if retry_after is not None else {}
            body = {"errorMessage": "Too many requests. Retry later.", "errorCode": "RATE_LIMITED"}
            return httpx.Response(429, json=body, headers=headers)
        return httpx.Response(200, json={"id": int(request.url.path.split("/")[-1]), "name": "Mug", "price": 10})


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> _Clock:
    return _Clock()


@pytest.fixture
def ecwid(clock: _Clock) -> _Ecwid:
    return _Ecwid(clock)


@pytest.fixture
def client(ecwid: _Ecwid, clock: _Clock) -> EcwidClient:
    http = httpx.Client(transport=httpx.MockTransport(ecwid))
    return EcwidClient(
        http,
        api_url="https://ecwid.test/api/v3",
        oauth_url="https://ecwid.test/oauth",
        sleep=clock.sleep,
        monotonic=clock,
    )


def test_the_client_sends_nothing_with_a_token_before_ecwids_retry_after_has_passed(
    client: EcwidClient, ecwid: _Ecwid, clock: _Clock
):
    ecwid.script = [(429, "60")]

    with pytest.raises(EcwidUnavailable) as refused:
        client.get_product(STORE_ID, "token-a", 7)
    assert refused.value.retry_after == 60.0  # longer than the 20 s budget: given back at once, not slept
    assert clock.slept == []

    clock.now += 30
    with pytest.raises(EcwidUnavailable) as held:
        client.get_product(STORE_ID, "token-a", 8)
    assert held.value.retry_after == pytest.approx(30.0)
    assert clock.slept == []
    assert client.get_product(OTHER_STORE, "token-b", 9) is not None  # another store's token is not held

    # The last 15 s fit the budget: the client waits them out, then asks.
    clock.now += 15
    assert client.get_product(STORE_ID, "token-a", 8) is not None
    assert clock.slept == [15.0]
    store_requests = [at for store_id, at in ecwid.requests if store_id == STORE_ID]
    assert store_requests == [1_000.0, 1_060.0]


def test_the_client_honours_a_retry_after_longer_than_a_minute(client: EcwidClient, ecwid: _Ecwid, clock: _Clock):
    ecwid.script = [(429, "120")]

    with pytest.raises(EcwidUnavailable) as refused:
        client.get_product(STORE_ID, "token-a", 7)

    assert refused.value.retry_after == 120.0
    clock.now += 90
    with pytest.raises(EcwidUnavailable) as held:
        client.get_product(STORE_ID, "token-a", 7)
    assert held.value.retry_after == pytest.approx(30.0)
    assert len(ecwid.requests) == 1


def test_a_short_retry_after_is_waited_out_within_the_call(client: EcwidClient, ecwid: _Ecwid, clock: _Clock):
    ecwid.script = [(429, "5")]

    assert client.get_product(STORE_ID, "token-a", 7) is not None

    assert clock.slept == [5.0]
    assert [at for _, at in ecwid.requests] == [1_000.0, 1_005.0]
