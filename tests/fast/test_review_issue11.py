"""Review of issue 11's engine changes (refusals, feed logs, freshness): inputs that break them.

Some tests were written where the review found a bug (all fixed since: each asserts the fixed behaviour), the others
document behaviour worth keeping. Unit tests drive `BatchUploader` over a small scripted TikTok; the others drive
a store over the fakes.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from sandboxes.tiktok_catalog import ProductIssue
from tests.fakes import FakeServices, _rejected
from tests.fast.steps import STORE_ID, fresh_services, install_store, store_of
from tests.fast.test_sync import connect, ecwid_event, full_sync, listed, on_tiktok, sku
from tiktok_channel.adapters.feed_log_file import UnreadableFile, parse_feed_log_file
from tiktok_channel.adapters.tiktok import TikTokClient
from tiktok_channel.catalog.freshness import DAY_SECONDS, refresh_due
from tiktok_channel.catalog.refusals import Refusal, read_refusal
from tiktok_channel.errors import TikTokError, TikTokRequestRejected
from tiktok_channel.models.catalog import SkuRecord
from tiktok_channel.models.store import CatalogTarget
from tiktok_channel.models.tiktok import FeedLog, FeedLogFileRow
from tiktok_channel.schedule import DEFAULT_CADENCE, cadence
from tiktok_channel.services.sync_uploads import BatchUploader

TARGET = CatalogTarget(store_id=1, bc_id="bc", catalog_id="cat", currency="USD", access_token=b"x")
FILE_URL = "https://feed-logs.tiktok.test/log.csv?X-Signature=s3cr3tsig&Expires=1"

Refuser = Callable[[list[dict[str, Any]]], tuple[int, str] | None]


class ScriptedTikTok:
    """Just what BatchUploader calls: `refuse` decides whole-request refusals, `fail` which SKUs the feed log
    fails (it names at most five), `file` what the feed log's file gives, `status` the log's process_status."""

    def __init__(
        self,
        refuse: Refuser = lambda products: None,
        *,
        fail: set[str] | None = None,
        file: Callable[[], list[FeedLogFileRow]] | None = None,
        status: str = "SUCCESS",
    ) -> None:
        self.refuse = refuse
        self.fail = fail or set()
        self.file = file
        self.status = status
        self.catalog: set[str] = set()
        self.calls: list[list[str]] = []
        self._logs: dict[str, dict[str, Any]] = {}

    def upload_products(self, token: str, *, bc_id: str, catalog_id: str, products: list[dict[str, Any]]) -> str:
        skus = [p["sku_id"] for p in products]
        self.calls.append(skus)
        refusal = self.refuse(products)
        if refusal is not None:
            raise _rejected(*refusal)
        failed = [s for s in skus if s in self.fail]
        self.catalog.update(s for s in skus if s not in self.fail)
        items = [{"index": 2 + skus.index(s), "sku_id": s} for s in failed[:5]]
        issue = {"field": "title", "issue": "Bad title", "affected_product_count": len(failed)}
        log_id = str(len(self._logs) + 1)
        self._logs[log_id] = {
            "process_status": self.status,
            "error_count": len(failed),
            "feed_log_data": {
                "error_affected_products": [issue | {"affected_product_item_list": items}] if failed else None,
                "download_path": {"en": FILE_URL} if failed and self.file else {},
            },
        }
        return log_id

    def feed_log(self, token: str, *, bc_id: str, catalog_id: str, feed_log_id: str) -> FeedLog:
        return FeedLog.model_validate(self._logs[feed_log_id])

    def feed_log_file(self, url: str) -> list[FeedLogFileRow]:
        assert self.file is not None
        return self.file()

    def products_by_sku(self, token: str, *, bc_id: str, catalog_id: str, sku_ids: list[str]) -> list[Any]:
        from tiktok_channel.models.tiktok import CatalogItem

        return [
            CatalogItem.model_validate({"sku_id": s, "audit": {"audit_status": "processing"}})
            for s in sku_ids
            if s in self.catalog
        ]


def batch(n: int) -> list[dict[str, Any]]:
    return [{"sku_id": f"p{i}", "title": f"Tee {i}"} for i in range(n)]


def upload(tiktok: ScriptedTikTok, products: list[dict[str, Any]], max_refused: int = 10):
    uploader = BatchUploader(
        tiktok,  # type: ignore[arg-type]
        "token",
        TARGET,
        max_refused=max_refused,
        batch_size=len(products),
        sleep=lambda _: None,
    )
    return uploader.upload(products)


def refuse_when(bad: set[str], message: Callable[[list[str], str], str]) -> Refuser:
    """Refuse any request carrying one of `bad`, with `message(request's skus, first bad sku)`."""

    def refuse(products: list[dict[str, Any]]) -> tuple[int, str] | None:
        skus = [p["sku_id"] for p in products]
        first = next((s for s in skus if s in bad), None)
        return None if first is None else (40002, message(skus, first))

    return refuse


# -- a refusal whose named product is not the cause --------------------------------------------------------------
def test_an_index_counted_like_the_feed_log_does_not_condemn_good_products():
    tiktok = ScriptedTikTok(refuse_when({"p3"}, lambda skus, bad: f"products[{skus.index(bad) + 2}].title: Bad title"))

    outcome = upload(tiktok, batch(10))

    assert set(outcome.refused) <= {"p3"}
    assert outcome.accepted >= {f"p{i}" for i in range(10)} - {"p3"}


def test_a_message_naming_the_first_product_whatever_the_cause_does_not_condemn_it():
    tiktok = ScriptedTikTok(refuse_when({"p40"}, lambda skus, bad: "products[0].title: Bad title"))

    outcome = upload(tiktok, batch(64))

    assert set(outcome.refused) <= {"p40"}


def test_a_wrongly_named_product_costs_no_more_calls_than_the_budget():
    tiktok = ScriptedTikTok(refuse_when({"p900"}, lambda skus, bad: "products[0].title: Bad title"))

    outcome = upload(tiktok, batch(1000), max_refused=10)

    assert outcome.calls <= 1 + 2 * 10 * 10  # it ends, within the budget (though 200 good products pay for it)
    assert "p900" not in outcome.accepted


# -- both halves refused alike ---------------------------------------------------------------------------------------
def test_two_products_refused_with_one_message_do_not_condemn_the_whole_batch():
    tiktok = ScriptedTikTok(refuse_when({"p0", "p7"}, lambda skus, bad: "products.title: Emojis are not allowed"))

    outcome = upload(tiktok, batch(8))

    assert set(outcome.refused) == {"p0", "p7"}
    assert outcome.accepted == {f"p{i}" for i in range(1, 7)}


def test_over_the_fakes_good_products_reach_tiktok_when_two_share_a_refusal_message(monkeypatch: pytest.MonkeyPatch):
    services = fresh_services()
    install_store(services)
    products = [services.ecwid().add_product(STORE_ID, f"Tee {n}") for n in range(100)]
    bad = {sku(products[10]), sku(products[90])}
    tiktok = services.tiktok()
    real = tiktok.upload_products

    def upload_products(token: str, **kwargs: Any) -> str:
        if bad & {p["sku_id"] for p in kwargs["products"]}:
            tiktok.catalog_of(str(STORE_ID)).refused.append([p["sku_id"] for p in kwargs["products"]])
            raise _rejected(40002, "products.title: Emojis and control characters are not allowed")
        return real(token, **kwargs)

    monkeypatch.setattr(tiktok, "upload_products", upload_products)

    connect(services)
    full_sync(services)

    assert set(on_tiktok(services)) == {sku(p) for p in products} - bad


# -- the store's refusal or a product's --------------------------------------------------------------------------
def test_one_product_refused_with_a_products_colon_message_does_not_stop_the_store(monkeypatch: pytest.MonkeyPatch):
    services = fresh_services()
    install_store(services)
    products = [services.ecwid().add_product(STORE_ID, f"Tee {n}") for n in range(10)]
    bad = sku(products[4])
    tiktok = services.tiktok()
    real = tiktok.upload_products

    def upload_products(token: str, **kwargs: Any) -> str:
        if bad in {p["sku_id"] for p in kwargs["products"]}:
            raise _rejected(40002, "products: title must not contain promotional text")
        return real(token, **kwargs)

    monkeypatch.setattr(tiktok, "upload_products", upload_products)

    connect(services)
    full_sync(services)

    assert set(on_tiktok(services)) == {sku(p) for p in products} - {bad}
    assert store_of(services).notice is None


def test_a_number_in_the_message_is_not_taken_for_a_sku():
    assert read_refusal(40002, "products.sku_id: at most 100 characters", ["7", "100"]) == Refusal("field")


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("products[-1].title: bad", Refusal("field")),
        ("products[99999999999999999999].title: bad", Refusal("field")),
        ("products[1].title: bad; products[0].title: bad", Refusal("product", 1)),
        ("products.title: bad (sku_id: a-1)", Refusal("product", 1)),  # not the SKU "a" it starts with
        ("products.title: bad (sku_id: ab)", Refusal("field")),  # "a" is a substring, not the SKU
        ("products.title: « Tëe 🎉 » is not allowed (sku_id: a)", Refusal("product", 0)),
        ("products.title: " + "x" * 500, Refusal("field")),
    ],
)
def test_odd_refusal_messages_are_read_safely(message: str, expected: Refusal):
    assert read_refusal(40002, message, ["a", "a-1", "b"]) == expected


def test_a_request_level_refusal_mid_split_becomes_the_stores_notice():
    def refuse(products: list[dict[str, Any]]) -> tuple[int, str] | None:
        skus = {p["sku_id"] for p in products}
        if "p1" in skus and len(skus) > 2:
            return 40002, "products.title: Bad title"
        if "p1" in skus:
            return 40002, "catalog_id: the catalog does not exist."
        return None

    with pytest.raises(TikTokRequestRejected) as raised:
        upload(ScriptedTikTok(refuse), batch(4))
    assert type(raised.value).__name__ == "CatalogUploadRefused"


@pytest.mark.parametrize("size", [1, 2, 3])
def test_small_batches_isolate_the_refused_product(size: int):
    tiktok = ScriptedTikTok(refuse_when({"p0"}, lambda skus, bad: "products.title: Bad title"))

    outcome = upload(tiktok, batch(size))

    assert set(outcome.refused) == {"p0"}
    assert outcome.accepted == {f"p{i}" for i in range(1, size)}


def test_every_product_refused_with_its_own_message_stays_within_the_budget():
    tiktok = ScriptedTikTok(refuse_when({f"p{i}" for i in range(300)}, lambda skus, bad: f"products.title: {bad}"))

    outcome = upload(tiktok, batch(300), max_refused=2)

    assert outcome.calls <= 1 + 2 * 9 * 2
    assert outcome.accepted == set()
    assert set(outcome.refused) | set(outcome.unresolved) == {f"p{i}" for i in range(300)}


# -- feed logs -------------------------------------------------------------------------------------------------------
def test_a_failed_feed_task_does_not_accept_the_batch():
    outcome = upload(ScriptedTikTok(status="FAILED"), batch(3))

    assert outcome.accepted == set()


def test_a_semicolon_file_does_not_turn_unnamed_failures_into_accepted_ones():
    failing = {f"p{i}" for i in range(7)}
    content = "index;sku_id;issue\n" + "".join(f"{i + 2};p{i};Bad title\n" for i in range(7))
    tiktok = ScriptedTikTok(fail=failing, file=lambda: parse_feed_log_file(content.encode()))

    outcome = upload(tiktok, batch(10))

    assert outcome.accepted == {"p7", "p8", "p9"}


def test_file_rows_for_other_skus_do_not_complete_the_count():
    failing = {f"p{i}" for i in range(7)}
    rows = [FeedLogFileRow(sku_id=s, issue="Bad title") for s in ("p0", "x1", "x2")]
    tiktok = ScriptedTikTok(fail=failing, file=lambda: rows)

    outcome = upload(tiktok, batch(10))

    assert not outcome.accepted & failing


def test_a_complete_file_gives_every_failure_its_reason():
    failing = {f"p{i}" for i in range(7)}
    rows = [FeedLogFileRow(sku_id=f"p{i}", issue="Bad title") for i in range(7)] * 2  # duplicate rows
    outcome = upload(ScriptedTikTok(fail=failing, file=lambda: rows), batch(10))

    assert set(outcome.failed) == failing
    assert outcome.accepted == {"p7", "p8", "p9"}
    assert all(len(reasons) == 1 for reasons in outcome.failed.values())


@pytest.mark.parametrize(
    "content",
    [
        "\ufeffindex,SKU ID,Issue\n2,p0,Bad\n",
        'index,sku_id,issue\n2,p0,"Bad\nover two lines"\n',
        json.dumps({"code": 0, "data": [{"sku_id": "p0", "error": "Bad"}]}),
        json.dumps([{"sku_id": 7, "reason": "Bad"}]).replace("7", '"p0"'),
    ],
    ids=["bom", "quoted newline", "json object", "json list"],
)
def test_feed_log_file_shapes_that_read(content: str):
    rows = parse_feed_log_file(content.encode())
    assert [row.sku_id for row in rows] == ["p0"]
    assert rows[0].issue is not None
    assert rows[0].issue.startswith("Bad")


def test_a_file_without_a_sku_column_is_unreadable():
    with pytest.raises(UnreadableFile):
        parse_feed_log_file(b"index,title,issue\n2,Tee,Bad\n")


@pytest.mark.parametrize(
    "content",
    [b"sku_id,issue\np0," + b"x" * 200_000 + b"\n", b"[" * 100_000 + b"]" * 100_000],
    ids=["long csv field", "deep json"],
)
def test_hostile_feed_log_files_are_unreadable_not_crashes(content: bytes):
    def serve(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=content)

    client = TikTokClient(
        httpx.Client(transport=httpx.MockTransport(serve)), api_url="https://api.test", app_id="a", secret="s"
    )
    with contextlib.suppress(TikTokError):
        client.feed_log_file(FILE_URL)


def test_a_feed_log_file_error_never_carries_its_signed_link():
    def serve(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, content=b"denied")

    client = TikTokClient(
        httpx.Client(transport=httpx.MockTransport(serve)), api_url="https://api.test", app_id="a", secret="s"
    )
    with pytest.raises(TikTokError) as raised:
        client.feed_log_file(FILE_URL)
    assert "s3cr3tsig" not in str(raised.value)
    assert "s3cr3tsig" not in repr(raised.value.__dict__)


# -- the store's refusal notice --------------------------------------------------------------------------------------
def test_the_permission_notice_is_cleared_only_by_something_tiktok_accepted(monkeypatch: pytest.MonkeyPatch):
    services = fresh_services()
    install_store(services)
    services.ecwid().add_product(STORE_ID, "Tee")
    tiktok = services.tiktok()

    def upload_products(token: str, **kwargs: Any) -> str:
        raise _rejected(40001, "No permission to operate the catalog.")

    monkeypatch.setattr(tiktok, "upload_products", upload_products)
    assert connect(services) == ["refused"]
    assert store_of(services).notice is not None

    assert ecwid_event(services, "product.deleted", 987654) == ["applied"]

    notice = store_of(services).notice
    assert notice is not None
    assert notice.code == "tiktok_permission_missing"


def test_a_refused_product_goes_again_once_it_changes_even_to_content_refused_before(store_services: FakeServices):
    services = store_services
    mug = services.ecwid().add_product(STORE_ID, "Mug free shipping")
    services.tiktok().request_refusal_rules.append(
        lambda f: ProductIssue("title", "Promotional text", "Remove it.") if "free" in f["title"] else None
    )
    connect(services)
    assert set(listed(services, "rejected")) == {sku(mug)}

    services.ecwid().update_product(STORE_ID, mug, name="Mug")
    ecwid_event(services, "product.updated", mug)
    services.tiktok().request_refusal_rules.clear()  # TikTok's rule went away; the old content is fine now
    services.ecwid().update_product(STORE_ID, mug, name="Mug free shipping")
    ecwid_event(services, "product.updated", mug)

    assert on_tiktok(services)[sku(mug)]["title"] == "Mug free shipping"


@pytest.fixture
def store_services(services: FakeServices) -> FakeServices:
    install_store(services)
    return services


# -- freshness ---------------------------------------------------------------------------------------------------
def _record(sku_id: str, uploaded_at: str | None) -> SkuRecord:
    return SkuRecord.model_validate(
        {
            "sku_id": sku_id,
            "product_id": 1,
            "status": "listed",
            "on_tiktok": True,
            "hash": "h",
            "uploaded_at": uploaded_at,
        }
    )


def test_odd_upload_times_do_not_break_the_refresh():
    now = datetime(2026, 11, 30, 6, tzinfo=UTC).timestamp()
    records = [
        _record("future", datetime.fromtimestamp(now + DAY_SECONDS, UTC).isoformat()),  # clock went backwards
        _record("garbage", "yesterday"),
        _record("naive", "2020-01-01T00:00:00"),
        _record("empty", ""),
    ]
    due = refresh_due(records, now=now, refresh_days=7, cadence=DEFAULT_CADENCE)
    assert "future" not in due
    assert "naive" in due  # years old: overdue, whatever its zone
    assert len(due) <= 1  # ⌈4 / 12⌉


def _longest_gap(expression: str, run_hours: list[float], every_days: int, refresh_days: int) -> float:
    """Days between two uploads of one unchanged SKU at most, over 200 days of the schedule's runs."""
    runs = [d * DAY_SECONDS + h * 3600 for d in range(0, 200, every_days) for h in run_hours]
    uploaded = {f"s{i}": runs[0] for i in range(60)}
    longest = 0.0
    for at in runs[1:]:
        records = [_record(s, datetime.fromtimestamp(u, UTC).isoformat()) for s, u in uploaded.items()]
        for s in refresh_due(records, now=at, refresh_days=refresh_days, cadence=cadence(expression)):
            longest = max(longest, at - uploaded[s])
            uploaded[s] = at
    return max(longest, *(runs[-1] - u for u in uploaded.values())) / DAY_SECONDS


