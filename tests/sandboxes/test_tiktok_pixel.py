"""The sandbox TikTok pixel's collector and script (tiktok-api.md "Pixel in the browser"), and deduplication
between browser and server events ("Events API (server-side conversions)")."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from sandboxes.tiktok import TikTokSandbox
from tests.sandboxes.test_tiktok_events import EMAIL_HASH, HOUR, Shop
from tests.sandboxes.test_tiktok_events import shop as shop  # the module's fixtures
from tests.sandboxes.test_tiktok_sandbox import client as client  # the module's fixtures
from tests.sandboxes.test_tiktok_sandbox import ok
from tests.sandboxes.test_tiktok_sandbox import tiktok as tiktok

TTP = "AbCdEfGhIjKlMnOpQrStUvWxYz0"


def beacon(client: httpx.Client, pixel_code: str, **overrides: Any) -> dict[str, Any]:
    """What the sandbox pixel sends: a text/plain JSON body, as navigator.sendBeacon does."""
    body: dict[str, Any] = {
        "pixel_code": pixel_code,
        "event": "CompletePayment",
        "event_id": "order-1",
        "properties": {"contents": [{"content_id": "sku-1", "quantity": 2, "price": 6.25}], "value": 12.5},
        "timestamp": "2026-11-30T12:00:00.000Z",
        "partner": "Ecwid",
        "context": {
            "page": {"url": "https://rita.example/checkout", "referrer": ""},
            "user": {"ttp": TTP},
            "user_agent": "Mozilla/5.0 (sandbox)",
            "library": {"name": "ttq", "version": "sandbox"},
        },
    }
    body.update(overrides)
    response = client.post(
        "/api/v2/pixel", content=json.dumps(body), headers={"Content-Type": "text/plain;charset=UTF-8"}
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    answer: dict[str, Any] = response.json()
    return answer


def test_events_js_is_served_for_any_code(tiktok: TikTokSandbox, client: httpx.Client) -> None:
    assert tiktok.pixel_script_url == f"{tiktok.base_url}/i18n/pixel/events.js"
    for code in ("CSOMEPIXEL0000000000", "CUNKNOWN"):
        response = client.get("/i18n/pixel/events.js", params={"sdkid": code, "lib": "ttq"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/javascript")
        assert json.dumps(code) in response.text
        assert json.dumps(tiktok.pixel_collector_url) in response.text
        assert "http" not in response.text.replace(tiktok.base_url, "")  # nothing beyond the sandbox
    assert tiktok.received_events() == []


def test_the_collector_records_and_counts_a_browser_event(tiktok: TikTokSandbox, shop: Shop) -> None:
    assert beacon(shop.client, shop.pixel_code) == {"code": 0, "message": "OK"}
    [received] = tiktok.received_events(source="browser")
    assert (received.pixel_code, received.status, received.event_id) == (shop.pixel_code, "counted", "order-1")
    assert received.event_time == received.received_at
    assert received.partner_name == "Ecwid"
    [conversion] = tiktok.conversions(shop.pixel_code)
    assert conversion.sources == {"browser"}
    assert conversion.user == {"ttp": TTP, "user_agent": "Mozilla/5.0 (sandbox)"}
    assert conversion.page["url"] == "https://rita.example/checkout"
    assert tiktok.events == []  # the Events API's own list


def test_an_unknown_pixel_or_a_bad_body_is_recorded_refused(tiktok: TikTokSandbox, client: httpx.Client) -> None:
    assert beacon(client, "CUNKNOWN000000000000")["code"] == 40002
    response = client.post("/api/v2/pixel", content=b"not json", headers={"Content-Type": "text/plain"})
    assert response.json()["code"] == 40002
    assert [(e.pixel_code, e.status) for e in tiktok.received_events()] == [
        ("CUNKNOWN000000000000", "refused"),
        ("", "refused"),
    ]
    assert "unknown pixel" in tiktok.received_events()[0].reason
    assert tiktok.conversions() == []


def test_raw_identify_keys_are_refused_unless_the_option_allows(tiktok: TikTokSandbox, shop: Shop) -> None:
    context = {"page": {"url": "https://rita.example/"}, "user": {"email": "rita@example.com"}}
    answer = beacon(shop.client, shop.pixel_code, context=context)
    assert answer["code"] == 40002
    assert answer["message"].startswith("context.user.email:")
    hashed = {"page": {"url": "https://rita.example/"}, "user": {"email": EMAIL_HASH, "phone_number": EMAIL_HASH}}
    assert beacon(shop.client, shop.pixel_code, event_id="order-2", context=hashed)["code"] == 0
    assert tiktok.conversions()[0].user["phone"] == EMAIL_HASH  # identify's phone_number is the API's phone
    tiktok.pixel_refuses_raw_identify = False
    assert beacon(shop.client, shop.pixel_code, event_id="order-3", context=context)["code"] == 0
    assert [e.status for e in tiktok.received_events()] == ["refused", "counted", "counted"]


# -- deduplication between browser and server -------------------------------------------------------------
def test_browser_then_server_within_5_minutes_merge(tiktok: TikTokSandbox, shop: Shop) -> None:
    ok_answer = beacon(shop.client, shop.pixel_code)
    assert ok_answer["code"] == 0
    tiktok.clock.advance(299)
    ok(shop.track(shop.event()))
    [conversion] = tiktok.conversions(shop.pixel_code)
    assert conversion.sources == {"browser", "server"}
    assert conversion.user["ttp"] == TTP  # the first kept ...
    assert conversion.user["user_agent"] == "Mozilla/5.0 (sandbox)"
    assert conversion.user["email"] == EMAIL_HASH  # ... enriched with the other's match keys
    assert conversion.user["ip"] == "203.0.113.9"
    assert [(e.source, e.status) for e in tiktok.received_events()] == [("browser", "counted"), ("server", "merged")]


def test_server_then_browser_after_5_minutes_is_dropped(tiktok: TikTokSandbox, shop: Shop) -> None:
    ok(shop.track(shop.event()))
    tiktok.clock.advance(301)
    beacon(shop.client, shop.pixel_code)
    [conversion] = tiktok.conversions(shop.pixel_code)
    assert conversion.sources == {"server"}
    assert "ttp" not in conversion.user
    assert [e.status for e in tiktok.received_events()] == ["counted", "duplicate"]


def test_pixel_repeats_within_48_hours_are_dropped_then_count_again(tiktok: TikTokSandbox, shop: Shop) -> None:
    beacon(shop.client, shop.pixel_code)
    tiktok.clock.advance(60)
    beacon(shop.client, shop.pixel_code)  # a reload of the order page
    tiktok.clock.advance(47 * HOUR)
    beacon(shop.client, shop.pixel_code)
    assert len(tiktok.conversions()) == 1
    tiktok.clock.advance(HOUR)  # 48 h after the first
    beacon(shop.client, shop.pixel_code)
    ok(shop.track(shop.event()))  # within 5 minutes of the new one: merged into it
    conversions = tiktok.conversions()
    assert [c.sources for c in conversions] == [{"browser"}, {"browser", "server"}]
    statuses = [e.status for e in tiktok.received_events()]
    assert statuses == ["counted", "duplicate", "duplicate", "counted", "merged"]


def test_different_events_or_ids_do_not_deduplicate(tiktok: TikTokSandbox, shop: Shop) -> None:
    beacon(shop.client, shop.pixel_code, event="Pageview", event_id="")
    beacon(shop.client, shop.pixel_code, event="Pageview", event_id="")
    beacon(shop.client, shop.pixel_code, event="AddToCart")
    beacon(shop.client, shop.pixel_code)
    assert [c.event for c in tiktok.conversions()] == ["Pageview", "Pageview", "AddToCart", "CompletePayment"]


def test_control_routes_show_browser_events(tiktok: TikTokSandbox, shop: Shop, client: httpx.Client) -> None:
    beacon(client, shop.pixel_code)
    ok(shop.track(shop.event()))
    events = client.get("/_sandbox/events", params={"pixel_code": shop.pixel_code}).json()["events"]
    assert [e["source"] for e in events] == ["browser", "server"]
    browser_only = client.get("/_sandbox/events", params={"source": "browser"}).json()["events"]
    assert len(browser_only) == 1
    counted = client.get("/_sandbox/conversions", params={"pixel_code": shop.pixel_code}).json()["conversions"]
    assert counted[0]["sources"] == ["browser", "server"]


@pytest.mark.parametrize("content_type", ["text/plain;charset=UTF-8", "application/json"])
def test_the_collector_takes_any_content_type(tiktok: TikTokSandbox, shop: Shop, content_type: str) -> None:
    body = json.dumps({"pixel_code": shop.pixel_code, "event": "Pageview"})
    response = shop.client.post("/api/v2/pixel", content=body, headers={"Content-Type": content_type})
    assert response.json()["code"] == 0
    assert [c.event for c in tiktok.conversions()] == ["Pageview"]
