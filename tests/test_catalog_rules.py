"""docs/catalog-rules.md through the whole stack: what TikTok refuses (a product, a request, a feed log's failures
beyond the five it names), freshness against TikTok's 30-day expiry, and the hourly upload allowance per catalog.

Each test builds the store in the sandbox Ecwid, runs the real handlers over the local gateway, and reads what the
sandbox TikTok catalog holds and what the merchant's page lists (GET /api/stores/{storeId}/products?status=...).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from reliability.refusals import ISSUE, MARKER, refuse_marked_titles
from sandboxes.common import Request, Response
from sandboxes.ecwid import EcwidStore
from sandboxes.tiktok_catalog import PAGE_PRICE_ISSUE, ProductIssue
from sandboxes.tiktok_models import PARAM_INVALID, ApiError
from tests.app_stack import AppStack, app_stack, move_clock

STORE = 1003
UPLOAD = "/open_api/v1.3/catalog/product/upload/"
STATUSES = ("listed", "pending", "rejected", "held_back")
HOUR = 3600.0
DAY = 86_400.0


# -- helpers ------------------------------------------------------------------------------------
@dataclass
class Shown:
    """One SKU as the merchant's product list shows it."""

    status: str
    reasons: list[str] = field(default_factory=list)


def products_shown(stack: AppStack, store_id: int = STORE) -> dict[str, Shown]:
    """GET /api/stores/{storeId}/products?status=... for each status, with the merchant's session."""
    headers = {"Authorization": f"Bearer {stack.open_session(store_id)}"}
    shown: dict[str, Shown] = {}
    for status in STATUSES:
        answer = stack.http.get(f"/api/stores/{store_id}/products", params={"status": status}, headers=headers)
        assert answer.status_code == 200, answer.text
        for item in answer.json()["items"]:
            assert item["status"] == status
            shown[item["sku_id"]] = Shown(item["status"], [reason["message"] for reason in item["reasons"]])
    return shown


def connect_and_sync(stack: AppStack, store: EcwidStore) -> None:
    assert stack.connect(store.store_id).status_code == 302
    assert stack.run_worker() >= 1
    stack.ecwid.take_webhooks()  # the store was built before the app was connected


def sync_now(stack: AppStack, store_id: int = STORE) -> None:
    """Press "Sync Products" and let the worker run."""
    stack.request_sync(store_id)
    stack.run_worker()


def deliver_webhooks(stack: AppStack) -> int:
    """Ecwid's webhooks for the edits made since, through the app's receiver; then the worker runs."""
    webhooks = stack.ecwid.take_webhooks()
    for webhook in webhooks:
        answer = stack.http.post("/webhooks/ecwid", content=webhook.body, headers=dict(webhook.headers))
        assert answer.status_code == 200, answer.text
    stack.run_worker()
    return len(webhooks)


def upload_calls(stack: AppStack) -> list[list[str]]:
    """The SKUs of each upload call the sandbox TikTok received, in order."""
    return [[p["sku_id"] for p in json.loads(call.body)["products"]] for call in stack.tiktok.calls_to(UPLOAD)]


class UploadAnswers:
    """The envelope code of every upload the sandbox TikTok answered (0 accepted, 40002 refused, 40100 limited)."""

    def __init__(self, stack: AppStack, monkeypatch: pytest.MonkeyPatch) -> None:
        self.codes: list[int] = []
        dispatch = stack.tiktok.dispatch

        def recorded(request: Request) -> Response:
            response = dispatch(request)
            if request.path.startswith(UPLOAD):
                self.codes.append(int(json.loads(response.body)["code"]))
            return response

        monkeypatch.setattr(stack.tiktok, "dispatch", recorded)


def refusal(value: str) -> str:
    """The sandbox TikTok's 40002 message, in its "field" form, for a title carrying the marker."""
    return f"products.title: {ISSUE} (value: {json.dumps(value)})"


