"""The local run console's buttons (TikTok's decision on a storefront application, TikTok's reviews now), the
favicon, and function logs that name the function that wrote them: against a whole local stack in-process."""

from __future__ import annotations

import importlib
import io
import json
import logging
from collections.abc import Iterator
from html import unescape

import pytest
from aws_lambda_powertools import Logger

from localrun.stack import ROOT, LocalStack, local_stack

STORE = 1003
# The sample event's application, as the merchant's form sends it.
APPLICATION = json.loads(json.loads((ROOT / "events" / "apply_for_storefront.json").read_text())["body"])


@pytest.fixture
def stack() -> Iterator[LocalStack]:
    with local_stack(admin_stand_in=True, tiktok_options={"review_delay_seconds": 3600}) as running:
        running.ecwid.add_demo_store()
        yield running


def _bearer(session: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {session}"}


def _apply(stack: LocalStack) -> str:
    assert stack.connect(STORE).status_code == 302
    session = stack.open_session(STORE)
    applied = stack.http.post(f"/api/stores/{STORE}/storefront/application", json=APPLICATION, headers=_bearer(session))
    assert applied.status_code == 201, applied.text
    return session


def test_the_storefront_journey_is_finished_with_the_console(stack: LocalStack) -> None:
    session = _apply(stack)
    console = stack.http.get("/_local/")
    assert console.status_code == 200
    assert f'action="/_local/stores/{STORE}/storefront-decision"' in console.text
    assert "Record TikTok's decision" in unescape(console.text)

    note = "TikTok's e-mail: storefront approved."
    recorded = stack.http.post(
        f"/_local/stores/{STORE}/storefront-decision", data={"decision": "approved", "note": note}
    )
    assert recorded.status_code == 200
    assert "Recorded: approved" in recorded.text
    assert '"recorded": true' in unescape(recorded.text)  # the operator function's own answer
    assert stack.store_item(STORE)["storefront_state"] == "approved"
    storefront = stack.http.get(f"/api/stores/{STORE}/storefront", headers=_bearer(session)).json()
    assert storefront["state"] == "approved"
    assert note in json.dumps(storefront)
    # The form is offered only while the application waits for TikTok's decision.
    assert "storefront-decision" not in stack.http.get("/_local/").text

    # The merchant's next step now works locally: "Connect TikTok Storefront" connects the shop.
    started = stack.http.post(f"/api/stores/{STORE}/storefront/connect", headers=_bearer(session))
    assert started.status_code == 200, started.text
    assert stack.callback(stack.authorize_on_tiktok(started.json()["authorize_url"])).status_code == 302
    assert stack.store_item(STORE)["storefront_state"] == "connected"


def test_a_rejection_and_a_refusal_are_shown(stack: LocalStack) -> None:
    _apply(stack)
    rejected = stack.http.post(f"/_local/stores/{STORE}/storefront-decision", data={"decision": "rejected"})
    assert "Recorded: rejected" in unescape(rejected.text)
    assert stack.store_item(STORE)["storefront_state"] == "rejected"
    # Another decision afterwards: the operator function refuses it (no open application), and the page says so.
    conflict = stack.http.post(f"/_local/stores/{STORE}/storefront-decision", data={"decision": "approved"})
    assert conflict.status_code == 200
    assert "The operator function refused" in unescape(conflict.text)
    assert '"ok": false' in unescape(conflict.text)  # the operator function's answer, shown
    assert stack.store_item(STORE)["storefront_state"] == "rejected"


def test_finish_tiktoks_reviews_now(stack: LocalStack) -> None:
    assert stack.connect(STORE).status_code == 302
    stack.run_worker()
    assert "Finish TikTok's reviews now" in unescape(stack.http.get("/_local/").text)
    finished = stack.http.post("/_local/tiktok/review-now")
    assert finished.status_code == 200
    decided = int(finished.text.split("reviews: ", 1)[1].split(" ", 1)[0])
    assert decided > 0
    assert stack.status(STORE)["products"]["pending"] > 0  # not read yet: Sync Products reads the outcome
    stack.request_sync(STORE)
    stack.run_worker()
    assert stack.status(STORE)["products"]["pending"] == 0


def test_the_favicon_is_served(stack: LocalStack) -> None:
    icon = stack.http.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    assert '<link rel="icon" href="/favicon.ico">' in stack.http.get("/_local/").text


def test_each_log_line_names_the_function_that_wrote_it(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every function runs in this process, and a layer module's Powertools logger is named after the function
    # that imported it first. Here the module that logs "Sync finished" has the admin page's logger, as when
    # the admin page imported it first: the catalog worker's line still names the catalog worker.
    assert stack.connect(STORE).status_code == 302
    stack.status(STORE)  # the admin page is loaded, the catalog worker not yet
    sync_run = importlib.import_module("tiktok_channel.services.sync_run")
    monkeypatch.setattr(sync_run, "logger", Logger(service="admin_page", child=True))
    captured = io.StringIO()
    swapped = []
    for function in stack.lambdas.values():
        assert callable(function.handler)  # loaded, with its Powertools handler
        for handler in logging.getLogger(function.service or "-").handlers:
            if isinstance(handler, logging.StreamHandler):
                swapped.append((handler, handler.setStream(captured)))
    try:
        assert stack.run_worker() >= 1
    finally:
        for handler, stream in swapped:
            handler.setStream(stream)
    lines = [json.loads(line) for line in captured.getvalue().splitlines() if line.startswith('{"level"')]
    assert any(line["message"] == "Sync finished" for line in lines), lines
    worker = stack.lambdas["CatalogWorkerFunction"]
    assert {(line["service"], line["function_name"]) for line in lines} == {("catalog_worker", worker.function_name)}
