"""`make chaos`: the full reliability run (10 stores, 700 changes and 90 orders, their webhooks + duplicates, faults
on)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from reliability.run import run


def main() -> int:
    logging.basicConfig(level=logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stores", type=int, default=10)
    parser.add_argument("--products", type=int, default=100)
    parser.add_argument("--changes", type=int, default=700)
    parser.add_argument("--duplicates", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("bench/results/chaos.json"))
    args = parser.parse_args()
    report = run(
        stores=args.stores, products=args.products, changes=args.changes, duplicates=args.duplicates, seed=args.seed
    )
    result = {"command": " ".join(["python -m reliability", *sys.argv[1:]]), **report.as_json()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(
        "converged: every TikTok catalog equals a fault-free full sync"
        if not report.mismatches
        else "NOT converged: see mismatches"
    )
    purchases = report.purchases
    print(
        f"purchases: {purchases.get('purchases_counted')} counted for {purchases.get('purchases_expected')} orders "
        f"seen paid ({purchases.get('orders_placed')} placed), "
        + ("one each, none for the others" if not report.purchase_problems else "NOT one each: see purchase_problems")
    )
    return 0 if report.converged else 1


if __name__ == "__main__":
    sys.exit(main())
