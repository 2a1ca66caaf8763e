"""The benchmark's verdicts (the issue's targets), its console table, bench/results/latest.json and README.md."""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.purchases import PURCHASES_HEADER, purchase_rows, purchases_targets
from bench.scenarios import (
    BETWEEN_SYNCS_SECONDS,
    FIRST_SYNC,
    FRESHNESS,
    GROUP_SIZES,
    HOURLY_UPLOADS,
    NOTHING_CHANGED,
    REFUSAL_FORMS,
    SCENARIOS,
)

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


def targets(
    results: list[dict[str, Any]],
    series: list[dict[str, Any]],
    errors: dict[int, str],
    sizes: list[int],
    purchases: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Every target of the issue, with PASS/FAIL and the evidence (`pass` is None where this run's sizes do not
    measure it)."""
    found: list[dict[str, Any]] = []
    for r in sorted(results, key=lambda r: (r["size"], SCENARIOS.index(r["scenario"]))):
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
        refused = r.get("refusals")
        found.append(
            {
                "target": "validity: the sync finished and TikTok's catalog equals what the store shows"
                + (" less the refused SKUs" if refused else ""),
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
                    f"({table} SKU items changed in the table); {BETWEEN_SYNCS_SECONDS:.0f} s of clock after the "
                    "first sync's uploads, within one schedule interval (no SKU due for a refresh)",
                }
            )
        if refused:
            found += refusal_targets(r, refused)
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
    for one in series:
        found += freshness_targets(one)
    found += purchases_targets(purchases or [])
    found += unmeasured_scenarios(results, series)
    for size, error in errors.items():
        found.append({"target": "the benchmark ran", "size": size, "scenario": "all", "pass": False, "detail": error})
    return found


def unmeasured_scenarios(results: list[dict[str, Any]], series: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A not-measured line for each of issue 11's scenarios this run did not include."""
    measured = {r["scenario"] for r in results} | {one["scenario"] for one in series}
    groups = [*((name, "refusals") for name in REFUSAL_FORMS), (FRESHNESS, "freshness")]
    return [
        {
            "target": f"the {group} scenarios of issue 11",
            "size": GROUP_SIZES[group],
            "scenario": scenario,
            "pass": None,
            "detail": "not measured: this run did not include them (see --scenarios)",
        }
        for scenario, group in groups
        if scenario not in measured
    ]


def refusal_targets(r: dict[str, Any], refused: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 11's targets for a sync where TikTok refuses some products whole."""
    count = len(refused["refused_skus"])
    isolated = (
        r["sync"]["finished"]
        and r["catalog_equals_store"]
        and set(refused["rejected_listed"]) == set(refused["refused_skus"])
        and len(refused["with_tiktok_message"]) == count
    )
    form = refused["message_form"]
    extra = f"2·k·⌈log2(batch)⌉ = {refused['extra_calls_allowed']}" if form == "field" else f"k = {count}"
    calls, bound = refused["upload_calls"], refused["upload_bound"]
    sample = next(iter(refused["messages"].values()), ["-"])[0]
    listed = set(refused["rejected_listed"])
    of_refused = len(listed & set(refused["refused_skus"]))
    return [
        {
            "target": f"{count} products TikTok refuses: everything else uploaded in the same run, the refused listed "
            "rejected with TikTok's message (GET /api/stores/{id}/products?status=rejected)",
            "size": r["size"],
            "scenario": r["scenario"],
            "pass": bool(isolated),
            "detail": f"sync {r['sync']['state']}, {r['sync']['last_result']}; on TikTok: "
            f"{r['skus']['store_shows']} SKUs = shown less the {count} refused "
            f"({'equal' if r['catalog_equals_store'] else 'NOT equal: ' + str(r['catalog_difference'])}); "
            f"listed rejected: {len(listed)} ({of_refused} of the refused, others "
            f"{refused['others_listed_rejected']}), {len(refused['with_tiktok_message'])} with TikTok's message, "
            f"e.g. {sample!r}",
        },
        {
            "target": f"refused products isolated within bound + {extra} upload calls "
            f"({form} form of TikTok's message)",
            "size": r["size"],
            "scenario": r["scenario"],
            "pass": calls <= bound,
            "detail": f"{calls} upload calls ≤ {bound} = {refused['upload_bound_without_refusals']} (the sync's bound "
            f"without refusals) + {refused['extra_calls_allowed']}: {calls - refused['upload_bound_without_refusals']} "
            f"extra calls for {count} refused SKUs at positions {refused['positions_among_skus_by_id']} of "
            f"{r['skus']['store_shows'] + count} (by sku_id); {r['skus']['sent']:,} SKUs sent in all",
        },
        {
            "target": f"no catalog gets more than {HOURLY_UPLOADS:,} upload calls in any hour",
            "size": r["size"],
            "scenario": r["scenario"],
            "pass": r["upload_calls_busiest_hour"] <= HOURLY_UPLOADS,
            "detail": f"at most {r['upload_calls_busiest_hour']} upload calls to this store's catalog in any 3,600 s "
            "(sliding, TikTok's clock, every upload call of the stack's syncs to it)",
        },
    ]


def freshness_targets(one: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 11's freshness targets over a series of full syncs with nothing changed."""
    runs = one["runs"]
    refreshed = one["refreshed_times"]
    top = max(runs, key=lambda run: run["skus_sent"])
    over_cap = [
        f"run {run['run']}: {run['skus_sent']} > {run['refresh_cap']}"
        for run in runs
        if run["skus_sent"] > run["refresh_cap"]
    ]
    other_writes = [f"run {run['run']}: {run['delete_calls']} delete calls" for run in runs if run["delete_calls"]]
    invalid = [
        f"run {run['run']}: finished {run['finished']}, difference {run['catalog_difference']}"
        for run in runs
        if not (run["finished"] and run["catalog_equals_store"])
    ]
    over_bound = [f"run {run['run']}: {run['endpoints_over_bound']}" for run in runs if run["endpoints_over_bound"]]
    timeouts = sum(run["lambda_timeouts"] for run in runs)
    base = {"size": one["size"], "scenario": one["scenario"]}
    days, per_day = one["days"], one["runs_per_day"]
    return [
        base
        | {
            "target": f"every SKU refreshed at least twice over {days} days of twice-daily syncs with nothing changed",
            "pass": refreshed["min"] >= 2,
            "detail": f"{one['skus_shown']:,} SKUs refreshed {refreshed['min']}–{refreshed['max']} times each over "
            f"{len(runs)} runs (times: SKUs {refreshed['histogram']}); below twice: "
            f"{one['refreshed_below_twice'] or 'none'}",
        },
        base
        | {
            "target": "no run uploads more than ⌈SKUs / (runs per day × (TIKTOK_REFRESH_DAYS − 1))⌉ SKUs beyond its "
            "changes (none), and makes no other TikTok write",
            "pass": not over_cap and not other_writes,
            "detail": f"cap ⌈{top['on_tiktok_before']} / ({per_day:g} × ({one['refresh_days']} − 1))⌉ = "
            f"{top['refresh_cap']}; most in one run {top['skus_sent']} (run {top['run']}); runs uploading: "
            f"{sum(1 for run in runs if run['skus_sent'])} of {len(runs)}, "
            f"{sum(run['upload_calls'] for run in runs)} upload calls in all; "
            + ("; ".join(over_cap + other_writes) or "no run over the cap, no deletes"),
        },
        base
        | {
            "target": "validity: every run finished, within its bounds, with TikTok's catalog equal to what the store "
            "shows (nothing expired)",
            "pass": not invalid and not over_bound and not timeouts,
            "detail": "; ".join(invalid + over_bound + ([f"{timeouts} Lambda timeouts"] if timeouts else []))
            or f"{len(runs)} runs, {one['interval_seconds'] / 3600:.0f} h of clock apart, the first one interval after "
            f"the first sync; {sum(run['wall_seconds'] for run in runs):.0f} s of syncs in all",
        },
    ]


def freshness_title(one: dict[str, Any]) -> str:
    return (
        f"{one['scenario']} ({one['size']:,} products, {one['skus_shown']:,} SKUs; {one['runs_per_day']:g} runs a "
        f"day, TIKTOK_REFRESH_DAYS {one['refresh_days']}: {one['slots']:g} slots; first sync "
        f"{one['first_sync_wall_seconds']:.1f} s):"
    )


FRESHNESS_HEADER = ["run", "hours", "on TikTok", "cap", "SKUs sent", "upload calls", "SKU items", "wall s", "valid"]


def freshness_rows(one: dict[str, Any]) -> list[list[str]]:
    return [
        [
            str(run["run"]),
            f"{run['hours_after_first_sync']:.0f}",
            f"{run['on_tiktok_before']:,}",
            str(run["refresh_cap"]),
            str(run["skus_sent"]),
            str(run["upload_calls"]),
            str(run["sku_items_written"]),
            f"{run['wall_seconds']:.1f}",
            "yes" if run["finished"] and run["catalog_equals_store"] and not run["endpoints_over_bound"] else "NO",
        ]
        for run in one["runs"]
    ]


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


def _fingerprints(results: list[dict[str, Any]], series: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(which sync, engine fingerprint) of every sync measured, freshness runs included."""
    found = [
        (f"{r['size']:,} {r['scenario']}", str(r.get("engine_fingerprint", "?")))
        for r in sorted(results, key=lambda r: (r["size"], SCENARIOS.index(r["scenario"])))
    ]
    for one in series:
        for run in one["runs"]:
            found.append((f"{one['size']:,} {one['scenario']} run {run['run']}", str(run.get("engine_fingerprint"))))
    return found


def engine_versions(results: list[dict[str, Any]], series: list[dict[str, Any]]) -> list[str]:
    """The engine fingerprints the syncs ran, in order of first use (more than one: the code changed mid-run)."""
    return list(dict.fromkeys(fingerprint for _, fingerprint in _fingerprints(results, series)))


def engine_warning(results: list[dict[str, Any]], series: list[dict[str, Any]]) -> str | None:
    if len(engine_versions(results, series)) <= 1:
        return None
    changed: list[str] = []
    for label, fingerprint in _fingerprints(results, series):  # a freshness run named only where the code changed
        if " run " not in label or not changed or not changed[-1].endswith(fingerprint):
            changed.append(f"{label}: {fingerprint}")
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
    series: list[dict[str, Any]],
    setups: dict[int, dict[str, Any]],
    found: list[dict[str, Any]],
    purchases: list[dict[str, Any]] | None = None,
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    document = {
        **meta,
        "all_targets_hold": all_hold(found),
        "engine_fingerprints": engine_versions(results, series),
        "targets": found,
        "setups": {str(k): v for k, v in setups.items()},
        "results": sorted(results, key=lambda r: (r["size"], SCENARIOS.index(r["scenario"]))),
        "freshness": series,
        "purchases": purchases or [],
        "notes": {"status_reads": STATUS_READS_NOTE, "ecwid_images": IMAGES_NOTE, "moto": MOTO_NOTE},
    }
    (out / "latest.json").write_text(json.dumps(document, indent=2, ensure_ascii=False, default=_plain) + "\n")
    (out / "README.md").write_text(readme(meta, results, series, setups, found, purchases or []))


def _plain(value: Any) -> Any:
    """DynamoDB's numbers (Decimal) and sets as JSON values."""
    if isinstance(value, Decimal):
        return int(value) if value == int(value) else float(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def readme(
    meta: dict[str, Any],
    results: list[dict[str, Any]],
    series: list[dict[str, Any]],
    setups: dict[int, dict[str, Any]],
    found: list[dict[str, Any]],
    purchases: list[dict[str, Any]] | None = None,
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
    warning = engine_warning(ordered, series)
    parts = [
        "# Benchmark results (`make bench`)",
        "",
        f"Produced by `{meta['command']}` on {meta['date']} ({summary}).",
        "",
        f"- Machine: {machine['nproc']} CPUs ({machine['cpu']}), {machine['memory_gb']} GB RAM, {machine['platform']}",
        f"- Python {machine['python']}; code at {meta['git']}; engine fingerprint(s) "
        f"{', '.join(engine_versions(ordered, series))} (sha256 of the shared package, the worker's handler and "
        "template.yaml)",
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
        "- Scenarios run, by size: "
        + ("; ".join(f"{int(k):,}: {', '.join(v)}" for k, v in settings.get("scenarios", {}).items()) or "-")
        + '. Issue 11\'s refused products ("refusals"): '
        "first syncs of fresh stores (same seed, a TikTok catalog each) where the sandbox TikTok refuses whole "
        "(40002, nothing applied) every upload carrying one of 10 SKUs chosen with the seed among those the store "
        "shows, its message naming only the field, then the product's position (`refusal_message_names` "
        '"field", "index"). Freshness: after a first sync of a fresh store, 15 days of twice-daily full '
        "syncs with nothing changed, every clock (the app's, the worker's, both sandboxes') moved 12 h before each.",
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
    for one in series:
        parts += [
            "## Freshness",
            "",
            freshness_title(one),
            "`hours`: clock after the first sync; `cap`: ⌈SKUs on TikTok / slots⌉; `SKUs sent`: the SKUs uploaded "
            "(nothing changed: all of them refreshes); `valid`: finished, every endpoint within its bound, TikTok's "
            "catalog equal to what the store shows.",
            "",
            markdown_table(FRESHNESS_HEADER, freshness_rows(one)),
            "",
        ]
    for one in purchases or []:
        parts += [
            "## Purchases",
            "",
            f"{one['orders']['paid_at_checkout']} orders paid at checkout, {one['orders']['paid_later']} offline "
            f"orders paid later, {one['orders']['unpaid']} never paid; every order webhook delivered "
            f"{one['copies_per_webhook']} times, the round-1 webhooks once more after the offline orders were paid "
            f"({one['deliveries']['round_1'] + one['deliveries']['round_2']} deliveries). Bounds: an order paid at "
            "checkout costs 1 Ecwid read and 1 TikTok call, one paid later 2 reads (unpaid, then paid) and 1 call, "
            "an unpaid one 1 read; repeated deliveries nothing. The storefront script is rendered with the "
            "template's defaults and an Ecwid-length client id.",
            "",
            markdown_table(PURCHASES_HEADER, purchase_rows(one)),
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
        "- Purchases (`--scenarios purchases`, bench/purchases.py): a 100-product store, connected and first-synced "
        "unmeasured, gets orders through the sandbox Ecwid's checkout; only the `order.*` webhooks are delivered "
        "(the stock changes' `product.updated` ones are catalog work). Ecwid `GET /orders/{id}` calls and TikTok "
        "`event/track` calls are counted per order from the sandboxes' call logs (by path, and by the events' "
        "`event_id`); TikTok's counted purchases are the sandbox's conversions after its deduplication; DynamoDB "
        "items are the worker process's writes over both rounds (order records, the hourly purchase counter, "
        "idempotency records).",
        "- Refused products: the SKUs listed rejected, and their reasons, are read as the merchant's page reads them "
        "(`GET /api/stores/{id}/products?status=rejected` through the local HTTP gateway, every page). The upload "
        "calls a catalog got in any hour are counted over every upload call of the stack's syncs to it, by the "
        "sandbox TikTok's clock, in a sliding 3,600 s window (the sandbox enforces the same 1,000).",
        "- Freshness: the worker's clock (its process's `services().clock`), the app's routes' and both sandboxes' "
        "are moved forward together, one schedule interval (86,400 s / runs per day, from SYNC_SCHEDULE) before "
        "each run, so the sandbox TikTok expires what was not refreshed for 30 days by the same time the app "
        'plans with. Runs are queued by `POST /api/stores/{id}/sync` (a "full" job, as the schedule queues); '
        "a SKU counts as refreshed each time an upload call carried it.",
        "",
    ]
    return "\n".join(parts)
