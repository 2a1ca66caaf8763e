"""One benchmark size: synthetic stores connected through the real callback, then their syncs measured.

Three groups of scenarios (`python -m bench --scenarios …` picks them), each on a store of its own in the size's
stack (every store built from the same seed, each connected to a TikTok catalog of its own):

- "syncs" (every size):
  1. first sync: the "replace" job the TikTok callback queued, over a TikTok catalog holding stale SKUs;
  2. re-sync, nothing changed: a "full" job queued by POST /api/stores/{id}/sync, 61 s of clock after the first
     (within one schedule interval of its uploads, so no SKU is due for a refresh);
  3. re-sync, 1% of the products changed (price edits in the sandbox Ecwid), queued the same way.
- "refusals" (10,000 products by default): the first sync of a fresh store where TikTok refuses, whole, any upload
  carrying one of 10 SKUs the app's own checks pass (chosen with the bench seed among the SKUs the store shows),
  once with TikTok's message naming only the field, once naming the product's position ("index" form). A first
  sync rather than a re-sync of 10 edited products: the refused SKUs then sit at random positions among full
  batches (14 of up to 1,000 SKUs at 10,000 products), which is what isolating them must cope with, where a
  re-sync would send them together in one small batch; it costs a few seconds more than a re-sync of the same
  store would (a 10,000-product first sync is ~26 s against ~20 s for a re-sync), the extra upload calls,
  paced by TikTok's 5 uploads/s, costing the same either way. The bound is then the first sync's own
  ⌈SKUs/batch⌉ plus 2·k·⌈log2(batch)⌉ (field form) or k (index form), k = 10.
- "freshness" (1,000 products by default): after a first sync, 15 days of the schedule's full syncs with nothing
  changed, every clock (the app's, the worker's, both sandboxes') moved one schedule interval (12 h) before each.
- "purchases" (at 1,000 by default; its store has 100 products whatever the size): the storefront script's size
  and the purchase path's calls per order (bench.purchases).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.calls import busiest_window, by_endpoint, describe, upload_times_by_catalog, uploaded_skus
from bench.expect import Expectation, allowed, catalog_state, expect, sizeless_image_urls, store_skus
from bench.purchases import run_purchases
from bench.stack import BenchError, BenchStack
from localrun.stack import ROOT, LocalStack, expect_status
from sandboxes.ecwid import EcwidSandbox
from sandboxes.ecwid_catalog import EcwidStore
from sandboxes.ecwid_images import parse_image_name
from sandboxes.tiktok import CatalogProduct, TikTokSandbox
from sandboxes.tiktok_catalog import RefusalMessageNames, refuse_skus
from tiktok_channel.schedule import runs_per_day

STORE_ID = 4_242_001
STALE_SKU_BASE = 690_000_001  # below the sandbox Ecwid's product ids: never one of the store's SKUs
BETWEEN_SYNCS_SECONDS = 61.0  # Ecwid's per-minute window: one sync's calls do not count against the next's

FIRST_SYNC = "first sync (replace)"
NOTHING_CHANGED = "re-sync, nothing changed"
ONE_PERCENT = "re-sync, 1% changed"
REFUSED_FIELD = "first sync, 10 refused (message names the field)"
REFUSED_INDEX = "first sync, 10 refused (message names the product)"
FRESHNESS = "15 days of twice-daily syncs, nothing changed"
SCENARIOS = (FIRST_SYNC, NOTHING_CHANGED, ONE_PERCENT, REFUSED_FIELD, REFUSED_INDEX, FRESHNESS)

GROUPS = ("syncs", "refusals", "freshness", "purchases")
GROUP_SIZES = {
    "refusals": 10_000,
    "freshness": 1_000,
    "purchases": 1_000,
}  # where a group runs unless --scenarios names it
REFUSED_SKUS = 10
REFUSAL_FORMS: dict[str, RefusalMessageNames] = {REFUSED_FIELD: "field", REFUSED_INDEX: "index"}
REFUSAL_ISSUE = "Promotional text is not allowed in titles"
FRESHNESS_DAYS = 15
HOURLY_UPLOADS = 1000  # TikTok's upload calls per hour per catalog
# Each group's store: its own id (and so its own TikTok catalog) in the size's stack.
STORE_IDS = {
    "syncs": STORE_ID,
    REFUSED_FIELD: STORE_ID + 1,
    REFUSED_INDEX: STORE_ID + 2,
    "freshness": STORE_ID + 3,
    "purchases": STORE_ID + 4,
}


@dataclass(frozen=True)
class Settings:
    seed: int
    latency_seconds: float
    stale_share: float
    change_share: float
    timeout_seconds: float


ENGINE_SOURCES = ("layers/shared/tiktok_channel", "functions/catalog_worker", "template.yaml")


def engine_fingerprint() -> str:
    """A short hash of the code the worker process loads (the shared package, the handler, the template), so that
    a run whose engine changed between syncs (others edit it meanwhile) says so."""
    digest = hashlib.sha256()
    for source in ENGINE_SOURCES:
        path = ROOT / source
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(ROOT)).encode())
            with contextlib.suppress(OSError):  # removed meanwhile
                digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def add_stale_skus(tiktok: TikTokSandbox, catalog_id: str, count: int) -> set[str]:
    """SKUs of products since deleted from the store, put straight into TikTok's state (not through the app):
    reviewed long ago and approved, as an earlier catalog would hold them."""
    stale: set[str] = set()
    with tiktok.lock:
        catalog = tiktok.catalogs[catalog_id]
        long_ago = tiktok.clock.now() - 30 * 86_400
        for index in range(count):
            sku_id = str(STALE_SKU_BASE + index)
            fields = {
                "sku_id": sku_id,
                "title": f"Discontinued item {index + 1}",
                "description": "No longer sold.",
                "availability": "OUT_OF_STOCK",
                "price_info": {"price": 9.99, "currency": catalog.currency},
                "image_url": f"https://cdn.example.com/discontinued/{sku_id}.jpg",
                "landing_page": {"landing_page_url": f"https://example.com/p{sku_id}"},
                "product_detail": {"condition": "NEW"},
            }
            catalog.products[sku_id] = CatalogProduct(
                fields,
                audit_status="approved",
                uploaded_at=long_ago,
                product_id=str(7_300_000_000_000_000_000 + index),
                image_status="SUCCESS",
            )
            stale.add(sku_id)
    return stale


def edit_prices(ecwid: EcwidSandbox, store: EcwidStore, share: float, seed: int) -> set[int]:
    """Lower the price of `share` of the products (and of their variations) by 10%, as a merchant would."""
    rng = random.Random(seed + 1)
    with ecwid.lock:
        ids = sorted(store.products)
        chosen = rng.sample(ids, max(1, round(len(ids) * share)))
        for product_id in chosen:
            product = store.products[product_id]
            store.update_product(product_id, price=round(product.price * 0.9, 2))
            for combination in product.combinations:
                if combination.price is not None:
                    store.update_combination(product_id, combination.id, price=round(combination.price * 0.9, 2))
    return set(chosen)


def _table_diff(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> dict[str, int]:
    """SKU items the table shows as written: new, changed (updated_at, which every write stamps, or the state),
    removed."""
    new = len(after.keys() - before.keys())
    removed = len(before.keys() - after.keys())
    changed = sum(1 for sku, item in after.items() if sku in before and before[sku] != item)
    return {"new": new, "changed": changed, "removed": removed, "total": new + changed + removed}


def timeline(grouped: dict[str, list[Any]], offsets: dict[str, float], started_at: float) -> dict[str, Any]:
    """When each endpoint was called, in seconds from the start of the sync (sandbox clocks put back on wall time)."""
    found: dict[str, Any] = {}
    for endpoint, calls in sorted(grouped.items()):
        offset = offsets["ecwid" if endpoint.startswith("ecwid") else "tiktok"]
        times = sorted(c.at - offset - started_at for c in calls)
        found[endpoint] = {"calls": len(times), "first_s": round(times[0], 2), "last_s": round(times[-1], 2)}
    return found


def image_gets(ecwid: EcwidSandbox, store: EcwidStore, calls: list[Any], sizeless: int) -> dict[str, Any]:
    """The ranged image GETs: of originals, and of Ecwid's resized copies of them."""
    copies = 0
    with ecwid.lock:
        for call in calls:
            parsed = parse_image_name(call.path.rsplit("/", 1)[-1])
            spec = store.images.get(parsed[0]) if parsed else None
            if parsed is not None and spec is not None and (parsed[1], parsed[2]) != (spec.width, spec.height):
                copies += 1
    return {
        "measured": len(calls),
        "distinct_images": len({c.path for c in calls}),
        "of_resized_copies": copies,
        "sizeless_images_in_store": sizeless,
        "note": "ranged GETs of images whose size Ecwid's JSON lacks (remembered per URL in DynamoDB after)",
    }


