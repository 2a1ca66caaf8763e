"""The TikTok page's Pixel section, in Chromium, against `make run`: a US store connects and its pixel goes on the
storefront at the first sync, server-side purchases switched off and on again (and kept); the store's own TikTok
pixel setting takes the storefront's place; a UK store installed with the permissions older installs granted
has server-side purchases off, is asked to grant access (Ecwid's page in the whole window), grants it and gets
its pixel at the next sync."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Page, expect

from sandboxes.ecwid import DEFAULT_SCOPES, LEGACY_SCOPES
from tests.browser.conftest import ARTIFACTS
from tests.browser.page_checks import unlabelled_controls, watch_for_errors
from tests.local_run import LocalRun

US_STORE = 1003  # `make run`'s demo store, installed with every scope
UK_STORE = 2004  # `make run`'s second store, moved to the UK here and installed with the old scopes
SWITCH = "Send purchases to TikTok from the server"
INSTALLED = "Your TikTok pixel runs on your storefront for shoppers who accept tracking cookies."


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"pixel-{name}.png"), full_page=True)


def _at_widths(page: Page, name: str) -> None:
    """Screenshots at 1280 and 400 px; at 400 px nothing scrolls sideways."""
    page.set_viewport_size({"width": 1280, "height": 900})
    _shot(page, f"{name}-1280")
    page.set_viewport_size({"width": 400, "height": 900})
    expect(page.locator("#px")).to_be_visible()
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways at 400 px: {width}"
    _shot(page, f"{name}-400")
    page.set_viewport_size({"width": 1280, "height": 900})


def _open_url(running: LocalRun, store_id: int) -> str:
    return running.open_url.replace(f"/stores/{US_STORE}/", f"/stores/{store_id}/")


def _connect(page: Page, running: LocalRun, phone: str) -> None:
    """Connect through the sandbox TikTok and wait for the first sync to finish."""
    expect(page.locator("#px")).to_be_hidden()  # not connected: nothing of the pixel but one line
    expect(page.locator("#connect")).to_contain_text("Connecting also sets up your TikTok pixel")
    page.get_by_label("Phone number for TikTok Business Tools").fill(phone)
    page.get_by_role("button", name=re.compile("Connect TikTok Account")).click()
    page.wait_for_url(re.compile(re.escape(running.tiktok) + r"/portal/auth"))
    page.get_by_role("button", name="Connect", exact=True).click()
    page.wait_for_url(f"{running.gateway}/app")
    expect(page.get_by_role("heading", name="TikTok Pixel")).to_be_visible()
    expect(page.locator("#sync-last")).not_to_have_text("Not yet", timeout=60_000)
    expect(page.locator("#sync-progress")).to_be_hidden(timeout=30_000)


def _sync_products(page: Page) -> None:
    page.get_by_role("button", name="Sync Products").click()
    expect(page.locator("#sync-message")).to_contain_text("Sync finished", timeout=60_000)


def _our_code(page: Page) -> str:
    """The connected pixel's code, as the TikTok For Business section names it ("ID <code>")."""
    expect(page.locator("#pixel-id")).to_have_text(re.compile(r"^ID \S+$"))
    return page.locator("#pixel-id").inner_text().removeprefix("ID ")


def _set_store_pixel(running: LocalRun, store_id: int, code: str | None) -> None:
    """The merchant's own TikTok pixel setting in Ecwid (Settings → General → Tracking & Analytics)."""
    setting = None if code is None else {"code": code, "advancedMatching": False}
    answer = httpx.patch(f"{running.ecwid}/_sandbox/stores/{store_id}/profile", json={"tiktok_pixel": setting})
    assert answer.status_code == 200, answer.text


