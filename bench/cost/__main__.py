"""`make cost`: the monthly AWS cost of a fleet of stores, from counts the product's own code paths make.

    python -m bench.cost                      # measure (a 100-product store through the local stack, ~15 s), then price
    python -m bench.cost --measured FILE      # price a measurement written before (cost.json's `measured`)

Inputs, and where each comes from, are written beside the figures in bench/results/cost.md and cost.json:
- measured now (bench/cost/measure.py): per full sync of a 100-product store, per edited product, per order:
  worker invocations and seconds, AWS calls by operation (KMS, Secrets Manager, DynamoDB), DynamoDB items written
  by kind and read per operation, TikTok calls by rate-limit bucket, log bytes (the receiver's and the worker's);
  the EMF metrics the run emitted;
- measured by `make bench` (bench/results/latest.json, committed): full re-syncs of 1,000, 10,000 and 50,000
  products (DynamoDB items and calls, TikTok status reads, wall and DynamoDB seconds); webhook.json: the webhook
  receiver's warm duration;
- the template (template.yaml): memory per function, KMS keys, secrets, alarms, dashboards, log retention;
- named assumptions (ASSUMPTIONS below), each in the report.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.cost.model import (
    DAYS_PER_MONTH,
    Usage,
    gb_seconds,
    kms_cost,
    lambda_cost,
    price_lines,
    sqs_requests,
    xray_traces,
)

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
PRICES = ROOT / "bench" / "prices.json"
SIZES = (100, 1000, 10_000, 50_000)
FLEETS = (100, 1000, 10_000)
TARGET_PER_STORE = 0.05  # $ a month, a 1,000-product store, variable costs
TIKTOK_DAILY_LIMITS = {  # tiktok-api.md "Rate limits": per app, per day (per-minute figure × 1,440)
    "upload": 300 * 1440,
    "delete": 120 * 1440,
    "default": 864_000,
    "events": 1000 * 86_400,
}
TIKTOK_HEADROOM = 0.9  # runtime.TIKTOK_HEADROOM: the fleet rate limiter paces at 90% of each limit

ASSUMPTIONS: dict[str, Any] = {
    "full_syncs_per_day": 2,
    "edited_share_per_day": 0.02,
    "orders_per_day": 20,
    "storefront_page_views_per_month": 3000,
    "storefront_pages_per_visit_within_10_min": 3,  # Cache-Control: public, max-age=600: one script GET a visit
    "merchant_page_opens_per_month": 30,
    "requests_per_merchant_page_open": 4,  # GET /app, POST /api/session, GET /api/stores/{id}, a products page
    "merchant_request_seconds": 0.1,
    "storefront_script_request_seconds": 0.01,
    "hours_with_skus_pending_review_per_day": 12,  # review checks run every 30 min while SKUs are pending
    "review_check_seconds": 0.3,
    "lambda_platform_log_bytes_per_invocation": 330,  # START, END and REPORT lines (with X-Ray ids)
    "api_access_log_bytes_per_request": 420,  # the template's access log format with typical values
    "http_function_log_bytes_per_request": 520,  # one Powertools line, as the webhook receiver writes
    "dynamodb_seconds_per_call": 0.005,  # DynamoDB's latency, in place of moto's (much slower) in the bench
    "sku_item_bytes": 1024,  # SKU item with its index projections, stored
    "query_item_bytes": 512,  # read through Query (eventually consistent: 0.5 RRU per 4 KB)
    "sqs_message_bytes": 2048,
    "catalog_queue_poll_requests_per_month": 657_000,  # Lambda's SQS pollers (5 × 3 long polls a minute)
    "secrets_reads_per_warm_function_per_month": 8760,  # one per 5 minutes (runtime.SECRETS_MAX_AGE_SECONDS)
    "warm_functions": 8,
    "scheduled_sync_seconds_per_run": 2.0,
    "fleet_store_size_for_tiktok_buckets": 1000,
}


def _load_json(path: Path) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(path.read_text())
    return value


def template_facts(text: str) -> dict[str, Any]:
    """Counts of priced resources and each function's memory, read from template.yaml's text."""

    def count(kind: str) -> int:
        return len(re.findall(rf"^\s+Type: {re.escape(kind)}\s*$", text, flags=re.M))

    default_memory = int(re.search(r"Globals:.*?MemorySize: (\d+)", text, flags=re.S).group(1))  # type: ignore[union-attr]
    memory: dict[str, int] = {}
    for match in re.finditer(
        r"^  (\w+Function):\n    Type: AWS::Serverless::Function\n(.*?)(?=^  \w)", text, re.M | re.S
    ):
        own = re.search(r"^      MemorySize: (\d+)", match.group(2), flags=re.M)
        memory[match.group(1)] = int(own.group(1)) if own else default_memory
    return {
        "memory_mb": memory,
        "kms_keys": count("AWS::KMS::Key"),
        "secrets": count("AWS::SecretsManager::Secret"),
        "alarms": count("AWS::CloudWatch::Alarm"),
        "dashboards": count("AWS::CloudWatch::Dashboard"),
        "sns_topics": count("AWS::SNS::Topic"),
    }


def static_metric_names() -> list[str]:
    """Every metric name the layer and functions can emit (EMF through Powertools), one dimension each (service)."""
    names: set[str] = set()
    for path in [*ROOT.glob("layers/shared/tiktok_channel/**/*.py"), *ROOT.glob("functions/*/app.py")]:
        names |= set(re.findall(r"add_metric\(\s*name=\"(\w+)\"", path.read_text()))
    return sorted(names)


# -- per-step figures ----------------------------------------------------------------------------------------------
def _units(step: dict[str, Any], item_bytes: int) -> dict[str, float]:
    """DynamoDB write and read units of a measured step: writes by kind (SKU items count twice: the sku-status
    index; each TransactWriteItems doubles its items), reads by operation."""
    ddb = step["dynamodb"]
    by_kind: dict[str, int] = ddb["by_kind"]
    calls = ddb["calls"]
    limiter = sum(v for k, v in by_kind.items() if k.startswith("rate_limiter:"))
    limiter += sum(ddb.get("refused_conditional_writes", {}).values())  # a refused conditional write costs 1 WRU
    writes = sum(v for k, v in by_kind.items() if not k.startswith("rate_limiter:"))
    writes += sum(v for k, v in by_kind.items() if k.startswith("sku:"))
    writes += 2 * calls.get("TransactWriteItems", {}).get("calls", 0)
    reads = float(calls.get("GetItem", {}).get("calls", 0))
    reads += calls.get("BatchGetItem", {}).get("items_read", 0)
    query = calls.get("Query", {})
    reads += 0.5 * (query.get("calls", 0) + math.ceil(query.get("items_read", 0) * item_bytes / 4096))
    return {"writes": writes, "limiter_writes": limiter, "reads": reads}


def _worker_seconds(step: dict[str, Any], per_call: float) -> float:
    """The worker's seconds in a step, with DynamoDB at its own latency instead of moto's."""
    ddb = step["dynamodb"]
    calls = sum(c["calls"] for c in ddb["calls"].values())
    return float(max(0.0, sum(step["invocation_seconds"]) - ddb["seconds_in_calls"]) + calls * per_call)


def _log_bytes(logs: dict[str, int]) -> int:
    return logs.get("log_bytes", 0) + logs.get("emf_bytes", 0)


def sync_step(size: int, measured: dict[str, Any], bench: dict[str, Any]) -> dict[str, Any]:
    """One scheduled full sync (nothing changed) of a store of `size` products."""
    if size == measured["store"]["products"]:
        step = measured["steps"]["full_sync"]
        return {
            "source": "measured now (bench/cost/measure.py)",
            "skus": measured["store"]["skus_shown"],
            "step": step,
            "tiktok": step["tiktok_calls"],
        }
    result = next(r for r in bench["results"] if r["size"] == size and r["scenario"] == "re-sync, nothing changed")
    endpoints = result["endpoints"]
    default = sum(endpoints[e]["measured"] for e in ("tiktok status reads", "tiktok listing reads", "tiktok feed log"))
    step = {
        "invocations": result["sync"]["deliveries"]["batches"],
        "messages": result["sync"]["deliveries"]["messages"],
        "invocation_seconds": result["sync"]["deliveries"]["invocation_seconds"],
        "dynamodb": result["dynamodb"],
        "aws_calls": {"kms.Decrypt": measured["steps"]["full_sync"]["aws_calls"].get("kms.Decrypt", 2)},
        "logs": measured["steps"]["full_sync"]["logs"],
    }
    tiktok = {
        "default": default,
        "upload": endpoints["tiktok upload"]["measured"],
        "delete": endpoints["tiktok delete"]["measured"],
    }
    return {
        "source": f"bench/results/latest.json ({bench['date']}, {bench['git']}), size {size:,}, re-sync, nothing changed",  # noqa: E501
        "skus": result["skus"]["store_shows"],
        "step": step,
        "tiktok": tiktok,
    }


def store_month(
    size: int,
    measured: dict[str, Any],
    bench: dict[str, Any],
    webhook: dict[str, Any],
    facts: dict[str, Any],
    a: dict[str, Any],
) -> tuple[Usage, dict[str, Any]]:
    """One store of `size` products for a month: usage by line, and the inputs used."""
    u, mem = Usage(), facts["memory_mb"]
    platform = a["lambda_platform_log_bytes_per_invocation"]
    per_call = a["dynamodb_seconds_per_call"]
    msg_bytes = a["sqs_message_bytes"]

    # Full syncs, twice a day, each queued by the schedule, plus the freshness refresh each run uploads.
    sync = sync_step(size, measured, bench)
    s, runs = sync["step"], a["full_syncs_per_day"] * DAYS_PER_MONTH
    units = _units(s, a["query_item_bytes"])
    refresh_skus = math.ceil(sync["skus"] / (a["full_syncs_per_day"] * 6))  # TIKTOK_REFRESH_DAYS 7: 12 slots
    refresh_calls = math.ceil(refresh_skus / 1000)
    u.add(u.lambda_requests, "CatalogWorkerFunction", runs * s["invocations"])
    u.add(
        u.lambda_gb_seconds,
        "CatalogWorkerFunction",
        runs * gb_seconds(1, _worker_seconds(s, per_call), mem["CatalogWorkerFunction"]),
    )
    u.add(u.dynamodb_writes, "full syncs", runs * (units["writes"] + 2 * refresh_skus))
    u.add(u.dynamodb_writes, "rate limiter", runs * (units["limiter_writes"] + 2 * refresh_calls))
    u.add(u.dynamodb_reads, "full syncs", runs * units["reads"])
    u.sqs_requests += runs * (0.1 + 2) * sqs_requests(1, msg_bytes)  # batched send, receive, delete
    u.kms_requests += runs * s["aws_calls"].get("kms.Decrypt", 0)
    u.log_bytes += runs * (_log_bytes(s["logs"]) + platform * s["invocations"])
    for bucket, calls in sync["tiktok"].items():
        u.tiktok(bucket, a["full_syncs_per_day"] * calls)
    u.tiktok("upload", a["full_syncs_per_day"] * refresh_calls)
    u.tiktok("default", a["full_syncs_per_day"] * refresh_calls)  # the feed log read after each upload

    # Edits (per edited product, as measured) and orders (per order): receiver, queue, worker.
    inputs: dict[str, Any] = {
        "full sync": {k: v for k, v in sync.items() if k != "step"} | {"refresh_skus_per_run": refresh_skus}
    }
    for name, per_day in (("edits", a["edited_share_per_day"] * size), ("orders", a["orders_per_day"])):
        step = measured["steps"][name]
        unit = step["products_edited"] if name == "edits" else step["orders"]
        month = per_day * DAYS_PER_MONTH / unit  # how many times the measured step happens in a month
        hooks, units = step["webhooks"], _units(step, a["query_item_bytes"])
        u.api_requests += month * hooks
        u.add(u.lambda_requests, "ProductWebhookFunction", month * hooks)
        u.add(
            u.lambda_gb_seconds,
            "ProductWebhookFunction",
            month * gb_seconds(hooks, webhook["p95_ms"] / 1000, mem["ProductWebhookFunction"]),
        )
        u.log_bytes += month * (
            _log_bytes(step["receiver_logs"]) + hooks * (platform + a["api_access_log_bytes_per_request"])
        )
        u.sqs_requests += month * sqs_requests(step["messages"] + 2 * step["invocations"], msg_bytes)
        u.add(u.lambda_requests, "CatalogWorkerFunction", month * step["invocations"])
        u.add(
            u.lambda_gb_seconds,
            "CatalogWorkerFunction",
            month * gb_seconds(1, _worker_seconds(step, per_call), mem["CatalogWorkerFunction"]),
        )
        u.add(u.dynamodb_writes, name, month * units["writes"])
        u.add(u.dynamodb_writes, "rate limiter", month * units["limiter_writes"])
        u.add(u.dynamodb_reads, name, month * units["reads"])
        u.kms_requests += month * step["aws_calls"].get("kms.Decrypt", 0)
        u.log_bytes += month * (_log_bytes(step["logs"]) + platform * step["invocations"])
        for bucket, calls in step["tiktok_calls"].items():
            u.tiktok(bucket, per_day / unit * calls)
        inputs[name] = {
            "per_day": per_day,
            "source": "measured now (bench/cost/measure.py)",
            "measured": {k: step[k] for k in ("webhooks", "messages", "invocations", "tiktok_calls", "aws_calls")}
            | {"unit": unit},
        }

    # Review checks while SKUs wait for TikTok's review (reviews.py: overview + ⌈pending/500⌉ status pages).
    checks = a["hours_with_skus_pending_review_per_day"] * 2 * DAYS_PER_MONTH
    pending = max(1, round(a["edited_share_per_day"] * sync["skus"]))
    u.add(u.lambda_requests, "CatalogWorkerFunction", checks)
    u.add(
        u.lambda_gb_seconds,
        "CatalogWorkerFunction",
        gb_seconds(checks, a["review_check_seconds"], mem["CatalogWorkerFunction"]),
    )
    u.add(u.dynamodb_writes, "review checks", checks * 4)  # counts and reviewed mark, each with its index
    u.add(u.dynamodb_reads, "review checks", checks * (2 + pending + 0.5))
    u.sqs_requests += checks * 2.1
    u.kms_requests += checks * 1
    u.log_bytes += checks * (a["http_function_log_bytes_per_request"] + 250 + platform)
    u.tiktok("default", a["hours_with_skus_pending_review_per_day"] * 2 * (1 + math.ceil(pending / 500)))
    u.add(u.dynamodb_writes, "rate limiter", checks * (1 + math.ceil(pending / 500)))

    # The merchant's page and the storefront script (AdminPageFunction serves both).
    page = a["merchant_page_opens_per_month"] * a["requests_per_merchant_page_open"]
    script = a["storefront_page_views_per_month"] / a["storefront_pages_per_visit_within_10_min"]
    script_bytes = measured.get("storefront_script_gzip_bytes", 3834)
    u.api_requests += page + script
    u.add(u.lambda_requests, "AdminPageFunction", page + script)
    u.add(
        u.lambda_gb_seconds,
        "AdminPageFunction",
        gb_seconds(page, a["merchant_request_seconds"], mem["AdminPageFunction"])
        + gb_seconds(script, a["storefront_script_request_seconds"], mem["AdminPageFunction"]),
    )
    u.add(u.dynamodb_reads, "page loads", page * 3)
    u.kms_requests += a["merchant_page_opens_per_month"]  # the session checks the Ecwid token once an open
    u.log_bytes += (page + script) * (
        a["http_function_log_bytes_per_request"] + platform + a["api_access_log_bytes_per_request"]
    )
    u.data_out_bytes += script * (script_bytes + 400)  # gzip body and headers

    u.dynamodb_stored_bytes = sync["skus"] * a["sku_item_bytes"]
    inputs["review checks"] = {
        "per_month": checks,
        "pending_skus": pending,
        "source": "reviews.py's calls; hours pending assumed",
    }
    inputs["page loads"] = {"merchant_requests_per_month": page, "storefront_script_requests_per_month": script}
    return u, inputs


def fixed_costs(prices: dict[str, Any], facts: dict[str, Any], metrics: int, a: dict[str, Any]) -> dict[str, float]:
    """Dollars a month whatever the fleet's size."""
    secrets_calls = a["secrets_reads_per_warm_function_per_month"] * a["warm_functions"]
    schedule_runs = (2 + 48) * DAYS_PER_MONTH
    requests, duration = lambda_cost(
        prices,
        schedule_runs,
        gb_seconds(
            schedule_runs, a["scheduled_sync_seconds_per_run"], facts["memory_mb"].get("ScheduledSyncFunction", 512)
        ),
    )
    return {
        f"KMS keys ({facts['kms_keys']})": facts["kms_keys"] * prices["kms_key_month"],
        f"Secrets Manager secret ({facts['secrets']})": facts["secrets"] * prices["secrets_manager_secret_month"],
        "Secrets Manager reads (cached 5 min per warm function)": secrets_calls
        / 1e4
        * prices["secrets_manager_api_call_per_10k"],
        f"CloudWatch alarms ({facts['alarms']})": facts["alarms"] * prices["cloudwatch_standard_alarm_month"],
        f"CloudWatch dashboards ({facts['dashboards']})": facts["dashboards"] * prices["cloudwatch_dashboard_month"],
        f"Custom metrics ({metrics} metric names × 1 dimension set: service)": metrics
        * prices["cloudwatch_custom_metric_month"],
        "SQS: Lambda's pollers of the catalog queue (idle long polls)": a["catalog_queue_poll_requests_per_month"]
        / 1e6
        * prices["sqs_fifo_request_per_million"],
        "Scheduled sync and review-check runs (Lambda), EventBridge schedules (free)": requests + duration,
        "SNS (alarm notifications, applications): under its free million": 0.0,
    }