def _endpoints(exp: Expectation, grouped: dict[str, list[Any]]) -> dict[str, dict[str, Any]]:
    bounds = exp.bounds()
    rows: dict[str, dict[str, Any]] = {}
    names = list(bounds) + sorted(e for e in grouped if e not in bounds and e != "ecwid images")
    for endpoint in names:
        calls = grouped.get(endpoint, [])
        spec = bounds.get(endpoint, {"bound": 0, "formula": "0 (not needed by a sync)"})
        row: dict[str, Any] = {
            "measured": len(calls),
            "bound": spec["bound"],
            "allowed": allowed(spec["bound"]),
            "formula": spec["formula"],
        }
        row["pass"] = row["measured"] <= row["allowed"]
        if not row["pass"]:
            row["evidence"] = describe(endpoint, calls, exp.upserts if endpoint == "tiktok upload" else None)
        rows[endpoint] = row
    ecwid_api = [e for e in rows if e.startswith("ecwid ")]
    bound = (
        1
        + bounds["ecwid categories"]["bound"]
        + bounds["ecwid products"]["bound"]
        + bounds["ecwid storage writes"]["bound"]
    )
    measured = sum(rows[e]["measured"] for e in ecwid_api)
    rows["ecwid API total"] = {
        "measured": measured,
        "bound": bound,
        "allowed": allowed(bound),
        "formula": "1 + ⌈categories/100⌉ + ⌈products/100⌉ + storage writes",
        "pass": measured <= allowed(bound),
    }
    return rows