# -- a. one product refused whole, named by its field ---------------------------------------------
def test_a_product_tiktok_refuses_whole_stays_out_and_the_rest_go_up(stack: AppStack):
    """Issue 11, case 5: six products, one TikTok refuses with the whole request (40002 naming the title)."""
    stack.tiktok.request_refusal_rules.append(refuse_marked_titles())
    store = stack.ecwid.add_store(STORE)
    mugs = [store.add_product(f"Mug {n}", 10 + n) for n in range(5)]
    teapot = store.add_product(f"Teapot {MARKER}", 30)

    connect_and_sync(stack, store)  # one run

    assert set(stack.tiktok_catalog(STORE)) == {str(m) for m in mugs}
    shown = products_shown(stack)
    assert shown[str(teapot)] == Shown("rejected", [refusal(f"Teapot {MARKER}")])
    assert {sku: s for sku, s in shown.items() if sku != str(teapot)} == {str(m): Shown("pending") for m in mugs}
    status = stack.status(STORE)
    assert status["sync"]["state"] == "idle"
    assert status["products"] == {"listed": 0, "pending": 5, "rejected": 1, "held_back": 0}
    assert "notice" not in status

    # A later edit of another product reaches TikTok at once, not held behind the refused one.
    stack.tiktok.reset_calls()
    store.update_product(mugs[0], price=19)
    assert deliver_webhooks(stack) >= 1
    assert upload_calls(stack) == [[str(mugs[0])]]
    assert stack.tiktok_catalog(STORE)[str(mugs[0])]["price_info"]["price"] == 19

    # Sync Products does not send the refused product again as it is...
    stack.tiktok.reset_calls()
    sync_now(stack)
    assert str(teapot) not in {sku for call in upload_calls(stack) for sku in call}
    assert products_shown(stack)[str(teapot)].status == "rejected"

    # ...and does once the merchant changed its name (the webhook lost: the sync finds it).
    store.update_product(teapot, name="Teapot")
    stack.ecwid.take_webhooks()
    stack.tiktok.reset_calls()
    sync_now(stack)
    assert upload_calls(stack) == [[str(teapot)]]
    assert stack.tiktok_catalog(STORE)[str(teapot)]["title"] == "Teapot"
    assert products_shown(stack)[str(teapot)] == Shown("pending")
    assert stack.status(STORE)["products"] == {"listed": 0, "pending": 6, "rejected": 0, "held_back": 0}


def test_an_edit_tiktok_refuses_leaves_the_version_it_accepted_before(stack: AppStack):
    """A request refusal applies nothing: a product already on TikTok keeps its earlier version there (the old
    price too) while the page shows it rejected with TikTok's message; taking the text out sends the edit."""
    stack.tiktok.request_refusal_rules.append(refuse_marked_titles())
    store = stack.ecwid.add_store(STORE)
    teapot = store.add_product("Teapot", 30)
    connect_and_sync(stack, store)

    store.update_product(teapot, name=f"Teapot {MARKER}", price=25)
    deliver_webhooks(stack)

    on_tiktok = stack.tiktok_catalog(STORE)[str(teapot)]
    assert (on_tiktok["title"], on_tiktok["price_info"]["price"]) == ("Teapot", 30)
    assert products_shown(stack)[str(teapot)] == Shown("rejected", [refusal(f"Teapot {MARKER}")])

    store.update_product(teapot, name="Teapot")
    deliver_webhooks(stack)

    assert stack.tiktok_catalog(STORE)[str(teapot)]["price_info"]["price"] == 25
    assert products_shown(stack)[str(teapot)] == Shown("pending")