def _money(value: float) -> str:
    return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


def build(measured: dict[str, Any], *, kms_before: dict[str, int] | None = None) -> dict[str, Any]:
    """Every figure of the report, as data."""
    prices = _load_json(PRICES)
    bench = _load_json(RESULTS / "latest.json")
    webhook = _load_json(RESULTS / "webhook.json")
    facts = template_facts((ROOT / "template.yaml").read_text())
    metric_names = static_metric_names()
    a = ASSUMPTIONS
    stores: dict[str, Any] = {}
    for size in SIZES:
        usage, inputs = store_month(size, measured, bench, webhook, facts, a)
        lines = price_lines(prices, usage)
        lambda_invocations = sum(usage.lambda_requests.values())
        stores[str(size)] = {
            "lines": lines,
            "total": sum(lines.values()),
            "usage": {
                "lambda_requests": usage.lambda_requests,
                "lambda_gb_seconds": usage.lambda_gb_seconds,
                "dynamodb_write_units": usage.dynamodb_writes,
                "dynamodb_read_units": usage.dynamodb_reads,
                "sqs_requests": usage.sqs_requests,
                "kms_requests": usage.kms_requests,
                "log_bytes": usage.log_bytes,
                "api_requests": usage.api_requests,
                "lambda_invocations": lambda_invocations,
            },
            "tiktok_calls_per_day": usage.tiktok_calls_per_day,
            "inputs": inputs,
        }
    fixed = fixed_costs(prices, facts, len(metric_names), a)
    fixed_total = sum(fixed.values())
    one = stores["1000"]
    fleets: dict[str, Any] = {}
    for fleet in FLEETS:
        invocations = fleet * one["usage"]["lambda_invocations"]
        xray = xray_traces(invocations) / 1e6 * prices["xray_trace_recorded_per_million"]
        variable = fleet * one["total"]
        fleets[str(fleet)] = {
            "variable": variable,
            "xray": xray,
            "fixed": fixed_total,
            "total": variable + xray + fixed_total,
            "per_store_all_in": (variable + xray + fixed_total) / fleet,
        }
    biggest = max(one["lines"].items(), key=lambda kv: kv[1])
    per_store = a["fleet_store_size_for_tiktok_buckets"]
    daily = stores[str(per_store)]["tiktok_calls_per_day"]
    buckets: dict[str, Any] = {}
    for bucket, limit in TIKTOK_DAILY_LIMITS.items():
        calls = daily.get(bucket, 0.0)
        usable = limit * TIKTOK_HEADROOM * (0.7 if bucket == "default" else 1.0)
        buckets[bucket] = {
            "per_store_per_day": calls,
            "limit_per_day": limit,
            "usable_per_day": usable,
            "by_fleet": {str(f): calls * f for f in FLEETS},
            "binds_at_stores": math.floor(usable / calls) if calls else None,
        }
    binding = min((b for b in buckets.items() if b[1]["binds_at_stores"]), key=lambda kv: kv[1]["binds_at_stores"])
    document: dict[str, Any] = {
        "command": "make cost (.venv/bin/python -m bench.cost)",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "prices": {
            "file": "bench/prices.json",
            "taken": prices["taken"],
            "region": prices["region"],
            "note": prices["note"],
        },
        "assumptions": a,
        "template": facts,
        "metric_names": metric_names,
        "metrics_seen_in_run": measured["metrics_seen"],
        "stores": stores,
        "fixed": fixed,
        "fixed_total": fixed_total,
        "fleets": fleets,
        "biggest_line_1000": {"line": biggest[0], "dollars": biggest[1]},
        "target": {"per_store": TARGET_PER_STORE, "holds": one["total"] < TARGET_PER_STORE},
        "tiktok_buckets": buckets,
        "tiktok_first_limit": {"bucket": binding[0], "stores": binding[1]["binds_at_stores"], "store_size": per_store},
        "measured": measured,
    }
    if kms_before:
        document["waste_fixed"] = waste_fixed(prices, measured, kms_before, stores)
    return document