# What a write to a SKU item shows: the time every write stamps, and the state a write without a new stamp changes.
SKU_FIELDS = ("updated_at", "status", "on_tiktok", "hash")


def run_scenario(
    bench: BenchStack,
    *,
    store: EcwidStore,
    store_id: int,
    name: str,
    size: int,
    slug: str,
    job_id: str,
    exp: Expectation,
    settings: Settings,
    sent_out: Counter[str] | None = None,
) -> dict[str, Any]:
    """Run the catalog worker until the queue is empty and measure what it did; `sent_out` gets the SKUs it
    uploaded (how many times each)."""
    stack = bench.stack
    before = stack.sku_items(store_id, SKU_FIELDS)
    stack.ecwid.reset_calls()
    stack.tiktok.reset_calls()
    fingerprint = engine_fingerprint()
    run = bench.run_worker(f"worker-{slug}", settings.timeout_seconds)
    ecwid_calls = stack.ecwid.calls_to("")
    tiktok_calls = stack.tiktok.calls_to("")
    now = time.time()
    offsets = {"ecwid": stack.ecwid.clock.now() - now, "tiktok": stack.tiktok.clock.now() - now}
    after = stack.sku_items(store_id, SKU_FIELDS)
    item = stack.store_item(store_id)
    catalog_id = str(item["tiktok"]["catalog_id"])
    catalog = catalog_state(stack.tiktok, catalog_id)
    for catalog_uploads, times in upload_times_by_catalog(tiktok_calls).items():
        bench.upload_calls.setdefault(catalog_uploads, []).extend(times)

    grouped = by_endpoint(ecwid_calls, tiktok_calls)
    endpoints = _endpoints(exp, grouped)
    images = grouped.get("ecwid images", [])
    sent = uploaded_skus(grouped.get("tiktok upload", []))
    if sent_out is not None:
        sent_out.update(sent)
    sync = item.get("sync") or {}
    finished = sync.get("state") == "idle" and sync.get("job_id") == job_id and not run.result["timed_out"]
    extra = set(catalog) - exp.expected_after
    missing = exp.expected_after - set(catalog)
    dynamodb = run.result["dynamodb"]
    return {
        "size": size,
        "scenario": name,
        "mode": exp.mode,
        "store_id": store_id,
        "job_id": job_id,
        "engine_fingerprint": fingerprint,
        "wall_seconds": run.result["wall_seconds"],
        "worker_init_seconds": run.result["init_seconds"],
        "peak_rss_mb": run.result["peak_rss_mb"],
        "rss_after_init_mb": run.result["rss_after_init_mb"],
        "ru_maxrss_mb": run.result["ru_maxrss_mb"],
        "rss": run.result.get("rss", {}),
        "endpoints": endpoints,
        "ecwid_image_gets": image_gets(stack.ecwid, store, images, exp.sizeless_images),
        "cpu_seconds": run.cpu_seconds,
        "timeline": timeline(grouped, offsets, float(run.result["started_at"])),
        "tiktok_writes": len(grouped.get("tiktok upload", [])) + len(grouped.get("tiktok delete", [])),
        "upload_calls_busiest_hour": busiest_window(bench.upload_calls.get(catalog_id, [])),
        "skus": {
            "to_upsert": len(exp.upserts),
            "sent": sum(sent.values()),
            "sent_distinct": len(sent),
            "to_delete": len(exp.deletes),
            "pending_before": exp.pending,
            "tiktok_skus_listed": exp.tiktok_skus_listed,
            "store_shows": len(exp.expected_after),
        },
        "dynamodb": {
            **dynamodb,
            "engine_catalog_items_written": run.result["engine_catalog_items_written"],
            "sku_items_changed_in_table": _table_diff(before, after),
        },
        "sync": {
            "finished": finished,
            "state": sync.get("state"),
            "last_result": sync.get("last_result"),
            "products": {k: int(v) for k, v in (item.get("products") or {}).items()},
            "deliveries": run.result["deliveries"],
            "timed_out": run.result["timed_out"],
            "tiktok_paused_until": stack.tiktok.paused_until,
        },
        "catalog_equals_store": not extra and not missing,
        "catalog_difference": {"extra": sorted(extra)[:10], "missing": sorted(missing)[:10]},
        "worker_log": str(run.log),
    }


