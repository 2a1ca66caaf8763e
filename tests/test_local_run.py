"""`make run` from the outside: start the local run as a process and walk the connect journey over HTTP."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing

import httpx
import pytest

from tests.app_stack import ROOT, read_form


def free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def local_run() -> Iterator[dict[str, str]]:
    ports = {name: str(free_port()) for name in ("GATEWAY", "MOTO", "ECWID", "TIKTOK")}
    env = {**os.environ, **{f"LOCAL_{name}_PORT": port for name, port in ports.items()}}
    for name in list(env):
        if name.startswith("AWS_ENDPOINT_URL"):
            del env[name]
    process = subprocess.Popen(
        [sys.executable, "-m", "localrun"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    printed = []
    deadline = time.time() + 60
    while time.time() < deadline:
        line = process.stdout.readline()
        printed.append(line)
        if "is queued" in line or process.poll() is not None:
            break
    assert "is queued" in "".join(printed), "".join(printed)
    # Keep reading, so the process never blocks on a full pipe while it logs.
    threading.Thread(target=lambda: printed.extend(process.stdout or []), daemon=True).start()
    try:
        yield {
            "gateway": f"http://127.0.0.1:{ports['GATEWAY']}",
            "ecwid": f"http://127.0.0.1:{ports['ECWID']}",
            "tiktok": f"http://127.0.0.1:{ports['TIKTOK']}",
            "printed": "".join(printed),
        }
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        finally:
            process.kill()
            process.stdout.close()


def test_make_run_serves_the_connect_journey(local_run):
    gateway = local_run["gateway"]
    assert f"{gateway}/_local/" in local_run["printed"]
    install = re.search(r"Install the app: (\S+)", local_run["printed"])
    assert install is not None
    install_url = install.group(1)
    with httpx.Client(timeout=30) as browser:
        page = read_form(browser.get(install_url).text)
        installed = browser.post(
            local_run["ecwid"] + str(page.action), data={**page.fields, "store_id": "1003", "decision": "allow"}
        )
        landing = browser.get(installed.headers["location"])
        assert landing.status_code == 302
        assert landing.headers["location"] == f"{gateway}/_local/stores/1003"
        assert "Connect TikTok Account" in browser.get(landing.headers["location"]).text

        payload = browser.get(f"{gateway}/_local/stores/1003/payload").json()["payload"]
        session = browser.post(f"{gateway}/api/session", json={"payload": payload}).json()["session"]
        headers = {"Authorization": f"Bearer {session}"}
        started = browser.post(f"{gateway}/api/stores/1003/connect", json={"phone": "+14155550123"}, headers=headers)
        tiktok_page = read_form(browser.get(started.json()["authorize_url"]).text)
        authorized = browser.post(
            local_run["tiktok"] + str(tiktok_page.action), data={**tiktok_page.fields, "decision": "connect"}
        )
        finished = browser.get(authorized.headers["location"])
        assert finished.status_code == 302

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
            state = browser.get(f"{local_run['tiktok']}/_sandbox/tiktok/state").json()
            return int(sum(catalog["products"] for catalog in state["catalogs"].values()))

        before = on_tiktok()
        added = browser.post(
            f"{local_run['ecwid']}/_sandbox/stores/1003/products", json={"name": "Kettle", "price": 35}
        )
        assert added.status_code < 300, added.text
        deadline = time.time() + 30
        while on_tiktok() == before and time.time() < deadline:
            time.sleep(0.3)
        assert on_tiktok() == before + 1