# The decrypts per step before adapters/kms.py reused a plaintext within DECRYPT_REUSE_SECONDS, measured by this
# command at commit 1dd1bf4 (every message decrypted both tokens: 2 a message).
KMS_BEFORE = {"full_sync": 2, "edits": 70, "orders": 40}


def waste_fixed(
    prices: dict[str, Any], measured: dict[str, Any], before: dict[str, int], stores: dict[str, Any]
) -> dict[str, Any]:
    """KMS decrypts before and after the fix, per step and in dollars for a 1,000-product store."""
    steps = measured["steps"]
    after = {k: steps[k]["aws_calls"].get("kms.Decrypt", 0) for k in before}
    a = ASSUMPTIONS
    month = {
        "edits": a["edited_share_per_day"] * 1000 * DAYS_PER_MONTH / steps["edits"]["products_edited"],
        "orders": a["orders_per_day"] * DAYS_PER_MONTH / steps["orders"]["orders"],
    }
    delta = sum(month[k] * (before[k] - after[k]) for k in month)
    return {
        "decrypts_before": before,
        "decrypts_after": after,
        "messages": {k: steps[k]["messages"] for k in before},
        "dollars_1000_before": stores["1000"]["total"] + kms_cost(prices, delta),
        "dollars_1000_after": stores["1000"]["total"],
        "kms_line_1000_before": stores["1000"]["lines"]["KMS requests (Decrypt)"] + kms_cost(prices, delta),
        "kms_line_1000_after": stores["1000"]["lines"]["KMS requests (Decrypt)"],
    }