@dataclass
class Connected:
    """A synthetic store connected through the real install and TikTok callback, its first sync queued."""

    store_id: int
    store: EcwidStore
    shown: dict[str, int]  # sku_id → product id of the SKUs the store shows
    sizeless: int
    catalog_id: str
    job_id: str  # the first sync's
    setup: dict[str, Any]


def connect_store(bench: BenchStack, store_id: int, size: int, settings: Settings) -> Connected:
    """Build the store in the sandbox Ecwid (same seed for every store), connect it, and put stale SKUs into its
    new TikTok catalog."""
    stack = bench.stack
    started = time.perf_counter()
    store = stack.ecwid.build_synthetic_store(store_id, products=size, seed=settings.seed)
    shown = store_skus(stack.ecwid, store)
    sizeless = sizeless_image_urls(stack.ecwid, store)
    built = time.perf_counter() - started
    started = time.perf_counter()
    queued_before = stack.queued()
    expect_status(stack.connect(store_id), 302, "the app's TikTok callback")
    connected = time.perf_counter() - started
    item = stack.store_item(store_id)
    if item.get("status") != "connected" or (item.get("sync") or {}).get("state") != "queued":
        raise BenchError(f"after the TikTok callback the store is {item.get('status')}, sync {item.get('sync')}")
    if stack.queued() != queued_before + 1:
        raise BenchError(f"the TikTok callback should have queued one sync message; the queue holds {stack.queued()}")
    catalog_id = str(item["tiktok"]["catalog_id"])
    stale = add_stale_skus(stack.tiktok, catalog_id, round(settings.stale_share * len(shown)))
    setup = {
        "products": size,
        "skus_shown": len(shown),
        "stale_skus": len(stale),
        "build_seconds": round(built, 1),
        "connect_seconds": round(connected, 1),
    }
    return Connected(store_id, store, shown, sizeless, catalog_id, str(item["sync"]["job_id"]), setup)


