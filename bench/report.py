"""The benchmark's verdicts (the issue's targets), its console table, bench/results/latest.json and README.md."""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.scenarios import FIRST_SYNC, NOTHING_CHANGED, SCENARIOS

FIRST_SYNC_SIZE = 10_000
FIRST_SYNC_LIMIT_SECONDS = 60.0
RSS_SIZE = 50_000
RSS_LIMIT_MB = 300.0

_COLUMNS = (
    ("ecwid API total", "Ecwid API"),
    ("tiktok upload", "upload"),
    ("tiktok feed log", "feed log"),
    ("tiktok delete", "delete"),
    ("tiktok status reads", "status reads"),
    ("tiktok listing reads", "listing"),
)

STATUS_READS_NOTE = (
    "Status reads are bounded by ⌈pending/500⌉: catalog/product/get takes up to 1000 sku_ids but answers at most "
    "page_size ≤ 500 items per call, so 1000 SKUs need two calls whichever way they are asked for (the engine asks "
    "500 sku_ids per call)."
)
IMAGES_NOTE = (
    "Ecwid image GETs are ranged GETs to the sandbox Ecwid's /images/ host for pictures whose size Ecwid's JSON "
    "lacks (media-only products); they are counted apart from the Ecwid API bound, which is about /api/v3 calls, "
    "beside the number of such pictures in the store and how many GETs were of Ecwid's resized copies rather than "
    "originals. Sizes read are remembered per URL in DynamoDB, so re-syncs need none."
)
MOTO_NOTE = (
    "DynamoDB is moto's server, which is much slower than DynamoDB at bulk reads (its response serializer costs "
    "about 1 ms per item returned, so a 1 MB query page takes seconds, not ~100 ms): `in DDB s` is the part of the "
    "wall time the worker spent waiting on DynamoDB calls, measured at its client, with the calls and items read "
    "per operation in latest.json (`dynamodb.calls`)."
)