def halving(d: dict[str, Any]) -> str:
    """What would halve the biggest line, said from which line it is."""
    line = d["biggest_line_1000"]["line"]
    hints = {
        "CloudWatch Logs ingestion": "Halved by logging the webhook receiver's and the storefront script's requests at "
        "DEBUG (their API access log line already says who, which route and how it ended), or by the Infrequent Access log "  # noqa: E501
        "class ($0.25/GB).",
        "API Gateway HTTP API requests": "Halved by serving /storefront.js from CloudFront (or S3) in front of the API, "  # noqa: E501
        "since it is the same for every store, or by a longer max-age.",
        "KMS requests (Decrypt)": "Halved by decrypting each token once per worker invocation batch and store.",
    }
    for prefix, hint in hints.items():
        if line.startswith(prefix):
            return hint
    if line == "DynamoDB writes: full syncs":
        return (
            "Most of it is the freshness refresh: each run re-uploads ⌈SKUs / 12⌉ SKUs and rewrites their items (and "
            "their sku-status index entries) so that TikTok never expires them (TikTokRefreshDays 7). TikTokRefreshDays "  # noqa: E501
            "14 (still inside TikTok's 30 days) halves those writes and the refresh's upload calls."
        )
    if line.startswith("DynamoDB"):
        return "Halved by fewer writes per event (the rate limiter's slot write only when the fleet is busy)."
    if line.startswith("Lambda"):
        return "Halved by less memory for the function (it is I/O bound) or fewer invocations (larger batches)."
    return ""