def listed_products(stack: LocalStack, store_id: int, status: str) -> list[dict[str, Any]]:
    """Every product the merchant's page lists under `status` (GET /api/stores/{id}/products, page by page)."""
    headers = {"Authorization": f"Bearer {stack.open_session(store_id)}"}
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"status": status} | ({"cursor": cursor} if cursor else {})
        answer = stack.http.get(f"/api/stores/{store_id}/products", params=params, headers=headers)
        page = expect_status(answer, 200, "GET /api/stores/{id}/products").json()
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return items


@dataclass
class Size:
    """One size's run: its stack, settings, and where its results and facts go."""

    bench: BenchStack
    size: int
    settings: Settings
    say: Callable[[str], None]
    results: list[dict[str, Any]]
    setup: dict[str, Any]
    series: list[dict[str, Any]]
    purchases: list[dict[str, Any]] = field(default_factory=list)  # bench.purchases results

    def expectation(self, connected: Connected, mode: str, upserts: set[str]) -> Expectation:
        return expect(
            mode=mode,
            ecwid=self.bench.stack.ecwid,
            store=connected.store,
            tiktok=self.bench.stack.tiktok,
            catalog_id=connected.catalog_id,
            batch_size=self.bench.upload_batch_size,
            upserts=upserts,
            sizeless_images=connected.sizeless,
        )

    def sync(
        self,
        connected: Connected,
        name: str,
        slug: str,
        job_id: str,
        exp: Expectation,
        sent_out: Counter[str] | None = None,
    ) -> dict[str, Any]:
        """One sync of the connected store, run and measured (see run_scenario)."""
        return run_scenario(
            self.bench,
            store=connected.store,
            store_id=connected.store_id,
            name=name,
            size=self.size,
            slug=slug,
            job_id=job_id,
            exp=exp,
            settings=self.settings,
            sent_out=sent_out,
        )

    def measure(self, connected: Connected, name: str, job_id: str, exp: Expectation) -> dict[str, Any]:
        """One sync measured; its result is appended to `results` as soon as it is known."""
        self.say(f"  {self.size}: {name} …")
        result = self.sync(connected, name, f"{self.size}-{SCENARIOS.index(name) + 1}", job_id, exp)
        self.results.append(result)
        cpu = result["cpu_seconds"]
        self.say(
            f"  {self.size}: {name}: {result['wall_seconds']:.1f} s, peak RSS {result['peak_rss_mb']:.0f} MB; CPU s: "
            f"worker {cpu['worker']:.1f}, sandboxes {cpu['sandboxes_and_routes']:.1f}, moto {cpu['moto']:.1f}, "
            f"other processes {cpu['other_processes']:.1f}"
        )
        return result


def run_size(size: Size, groups: list[str]) -> None:
    """The chosen groups of scenarios, in order; facts about their set-up go into `size.setup`."""
    for group in GROUPS:
        if group in groups:
            runner = {"syncs": run_syncs, "refusals": run_refusals, "freshness": run_freshness}.get(
                group, run_purchases
            )
            runner(size)