def targets(results: list[dict[str, Any]], errors: dict[int, str], sizes: list[int]) -> list[dict[str, Any]]:
    """Every target of the issue, with PASS/FAIL and the evidence (`pass` is None where this run's sizes do not
    measure it)."""
    found: list[dict[str, Any]] = []
    for r in results:
        failing = [
            f"{e}: {row['measured']} > {row['allowed']} (bound {row['bound']})"
            for e, row in r["endpoints"].items()
            if not row["pass"]
        ]
        found.append(
            {
                "target": "every endpoint within max(1.05 × bound, bound + 1)",
                "size": r["size"],
                "scenario": r["scenario"],
                "pass": not failing,
                "detail": "; ".join(failing) or "all endpoints within their bounds",
            }
        )
        timeouts = r["sync"]["deliveries"].get("lambda_timeouts", 0)
        if timeouts:
            found.append(
                {
                    "target": "validity: every invocation ends within the function's timeout",
                    "size": r["size"],
                    "scenario": r["scenario"],
                    "pass": False,
                    "detail": f"{timeouts} invocation(s) ran past CatalogWorkerFunction's Timeout (Lambda would have "
                    f"stopped them; localrun ran them to their end); {where_time_went(r)}",
                }
            )
        found.append(
            {
                "target": "validity: the sync finished and TikTok's catalog equals what the store shows",
                "size": r["size"],
                "scenario": r["scenario"],
                "pass": bool(r["sync"]["finished"] and r["catalog_equals_store"]),
                "detail": (
                    f"sync {r['sync']['state']}, {r['sync']['last_result']}; "
                    f"extra on TikTok {r['catalog_difference']['extra']}, missing {r['catalog_difference']['missing']}"
                ),
            }
        )
        if r["scenario"] == NOTHING_CHANGED:
            skus = r["dynamodb"]["sku_items_written"]
            table = r["dynamodb"]["sku_items_changed_in_table"]["total"]
            found.append(
                {
                    "target": "a re-sync with nothing changed makes 0 TikTok writes and writes 0 SKU items",
                    "size": r["size"],
                    "scenario": r["scenario"],
                    "pass": r["tiktok_writes"] == 0 and skus == 0 and table == 0,
                    "detail": f"{r['tiktok_writes']} TikTok writes, {skus} SKU items written "
                    f"({table} SKU items changed in the table)",
                }
            )
        if r["scenario"] == FIRST_SYNC and r["size"] == FIRST_SYNC_SIZE:
            found.append(
                {
                    "target": f"{FIRST_SYNC_SIZE:,} products first-synced in under {FIRST_SYNC_LIMIT_SECONDS:.0f} s",
                    "size": r["size"],
                    "scenario": r["scenario"],
                    "pass": r["wall_seconds"] < FIRST_SYNC_LIMIT_SECONDS,
                    "detail": f"{r['wall_seconds']:.1f} s; {where_time_went(r)}",
                }
            )
    if FIRST_SYNC_SIZE not in sizes:
        found.append(
            {
                "target": f"{FIRST_SYNC_SIZE:,} products first-synced in under {FIRST_SYNC_LIMIT_SECONDS:.0f} s",
                "size": FIRST_SYNC_SIZE,
                "scenario": FIRST_SYNC,
                "pass": None,
                "detail": "not measured: this run did not include that size",
            }
        )
    if RSS_SIZE not in sizes:
        found.append(
            {
                "target": f"peak RSS under {RSS_LIMIT_MB:.0f} MB at {RSS_SIZE:,} products",
                "size": RSS_SIZE,
                "scenario": "all",
                "pass": None,
                "detail": "not measured: this run did not include that size",
            }
        )
    at_rss_size = [r for r in results if r["size"] == RSS_SIZE]
    if at_rss_size:
        top = max(at_rss_size, key=lambda r: r["peak_rss_mb"])
        found.append(
            {
                "target": f"peak RSS under {RSS_LIMIT_MB:.0f} MB at {RSS_SIZE:,} products",
                "size": RSS_SIZE,
                "scenario": "all",
                "pass": top["peak_rss_mb"] < RSS_LIMIT_MB,
                "detail": f"{top['peak_rss_mb']:.0f} MB, in the {top['scenario']} ("
                + ", ".join(f"{r['scenario']}: {r['peak_rss_mb']:.0f} MB" for r in at_rss_size)
                + f"); {when_rss_peaked(top)}",
            }
        )
    for size, error in errors.items():
        found.append({"target": "the benchmark ran", "size": size, "scenario": "all", "pass": False, "detail": error})
    return found


def where_time_went(r: dict[str, Any]) -> str:
    """The sync's phases (from the sandboxes' call times) and who used the CPU meanwhile."""
    timeline = r.get("timeline", {})
    parts = []
    for endpoint, label in (
        ("ecwid products", "Ecwid pages"),
        ("ecwid images", "image GETs"),
        ("tiktok upload", "uploads"),
        ("tiktok listing reads", "listing"),
        ("tiktok delete", "deletes"),
        ("tiktok status reads", "status reads"),
    ):
        if endpoint in timeline:
            t = timeline[endpoint]
            parts.append(f"{label} {t['first_s']:.1f}–{t['last_s']:.1f} s")
    dynamodb = r.get("dynamodb", {})
    if "seconds_in_calls" in dynamodb:
        slowest = sorted(dynamodb["calls"].items(), key=lambda kv: -kv[1]["seconds"])[:3]
        parts.append(
            f"in DynamoDB calls (moto) {dynamodb['seconds_in_calls']:.1f} s ("
            + ", ".join(f"{op} {c['calls']}× {c['seconds']:.1f} s" for op, c in slowest)
            + ")"
        )
    cpu = r.get("cpu_seconds", {})
    if cpu:
        parts.append(
            f"CPU: worker {cpu['worker']:.1f} s, sandboxes {cpu['sandboxes_and_routes']:.1f} s, "
            f"moto {cpu['moto']:.1f} s"
            + (f", other processes {cpu['other_processes']:.1f} s" if "other_processes" in cpu else "")
        )
    return "; ".join(parts)


