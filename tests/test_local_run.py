"""`make run` from the outside: start the local run as a process, walk the connect journey over HTTP, read
what it prints, and stop it with signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from localrun.stack import ROOT
from tests.app_stack import read_form
from tests.local_run import READY, LocalRun, free_port, local_run


@pytest.fixture
def running() -> Iterator[LocalRun]:
    with local_run() as run:
        yield run


def test_make_run_serves_the_connect_journey(running: LocalRun):
    gateway = running.gateway
    assert f"{gateway}/_local/" in running.printed
    # The first line printed is the URL that opens the demo store's TikTok page, as the Ecwid admin would
    # (encrypted payload).
    assert running.printed.splitlines()[0] == running.open_url
    with httpx.Client(timeout=30) as browser:
        icon = browser.get(f"{gateway}/favicon.ico")
        assert (icon.status_code, icon.headers["content-type"]) == (200, "image/x-icon")
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


class MakeRun:
    """`make run`'s program as a process on free ports, with everything it prints (stdout and stderr)."""

    def __init__(self, extra_env: dict[str, str] | None = None) -> None:
        ports = {f"LOCAL_{name}_PORT": str(free_port()) for name in ("GATEWAY", "MOTO", "ECWID", "TIKTOK")}
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
        env.pop("LOCAL_FUNCTION_LOGS", None)
        self.gateway = f"http://127.0.0.1:{ports['LOCAL_GATEWAY_PORT']}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "localrun"],
            cwd=ROOT,
            env={**env, **ports, **(extra_env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, seconds: float = 60.0) -> None:
        deadline = time.monotonic() + seconds
        while text not in self.output:
            assert self.process.poll() is None, f"make run exited ({self.process.returncode}):\n{self.output}"
            assert time.monotonic() < deadline, f"make run did not print {text!r} in {seconds} s:\n{self.output}"
            time.sleep(0.05)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._reader.join(5)


@pytest.fixture
def make_run() -> Iterator[Callable[..., MakeRun]]:
    started: list[MakeRun] = []

    def start(extra_env: dict[str, str] | None = None) -> MakeRun:
        run = MakeRun(extra_env)
        started.append(run)
        return run

    yield start
    for run in started:
        run.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_make_run_stops_on_repeated_signals(make_run: Callable[..., MakeRun], signum: signal.Signals) -> None:
    run = make_run()
    run.wait_for("http://")  # its page URL: it is up
    run.wait_for(READY)
    # The first line is the URL to open; function logs are off by default: no line of theirs is printed.
    assert run.lines[0].startswith("http://127.0.0.1:")
    assert "/_sandbox/stores/1003/open-app?" in run.lines[0]
    assert not [line for line in run.lines if line.startswith("{")], run.output
    assert "LOCAL_FUNCTION_LOGS=1" in run.output
    # A request and a queue poll or two while it runs, then many signals in quick succession.
    assert httpx.get(f"{run.gateway}/_local/", timeout=10).status_code == 200
    sent = time.monotonic()
    for _ in range(200):  # a burst: a second signal arrives while the first is being handled
        run.process.send_signal(signum)
    for _ in range(10):  # and more while it stops
        time.sleep(0.05)
        if run.process.poll() is None:
            run.process.send_signal(signum)
    try:
        code = run.process.wait(10)
    except subprocess.TimeoutExpired:
        pytest.fail(f"make run did not exit within 10 s of {signum.name}:\n{run.output}")
    stopped_in = time.monotonic() - sent
    run.close()
    assert code == 0, run.output
    assert "Traceback" not in run.output
    assert run.lines[-1] == "Stopped.", run.output
    assert stopped_in < 10


def test_make_run_shows_function_logs_with_the_setting(make_run: Callable[..., MakeRun]) -> None:
    run = make_run({"LOCAL_FUNCTION_LOGS": "1"})
    run.wait_for(READY)
    # The URL is printed first all the same, then the demo store's install logs; each line names its function.
    assert run.lines[0].startswith("http://127.0.0.1:"), run.output
    logs = [json.loads(line) for line in run.lines if line.startswith('{"level"')]
    assert any(line["service"] == "connect_callback" and line["message"] == "Store installed" for line in logs)
    assert all(line["function_name"].endswith(f"-{line['service'].title().replace('_', '')}Function") for line in logs)
    run.process.send_signal(signal.SIGTERM)
    assert run.process.wait(10) == 0