def run_syncs(size: Size) -> None:
    """The first sync, a re-sync with nothing changed and one with `change_share` of the products changed."""
    bench, stack = size.bench, size.bench.stack
    connected = connect_store(bench, STORE_IDS["syncs"], size.size, size.settings)
    size.setup |= connected.setup
    size.say(
        f"  {size.size}: store built ({len(connected.shown)} SKUs shown, {connected.setup['stale_skus']} stale SKUs "
        "on TikTok), connected"
    )
    size.measure(connected, FIRST_SYNC, connected.job_id, size.expectation(connected, "replace", set(connected.shown)))
    stack.ecwid.clock.advance(BETWEEN_SYNCS_SECONDS)
    job_id = stack.request_sync(connected.store_id)
    size.measure(connected, NOTHING_CHANGED, job_id, size.expectation(connected, "full", set()))
    stack.ecwid.clock.advance(BETWEEN_SYNCS_SECONDS)
    changed = edit_prices(stack.ecwid, connected.store, size.settings.change_share, size.settings.seed)
    size.setup["products_changed"] = len(changed)
    changed_skus = {
        sku for sku, product_id in store_skus(stack.ecwid, connected.store).items() if product_id in changed
    }
    job_id = stack.request_sync(connected.store_id)
    size.measure(connected, ONE_PERCENT, job_id, size.expectation(connected, "full", changed_skus))


def run_refusals(size: Size) -> None:
    """Two first syncs of fresh stores where TikTok refuses whole any upload carrying one of 10 chosen SKUs: with
    a message naming only the field, then one naming the product's position."""
    tiktok = size.bench.stack.tiktok
    for name, form in REFUSAL_FORMS.items():
        connected = connect_store(size.bench, STORE_IDS[name], size.size, size.settings)
        refused = set(random.Random(size.settings.seed).sample(sorted(connected.shown), REFUSED_SKUS))
        exp = size.expectation(connected, "replace", set(connected.shown))
        exp.expected_after -= refused
        if form == "field":
            exp.extra_uploads = 2 * len(refused) * math.ceil(math.log2(exp.batch_size))
            exp.extra_formula = f" + 2·{len(refused)} refused·⌈log2 {exp.batch_size}⌉"
        else:
            exp.extra_uploads = len(refused)
            exp.extra_formula = f" + {len(refused)} refused"
        positions = sorted(sorted(connected.shown).index(sku) for sku in refused)
        size.setup.setdefault("refusals", {})[name] = {**connected.setup, "refused_skus": sorted(refused)}
        size.say(f"  {size.size}: store {connected.store_id} connected; TikTok refuses {sorted(refused)} ({form} form)")
        rule = refuse_skus(refused, field="title", issue=REFUSAL_ISSUE)
        names_before = tiktok.refusal_message_names
        tiktok.request_refusal_rules.append(rule)
        tiktok.refusal_message_names = form
        try:
            result = size.measure(connected, name, connected.job_id, exp)
        finally:
            tiktok.request_refusal_rules.remove(rule)
            tiktok.refusal_message_names = names_before
        rejected = {p["sku_id"]: p for p in listed_products(size.bench.stack, connected.store_id, "rejected")}
        messages = {sku: [r["message"] for r in rejected[sku]["reasons"]] for sku in refused if sku in rejected}
        result["refusals"] = {
            "message_form": form,
            "refused_skus": sorted(refused),
            "positions_among_skus_by_id": positions,
            "rejected_listed": sorted(rejected),
            "refused_not_listed_rejected": sorted(refused - set(rejected)),
            "others_listed_rejected": sorted(set(rejected) - refused)[:10],
            "with_tiktok_message": sorted(
                sku for sku, texts in messages.items() if any(f".title: {REFUSAL_ISSUE}" in t for t in texts)
            ),
            "messages": {sku: texts[:1] for sku, texts in sorted(messages.items())[:3]},
            "upload_calls": result["endpoints"]["tiktok upload"]["measured"],
            "upload_bound_without_refusals": exp.base_uploads(),
            "extra_calls_allowed": exp.extra_uploads,
            "upload_bound": exp.base_uploads() + exp.extra_uploads,
            "upload_formula": result["endpoints"]["tiktok upload"]["formula"],
        }


