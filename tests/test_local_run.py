"""`make run` from the outside: start the local run as a process and walk the connect journey over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.app_stack import read_form
from tests.local_run import LocalRun, local_run


@pytest.fixture
def running() -> Iterator[LocalRun]:
    with local_run() as run:
        yield run


def test_make_run_serves_the_connect_journey(running: LocalRun):
    gateway = running.gateway
    assert f"{gateway}/_local/" in running.printed
    # The first URL printed opens the demo store's TikTok page, as the Ecwid admin would (encrypted payload).
    banner = running.printed[running.printed.index("TikTok channel for Ecwid is running") :]
    first_url = next(word for word in banner.split() if word.startswith("http"))
    assert first_url == running.open_url
    with httpx.Client(timeout=30) as browser:
        opened = browser.get(running.open_url)
        assert opened.status_code == 302
        app_url = opened.headers["location"]
        assert app_url.startswith(f"{gateway}/app?payload=")
        page = browser.get(app_url)
        assert page.status_code == 200
        assert "+ Connect TikTok Account" in page.text
        assert 'data-store-id="1003"' in page.text

        # Installing in another store brings the merchant to that store's TikTok page the same way.
        install_page = read_form(browser.get(running.install_url).text)
        installed = browser.post(
            running.ecwid + str(install_page.action),
            data={**install_page.fields, "store_id": "2004", "decision": "allow"},
        )
        landing = browser.get(installed.headers["location"])
        assert landing.status_code == 302
        assert landing.headers["location"] == running.open_url.replace("/stores/1003/", "/stores/2004/")
        assert browser.get(landing.headers["location"], follow_redirects=True).status_code == 200
        # The console's store links lead to the same place.
        console_link = browser.get(f"{gateway}/_local/stores/1003")
        assert console_link.status_code == 302
        assert console_link.headers["location"] == running.open_url

        payload = parse_qs(urlsplit(app_url).query)["payload"][0]
        session = browser.post(f"{gateway}/api/session", json={"payload": payload}).json()["session"]
        headers = {"Authorization": f"Bearer {session}"}
        started = browser.post(f"{gateway}/api/stores/1003/connect", json={"phone": "+14155550123"}, headers=headers)
        tiktok_page = read_form(browser.get(started.json()["authorize_url"]).text)
        authorized = browser.post(
            running.tiktok + str(tiktok_page.action), data={**tiktok_page.fields, "decision": "connect"}
        )
        finished = browser.get(authorized.headers["location"])
        assert finished.status_code == 302
        assert finished.headers["location"] == running.open_url  # back to the TikTok page in the Ecwid admin

        status = browser.get(f"{gateway}/api/stores/1003", headers=headers).json()
        assert status["status"] == "connected"
        assert status["tiktok"]["catalog_currency"] == "USD"
        # The local poller hands the first sync to the worker, as Lambda would.
        deadline = time.time() + 60
        while status["sync"]["last_finished_at"] is None and time.time() < deadline:
            time.sleep(0.5)
            status = browser.get(f"{gateway}/api/stores/1003", headers=headers).json()
        assert status["sync"]["state"] == "idle"
        assert status["products"]["pending"] > 0
        assert status["products"]["held_back"] > 0  # the demo store has a product with a small image

        # An edit in the sandbox Ecwid reaches TikTok through its webhook, the receiver and the worker.
        def on_tiktok() -> int:
            state = browser.get(f"{running.tiktok}/_sandbox/tiktok/state").json()
            return int(sum(catalog["products"] for catalog in state["catalogs"].values()))

        before = on_tiktok()
        added = browser.post(f"{running.ecwid}/_sandbox/stores/1003/products", json={"name": "Kettle", "price": 35})
        assert added.status_code < 300, added.text
        deadline = time.time() + 30
        while on_tiktok() == before and time.time() < deadline:
            time.sleep(0.3)
        assert on_tiktok() == before + 1
