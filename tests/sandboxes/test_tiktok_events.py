"""The sandbox TikTok's Events API (tiktok-api.md "Events API"): strict checks, 1,000 events per request,
deduplication on the sandbox clock, and what it counts."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest

from sandboxes.common import FaultRule
from sandboxes.tiktok import TikTokSandbox
from sandboxes.tiktok_limits import RateLimit
from tests.sandboxes.test_tiktok_sandbox import call, connect, ok, profile
from tests.sandboxes.test_tiktok_sandbox import client as client  # the module's fixtures
from tests.sandboxes.test_tiktok_sandbox import tiktok as tiktok

HOUR = 3600.0
EMAIL_HASH = hashlib.sha256(b"rita@example.com").hexdigest()
PHONE_HASH = hashlib.sha256(b"+33100000000").hexdigest()


class Shop:
    """A connected store and its pixel."""

    def __init__(self, tiktok: TikTokSandbox, client: httpx.Client, external_business_id: str = "1003") -> None:
        self.tiktok, self.client = tiktok, client
        self.token = connect(tiktok, client, external_business_id=external_business_id)
        self.pixel_code = str(profile(client, self.token, external_business_id)["pixel_code"])

    def event(self, **overrides: Any) -> dict[str, Any]:
        item: dict[str, Any] = {
            "event": "CompletePayment",
            "event_time": int(self.tiktok.clock.now()),
            "event_id": "order-1",
            "user": {"email": EMAIL_HASH, "ip": "203.0.113.9", "user_agent": "Mozilla/5.0"},
            "properties": {
                "contents": [{"content_id": "sku-1", "content_name": "Mug", "quantity": 2, "price": 6.25}],
                "content_type": "product",
                "currency": "EUR",
                "value": 12.5,
            },
            "page": {"url": "https://rita.example/checkout", "referrer": "https://rita.example/cart"},
        }
        item.update(overrides)
        return item

    def track(self, *events: dict[str, Any], token: str | None = None, **body: Any) -> dict[str, Any]:
        payload = {"event_source": "web", "event_source_id": self.pixel_code, "data": list(events), **body}
        return call(self.client, "POST", "/event/track/", token or self.token, json=payload)


@pytest.fixture
def shop(tiktok: TikTokSandbox, client: httpx.Client) -> Shop:
    return Shop(tiktok, client)


def test_a_valid_event_is_counted_and_recorded_raw(tiktok: TikTokSandbox, shop: Shop) -> None:
    event = shop.event()
    assert ok(shop.track(event, partner_name="Ecwid", test_event_code="TEST1")) == {}
    [received] = tiktok.received_events(shop.pixel_code)
    assert (received.source, received.status, received.payload) == ("server", "counted", event)
    assert (received.partner_name, received.test_event_code) == ("Ecwid", "TEST1")
    [conversion] = tiktok.conversions(shop.pixel_code)
    assert (conversion.event, conversion.event_id, conversion.sources) == ("CompletePayment", "order-1", {"server"})
    assert conversion.user["email"] == EMAIL_HASH
    assert conversion.properties["value"] == 12.5
    assert tiktok.events[0].event["event_id"] == "order-1"  # the older accessor still works


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"user": {"email": "rita@example.com"}}, "data[0].user.email"),
        ({"user": {"email": "RITA@EXAMPLE.COM"}}, "data[0].user.email"),
        ({"user": {"phone": "+33100000000"}}, "data[0].user.phone"),
        ({"user": {"email": [EMAIL_HASH, "rita@example.com"]}}, "data[0].user.email"),
        ({"user": {"external_id": 42}}, "data[0].user.external_id"),
        ({"user": {"email": EMAIL_HASH.upper()}}, "data[0].user.email"),
        ({"user": {"ip": "300.1.1.1"}}, "data[0].user.ip"),
        ({"properties": {"currency": "XXX", "value": 1}}, "data[0].properties.currency"),
        ({"properties": {"currency": "EUR", "value": "12.50"}}, "data[0].properties.value"),
        ({"properties": {"contents": [{"content_id": "a", "price": "€6"}]}}, "data[0].properties.contents[0].price"),
        (
            {"properties": {"contents": [{"content_id": "a", "quantity": 1.5}]}},
            "data[0].properties.contents[0].quantity",
        ),
        ({"properties": {"contents": [{"content_id": 7}]}}, "data[0].properties.contents[0].content_id"),
        ({"properties": {"content_type": "sku"}}, "data[0].properties.content_type"),
        ({"page": {}}, "data[0].page.url"),
        ({"page": None}, "data[0].page"),
        ({"event": ""}, "data[0].event"),
        ({"event_time": "1700000000"}, "data[0].event_time"),
        ({"event_time": 1700000000.5}, "data[0].event_time"),
        ({"event_id": 12}, "data[0].event_id"),
    ],
)
def test_a_bad_field_refuses_the_request_naming_it(
    tiktok: TikTokSandbox, shop: Shop, change: dict[str, Any], field: str
) -> None:
    event = {k: v for k, v in shop.event(**change).items() if v is not None}
    answer = shop.track(event)
    assert answer["code"] == 40002
    assert answer["message"].startswith(field + ":"), answer["message"]
    assert tiktok.conversions() == []
    assert [e.status for e in tiktok.received_events()] == ["refused"]


def test_event_time_older_than_the_setting_or_in_the_future_is_refused(tiktok: TikTokSandbox, shop: Shop) -> None:
    now = int(tiktok.clock.now())
    assert shop.track(shop.event(event_time=now - 8 * 86_400))["code"] == 40002
    assert shop.track(shop.event(event_time=now + 3600))["code"] == 40002
    assert shop.track(shop.event(event_time=now + 30))["code"] == 0  # a small clock skew is fine
    tiktok.max_event_age_seconds = 30 * 86_400.0
    assert shop.track(shop.event(event_time=now - 8 * 86_400, event_id="order-2"))["code"] == 0


def test_one_bad_event_fails_the_whole_request_by_default(tiktok: TikTokSandbox, shop: Shop) -> None:
    answer = shop.track(shop.event(event_id="a"), shop.event(event_id="b", user={"phone": "0601020304"}))
    assert answer["code"] == 40002
    assert answer["message"].startswith("data[1].user.phone:")
    assert tiktok.conversions() == []
    statuses = [(e.event_id, e.status) for e in tiktok.received_events()]
    assert statuses == [("a", "refused"), ("b", "refused")]


def test_bad_events_can_be_reported_per_event_instead(tiktok: TikTokSandbox, shop: Shop) -> None:
    tiktok.bad_event_fails_request = False
    answer = ok(shop.track(shop.event(event_id="a"), shop.event(event_id="b", user={"email": "x@y.z"})))
    [failed] = answer["failed_events"]
    assert (failed["index"], failed["code"]) == (1, 40002)
    assert failed["message"].startswith("data[1].user.email:")
    assert [c.event_id for c in tiktok.conversions()] == ["a"]
    all_bad = shop.track(shop.event(event_id="c", user={"email": "x@y.z"}))
    assert all_bad["code"] == 40002


def test_more_than_1000_events_refuse_the_whole_request(tiktok: TikTokSandbox, shop: Shop) -> None:
    events = [shop.event(event_id=f"e{n}") for n in range(1001)]
    answer = shop.track(*events)
    assert answer["code"] == 40002
    assert answer["message"].startswith("data:")
    assert tiktok.conversions() == []
    assert ok(shop.track(*events[:1000])) == {}
    assert len(tiktok.conversions()) == 1000


def test_the_pixel_must_belong_to_the_tokens_advertisers(
    tiktok: TikTokSandbox, shop: Shop, client: httpx.Client
) -> None:
    other = Shop(tiktok, client, external_business_id="2000")
    assert shop.track(shop.event(), token=other.token)["code"] == 40001
    unknown = call(
        client,
        "POST",
        "/event/track/",
        shop.token,
        json={"event_source": "web", "event_source_id": "CUNKNOWN000000000000", "data": [shop.event()]},
    )
    assert unknown["code"] == 40001
    assert "event_source_id" in unknown["message"]
    assert shop.track(shop.event(), event_source="app")["code"] == 40002
    assert tiktok.received_events() == []


def test_token_problems_answer_the_envelope_codes(tiktok: TikTokSandbox, shop: Shop) -> None:
    assert shop.track(shop.event(), token="not-a-token")["code"] == 40105
    tiktok.revoke(shop.token)
    assert shop.track(shop.event())["code"] == 40105


def test_rate_limit_and_faults_apply_to_event_track(tiktok: TikTokSandbox, shop: Shop) -> None:
    tiktok.rate_limits["event"] = RateLimit(qps=2, per_minute=1000)
    codes = [shop.track(shop.event(event_id=f"r{n}"))["code"] for n in range(3)]
    assert codes == [0, 0, 40100]
    tiktok.clock.advance(1.01)
    tiktok.faults.add(FaultRule("http_5xx", path_prefix="/open_api/v1.3/event/track/", count=1))
    answer = shop.client.post(
        "/open_api/v1.3/event/track/",
        headers={"Access-Token": shop.token},
        json={"event_source": "web", "event_source_id": shop.pixel_code, "data": [shop.event()]},
    )
    assert answer.status_code == 503
    tiktok.faults.add(FaultRule("rate_limit", path_prefix="/open_api/v1.3/event/track/", count=1))
    assert shop.track(shop.event(event_id="r9"))["code"] == 40100
    assert ok(shop.track(shop.event(event_id="r9"))) == {}


# -- deduplication ---------------------------------------------------------------------------------------
def test_api_repeats_within_48_hours_are_dropped_then_count_again(tiktok: TikTokSandbox, shop: Shop) -> None:
    ok(shop.track(shop.event()))
    tiktok.clock.advance(47 * HOUR)
    ok(shop.track(shop.event()))
    assert len(tiktok.conversions()) == 1
    assert [e.status for e in tiktok.received_events()] == ["counted", "duplicate"]
    tiktok.clock.advance(1 * HOUR + 1)  # 48 h after the first
    ok(shop.track(shop.event()))
    assert len(tiktok.conversions()) == 2


def test_the_key_is_pixel_event_and_event_id(tiktok: TikTokSandbox, shop: Shop) -> None:
    ok(shop.track(shop.event(), shop.event(event="AddToCart"), shop.event(event_id="order-2")))
    assert len(tiktok.conversions()) == 3
    ok(shop.track(shop.event(event_id=None), shop.event(event_id=None)))  # no event_id: never deduplicated
    assert len(tiktok.conversions(shop.pixel_code)) == 5


def test_control_routes_list_received_and_counted(tiktok: TikTokSandbox, shop: Shop, client: httpx.Client) -> None:
    ok(shop.track(shop.event(), shop.event()))
    received = client.get("/_sandbox/events", params={"pixel_code": shop.pixel_code}).json()["events"]
    assert [(e["source"], e["status"]) for e in received] == [("server", "counted"), ("server", "duplicate")]
    assert client.get("/_sandbox/events", params={"pixel_code": "Cother"}).json()["events"] == []
    counted = client.get("/_sandbox/conversions", params={"pixel_code": shop.pixel_code}).json()["conversions"]
    assert [(c["event_id"], c["sources"]) for c in counted] == [("order-1", ["server"])]
