"""A merchant's afternoon on the TikTok page, in Chromium, against `make run`: open it from the Ecwid admin
stand-in, connect through the sandbox TikTok, watch the first sync, read why products were rejected or not
uploaded, fix them in the sandbox Ecwid, sync again, apply for the storefront and disconnect."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Page, Request, Route, expect

from tests.browser.conftest import Shots
from tests.local_run import LocalRun

STORE = 1003
REPLICA = "Replica Designer Watch"
FIXED_TITLE = "Designer Watch"
SMALL_IMAGE = "Enamel Camping Mug"


def _count(page: Page, status: str) -> int:
    return int(page.locator(f"#count-{status}").inner_text())


def _wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _unlabelled_controls(page: Page) -> list[str]:
    """Visible form controls without an accessible name (label, aria-label or aria-labelledby)."""
    return list(
        page.evaluate(
            """() => Array.from(document.querySelectorAll('input, select, textarea, button'))
                .filter((el) => el.offsetParent !== null && el.type !== 'hidden')
                .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                    && !el.getAttribute('aria-labelledby') && !(el.tagName === 'BUTTON' && el.innerText.trim()))
                .map((el) => el.outerHTML.slice(0, 120))"""
        )
    )


def _open_list(page: Page, label: str) -> None:
    page.get_by_role("button", name=re.compile(label)).click()
    expect(page.locator("#list")).to_be_visible()


def _sync_products(page: Page) -> None:
    # The click clears the last message at once; "Sync started" may be replaced by "Sync finished" before
    # anyone could read it, when the demo store's sync is that quick.
    page.get_by_role("button", name="Sync Products").click()
    expect(page.locator("#sync-message")).to_contain_text("Sync finished", timeout=60_000)


@pytest.mark.timeout(300)
def test_a_merchant_walks_the_tiktok_page(running: LocalRun, page: Page, shots: Shots):
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # Failed requests are logged too (Ecwid's CDN is blocked on purpose, a 400 answers a wrong form):
        # what counts is a script error or a request the page's Content-Security-Policy refused.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    control = httpx.Client(timeout=30)
    # A product TikTok's review rejects, uploaded with the first sync.
    added = control.post(f"{running.ecwid}/_sandbox/stores/{STORE}/products", json={"name": REPLICA, "price": 120})
    assert added.status_code == 200, added.text

    # 1. The Ecwid admin (stand-in) opens the page with its payload; the payload leaves the address bar at once.
    page.goto(running.open_url)
    expect(page.get_by_role("heading", name="Your store")).to_be_visible()
    assert page.url == f"{running.gateway}/app"
    assert page.evaluate("JSON.stringify(localStorage) + JSON.stringify(sessionStorage)") == "{}{}"
    expect(page.locator("#el-country")).to_have_text("United States (US)")
    expect(page.locator("#el-currency")).to_have_text("USD")
    expect(page.locator("#el-shopping")).to_have_text("Available")
    expect(page.get_by_label("Phone number for TikTok Business Tools")).to_be_visible()
    assert _unlabelled_controls(page) == []
    shots(page, "opened-from-ecwid-admin")

    # 2. Connect: a missing number is explained at the field; Enter in the field submits.
    page.get_by_role("button", name="+ Connect TikTok Account").click()
    phone = page.get_by_label("Phone number for TikTok Business Tools")
    expect(page.locator("#phone-error")).to_contain_text("Enter your mobile phone number")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(phone).to_be_focused()
    phone.fill("+1 415 555 0123")
    phone.press("Enter")
    page.wait_for_url(re.compile(re.escape(running.tiktok) + r"/portal/auth"))  # the whole window, not a frame
    expect(page.get_by_role("heading", name=re.compile("Connect Awesome store"))).to_be_visible()
    shots(page, "tiktok-authorize-page")
    page.get_by_role("button", name="Connect", exact=True).click()

    # 3. TikTok's callback brings the merchant back to the page, connected; the first sync runs and finishes.
    page.wait_for_url(f"{running.gateway}/app")
    expect(page.get_by_role("heading", name="TikTok For Business")).to_be_visible()
    expect(page.locator("#bc-link")).to_have_attribute("href", re.compile(r"^https://business\.tiktok\.com/"))
    expect(page.locator("#catalog")).to_contain_text("in USD")
    expect(page.locator("#connect")).to_be_hidden()
    shots(page, "connected-first-sync")
    expect(page.locator("#sync-last")).not_to_have_text("Not yet", timeout=60_000)
    expect(page.locator("#sync-progress")).to_be_hidden()
    expect(page.locator("#sync-result")).to_contain_text("uploaded")
    assert _count(page, "pending") > 0
    assert _count(page, "held_back") >= 2
    shots(page, "first-sync-finished")

    # 4. TikTok reviews; Sync Products reads the outcome: a rejected and a held-back product, with reasons.
    assert control.post(f"{running.tiktok}/_sandbox/tiktok/review_now").status_code < 300
    _sync_products(page)
    expect(page.locator("#count-rejected")).to_have_text("1")
    assert _count(page, "listed") > 0
    _open_list(page, "Rejected")
    expect(page.locator("#list-title")).to_be_focused()
    rejected = page.locator("#list-items li", has_text=REPLICA)
    expect(rejected).to_contain_text("Reason: Prohibited product")
    expect(rejected).to_contain_text("What to do: Remove counterfeit or replica items")
    shots(page, "rejected-with-reason")
    _open_list(page, "Not uploaded")
    held = page.locator("#list-items li", has_text=SMALL_IMAGE)
    expect(held).to_contain_text("500")
    expect(held).to_contain_text("What to do: Fix the product in your Ecwid admin")
    shots(page, "not-uploaded-with-reason")
    held_back_before = _count(page, "held_back")

    # 5. The merchant fixes both products in the (sandbox) Ecwid admin.
    admin = page.context.new_page()
    admin.goto(f"{running.ecwid}/_sandbox/stores/{STORE}/admin")
    for name, field, value in ((SMALL_IMAGE, "image", "1000x1000 jpg"), (REPLICA, "name", FIXED_TITLE)):
        form_id = admin.locator(f'input[name="name"][value="{name}"]').get_attribute("form")
        admin.locator(f'input[form="{form_id}"][name="{field}"]').fill(value)
        with admin.expect_navigation():  # the admin page posts the form and comes back
            admin.locator(f"#{form_id} button").click()
    expect(admin.locator(f'input[name="name"][value="{FIXED_TITLE}"]')).to_have_count(1)
    shots(admin, "fixed-in-ecwid")
    admin.close()

    # Back on the TikTok page (opened again from the admin): the edits reached TikTok and wait for its review.
    def both_pending() -> bool:
        page.goto(running.open_url)
        expect(page.get_by_role("heading", name="Products on TikTok")).to_be_visible()
        if _count(page, "rejected") != 0 or _count(page, "held_back") != held_back_before - 1:
            return False
        _open_list(page, "Pending review")
        items = page.locator("#list-items").inner_text()
        return SMALL_IMAGE in items and FIXED_TITLE in items

    _wait_until(both_pending, 90, "the fixed products to be pending review")
    shots(page, "fixed-products-pending-review")

    # 6. TikTok approves them; Sync Products shows them listed.
    assert control.post(f"{running.tiktok}/_sandbox/tiktok/review_now").status_code < 300
    _sync_products(page)
    _open_list(page, "Listed")
    expect(page.locator("#list-items")).to_contain_text(SMALL_IMAGE)
    expect(page.locator("#list-items")).to_contain_text(FIXED_TITLE)
    expect(page.locator("#count-rejected")).to_have_text("0")
    shots(page, "fixed-products-listed")

    # 7. Apply for TikTok Storefront: mistakes are named at their fields, then the application goes through.
    page.get_by_role("button", name="Apply for TikTok Storefront").click()
    expect(page.get_by_role("heading", name="Apply for TikTok Storefront")).to_be_focused()
    assert _unlabelled_controls(page) == []
    page.get_by_role("button", name="Submit application").click()
    expect(page.locator("#sf-message")).to_contain_text("Check these fields: Legal business name, Contact name")
    expect(page.get_by_label("Legal business name")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Legal business name")).to_be_focused()
    shots(page, "storefront-form-errors")
    page.get_by_label("Legal business name").fill("Awesome Goods LLC")
    page.get_by_label("Contact name").fill("Alex Doe")
    page.get_by_label("Contact e-mail").fill("owner@example.com")
    page.get_by_label("Business phone").fill("+14155550123")
    page.get_by_label("Street and number").fill("1 W 3rd St")
    page.get_by_label("City").fill("New York")
    page.get_by_label("State, county or region").fill("NY")
    page.get_by_label("Postal code").fill("10002")
    page.get_by_label("Country").select_option("US")
    page.get_by_label("Store URL").fill("https://example.com")
    page.get_by_label("Home and kitchen").check()
    page.get_by_label("Apparel and accessories").check()
    page.get_by_label("Approximate monthly orders").fill("50-200")
    page.get_by_label("I agree to TikTok’s commerce policies").check()
    page.get_by_role("button", name="Submit application").click()
    expect(page.locator("#sf-state")).to_contain_text("Application submitted")
    expect(page.locator("#sf-message")).to_contain_text("Application submitted")
    expect(page.locator("#sf-form")).to_be_hidden()
    expect(page.get_by_role("button", name="Apply for TikTok Storefront")).to_be_hidden()
    shots(page, "storefront-applied")

    # 8. Disconnect, after a confirmation; the page offers to connect again.
    page.get_by_role("button", name="Disconnect", exact=True).click()
    dialog = page.get_by_role("dialog", name="Disconnect TikTok?")
    expect(dialog).to_be_visible()
    expect(page.get_by_role("button", name="Cancel").last).to_be_focused()
    expect(dialog).to_contain_text("your products are removed from your TikTok catalog")
    expect(page.locator("#disconnect-dialog-storefront")).to_be_visible()  # the store applied just before
    expect(dialog).to_contain_text("Your TikTok Shopping storefront application is deleted from the app")
    shots(page, "disconnect-confirmation")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Disconnect", exact=True)).to_be_focused()
    page.get_by_role("button", name="Disconnect", exact=True).click()
    dialog.get_by_role("button", name="Yes, disconnect").click()
    expect(page.locator("#info")).to_contain_text("TikTok is disconnected from your store")
    expect(page.get_by_role("button", name="+ Connect TikTok Account")).to_be_visible()
    expect(page.locator("#products")).to_be_hidden()
    shots(page, "disconnected")

    # 9. A payload that is not genuine gets a plain page that says what to do.
    page.goto(f"{running.gateway}/app?payload=bm90LWEtcGF5bG9hZA")
    expect(page.get_by_role("heading", name="We could not confirm it is you")).to_be_visible()
    expect(page.locator("body")).to_contain_text("Open the TikTok page again from your Ecwid admin")
    shots(page, "bad-payload")

    assert problems == []


def test_an_expired_session_is_renewed_without_losing_what_was_typed(running: LocalRun, page: Page, shots: Shots):
    sessions: list[str] = []
    page.on("request", lambda request: sessions.append(request.url) if request.url.endswith("/api/session") else None)
    page.goto(running.open_url)
    phone = page.get_by_label("Phone number for TikTok Business Tools")
    expect(phone).to_be_visible()
    assert len(sessions) == 1
    phone.fill("+14155550123")

    connects: list[Request] = []

    def expire_once(route: Route) -> None:
        connects.append(route.request)
        if len(connects) == 1:  # the session ran out while the merchant was typing
            error = {"code": "session_invalid", "message": "Your session has expired."}
            route.fulfill(status=401, json={"error": error})
        else:
            route.continue_()

    page.route(f"**/api/stores/{STORE}/connect", expire_once)
    page.get_by_role("button", name=re.compile("Connect TikTok Account|Reconnect")).click()
    page.wait_for_url(re.compile(re.escape(running.tiktok) + r"/portal/auth"))
    assert len(sessions) == 2  # renewed with the payload kept in memory
    assert len(connects) == 2
    assert connects[1].post_data_json == {"phone": "+14155550123"}
    assert connects[1].headers["authorization"].startswith("Bearer ")
    shots(page, "renewed-session-reached-tiktok")


def _status(
    status: str, notice: dict[str, str] | None = None, country: str = "US", currency: str = "USD"
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "store_id": STORE,
        "status": status,
        "eligibility": {
            "country": country,
            "currency": currency,
            "catalog_allowed": country != "BR",
            "shopping_allowed": country in ("US", "GB"),
        },
        "products": {"listed": 7, "pending": 0, "rejected": 1, "held_back": 2},
        "sync": {
            "state": "idle",
            "done": 12,
            "total": 12,
            "last_finished_at": "2026-05-01T06:00:00+00:00",
            "last_result": notice["message"] if notice else "0 uploaded",
            "next_at": None,
        },
        "storefront": {"state": "not_applied"},
    }
    if country == "BR":
        body["eligibility"]["reason"] = "TikTok catalogs are not available for stores in Brazil."
    if status != "installed":
        body["tiktok"] = {
            "business_center_url": "https://business.tiktok.com/manage/overview?org_id=1",
            "catalog_id": "7001",
            "catalog_currency": "USD",
            "pixel_code": "PIXEL",
        }
    if notice:
        body["notice"] = notice
    return body


FROZEN = {"code": "catalog_frozen", "message": "Your store currency changed to EUR, but your TikTok catalog is in USD."}
LOST = {"code": "ecwid_access_lost", "message": "The app lost access to your Ecwid store. Reinstall the app."}
REVOKED = {"code": "reconnect_needed", "message": "TikTok no longer accepts this app's access. Press Reconnect."}


@pytest.mark.parametrize(
    ("name", "status", "expected"),
    [
        ("catalog-frozen", _status("connected", FROZEN), "Your TikTok catalog is frozen"),
        ("ecwid-access-lost", _status("ecwid_access_lost", LOST), "The app lost access to your Ecwid store"),
        ("reconnect-needed", _status("reconnect_needed", REVOKED), "Reconnect TikTok"),
        ("not-eligible", _status("installed", country="BR", currency="BRL"), "not available for stores in Brazil"),
    ],
)
def test_the_page_says_why_the_catalog_is_not_syncing(
    running: LocalRun, page: Page, shots: Shots, name: str, status: dict[str, Any], expected: str
):
    page.route(re.compile(rf".*/api/stores/{STORE}$"), lambda route: route.fulfill(json=status))
    page.route(
        re.compile(rf".*/api/stores/{STORE}/storefront$"),
        lambda route: route.fulfill(json={"state": "not_applied", "next_step": "Click Apply for TikTok Storefront."}),
    )
    page.goto(running.open_url)
    expect(page.locator("body")).to_contain_text(expected)
    connect = page.locator("#connect")
    notice = page.locator("#notice")
    if name == "catalog-frozen":
        expect(notice).to_contain_text("changed to EUR")
        expect(page.get_by_role("button", name="Sync Products")).to_be_enabled()
        expect(connect).to_be_hidden()
    elif name == "ecwid-access-lost":
        expect(notice).to_contain_text("Reinstall the app")
        expect(connect).to_be_hidden()
        expect(page.get_by_role("button", name="Sync Products")).to_be_disabled()
        expect(page.get_by_role("button", name="Disconnect", exact=True)).to_be_visible()
    elif name == "reconnect-needed":
        reconnect = notice.get_by_role("button", name="Reconnect")
        reconnect.click()
        expect(page.get_by_label("Phone number for TikTok Business Tools")).to_be_focused()
        expect(connect.get_by_role("button", name="Reconnect")).to_be_visible()
        expect(page.locator("#count-rejected")).to_have_text("1")
    else:
        expect(notice).to_be_hidden()
        expect(page.locator("#el-catalog")).to_have_text("Not available")
        expect(page.get_by_role("button", name="+ Connect TikTok Account")).to_be_disabled()
        expect(page.locator("#products")).to_be_hidden()
    shots(page, name)


def _admin_frame(page: Page, origin: str, app_url: str) -> None:
    """Serve, at `origin`, a page that frames the app as the Ecwid admin does."""
    html = (
        "<!doctype html><title>Ecwid admin</title><h1>My store</h1>"
        f'<iframe id="app" title="TikTok" src="{app_url}" width="1000" height="800"></iframe>'
    )
    page.route(f"{origin}/_test/admin", lambda route: route.fulfill(content_type="text/html", body=html))
    page.goto(f"{origin}/_test/admin")


def test_the_page_works_framed_by_the_ecwid_admin_and_leaves_the_frame_for_tiktok(
    running: LocalRun, page: Page, shots: Shots
):
    # ECWID_APP_PAGE_URL's origin (here the sandbox Ecwid's) may frame the page; TikTok's pages may not be framed,
    # so Connect takes the whole window there.
    _admin_frame(page, running.ecwid, running.open_url)
    app = page.frame_locator("#app")
    phone = app.get_by_label("Phone number for TikTok Business Tools")
    expect(phone).to_be_visible()
    shots(page, "framed-by-the-admin")
    phone.fill("+14155550123")
    app.get_by_role("button", name=re.compile("Connect TikTok Account|Reconnect")).click()
    page.wait_for_url(re.compile(re.escape(running.tiktok) + r"/portal/auth"))

    # Any other origin is refused by frame-ancestors: the frame stays empty.
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if "frame-ancestors" in message.text else None)
    _admin_frame(page, running.tiktok, running.open_url)
    for _ in range(50):  # Playwright hands over events while the page is waited on
        if refused:
            break
        page.wait_for_timeout(200)
    assert refused, "Chromium did not refuse the frame"
    expect(page.frame_locator("#app").get_by_label("Phone number for TikTok Business Tools")).to_have_count(0)


def test_cancelling_on_tiktok_brings_the_merchant_back_told_what_happened_with_the_phone_kept(
    running: LocalRun, page: Page, shots: Shots
):
    page.goto(running.open_url)
    phone = page.get_by_label("Phone number for TikTok Business Tools")
    phone.fill("+14155550123")
    page.get_by_role("button", name=re.compile("Connect TikTok Account|Reconnect")).click()
    page.wait_for_url(re.compile(re.escape(running.tiktok) + r"/portal/auth"))

    page.get_by_role("button", name="Cancel", exact=True).click()  # the merchant changes their mind on TikTok

    # Back on the app page inside the Ecwid admin (stand-in), never on the API's JSON, with what happened.
    page.wait_for_url(f"{running.gateway}/app")
    expect(page.locator("#alert")).to_contain_text("You cancelled on TikTok’s page")
    expect(page.get_by_label("Phone number for TikTok Business Tools")).to_have_value("+14155550123")
    expect(page.get_by_role("button", name=re.compile("Connect TikTok Account|Reconnect"))).to_be_visible()
    shots(page, "back-from-tiktok-cancelled")
