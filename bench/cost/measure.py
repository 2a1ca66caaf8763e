"""The small measurement `make cost` runs: one 100-product store through the local stack (moto, the sandboxes,
the template's functions), every figure counted where the product's own code makes the call.

1. The store is connected (install, TikTok callback) and its first sync runs (not priced: once per store).
2. A scheduled-style full re-sync (`POST /api/stores/{id}/sync`, a "full" job, as the schedule queues) with
   nothing changed: the twice-daily syncs' shape.
3. EDITS products have their price lowered in the sandbox Ecwid; its `product.updated` webhooks are delivered once
   each to `POST /webhooks/ecwid` (the webhook receiver) and the catalog worker drains the queue.
4. ORDERS orders are placed paid at checkout; their `order.*` webhooks are delivered once each; the worker drains.

For each step: the worker's AWS calls by operation (bench.worker's AwsCalls), its DynamoDB items and calls, its
invocations (SQS batches) and their seconds, its log bytes (Powertools JSON lines and EMF lines), the TikTok
calls by rate-limit bucket and the Ecwid API calls (the sandboxes' call logs); for the webhook receiver, the
invocations and log bytes of its lines in this process's log.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

from bench.purchases import _place, _post
from bench.scenarios import Settings, connect_store, edit_prices
from bench.stack import BenchStack, WorkerRun, bench_stack
from tiktok_channel.adapters.rate_limit import tiktok_bucket

STORE_ID = 4242100
PRODUCTS = 100
EDITS = 20  # products edited (20% of the store: enough calls to count, one queue drain)
ORDERS = 20
LATENCY_SECONDS = 0.005  # the sandboxes' latency per call: small, so that the run stays short
TIMEOUT_SECONDS = 300.0
BETWEEN_STEPS_SECONDS = 61.0  # Ecwid's per-minute window, as bench.scenarios does between syncs


def log_bytes(path: Path, service: str | None = None) -> dict[str, int]:
    """Bytes and lines of the Powertools JSON log lines and of the EMF lines in a log file (of `service` only,
    when given); other lines (the local runtime's, BENCH_RESULT) are not the function's."""
    out = Counter[str]()
    for raw in path.read_bytes().splitlines():
        if not raw.startswith(b"{"):
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(line, dict) or (service is not None and line.get("service") != service):
            continue
        kind = "emf" if "_aws" in line else "log"
        out[f"{kind}_bytes"] += len(raw) + 1  # the newline
        out[f"{kind}_lines"] += 1
    return dict(out)


def emf_metrics(paths: list[Path]) -> list[dict[str, Any]]:
    """Each distinct (namespace, metric, dimensions with their values) the EMF lines of these logs carry."""
    seen: set[tuple[str, str, tuple[tuple[str, str], ...]]] = set()
    for path in paths:
        for raw in path.read_bytes().splitlines():
            if not raw.startswith(b'{"_aws"'):
                continue
            line = json.loads(raw)
            for directive in line["_aws"]["CloudWatchMetrics"]:
                for dimension_set in directive["Dimensions"]:
                    dims = tuple((d, str(line.get(d))) for d in dimension_set)
                    for metric in directive["Metrics"]:
                        seen.add((directive["Namespace"], metric["Name"], dims))
    return [{"namespace": n, "metric": m, "dimensions": dict(d)} for n, m, d in sorted(seen)]


def _tiktok_buckets(bench: BenchStack) -> dict[str, int]:
    calls = [c for c in bench.stack.tiktok.calls if not c.path.startswith("/_sandbox/")]
    return dict(Counter(tiktok_bucket(c.path) for c in calls if c.path.startswith("/open_api/")))


def _ecwid_api_calls(bench: BenchStack) -> int:
    return sum(1 for c in bench.stack.ecwid.calls if c.path.startswith("/api/v3/"))


def _reset(bench: BenchStack) -> None:
    bench.stack.ecwid.reset_calls()
    bench.stack.tiktok.reset_calls()


def _step(bench: BenchStack, run: WorkerRun, **extra: Any) -> dict[str, Any]:
    result = run.result
    deliveries = result["deliveries"]
    return {
        "invocations": deliveries["batches"],
        "messages": deliveries["messages"],
        "failed": deliveries["failed"],
        "invocation_seconds": deliveries["invocation_seconds"],
        "aws_calls": result.get("aws_calls", {}),
        "dynamodb": result["dynamodb"],
        "tiktok_calls": _tiktok_buckets(bench),
        "ecwid_api_calls": _ecwid_api_calls(bench),
        "logs": log_bytes(run.log),
        "log_file": str(run.log),
        **extra,
    }


def measure(logs: Path, say: Any = print) -> dict[str, Any]:
    """Run the steps of the module docstring; their figures."""
    logs.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        seed=7, latency_seconds=LATENCY_SECONDS, stale_share=0.0, change_share=0.0, timeout_seconds=TIMEOUT_SECONDS
    )
    routes_log = logs / "app-routes.log"
    steps: dict[str, Any] = {}
    with (
        routes_log.open("w") as routes,
        contextlib.redirect_stdout(routes),
        bench_stack(logs=logs, latency_seconds=LATENCY_SECONDS, review_delay_seconds=1e9) as bench,
    ):
        stack = bench.stack
        connected = connect_store(bench, STORE_ID, PRODUCTS, settings)
        _reset(bench)
        run = bench.run_worker("cost-first-sync", TIMEOUT_SECONDS)
        steps["first_sync"] = _step(bench, run, skus_shown=len(connected.shown))
        say(f"  first sync of {PRODUCTS} products: {run.result['wall_seconds']:.1f} s")

        stack.ecwid.clock.advance(BETWEEN_STEPS_SECONDS)
        stack.tiktok.clock.advance(BETWEEN_STEPS_SECONDS)
        _reset(bench)
        stack.request_sync(STORE_ID)
        run = bench.run_worker("cost-resync", TIMEOUT_SECONDS)
        steps["full_sync"] = _step(bench, run, skus_shown=len(connected.shown))
        say(f"  full re-sync, nothing changed: {run.result['wall_seconds']:.1f} s")

        stack.ecwid.clock.advance(BETWEEN_STEPS_SECONDS)
        stack.tiktok.clock.advance(BETWEEN_STEPS_SECONDS)
        stack.ecwid.take_webhooks()
        changed = edit_prices(stack.ecwid, connected.store, EDITS / PRODUCTS, settings.seed)
        hooks = [w for w in stack.ecwid.take_webhooks() if w.event_type.startswith("product.")]
        _reset(bench)
        before = log_bytes(routes_log, "product_webhook")
        accepted = _post(stack, hooks)
        routes.flush()
        receiver = _difference(log_bytes(routes_log, "product_webhook"), before)
        run = bench.run_worker("cost-edits", TIMEOUT_SECONDS)
        steps["edits"] = _step(
            bench, run, products_edited=len(changed), webhooks=len(hooks), accepted=accepted, receiver_logs=receiver
        )
        say(f"  {len(changed)} products edited, {len(hooks)} webhooks: {run.result['wall_seconds']:.1f} s")

        stack.ecwid.clock.advance(BETWEEN_STEPS_SECONDS)
        stack.tiktok.clock.advance(BETWEEN_STEPS_SECONDS)
        stack.ecwid.take_webhooks()
        rng = random.Random(settings.seed)
        for _ in range(ORDERS):
            _place(stack.ecwid, connected.store, rng, paid=True)
        hooks = [w for w in stack.ecwid.take_webhooks() if w.event_type.startswith("order.")]
        _reset(bench)
        before = log_bytes(routes_log, "product_webhook")
        accepted = _post(stack, hooks)
        routes.flush()
        receiver = _difference(log_bytes(routes_log, "product_webhook"), before)
        run = bench.run_worker("cost-orders", TIMEOUT_SECONDS)
        steps["orders"] = _step(
            bench, run, orders=ORDERS, webhooks=len(hooks), accepted=accepted, receiver_logs=receiver
        )
        say(f"  {ORDERS} orders paid, {len(hooks)} webhooks: {run.result['wall_seconds']:.1f} s")
    worker_logs = [Path(s["log_file"]) for s in steps.values()]
    return {
        "store": {"products": PRODUCTS, "skus_shown": steps["first_sync"]["skus_shown"]},
        "sandbox_latency_ms": LATENCY_SECONDS * 1000,
        "steps": steps,
        "metrics_seen": emf_metrics([*worker_logs, routes_log]),
    }


def _difference(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items()}
