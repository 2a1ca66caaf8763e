"""The sandbox TikTok's events.js in Chromium: a storefront page on another 127.0.0.1 port installs TikTok's
base code stub (tiktok-api.md "Pixel in the browser"), the script drains the queue, sets `_ttp` and sends
page and track events, with their event_id, to the sandbox's collector."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page

from sandboxes.tiktok import TikTokSandbox
from sandboxes.tiktok_events import Conversion

# TikTok's public base code (the stub), as a page installs it, with the script address pointing at the sandbox.
BASE_CODE = """<script>
!function (w, d, t) {
  w.TiktokAnalyticsObject=t;var ttq=w[t]=w[t]||[];ttq.methods=["page","track","identify","instances","debug",
  "on","off","once","ready","alias","group","enableCookie","disableCookie","holdConsent","revokeConsent",
  "grantConsent"],ttq.setAndDefer=function(t,e){t[e]=function(){t.push([e].concat(Array.prototype.slice.call(
  arguments,0)))}};for(var i=0;i<ttq.methods.length;i++)ttq.setAndDefer(ttq,ttq.methods[i]);ttq.instance=
  function(t){for(var e=ttq._i[t]||[],n=0;n<ttq.methods.length;n++)ttq.setAndDefer(e,ttq.methods[n]);return e},
  ttq.load=function(e,n){var r="__SCRIPT__",o=n&&n.partner;ttq._i=ttq._i||{},ttq._i[e]=[],ttq._i[e]._u=r,
  ttq._t=ttq._t||{},ttq._t[e]=+new Date,ttq._o=ttq._o||{},ttq._o[e]=n||{};n=document.createElement("script");
  n.type="text/javascript",n.async=!0,n.src=r+"?sdkid="+e+"&lib="+t;e=document.getElementsByTagName("script")[0];
  e.parentNode.insertBefore(n,e)};
  ttq._partner = "Ecwid";
  if (location.search.indexOf("nocookie") >= 0) { ttq.disableCookie(); }
  ttq.load('__CODE__');
  ttq.page();
}(window, document, 'ttq');
ttq.identify({email: "__EMAIL__"});
ttq.instance('__CODE__').track('ViewContent', {contents: [{content_id: 'sku-1', quantity: 1, price: 6.25}],
  content_type: 'product', value: 6.25, currency: 'EUR'}, {event_id: 'view-1'});
</script>"""
EMAIL_HASH = hashlib.sha256(b"rita@example.com").hexdigest()


@pytest.fixture
def tiktok() -> Iterator[TikTokSandbox]:
    sandbox = TikTokSandbox()
    sandbox.start()
    yield sandbox
    sandbox.stop()


def _pixel_code(tiktok: TikTokSandbox) -> str:
    store = {"external_business_id": "1003", "business_platform": "ECWID", "store_name": "Rita's Shop"}
    tiktok.authorize("s", "https://app.example/cb", base64.b64encode(json.dumps(store).encode()).decode())
    return tiktok.business_profiles[("ECWID", "1003")].pixel_code


@pytest.fixture
def storefront(tiktok: TikTokSandbox) -> Iterator[tuple[str, str]]:
    """A page on its own 127.0.0.1 port with the base code installed; (its URL, the pixel code)."""
    code = _pixel_code(tiktok)
    html = (
        "<!doctype html><html><head><title>Shop</title>"
        + BASE_CODE.replace("__SCRIPT__", tiktok.pixel_script_url)
        .replace("__CODE__", code)
        .replace("__EMAIL__", EMAIL_HASH)
        + "</head><body><h1>Rita's Shop</h1></body></html>"
    ).encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/checkout", code
    server.shutdown()
    server.server_close()


def _wait_for(page: Page, check: Callable[[], list[Conversion]], count: int, timeout: float = 8.0) -> list[Conversion]:
    # page.wait_for_timeout, not time.sleep: the context's loopback-only route answers requests only while
    # Playwright's sync API has control.
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = check()
        if len(found) >= count:
            return found
        page.wait_for_timeout(100)
    raise AssertionError(f"expected {count} conversions, got {check()}")


def test_the_pixel_sends_queued_and_later_events_with_event_id(
    tiktok: TikTokSandbox, storefront: tuple[str, str], context: BrowserContext, page: Page
) -> None:
    url, code = storefront
    page.goto(url)
    counted = _wait_for(page, lambda: tiktok.conversions(code), 2)
    assert [(c.event, c.event_id) for c in counted] == [("Pageview", ""), ("ViewContent", "view-1")]
    cookies = {c["name"]: c for c in context.cookies(url)}
    ttp = cookies["_ttp"]["value"]
    assert cookies["_ttp"]["domain"] == "127.0.0.1"
    view = counted[1]
    assert view.user["ttp"] == ttp
    assert view.user["email"] == EMAIL_HASH
    assert view.properties["contents"][0]["content_id"] == "sku-1"
    assert view.page["url"] == url
    assert tiktok.received_events(code)[0].partner_name == "Ecwid"

    # Later calls go straight through, with their event_id.
    page.evaluate(
        "code => ttq.instance(code).track('CompletePayment', {value: 12.5, currency: 'EUR'}, {event_id: 'order-7'})",
        code,
    )
    counted = _wait_for(page, lambda: tiktok.conversions(code), 3)
    assert (counted[2].event, counted[2].event_id, counted[2].sources) == ("CompletePayment", "order-7", {"browser"})

    # holdConsent keeps events back until grantConsent; revokeConsent drops them.
    page.evaluate("ttq.holdConsent(); ttq.track('AddToCart', {}, {event_id: 'held-1'})")
    page.wait_for_timeout(500)
    assert len(tiktok.conversions(code)) == 3
    page.evaluate("ttq.grantConsent()")
    assert _wait_for(page, lambda: tiktok.conversions(code), 4)[3].event_id == "held-1"
    page.evaluate("ttq.revokeConsent(); ttq.track('AddToCart', {}, {event_id: 'revoked-1'})")
    page.wait_for_timeout(500)
    assert [e.event_id for e in tiktok.received_events(code)][-1] == "held-1"


def test_disable_cookie_before_load_sets_no_ttp(
    tiktok: TikTokSandbox, storefront: tuple[str, str], context: BrowserContext, page: Page
) -> None:
    url, code = storefront
    page.goto(url + "?nocookie=1")
    counted = _wait_for(page, lambda: tiktok.conversions(code), 2)
    assert "_ttp" not in {c["name"] for c in context.cookies(url)}
    assert all("ttp" not in c.user for c in counted)
    page.evaluate("ttq.enableCookie(); ttq.track('AddToCart', {}, {event_id: 'cart-1'})")
    assert "ttp" in _wait_for(page, lambda: tiktok.conversions(code), 3)[2].user
    assert "_ttp" in {c["name"] for c in context.cookies(url)}
