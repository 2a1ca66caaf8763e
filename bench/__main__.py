"""`make bench`: the full-sync engine against the sandboxes, at 1,000, 10,000 and 50,000 products.

    python -m bench                  # every size: 1000, 10000, 50000; every group at its sizes (below)
    python -m bench --quick          # 1000 only, the syncs only (add --scenarios to choose groups)
    python -m bench --sizes 10000    # chosen sizes
    python -m bench --scenarios refusals freshness --sizes 1000   # chosen groups, each at every chosen size

For each size: fresh moto and sandboxes (30 ms per call, TikTok's documented rate limits), the template
provisioned, then groups of scenarios, each on a synthetic store of its own connected through the real install
and TikTok callback, with stale SKUs put into its TikTok catalog, synced by the catalog worker in its own process:
- "syncs" (every size): the first sync ("replace"), a re-sync with nothing changed and one with 1% of the products
  changed;
- "refusals" (10,000 products; issue 11): first syncs where TikTok refuses whole the uploads carrying 10 chosen
  SKUs, its message naming the field, then the product;
- "freshness" (1,000 products; issue 11): 15 days of twice-daily full syncs with nothing changed, every clock
  moved 12 h before each;
- "purchases" (at 1,000; a 100-product store of its own): the storefront script's raw and gzip bytes, and the
  Ecwid order reads and TikTok event/track calls per paid order when each order webhook comes 3 times.
`--scenarios` runs only the groups named, at every size chosen (so `--scenarios refusals --sizes 1000` tries the
refusals quickly; `--quick` alone runs the syncs only). Prints a table, writes bench/results/latest.json and
bench/results/README.md, and exits 0 when every target of the issue holds, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import traceback
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from bench.machine import command, git_state, load_average, machine
from bench.purchases import PURCHASES_HEADER, purchase_rows
from bench.report import (
    ENDPOINT_HEADER,
    FRESHNESS_HEADER,
    IMAGES_NOTE,
    MOTO_NOTE,
    STATUS_READS_NOTE,
    SUMMARY_HEADER,
    all_hold,
    endpoint_rows,
    engine_warning,
    evidence_lines,
    freshness_rows,
    freshness_title,
    summary_rows,
    target_lines,
    targets,
    text_table,
    write_results,
)
from bench.scenarios import GROUP_SIZES, GROUPS, SCENARIOS, Settings, Size, run_size
from bench.stack import BenchError, bench_stack
from localrun.stack import ROOT, StepFailed
from sandboxes.tiktok_limits import default_limits

DEFAULT_SIZES = (1000, 10_000, 50_000)
REVIEW_DELAY_SECONDS = 10.0**9  # TikTok's review never finishes during the benchmark: SKUs stay pending


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", help="store sizes in products (default 1000 10000 50000)")
    parser.add_argument("--quick", action="store_true", help="1000 products only, the syncs only unless --scenarios")
    parser.add_argument(
        "--scenarios",
        nargs="+",
        choices=GROUPS,
        help="groups of scenarios to run, each at every size chosen (default: syncs at every size, refusals at "
        "10000, freshness at 1000)",
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic stores (default 7)")
    parser.add_argument("--latency-ms", type=float, default=30.0, help="sandbox latency per call (default 30)")
    parser.add_argument("--stale-share", type=float, default=0.10, help="stale SKUs on TikTok, share of SKUs shown")
    parser.add_argument("--change-share", type=float, default=0.01, help="products changed before the last re-sync")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds one sync may take (default 1800)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="where results are written")
    parser.add_argument("--logs", type=Path, help="where logs go (default: a new temporary directory)")
    parser.add_argument("--render", action="store_true", help="no run: print and rewrite README.md from latest.json")
    args = parser.parse_args(argv)
    if args.quick and args.sizes:
        parser.error("--quick and --sizes exclude each other")
    args.sizes = [1000] if args.quick else (args.sizes or list(DEFAULT_SIZES))
    if args.quick and not args.scenarios:
        args.scenarios = ["syncs"]
    if any(size < 100 for size in args.sizes):
        parser.error("sizes must be at least 100 products")
    return args


def groups_at(size: int, chosen: list[str] | None) -> list[str]:
    """The groups of scenarios run at `size`: those chosen, or each group at its own sizes."""
    if chosen:
        return [g for g in GROUPS if g in chosen]
    return [g for g in GROUPS if GROUP_SIZES.get(g, size) == size]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _arguments(argv)
    if args.render:
        return render(args.out)
    console: TextIO = sys.stdout
    logs = args.logs or Path(tempfile.mkdtemp(prefix="tiktok-channel-bench-"))
    logs.mkdir(parents=True, exist_ok=True)
    # The handlers serving the app's routes in this process log (Powertools) to stdout: into a file instead.
    warnings.filterwarnings("ignore", message="No application metrics to publish")

    def say(text: str) -> None:
        print(text, file=console, flush=True)

    settings = Settings(
        seed=args.seed,
        latency_seconds=args.latency_ms / 1000,
        stale_share=args.stale_share,
        change_share=args.change_share,
        timeout_seconds=args.timeout,
    )
    limits = default_limits()
    meta: dict[str, Any] = {
        "command": command("bench", argv),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "git": git_state(),
        "settings": {
            "sizes": args.sizes,
            "latency_ms": args.latency_ms,
            "tiktok_limits": ", ".join(
                f"{bucket} {limit.qps}/s {limit.per_minute}/min" for bucket, limit in limits.items()
            ),
            "review_delay_seconds": REVIEW_DELAY_SECONDS,
            "upload_batch_size": None,
            "seed": args.seed,
            "stale_share": args.stale_share,
            "change_share": args.change_share,
            "scenarios": {str(size): groups_at(size, args.scenarios) for size in args.sizes},
        },
    }
    say(f"Benchmark: sizes {', '.join(f'{s:,}' for s in args.sizes)}; logs in {logs}")
    results: list[dict[str, Any]] = []
    series: list[dict[str, Any]] = []
    purchases: list[dict[str, Any]] = []
    setups: dict[int, dict[str, Any]] = {}
    errors: dict[int, str] = {}
    with (logs / "app-routes.log").open("a") as routes_log, contextlib.redirect_stdout(routes_log):
        for size in args.sizes:
            say(f"{size:,} products:")
            try:
                with bench_stack(
                    logs=logs / str(size),
                    latency_seconds=settings.latency_seconds,
                    review_delay_seconds=REVIEW_DELAY_SECONDS,
                ) as bench:
                    meta["settings"]["upload_batch_size"] = bench.upload_batch_size
                    setups[size] = {}
                    run_size(
                        Size(bench, size, settings, say, results, setups[size], series, purchases),
                        groups_at(size, args.scenarios),
                    )
            except (BenchError, StepFailed, OSError, RuntimeError, KeyError, ValueError) as error:
                errors[size] = f"{type(error).__name__}: {error}"
                say(f"  {size:,}: FAILED to run: {errors[size]}")
                traceback.print_exc(file=routes_log)
            found = targets(results, series, errors, args.sizes, purchases)
            meta["machine"]["load_average_end"] = load_average()
            write_results(
                args.out, meta=meta, results=results, series=series, setups=setups, found=found, purchases=purchases
            )
    return show(results, series, found, args.out, purchases)


def render(out: Path) -> int:
    """Print the tables of, and write README.md again from, the results in OUT/latest.json (no new run)."""
    path = out / "latest.json"
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        print(f"cannot read {path}: {error}", file=sys.stderr)
        return 1
    meta = {k: document[k] for k in ("command", "date", "machine", "git", "settings")}
    results = document["results"]
    series = document.get("freshness", [])
    purchases = document.get("purchases", [])
    setups = {int(k): v for k, v in document["setups"].items()}
    errors = {int(t["size"]): t["detail"] for t in document["targets"] if t["target"] == "the benchmark ran"}
    found = targets(results, series, errors, list(meta["settings"]["sizes"]), purchases)
    write_results(out, meta=meta, results=results, series=series, setups=setups, found=found, purchases=purchases)
    return show(results, series, found, out, purchases)


def show(
    results: list[dict[str, Any]],
    series: list[dict[str, Any]],
    found: list[dict[str, Any]],
    out: Path,
    purchases: list[dict[str, Any]] | None = None,
) -> int:
    """Print the tables and the targets; the exit code (0: every target measured holds)."""
    ordered = sorted(results, key=lambda r: (r["size"], SCENARIOS.index(r["scenario"])))
    print()
    print("Calls are measured/bound; status reads: API bound (issue bound); ✗ = over max(1.05 × bound, bound + 1)")
    print(text_table(SUMMARY_HEADER, summary_rows(ordered)))
    print()
    print(text_table(ENDPOINT_HEADER, endpoint_rows(ordered)))
    for one in series:
        print()
        print(freshness_title(one))
        print(text_table(FRESHNESS_HEADER, freshness_rows(one)))
    for one in purchases or []:
        print()
        print(f"Purchases ({one['scenario']}):")
        print(text_table(PURCHASES_HEADER, purchase_rows(one)))
    print()
    print(STATUS_READS_NOTE)
    print(IMAGES_NOTE)
    print(MOTO_NOTE)
    evidence = evidence_lines(ordered)
    if evidence:
        print()
        print("Evidence for the endpoints over a bound:")
        print("\n".join(evidence))
    warning = engine_warning(ordered, series)
    if warning:
        print()
        print(warning)
    print()
    print("Targets:")
    print("\n".join(target_lines(found)))
    holds = all_hold(found)
    print()
    print("Every target measured holds." if holds else "Some targets FAIL.", f"Results: {out}/latest.json, README.md")
    return 0 if holds else 1


if __name__ == "__main__":
    sys.exit(main())