def when_rss_peaked(r: dict[str, Any]) -> str:
    """When the worker's memory peaked, against what the sync was calling then."""
    rss = r.get("rss") or {}
    if "peak_at_s" not in rss:
        return f"{r.get('rss_after_init_mb', 0):.0f} MB after the handler's import"
    at = float(rss["peak_at_s"])
    timeline = r.get("timeline", {})
    active = [e for e, t in timeline.items() if t["first_s"] - 1 <= at <= t["last_s"] + 1]
    last_call = max((t["last_s"] for t in timeline.values()), default=0.0)
    if active:
        where = "while calling " + ", ".join(active)
    elif at > last_call:
        where = f"after the last API call ({last_call:.0f} s): the end of the run, DynamoDB only"
    else:
        where = "between API calls (DynamoDB only)"
    return (
        f"{r.get('rss_after_init_mb', 0):.0f} MB after the handler's import, peak at {at:.0f} s of "
        f"{r['wall_seconds']:.0f} s, {where}"
    )


def _cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return "-"
    text = f"{row['measured']}/{row['bound']}"
    return text + ("" if row["pass"] else " ✗")


def summary_rows(results: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for r in results:
        rows.append(
            [
                f"{r['size']:,}",
                r["scenario"],
                f"{r['wall_seconds']:.1f}",
                f"{r['dynamodb'].get('seconds_in_calls', 0):.1f}",
                *(_cell(r["endpoints"].get(key)) for key, _ in _COLUMNS),
                str(r["ecwid_image_gets"]["measured"]),
                f"{r['dynamodb']['items_written']:,}",
                f"{r['dynamodb']['sku_items_written']:,}",
                f"{r['peak_rss_mb']:.0f}",
            ]
        )
    return rows


SUMMARY_HEADER = [
    "size",
    "scenario",
    "wall s",
    "in DDB s",
    *(title for _, title in _COLUMNS),
    "image GETs",
    "DDB items",
    "SKU items",
    "RSS MB",
]


def text_table(header: list[str], rows: Iterable[list[str]]) -> str:
    rows = list(rows)
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=True)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join([line, rule, *body])