# -- b. refused products named by their index ------------------------------------------------------
@pytest.mark.parametrize("refused", [1, 2, 3])
def test_a_refusal_naming_the_products_index_costs_one_call_per_refused_product(refused: int):
    with app_stack(tiktok_options={"refusal_message_names": "index"}) as stack:
        stack.tiktok.request_refusal_rules.append(refuse_marked_titles())
        store = stack.ecwid.add_store(STORE)
        marked = {n * 2 + 1 for n in range(refused)}  # spread through the batch
        products = [store.add_product(f"Bowl {n}" + (f" {MARKER}" if n in marked else ""), 9 + n) for n in range(6)]

        connect_and_sync(stack, store)

        calls = upload_calls(stack)
        assert len(calls) == 1 + refused
        assert [len(call) for call in calls] == [6 - n for n in range(refused + 1)]  # the rest resent each time
        refused_skus = {str(products[n]) for n in marked}
        assert set(stack.tiktok_catalog(STORE)) == {str(p) for p in products} - refused_skus
        shown = products_shown(stack)
        for sku in refused_skus:
            [message] = shown[sku].reasons
            assert shown[sku].status == "rejected"
            assert re.fullmatch(rf"products\[\d\]\.title: {ISSUE}", message), message
        assert all(shown[str(p)] == Shown("pending") for p in products if str(p) not in refused_skus)
        status = stack.status(STORE)
        assert status["products"]["rejected"] == refused
        assert "notice" not in status


# -- c. a refusal of the request itself --------------------------------------------------------------
class RefuseTheCatalog:
    """A refusal rule that refuses the request, not a product: 40002 naming catalog_id (while `on`)."""

    def __init__(self) -> None:
        self.on = True

    def __call__(self, product: dict[str, Any]) -> ProductIssue | None:
        if self.on:
            raise ApiError(PARAM_INVALID, "catalog_id: the catalog is not available for product uploads.")
        return None


def test_a_refused_request_is_a_store_notice_not_retried_and_cleared_by_a_later_sync(stack: AppStack):
    refuse = RefuseTheCatalog()
    stack.tiktok.request_refusal_rules.append(refuse)
    store = stack.ecwid.add_store(STORE)
    mugs = [store.add_product(f"Mug {n}", 10 + n) for n in range(4)]

    connect_and_sync(stack, store)

    assert len(upload_calls(stack)) == 1  # not split, not retried
    assert stack.tiktok_catalog(STORE) == {}
    assert stack.queued() == 0
    assert stack.queued("CatalogDeadLetterQueue") == 0
    status = stack.status(STORE)
    notice = status["notice"]
    assert notice["code"] == "tiktok_upload_refused"
    assert "catalog_id: the catalog is not available for product uploads." in notice["message"]
    assert "Business Center" in notice["message"]  # what to do
    assert status["sync"]["state"] == "idle"
    assert all(s.status != "rejected" for s in products_shown(stack).values())  # no product is blamed

    refuse.on = False
    sync_now(stack)

    assert set(stack.tiktok_catalog(STORE)) == {str(m) for m in mugs}
    status = stack.status(STORE)
    assert "notice" not in status
    assert status["products"] == {"listed": 0, "pending": 4, "rejected": 0, "held_back": 0}


# -- d. a feed log naming five of seven failures ----------------------------------------------------
@pytest.mark.parametrize("log_file", ["served", "missing"])
def test_feed_log_failures_beyond_the_five_named_are_all_found(stack: AppStack, log_file: str):
    """Seven of ten products fail with one issue (their pages show another price than Ecwid's API gives); the feed
    log names five. With its file, all seven carry TikTok's issue; with the file gone (404), the batch is read
    back from the catalog and all seven are still rejected, with the log's only issue as their reason."""
    store = stack.ecwid.add_store(STORE)
    products = [store.add_product(f"Plate {n}", 20 + n) for n in range(10)]
    wrong_page = {str(p) for p in products[:7]}
    page_prices = stack.ecwid.page_prices
    stack.tiktok.page_prices = lambda sku: (99.0, None) if sku in wrong_page else page_prices(sku)
    if log_file == "missing":
        base = stack.tiktok.base_url
        stack.tiktok.feed_log_file_url = lambda feed_log_id: f"{base}/_files/feed_logs/gone-{feed_log_id}.csv"  # type: ignore[method-assign]

    connect_and_sync(stack, store)

    assert [c.path for c in stack.tiktok.calls_to("/_files/feed_logs/")] == [
        f"/_files/feed_logs/{'gone-' if log_file == 'missing' else ''}{log_id}.csv"
        for log_id, log in stack.tiktok.feed_logs.items()
        if log.error_count
    ]
    [log] = [log for log in stack.tiktok.feed_logs.values() if log.error_count]
    assert log.error_count == 7
    named = {item["sku_id"] for group in log.error_affected_products for item in group["affected_product_item_list"]}
    assert len(named) == 5
    assert set(stack.tiktok_catalog(STORE)) == {str(p) for p in products[7:]}
    shown = products_shown(stack)
    assert {sku for sku, s in shown.items() if s.status == "rejected"} == wrong_page
    assert {sku for sku, s in shown.items() if s.status == "pending"} == {str(p) for p in products[7:]}
    # From the file, or (read back) from the log's only issue, whose count covers all seven: TikTok's reason.
    assert all(shown[sku].reasons == [PAGE_PRICE_ISSUE] for sku in wrong_page)
    assert stack.status(STORE)["products"] == {"listed": 0, "pending": 3, "rejected": 7, "held_back": 0}


