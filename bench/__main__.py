"""`make bench`: the full-sync engine against the sandboxes, at 1,000, 10,000 and 50,000 products.

    python -m bench                  # every size: 1000, 10000, 50000
    python -m bench --quick          # 1000 only
    python -m bench --sizes 10000    # chosen sizes

For each size: fresh moto and sandboxes (30 ms per call, TikTok's documented rate limits), the template
provisioned, a synthetic store connected through the real install and TikTok callback, stale SKUs put into its
TikTok catalog, then three syncs run by the catalog worker in its own process: the first ("replace"), a re-sync
with nothing changed and one with 1% of the products changed. Prints a table, writes bench/results/latest.json
and bench/results/README.md, and exits 0 when every target of the issue holds, 1 otherwise.
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
from bench.report import (
    ENDPOINT_HEADER,
    IMAGES_NOTE,
    MOTO_NOTE,
    STATUS_READS_NOTE,
    SUMMARY_HEADER,
    all_hold,
    endpoint_rows,
    engine_warning,
    evidence_lines,
    summary_rows,
    target_lines,
    targets,
    text_table,
    write_results,
)
from bench.scenarios import SCENARIOS, Settings, run_size
from bench.stack import BenchError, bench_stack
from localrun.stack import ROOT, StepFailed
from sandboxes.tiktok_limits import default_limits

DEFAULT_SIZES = (1000, 10_000, 50_000)
REVIEW_DELAY_SECONDS = 10.0**9  # TikTok's review never finishes during the benchmark: SKUs stay pending


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", help="store sizes in products (default 1000 10000 50000)")
    parser.add_argument("--quick", action="store_true", help="1000 products only")
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
    if any(size < 100 for size in args.sizes):
        parser.error("sizes must be at least 100 products")
    return args


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
        },
    }
    say(f"Benchmark: sizes {', '.join(f'{s:,}' for s in args.sizes)}; logs in {logs}")
    results: list[dict[str, Any]] = []
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
                    run_size(bench, size, settings, say, results, setups[size])
            except (BenchError, StepFailed, OSError, RuntimeError, KeyError, ValueError) as error:
                errors[size] = f"{type(error).__name__}: {error}"
                say(f"  {size:,}: FAILED to run: {errors[size]}")
                traceback.print_exc(file=routes_log)
            found = targets(results, errors, args.sizes)
            meta["machine"]["load_average_end"] = load_average()
            write_results(args.out, meta=meta, results=results, setups=setups, found=found)
    return show(results, targets(results, errors, args.sizes), args.out)


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
    setups = {int(k): v for k, v in document["setups"].items()}
    errors = {int(t["size"]): t["detail"] for t in document["targets"] if t["target"] == "the benchmark ran"}
    found = targets(results, errors, list(meta["settings"]["sizes"]))
    write_results(out, meta=meta, results=results, setups=setups, found=found)
    return show(results, found, out)


def show(results: list[dict[str, Any]], found: list[dict[str, Any]], out: Path) -> int:
    """Print the tables and the targets; the exit code (0: every target measured holds)."""
    ordered = sorted(results, key=lambda r: (r["size"], SCENARIOS.index(r["scenario"])))
    print()
    print("Calls are measured/bound; status reads: API bound (issue bound); ✗ = over max(1.05 × bound, bound + 1)")
    print(text_table(SUMMARY_HEADER, summary_rows(ordered)))
    print()
    print(text_table(ENDPOINT_HEADER, endpoint_rows(ordered)))
    print()
    print(STATUS_READS_NOTE)
    print(IMAGES_NOTE)
    print(MOTO_NOTE)
    evidence = evidence_lines(ordered)
    if evidence:
        print()
        print("Evidence for the endpoints over a bound:")
        print("\n".join(evidence))
    warning = engine_warning(ordered)
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