def main(argv: list[str] | None = None) -> int:
    from bench.cost.report import render

    parser = argparse.ArgumentParser(prog="python -m bench.cost", description=__doc__.split("\n\n")[0])
    parser.add_argument("--measured", type=Path, help="a cost.json whose `measured` part is priced again (no run)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where cost.md and cost.json go")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.measured:
        measured = _load_json(args.measured)["measured"]
    else:
        import warnings

        from bench.cost.measure import measure

        warnings.filterwarnings("ignore", message="No application metrics to publish")
        print("Measuring a 100-product store through the local stack …", flush=True)
        measured = measure(Path(tempfile.mkdtemp(prefix="tiktok-channel-cost-")), say=lambda s: print(s, flush=True))
    document = build(measured, kms_before=KMS_BEFORE)
    document["halving"] = halving(document)
    first = document["tiktok_first_limit"]["bucket"]
    document["binding_by_size"] = {}
    for size, store in document["stores"].items():
        calls = store["tiktok_calls_per_day"].get(first, 0.0)
        document["binding_by_size"][size] = (
            int(document["tiktok_buckets"][first]["usable_per_day"] // calls) if calls else None
        )
    document["seconds"] = round(time.perf_counter() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "cost.json").write_text(json.dumps(document, indent=1, default=float) + "\n")
    text = render(document)
    (args.out / "cost.md").write_text(text)
    print(text)
    print(f"Written: {args.out / 'cost.md'}, {args.out / 'cost.json'} ({document['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