# -- e. freshness against TikTok's 30-day expiry -------------------------------------------------------
def test_scheduled_syncs_keep_every_product_from_expiring(stack: AppStack):
    """24 unchanged products, the schedule's two runs a day for 31 days on both clocks: TikTok would expire a
    product after 30 days without an upload; none does, and no run sends more than ⌈24 / 12⌉ of them."""
    store = stack.ecwid.add_store(STORE)
    products = {str(store.add_product(f"Cup {n}", 5 + n)) for n in range(24)}
    connect_and_sync(stack, store)
    assert set(stack.tiktok_catalog(STORE)) == products
    cap = math.ceil(len(products) / (2 * (7 - 1)))  # runs per day × (TIKTOK_REFRESH_DAYS − 1)
    refreshed_at: dict[str, float] = dict.fromkeys(products, 0.0)
    per_run: list[int] = []

    moved = 0.0
    for _ in range(31 * 2):
        moved += 12 * HOUR
        move_clock(moved)
        stack.tiktok.clock.advance(12 * HOUR)
        stack.tiktok.reset_calls()
        assert stack.scheduler.fire("ScheduledSyncFunction") == {"queued": 1}
        stack.run_worker()
        sent = [sku for call in upload_calls(stack) for sku in call]
        per_run.append(len(sent))
        assert len(sent) <= cap, f"a run uploaded {len(sent)} unchanged SKUs"
        refreshed_at.update(dict.fromkeys(sent, moved))
        stack.tiktok.apply_due_reviews()  # purges what expired
        assert set(stack.tiktok_catalog(STORE)) == products, f"expired after {moved / DAY:.1f} days"

    assert set(refreshed_at) == products
    assert max(moved - at for at in refreshed_at.values()) < 7 * DAY  # every SKU refreshed in the last cycle
    assert sum(per_run) >= len(products) * 4  # each refreshed about every 6 days


# -- f. TikTok's 1,000 uploads per hour per catalog ------------------------------------------------------
@pytest.fixture
def quick_retries() -> Iterator[AppStack]:
    with app_stack(parameters={"TikTokPauseSeconds": "0.3", "RetryBaseSeconds": "1"}) as running:
        yield running


def edits_one_by_one(stack: AppStack, *, uploads_per_hour: int) -> list[int]:
    """Five mugs synced (the hour's first upload), then each one's price edited (50, 51, ...) and its webhook
    delivered before the next, with the sandbox TikTok allowing `uploads_per_hour` uploads to the catalog."""
    stack.tiktok.catalog_uploads_per_hour = uploads_per_hour
    store = stack.ecwid.add_store(STORE)
    mugs = [store.add_product(f"Mug {n}", 10 + n) for n in range(5)]
    connect_and_sync(stack, store)
    for n, mug in enumerate(mugs):
        store.update_product(mug, price=50 + n)
        deliver_webhooks(stack)
    return mugs


