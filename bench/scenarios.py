"""One benchmark size: a synthetic store connected through the real callback, then three syncs measured.

1. first sync: the "replace" job the TikTok callback queued, over a TikTok catalog holding stale SKUs;
2. re-sync, nothing changed: a "full" job queued by POST /api/stores/{id}/sync;
3. re-sync, 1% of the products changed (price edits in the sandbox Ecwid), queued the same way.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.calls import by_endpoint, describe, uploaded_skus
from bench.expect import Expectation, allowed, catalog_state, expect, sizeless_image_urls, store_skus
from bench.stack import BenchError, BenchStack
from localrun.stack import ROOT, expect_status
from sandboxes.ecwid import EcwidSandbox
from sandboxes.ecwid_catalog import EcwidStore
from sandboxes.ecwid_images import parse_image_name
from sandboxes.tiktok import CatalogProduct, TikTokSandbox

STORE_ID = 4_242_001
STALE_SKU_BASE = 690_000_001  # below the sandbox Ecwid's product ids: never one of the store's SKUs
BETWEEN_SYNCS_SECONDS = 61.0  # Ecwid's per-minute window: one sync's calls do not count against the next's

FIRST_SYNC = "first sync (replace)"
NOTHING_CHANGED = "re-sync, nothing changed"
ONE_PERCENT = "re-sync, 1% changed"
SCENARIOS = (FIRST_SYNC, NOTHING_CHANGED, ONE_PERCENT)


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
    bound = 1 + bounds["ecwid categories"]["bound"] + bounds["ecwid products"]["bound"]
    measured = sum(rows[e]["measured"] for e in ecwid_api)
    rows["ecwid API total"] = {
        "measured": measured,
        "bound": bound,
        "allowed": allowed(bound),
        "formula": "1 + ⌈categories/100⌉ + ⌈products/100⌉",
        "pass": measured <= allowed(bound),
    }
    return rows


# What a write to a SKU item shows: the time every write stamps, and the state a write without a new stamp changes.
SKU_FIELDS = ("updated_at", "status", "on_tiktok", "hash")


def run_scenario(
    bench: BenchStack,
    *,
    store: EcwidStore,
    name: str,
    size: int,
    job_id: str,
    exp: Expectation,
    settings: Settings,
) -> dict[str, Any]:
    stack = bench.stack
    before = stack.sku_items(STORE_ID, SKU_FIELDS)
    stack.ecwid.reset_calls()
    stack.tiktok.reset_calls()
    slug = f"{size}-{SCENARIOS.index(name) + 1}"
    fingerprint = engine_fingerprint()
    run = bench.run_worker(f"worker-{slug}", settings.timeout_seconds)
    ecwid_calls = stack.ecwid.calls_to("")
    tiktok_calls = stack.tiktok.calls_to("")
    now = time.time()
    offsets = {"ecwid": stack.ecwid.clock.now() - now, "tiktok": stack.tiktok.clock.now() - now}
    after = stack.sku_items(STORE_ID, SKU_FIELDS)
    item = stack.store_item(STORE_ID)
    catalog_id = str(item["tiktok"]["catalog_id"])
    catalog = catalog_state(stack.tiktok, catalog_id)

    grouped = by_endpoint(ecwid_calls, tiktok_calls)
    endpoints = _endpoints(exp, grouped)
    images = grouped.get("ecwid images", [])
    sent = uploaded_skus(grouped.get("tiktok upload", []))
    sync = item.get("sync") or {}
    finished = sync.get("state") == "idle" and sync.get("job_id") == job_id and not run.result["timed_out"]
    extra = set(catalog) - exp.expected_after
    missing = exp.expected_after - set(catalog)
    dynamodb = run.result["dynamodb"]
    return {
        "size": size,
        "scenario": name,
        "mode": exp.mode,
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
        "skus": {
            "to_upsert": len(exp.upserts),
            "sent": sum(sent.values()),
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


def run_size(
    bench: BenchStack,
    size: int,
    settings: Settings,
    say: Callable[[str], None],
    results: list[dict[str, Any]],
    setup: dict[str, Any],
) -> None:
    """Build and connect the store, then run the three scenarios: each one's result is appended to `results` as
    soon as it is known, and facts about the set-up go into `setup`."""
    stack = bench.stack
    started = time.perf_counter()
    store = stack.ecwid.build_synthetic_store(STORE_ID, products=size, seed=settings.seed)
    shown = store_skus(stack.ecwid, store)
    sizeless = sizeless_image_urls(stack.ecwid, store)
    built = time.perf_counter() - started
    started = time.perf_counter()
    expect_status(stack.connect(STORE_ID), 302, "the app's TikTok callback")
    connected = time.perf_counter() - started
    item = stack.store_item(STORE_ID)
    if item.get("status") != "connected" or (item.get("sync") or {}).get("state") != "queued":
        raise BenchError(f"after the TikTok callback the store is {item.get('status')}, sync {item.get('sync')}")
    if stack.queued() != 1:
        raise BenchError(f"the TikTok callback should have queued one sync message; the queue holds {stack.queued()}")
    catalog_id = str(item["tiktok"]["catalog_id"])
    stale = add_stale_skus(stack.tiktok, catalog_id, round(settings.stale_share * len(shown)))
    setup |= {
        "products": size,
        "skus_shown": len(shown),
        "stale_skus": len(stale),
        "build_seconds": round(built, 1),
        "connect_seconds": round(connected, 1),
    }
    say(f"  {size}: store built ({len(shown)} SKUs shown, {len(stale)} stale SKUs on TikTok), connected")

    batch = bench.upload_batch_size

    def measure(name: str, job_id: str, upserts: set[str]) -> None:
        mode = "replace" if name == FIRST_SYNC else "full"
        exp = expect(
            mode=mode,
            ecwid=stack.ecwid,
            store=store,
            tiktok=stack.tiktok,
            catalog_id=catalog_id,
            batch_size=batch,
            upserts=upserts,
            sizeless_images=sizeless,
        )
        say(f"  {size}: {name} …")
        result = run_scenario(bench, store=store, name=name, size=size, job_id=job_id, exp=exp, settings=settings)
        results.append(result)
        cpu = result["cpu_seconds"]
        say(
            f"  {size}: {name}: {result['wall_seconds']:.1f} s, peak RSS {result['peak_rss_mb']:.0f} MB; CPU s: "
            f"worker {cpu['worker']:.1f}, sandboxes {cpu['sandboxes_and_routes']:.1f}, moto {cpu['moto']:.1f}, "
            f"other processes {cpu['other_processes']:.1f}"
        )

    measure(FIRST_SYNC, str(item["sync"]["job_id"]), set(shown))
    stack.ecwid.clock.advance(BETWEEN_SYNCS_SECONDS)
    measure(NOTHING_CHANGED, stack.request_sync(STORE_ID), set())
    stack.ecwid.clock.advance(BETWEEN_SYNCS_SECONDS)
    changed = edit_prices(stack.ecwid, store, settings.change_share, settings.seed)
    setup["products_changed"] = len(changed)
    changed_skus = {sku for sku, product_id in store_skus(stack.ecwid, store).items() if product_id in changed}
    measure(ONE_PERCENT, stack.request_sync(STORE_ID), changed_skus)