@pytest.mark.timeout(300)
def test_a_us_store_measures_with_its_pixel_and_keeps_the_server_side_choice(running: LocalRun, page: Page):
    problems = watch_for_errors(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(running.open_url)
    _connect(page, running, "+14155550123")
    section = page.locator("#px")

    # The pixel TikTok created at connect, on the storefront since the first sync; nothing sent yet.
    code = _our_code(page)
    expect(page.locator("#px-code")).to_have_text(code)
    expect(page.locator("#px-script")).to_have_text("Installed")
    expect(page.locator("#px-script-text")).to_have_text(INSTALLED)
    expect(page.locator("#px-purchases")).to_have_text("0")
    expect(page.locator("#px-scopes")).to_be_hidden()  # installed with every scope
    expect(page.locator("#px-last-error")).to_be_hidden()
    switch = page.get_by_role("switch", name=SWITCH)
    expect(switch).to_be_checked()  # a US store: on unless the merchant switches it off
    expect(page.locator("#px-server-state")).to_have_text("On")
    expect(section).to_contain_text("e-mail and phone number hashed (SHA-256), IP address and browser")
    expect(section).to_contain_text("In the EU, the EEA, the UK and Switzerland it is off")
    assert unlabelled_controls(page) == []
    _at_widths(page, "us-installed")

    # Off: said in the live region, and kept when the page is opened again.
    switch.click()
    expect(page.locator("#px-message")).to_have_text(
        "Saved: the app no longer sends purchases to TikTok from the server."
    )
    expect(page.locator("#px-message")).to_have_attribute("aria-live", "polite")
    expect(switch).not_to_be_checked()
    expect(switch).to_be_focused()  # the switch keeps the focus while it saves
    page.goto(running.open_url)
    switch = page.get_by_role("switch", name=SWITCH)
    # The section loads after the session and the status: on a loaded machine that takes more than 5 s.
    expect(page.locator("#px-server-state")).to_have_text("Off", timeout=20_000)
    expect(switch).not_to_be_checked()
    expect(page.locator("#px-server-note")).to_contain_text("only from shoppers’ browsers")
    _at_widths(page, "us-server-events-off")

    # On again, with the keyboard; kept too.
    switch.focus()
    page.keyboard.press("Space")
    expect(page.locator("#px-message")).to_have_text(
        "Saved: the app sends purchases to TikTok from the server from now on."
    )
    page.goto(running.open_url)
    expect(page.get_by_role("switch", name=SWITCH)).to_be_checked()
    expect(page.locator("#px-server-state")).to_have_text("On")

    # An API refusal is said in words and the switch shows what is saved (the answer stood in for by the browser).
    refused = {"error": {"code": "session_forbidden", "message": "This session belongs to another store."}}
    pixel_route = re.compile(rf".*/api/stores/{US_STORE}/pixel$")
    page.route(
        pixel_route,
        lambda route: route.fulfill(status=403, json=refused) if route.request.method == "PUT" else route.continue_(),
    )
    page.get_by_role("switch", name=SWITCH).click()
    expect(page.locator("#px-message")).to_have_text("Not saved: This session belongs to another store.")
    expect(page.locator("#px-message")).to_have_class(re.compile("tt-error"))
    expect(page.get_by_role("switch", name=SWITCH)).to_be_checked()
    _shot(page, "us-switch-refused-1280")
    page.unroute(pixel_route)

    # The store's own TikTok pixel setting turned on in Ecwid with another pixel: the app steps aside.
    _set_store_pixel(running, US_STORE, "C0THERPIXEL1")
    _sync_products(page)
    expect(page.locator("#px-script")).to_have_text("Your store’s own pixel")
    text = page.locator("#px-script-text")
    expect(text).to_contain_text("Your store’s own TikTok pixel setting (code C0THERPIXEL1) already fires")
    expect(text).to_contain_text("does not add a second one")
    expect(text).to_contain_text(f"To measure with the connected pixel {code}")
    expect(text).to_contain_text("Settings → General → Tracking & Analytics")
    _at_widths(page, "us-store-pixel-active")

    # The same pixel as the app's: the app leaves the purchases in the browser to it.
    _set_store_pixel(running, US_STORE, code)
    _sync_products(page)
    expect(text).to_contain_text(f"fires this same pixel (code {code})")
    expect(text).to_contain_text("leaves the purchases in shoppers’ browsers to it")
    _shot(page, "us-store-pixel-same-code-1280")

    # Turned off again: the app's pixel is back on the storefront at the next sync.
    _set_store_pixel(running, US_STORE, None)
    _sync_products(page)
    expect(page.locator("#px-script")).to_have_text("Installed")
    expect(page.locator("#px-script-text")).to_have_text(INSTALLED)

    assert problems == []


def _admin_frame(page: Page, running: LocalRun, app_url: str) -> None:
    """A page at the sandbox Ecwid's origin that frames the app as the Ecwid admin does."""
    html = (
        "<!doctype html><title>Ecwid admin</title><h1>My store</h1>"
        f'<iframe id="app" title="TikTok" src="{app_url}" width="1000" height="1600"></iframe>'
    )
    page.route(f"{running.ecwid}/_test/admin", lambda route: route.fulfill(content_type="text/html", body=html))
    page.goto(f"{running.ecwid}/_test/admin")


@pytest.mark.timeout(300)
def test_a_uk_store_with_the_old_permissions_is_off_by_default_and_asked_to_grant_access(running: LocalRun, page: Page):
    problems = watch_for_errors(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    moved = httpx.patch(
        f"{running.ecwid}/_sandbox/stores/{UK_STORE}/profile",
        json={"country": "GB", "currency": "GBP", "store_name": "Tea Corner London"},
    )
    assert moved.status_code == 200, moved.text

    # Installed as stores did before the app measured sales: catalog scopes only.
    legacy_install = running.install_url.replace(
        "scope=" + DEFAULT_SCOPES.replace(" ", "+"), "scope=" + LEGACY_SCOPES.replace(" ", "+")
    )
    assert legacy_install != running.install_url
    page.goto(legacy_install)
    page.get_by_label("Store").select_option(str(UK_STORE))
    page.get_by_role("button", name="Install").click()
    page.wait_for_url(f"{running.gateway}/app")
    expect(page.locator("#el-country")).to_have_text("United Kingdom (GB)")
    _connect(page, running, "+447700900123")
    code = _our_code(page)

    # A UK store: server-side purchases off until the merchant switches them on.
    expect(page.locator("#px-code")).to_have_text(code)
    switch = page.get_by_role("switch", name=SWITCH)
    expect(switch).not_to_be_checked()
    expect(page.locator("#px-server-state")).to_have_text("Off")

    # What is missing, in words; the catalog keeps syncing; Ecwid's authorize page asking for every scope.
    scopes = page.locator("#px-scopes")
    expect(scopes).to_be_visible()
    expect(scopes).to_contain_text("Reading your orders, to send purchases to TikTok from the server.")
    expect(scopes).to_contain_text("Adding the pixel to your storefront.")
    expect(page.locator("#px-scopes-list li")).to_have_count(2)
    expect(scopes).to_contain_text("Your catalog keeps syncing to TikTok either way.")
    grant = page.get_by_role("link", name="Grant access")
    expect(grant).to_have_attribute("target", "_top")
    href = grant.get_attribute("href") or ""
    parts = urlsplit(href)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{running.ecwid}/api/oauth/authorize"
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    assert set(query["scope"].split()) == set(DEFAULT_SCOPES.split())
    assert query["redirect_uri"] == f"{running.gateway}/oauth/ecwid/callback"
    assert query["response_type"] == "code"
    # The storefront waits for that access, and the first sync's attempt is the last problem, with its time.
    expect(page.locator("#px-script")).to_have_text("Not installed")
    expect(page.locator("#px-script-text")).to_contain_text("click Grant access below")
    expect(page.locator("#px-last-error")).to_contain_text("Last problem (")
    expect(page.locator("#px-last-error")).to_contain_text("The app cannot add the TikTok pixel to your storefront")
    expect(page.locator("#px-purchases")).to_have_text("0")
    assert unlabelled_controls(page) == []
    _at_widths(page, "uk-legacy-scopes")

    # Inside the Ecwid admin's frame, Grant access takes the whole window to Ecwid's page (it cannot be framed).
    _admin_frame(page, running, _open_url(running, UK_STORE))
    app = page.frame_locator("#app")
    expect(app.get_by_role("link", name="Grant access")).to_be_visible()
    _shot(page, "uk-framed-by-the-admin-1280")
    app.get_by_role("link", name="Grant access").click()
    page.wait_for_url(re.compile(re.escape(f"{running.ecwid}/api/oauth/authorize")))
    expect(page.locator("body")).to_contain_text("customize_storefront")
    page.get_by_label("Store").select_option(str(UK_STORE))
    page.get_by_role("button", name="Install").click()
    page.wait_for_url(f"{running.gateway}/app")

    # Every scope now: nothing left to grant; the pixel reaches the storefront at the next sync.
    expect(page.get_by_role("heading", name="TikTok Pixel")).to_be_visible()
    expect(page.locator("#px-code")).to_have_text(code)
    expect(page.locator("#px-scopes")).to_be_hidden()
    expect(page.locator("#px-script-text")).to_contain_text("at the next sync of your catalog")
    expect(page.locator("#px-last-error")).to_be_hidden()  # what it asked for is done
    expect(page.get_by_role("switch", name=SWITCH)).not_to_be_checked()  # the choice is the merchant's
    _sync_products(page)
    expect(page.locator("#px-script")).to_have_text("Installed")
    expect(page.locator("#px-last-error")).to_be_hidden()
    _at_widths(page, "uk-access-granted")

    # Switched on by the merchant (their privacy policy covers it): kept.
    page.get_by_role("switch", name=SWITCH).click()
    expect(page.locator("#px-message")).to_have_text(
        "Saved: the app sends purchases to TikTok from the server from now on."
    )
    page.goto(_open_url(running, UK_STORE))
    expect(page.get_by_role("switch", name=SWITCH)).to_be_checked()

    assert problems == []