def test_past_the_catalogs_hourly_uploads_edits_come_back_and_converge(
    quick_retries: AppStack, monkeypatch: pytest.MonkeyPatch
):
    """The app's own allowance per catalog has no setting (runtime.py builds FleetRateLimiter with the default
    1,000), so the sandbox's is lowered to 3: the edits it answers 40100 come back later, without a dead letter,
    and reach TikTok once its hour has passed."""
    stack = quick_retries
    answers = UploadAnswers(stack, monkeypatch)
    mugs = edits_one_by_one(stack, uploads_per_hour=3)

    assert answers.codes[:3] == [0, 0, 0]
    assert 40100 in answers.codes
    catalog = stack.tiktok_catalog(STORE)
    assert [catalog[str(m)]["price_info"]["price"] for m in mugs[:2]] == [50, 51]
    assert [catalog[str(m)]["price_info"]["price"] for m in mugs[2:]] == [12, 13, 14]  # held by TikTok's limit
    assert stack.queued() >= 1  # given back for later, not dropped
    assert stack.queued("CatalogDeadLetterQueue") == 0

    stack.tiktok.clock.advance(HOUR + 1)
    stack.run_worker(60, until_empty=True)

    catalog = stack.tiktok_catalog(STORE)
    assert [catalog[str(m)]["price_info"]["price"] for m in mugs] == [50, 51, 52, 53, 54]
    assert stack.queued() == 0
    assert stack.queued("CatalogDeadLetterQueue") == 0


def test_the_apps_own_allowance_holds_edits_back_before_tiktok_refuses_them(
    stack: AppStack, monkeypatch: pytest.MonkeyPatch
):
    """The app's allowance lowered to the sandbox's 3 an hour (in this process: no setting reaches
    FleetRateLimiter's `catalog_uploads_per_hour`): edits one by one make 3 uploads, TikTok never answers 40100,
    and the rest wait on the queue for the hour to pass, not dead-lettered."""
    from tiktok_channel.adapters.rate_limit import FleetRateLimiter

    defaults = FleetRateLimiter.__init__.__kwdefaults__
    assert defaults is not None
    monkeypatch.setitem(defaults, "catalog_uploads_per_hour", 3)
    answers = UploadAnswers(stack, monkeypatch)
    mugs = edits_one_by_one(stack, uploads_per_hour=3)

    assert answers.codes == [0, 0, 0]
    catalog = stack.tiktok_catalog(STORE)
    assert [catalog[str(m)]["price_info"]["price"] for m in mugs] == [50, 51, 12, 13, 14]
    assert stack.queued() == 3  # the third edit waits for the catalog's hour, the two after it behind it
    assert stack.queued("CatalogDeadLetterQueue") == 0
    assert stack.status(STORE)["sync"]["state"] == "idle"


def test_products_accepted_before_a_fault_mid_split_are_not_uploaded_again(
    quick_retries: AppStack, monkeypatch: pytest.MonkeyPatch
):
    stack = quick_retries
    stack.tiktok.request_refusal_rules.append(refuse_marked_titles())
    store = stack.ecwid.add_store(STORE)
    bowls = [store.add_product(f"Bowl {n}" + (f" {MARKER}" if n == 7 else ""), 10 + n) for n in range(8)]
    dispatch, uploads = stack.tiktok.dispatch, [0]

    def third_upload_limited(request: Request) -> Response:
        if request.path.startswith(UPLOAD):
            uploads[0] += 1
            if uploads[0] == 3:  # the split's second half: 40100, as TikTok answers past a limit
                return stack.tiktok.rate_limited(request)
        return dispatch(request)

    monkeypatch.setattr(stack.tiktok, "dispatch", third_upload_limited)

    assert stack.connect(STORE).status_code == 302
    stack.run_worker(60, until_empty=True)

    assert set(stack.tiktok_catalog(STORE)) == {str(b) for b in bowls[:7]}
    sent = [sku for call in upload_calls(stack) for sku in call]
    assert [sent.count(str(b)) for b in bowls[:4]] == [2, 2, 2, 2]  # the whole batch, then the accepted half