def markdown_table(header: list[str], rows: Iterable[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def endpoint_rows(results: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for r in results:
        for endpoint, row in r["endpoints"].items():
            bound = str(row["bound"])
            rows.append(
                [
                    f"{r['size']:,}",
                    r["scenario"],
                    endpoint,
                    str(row["measured"]),
                    bound,
                    str(row["allowed"]),
                    row["formula"],
                    "PASS" if row["pass"] else "FAIL",
                ]
            )
        images = r["ecwid_image_gets"]
        rows.append(
            [
                f"{r['size']:,}",
                r["scenario"],
                "ecwid images (not API)",
                str(images["measured"]),
                "-",
                "-",
                f"{images['distinct_images']} distinct, {images.get('of_resized_copies', 0)} of resized copies; "
                f"{images['sizeless_images_in_store']} sizeless pictures in the store",
                "info",
            ]
        )
    return rows


SETUP_HEADER = ["products", "SKUs shown", "stale SKUs", "products changed", "build s", "connect s"]
ENDPOINT_HEADER = ["size", "scenario", "endpoint", "calls", "bound", "allowed", "bound from", "verdict"]


def verdict(passed: bool | None) -> str:
    return "n/a " if passed is None else "PASS" if passed else "FAIL"


def all_hold(found: list[dict[str, Any]]) -> bool:
    """No target measured failed (targets this run did not measure do not count)."""
    return all(t["pass"] is not False for t in found)


def target_lines(found: list[dict[str, Any]]) -> list[str]:
    return [f"{verdict(t['pass'])}  {t['target']}  [{t['size']:,}, {t['scenario']}]  {t['detail']}" for t in found]


def engine_versions(results: list[dict[str, Any]]) -> list[str]:
    """The engine fingerprints the syncs ran, in order of first use (more than one: the code changed mid-run)."""
    return list(dict.fromkeys(str(r.get("engine_fingerprint", "?")) for r in results))


def engine_warning(results: list[dict[str, Any]]) -> str | None:
    versions = engine_versions(results)
    if len(versions) <= 1:
        return None
    changed = [
        f"{r['size']:,} {r['scenario']}: {r.get('engine_fingerprint')}"
        for r in sorted(results, key=lambda r: (r["size"], SCENARIOS.index(r["scenario"])))
    ]
    return (
        "WARNING: the engine's code changed during this run (it was being edited), so these syncs did not all run "
        "the same code: " + "; ".join(changed)
    )


def evidence_lines(results: list[dict[str, Any]]) -> list[str]:
    lines = []
    for r in results:
        for endpoint, row in r["endpoints"].items():
            if "evidence" in row:
                lines.append(f"{r['size']:,} / {r['scenario']} / {endpoint} exceeds its bound:")
                lines += [f"    {e}" for e in row["evidence"]]
    return lines


def write_results(
    out: Path,
    *,
    meta: dict[str, Any],
    results: list[dict[str, Any]],
    setups: dict[int, dict[str, Any]],
    found: list[dict[str, Any]],
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    document = {
        **meta,
        "all_targets_hold": all_hold(found),
        "engine_fingerprints": engine_versions(results),
        "targets": found,
        "setups": {str(k): v for k, v in setups.items()},
        "results": sorted(results, key=lambda r: (r["size"], SCENARIOS.index(r["scenario"]))),
        "notes": {"status_reads": STATUS_READS_NOTE, "ecwid_images": IMAGES_NOTE, "moto": MOTO_NOTE},
    }
    (out / "latest.json").write_text(json.dumps(document, indent=2, ensure_ascii=False, default=_plain) + "\n")
    (out / "README.md").write_text(readme(meta, results, setups, found))


def _plain(value: Any) -> Any:
    """DynamoDB's numbers (Decimal) and sets as JSON values."""
    if isinstance(value, Decimal):
        return int(value) if value == int(value) else float(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def readme(
    meta: dict[str, Any], results: list[dict[str, Any]], setups: dict[int, dict[str, Any]], found: list[dict[str, Any]]
) -> str:
    machine = meta["machine"]
    settings = meta["settings"]
    ordered = sorted(results, key=lambda r: (r["size"], SCENARIOS.index(r["scenario"])))
    setup_rows = [
        [
            f"{size:,}",
            f"{s.get('skus_shown', 0):,}",
            f"{s.get('stale_skus', 0):,}",
            str(s.get("products_changed", "-")),
            f"{s.get('build_seconds', 0)}",
            f"{s.get('connect_seconds', 0)}",
        ]
        for size, s in sorted(setups.items())
    ]
    summary = "every target measured holds" if all_hold(found) else "some targets FAIL"
    evidence = evidence_lines(ordered)
    warning = engine_warning(ordered)
    parts = [
        "# Benchmark results (`make bench`)",
        "",
        f"Produced by `{meta['command']}` on {meta['date']} ({summary}).",
        "",
        f"- Machine: {machine['nproc']} CPUs ({machine['cpu']}), {machine['memory_gb']} GB RAM, {machine['platform']}",
        f"- Python {machine['python']}; code at {meta['git']}; engine fingerprint(s) "
        f"{', '.join(engine_versions(ordered))} (sha256 of the shared package, the worker's handler and template.yaml)",
        f"- Load average (1, 5, 15 min) at the start {machine.get('load_average_start', '?')}, at the end "
        f"{machine.get('load_average_end', '?')}: other work on the machine competes with the benchmark's three "
        "processes (the CPU it used during each sync is `cpu_seconds.other_processes` in latest.json)",
        f"- Sandboxes: {settings['latency_ms']} ms latency per call; TikTok enforces its documented rate limits "
        f"({settings['tiktok_limits']}); reviews take {settings['review_delay_seconds']:.0e} s (SKUs stay "
        "pending); upload batch "
        f"{settings['upload_batch_size']}; synthetic stores with seed {settings['seed']} (20% with 3 variations, "
        "5% in hidden categories, 3% with small images, 5% with images only in `media`)",
        f'- First sync: the "replace" job queued by the TikTok callback, over a TikTok catalog holding stale SKUs '
        f'({settings["stale_share"]:.0%} of the SKUs the store shows). Re-syncs: "full" jobs queued by '
        f"`POST /api/stores/{{id}}/sync`; the second after lowering the price of {settings['change_share']:.0%} of "
        "the products (and their variations) in the sandbox Ecwid.",
        "",
        *([f"**{warning}**", ""] if warning else []),
        "## Targets",
        "",
        "```",
        *target_lines(found),
        "```",
        "",
        "## Summary",
        "",
        "Calls are `measured/bound`. ✗ marks an endpoint over max(1.05 × bound, bound + 1).",
        "",
        markdown_table(SUMMARY_HEADER, summary_rows(ordered)),
        "",
        markdown_table(SETUP_HEADER, setup_rows),
        "",
        "## Calls per endpoint",
        "",
        markdown_table(ENDPOINT_HEADER, endpoint_rows(ordered)),
        "",
    ]
    if evidence:
        parts += ["## Evidence for the endpoints over a bound", "", "```", *evidence, "```", ""]
    parts += [
        "## How it is measured",
        "",
        f"- {STATUS_READS_NOTE}",
        f"- {IMAGES_NOTE}",
        f"- {MOTO_NOTE}",
        "- Calls come from the sandboxes' own call logs, reset before each sync; calls under `/_sandbox/` are "
        "control calls and are not counted.",
        "- The catalog worker runs in a child process (`python -m bench.worker`): localrun loads "
        "CatalogWorkerFunction with the template's environment and SqsPollers delivers the catalog queue to it "
        "until the queue is empty (messages given back for later included). Wall time is that delivery loop; "
        "the handler's import (the cold start) is reported apart as `worker_init_seconds` in latest.json. "
        "Peak RSS is the child's high-water mark (VmHWM in /proc/self/status, the peak of its own memory): "
        "`getrusage(RUSAGE_SELF).ru_maxrss` is not used because Linux keeps it across execve, so a child "
        "started by the large benchmark process reports the parent's size (it is in latest.json as `ru_maxrss_mb`).",
        "- DynamoDB items written are counted at the worker process's DynamoDB client (botocore events): one per "
        "successful PutItem/UpdateItem/DeleteItem, one per processed BatchWriteItem request; conditional writes "
        "refused by their condition (the rate limiter's) write nothing and are listed apart. `by_kind` splits them "
        "(SKU items, run and page items, image sizes, the store item, the fleet rate limiter). The SKU count is "
        "cross-checked against the table itself (`sku_items_changed_in_table`: SKU items new, changed or removed "
        "between before and after the sync) and the engine's own `items_written` counter is reported beside it.",
        "- moto's ThreadedMotoServer runs in a process of its own (AWS_ENDPOINT_URL), the sandboxes and the "
        "app's HTTP routes in the benchmark's process.",
        "- Stale SKUs are put straight into the sandbox TikTok's catalog (approved, never in the store), not through "
        "the app. The sandbox Ecwid's clock moves 61 s between syncs, so one sync's calls do not count against the "
        "next one's 600/minute window.",
        "- SKU items written count DeleteRequests too: the first sync deletes the SKU items of the stale SKUs, which "
        "never had one (DynamoDB bills a delete of a missing item as a write), so it exceeds the items the table "
        "shows as new.",
        "- An invocation that runs past CatalogWorkerFunction's Timeout fails a validity check. Lambda would stop it "
        "and SQS would give the message back only after the queue's 30-minute visibility timeout; localrun runs it "
        "to its end in-process, and the benchmark makes its message visible again at once so that the store's FIFO "
        "group is not blocked (the redelivered message finds its run finished).",
        "- Expected SKUs, deletions and pending SKUs are worked out from the sandboxes' state, not from the engine.",
        "",
    ]
    return "\n".join(parts)