def test_the_default_schedule_refreshes_within_refresh_days():
    assert _longest_gap("cron(0 6,18 * * ? *)", [6, 18], 1, 7) <= 7


def test_a_schedule_every_two_days_still_refreshes_before_tiktok_expires():
    assert _longest_gap("rate(2 days)", [0], 2, 29) < 30


def test_an_uneven_schedule_gives_every_slot_its_run():
    assert _longest_gap("cron(0 6,7 * * ? *)", [6, 7], 1, 7) <= 7


# -- the catalog's hourly allowance --------------------------------------------------------------------------------
def test_a_store_wide_refusal_with_the_value_in_its_message_stays_within_the_catalogs_hourly_allowance():
    services = fresh_services({"TIKTOK_UPLOAD_BATCH_SIZE": "100"})
    install_store(services)
    for n in range(1000):
        services.ecwid().add_product(STORE_ID, f"Tee {n} free shipping")
    services.tiktok().request_refusal_rules.append(
        lambda f: (
            ProductIssue("title", "Promotional text is not allowed", "Remove it.") if "free" in f["title"] else None
        )
    )

    connect(services)

    catalog = services.tiktok().catalog_of(str(STORE_ID))
    assert len(catalog.uploads) + len(catalog.refused) < 1000


def test_many_named_refusals_do_not_exhaust_the_stack():
    everything = {f"p{i}" for i in range(1000)}
    tiktok = ScriptedTikTok(refuse_when(everything, lambda skus, bad: f"products[{skus.index(bad)}].title: Bad"))

    outcome = upload(tiktok, batch(1000), max_refused=100)

    assert set(outcome.refused) | set(outcome.unresolved) == everything