def run_freshness(size: Size) -> None:
    """A first sync, then FRESHNESS_DAYS of the schedule's full syncs with nothing changed: before each, every
    clock moves one schedule interval. The runs are summed up in one series (`size.series`)."""
    bench, stack = size.bench, size.bench.stack
    connected = connect_store(bench, STORE_IDS["freshness"], size.size, size.settings)
    per_day = runs_per_day(bench.worker_setting("SYNC_SCHEDULE"))
    refresh_days = int(bench.worker_setting("TIKTOK_REFRESH_DAYS"))
    interval = 86_400 / per_day
    slots = per_day * (refresh_days - 1)
    size.setup["freshness"] = connected.setup
    size.say(f"  {size.size}: store {connected.store_id} connected; first sync before {FRESHNESS_DAYS} days of syncs …")
    first = size.sync(
        connected,
        FIRST_SYNC,
        f"{size.size}-freshness-0",
        connected.job_id,
        size.expectation(connected, "replace", set(connected.shown)),
    )
    if not (first["sync"]["finished"] and first["catalog_equals_store"]):
        raise BenchError(f"the freshness store's first sync did not finish as expected: {first['sync']}")
    refreshed: Counter[str] = Counter()
    runs: list[dict[str, Any]] = []
    batch = bench.upload_batch_size
    for number in range(1, round(FRESHNESS_DAYS * per_day) + 1):
        bench.advance_clocks(interval)
        on_tiktok = len(catalog_state(stack.tiktok, connected.catalog_id))
        cap = math.ceil(on_tiktok / slots)
        exp = size.expectation(connected, "full", set())
        exp.extra_uploads = math.ceil(cap / batch)
        exp.extra_formula = f" + ⌈refresh share {cap}/{batch}⌉"
        sent: Counter[str] = Counter()
        job_id = stack.request_sync(connected.store_id)
        r = size.sync(connected, FRESHNESS, f"{size.size}-freshness-{number}", job_id, exp, sent)
        refreshed.update(sent.keys())
        runs.append(
            {
                "run": number,
                "hours_after_first_sync": round(number * interval / 3600, 1),
                "on_tiktok_before": on_tiktok,
                "refresh_cap": cap,
                "skus_sent": r["skus"]["sent"],
                "skus_sent_distinct": r["skus"]["sent_distinct"],
                "upload_calls": r["endpoints"]["tiktok upload"]["measured"],
                "delete_calls": r["endpoints"]["tiktok delete"]["measured"],
                "sku_items_written": r["dynamodb"]["sku_items_written"],
                "wall_seconds": r["wall_seconds"],
                "finished": r["sync"]["finished"],
                "catalog_equals_store": r["catalog_equals_store"],
                "catalog_difference": r["catalog_difference"],
                "endpoints_over_bound": {
                    e: f"{row['measured']} > {row['allowed']} (bound {row['bound']}): {row.get('evidence', [])}"
                    for e, row in r["endpoints"].items()
                    if not row["pass"]
                },
                "lambda_timeouts": r["sync"]["deliveries"].get("lambda_timeouts", 0),
                "peak_rss_mb": r["peak_rss_mb"],
                "engine_fingerprint": r["engine_fingerprint"],
                "upload_calls_busiest_hour": r["upload_calls_busiest_hour"],
            }
        )
        size.say(
            f"  {size.size}: {FRESHNESS}: run {number}: {r['skus']['sent']} SKUs refreshed (cap {cap}), "
            f"{r['wall_seconds']:.1f} s"
        )
    skus = set(connected.shown)
    times = [refreshed.get(sku, 0) for sku in skus]
    size.series.append(
        {
            "size": size.size,
            "scenario": FRESHNESS,
            "store_id": connected.store_id,
            "days": FRESHNESS_DAYS,
            "runs_per_day": per_day,
            "refresh_days": refresh_days,
            "slots": slots,
            "interval_seconds": interval,
            "skus_shown": len(skus),
            "first_sync_wall_seconds": first["wall_seconds"],
            "refreshed_times": {
                "min": min(times),
                "max": max(times),
                "histogram": dict(sorted(Counter(times).items())),
            },
            "refreshed_below_twice": sorted(sku for sku in skus if refreshed.get(sku, 0) < 2)[:20],
            "wall_seconds_total": round(sum(run["wall_seconds"] for run in runs), 1),
            "runs": runs,
        }
    )
