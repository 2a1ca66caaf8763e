"""The "purchases" group (`python -m bench --scenarios purchases`): the storefront script's size and the calls
the purchase path makes per order.

- Storefront script: `render_storefront_script` with production-like values (the template's default pixel SDK URL
  and purchase event, an Ecwid client id of Ecwid's usual length): raw bytes and gzip bytes (level 6, as a CDN or
  API Gateway compresses; level 9 beside it), against tests/fast/test_storefront_script.py's < 4,096 gzip bytes.
- Purchase path: a connected store (100 products, its first sync run first, not measured) gets PAID_ORDERS orders
  paid at checkout, LATER_ORDERS offline orders and UNPAID_ORDERS never paid. Round 1: every order webhook
  delivered COPIES times, shuffled, and the worker run until the queue is empty. Round 2: the offline orders paid
  (`order.updated`), those webhooks delivered COPIES times with every round-1 webhook again (Ecwid retrying),
  the worker run again. The stock changes' `product.updated` webhooks are not delivered (catalog work, measured by
  the syncs). Counted from the sandboxes' call logs: Ecwid `GET /orders/{id}` and TikTok `event/track` calls, per
  order; the DynamoDB items the worker wrote (its process's client, by kind).

Bounds: an order paid at checkout costs 1 Ecwid read and 1 TikTok call; an offline order paid later 2 reads
(the one that found it unpaid, the one that found it paid) and 1 call; an unpaid order 1 read and no call;
repeated deliveries cost nothing.
"""

from __future__ import annotations

import gzip
import json
import random
import re
from collections import Counter
from typing import TYPE_CHECKING, Any

from localrun.stack import TEMPLATE, LocalStack
from localrun.template import load_template
from sandboxes.ecwid import EcwidSandbox, EcwidStore
from sandboxes.ecwid_webhooks import EcwidWebhook
from tiktok_channel.web.storefront_script import render_storefront_script

if TYPE_CHECKING:
    from bench.scenarios import Size

PURCHASES = "purchases: paid orders' webhooks, each delivered 3 times"
PURCHASE_PRODUCTS = 100
PAID_ORDERS = 50
LATER_ORDERS = 10
UNPAID_ORDERS = 5
COPIES = 3
SCRIPT_GZIP_LIMIT = 4096  # tests/fast/test_storefront_script.py
# An Ecwid client id as Ecwid issues them to custom apps (the real one is a deployment secret).
CLIENT_ID_LIKE_ECWIDS = "custom-app-12345678-1"

_ORDER_READ = re.compile(r"^/api/v3/\d+/orders/(?P<order>[^/]+)$")
_EVENT_TRACK = "/open_api/v1.3/event/track/"


def script_size() -> dict[str, Any]:
    """The storefront script as GET /storefront.js serves it with the template's defaults: its sizes."""
    parameters = load_template(TEMPLATE).parameters
    pixel_url = str(parameters["TikTokPixelScriptUrl"].default)
    event = str(parameters["TikTokPurchaseEvent"].default)
    script = render_storefront_script(client_id=CLIENT_ID_LIKE_ECWIDS, pixel_script_url=pixel_url, purchase_event=event)
    raw = script.encode("utf-8")
    return {
        "raw_bytes": len(raw),
        "gzip_bytes": len(gzip.compress(raw, compresslevel=6)),
        "gzip9_bytes": len(gzip.compress(raw, compresslevel=9)),
        "gzip_limit_bytes": SCRIPT_GZIP_LIMIT,
        "values": {"client_id": CLIENT_ID_LIKE_ECWIDS, "pixel_script_url": pixel_url, "purchase_event": event},
    }


def order_bounds(paid: int, later: int, unpaid: int) -> dict[str, int]:
    """The calls the purchase path may make for these orders, however often their webhooks come."""
    return {"ecwid_order_reads": paid + 2 * later + unpaid, "tiktok_event_track": paid + later}


def calls_per_order(
    ecwid_paths: list[str], tiktok_bodies: list[dict[str, Any]], store_id: int
) -> dict[str, Counter[str]]:
    """Per order id: Ecwid order reads (from the paths) and TikTok event/track calls (from the bodies' event ids)."""
    reads: Counter[str] = Counter()
    for path in ecwid_paths:
        found = _ORDER_READ.match(path)
        if found:
            reads[found["order"]] += 1
    tracks: Counter[str] = Counter()
    prefix = f"ecwid-{store_id}-"
    for body in tiktok_bodies:
        for event in body.get("data") or []:
            event_id = str(event.get("event_id", ""))
            tracks[event_id.removeprefix(prefix)] += 1
    return {"reads": reads, "tracks": tracks}


def run_purchases(size: Size) -> None:
    """The storefront script's size and the purchase path's calls per order (module docstring); the result goes
    to `size.purchases`."""
    from bench.scenarios import STORE_IDS, connect_store

    bench, stack = size.bench, size.bench.stack
    store_id = STORE_IDS["purchases"]
    connected = connect_store(bench, store_id, PURCHASE_PRODUCTS, size.settings)
    bench.run_worker(f"{size.size}-purchases-sync", size.settings.timeout_seconds)
    size.say(f"  {size.size}: purchases: store {store_id} connected and synced; placing orders …")
    stack.ecwid.take_webhooks()
    rng = random.Random(size.settings.seed)
    kinds = {"paid": PAID_ORDERS, "later": LATER_ORDERS, "unpaid": UNPAID_ORDERS}
    orders: dict[str, str] = {}  # order id → kind
    for kind, count in kinds.items():
        for _ in range(count):
            orders[_place(stack.ecwid, connected.store, rng, paid=kind == "paid")] = kind
    first = [w for w in stack.ecwid.take_webhooks() if w.event_type.startswith("order.")]
    stack.ecwid.reset_calls()
    stack.tiktok.reset_calls()
    round_one = first * COPIES
    rng.shuffle(round_one)
    accepted = _post(stack, round_one)
    run_one = bench.run_worker(f"{size.size}-purchases-1", size.settings.timeout_seconds)
    for order_id, kind in orders.items():
        if kind == "later":
            stack.ecwid.set_payment_status(store_id, order_id, "PAID")
    paid_later = [w for w in stack.ecwid.take_webhooks() if w.event_type.startswith("order.")]
    round_two = paid_later * COPIES + first
    rng.shuffle(round_two)
    accepted += _post(stack, round_two)
    run_two = bench.run_worker(f"{size.size}-purchases-2", size.settings.timeout_seconds)

    ecwid_paths = [c.path for c in stack.ecwid.calls_to(f"/api/v3/{store_id}/orders", method="GET")]
    tiktok_bodies = [_json(c.body) for c in stack.tiktok.calls_to(_EVENT_TRACK, method="POST")]
    per_order = calls_per_order(ecwid_paths, tiktok_bodies, store_id)
    pixel_code = str(stack.store_item(store_id)["tiktok"]["pixel_code"])
    counted = Counter(
        c.event_id.removeprefix(f"ecwid-{store_id}-")
        for c in stack.tiktok.conversions(pixel_code)
        if "server" in c.sources
    )
    paid_ids = [o for o, k in orders.items() if k != "unpaid"]
    bounds = order_bounds(PAID_ORDERS, LATER_ORDERS, UNPAID_ORDERS)
    writes: Counter[str] = Counter()
    for run in (run_one, run_two):
        writes.update(run.result["dynamodb"]["by_kind"])
    by_kind = {kind: [o for o, k in orders.items() if k == kind] for kind in kinds}
    size.purchases.append(
        {
            "size": size.size,
            "scenario": PURCHASES,
            "store_id": store_id,
            "storefront_script": script_size(),
            "orders": {"paid_at_checkout": PAID_ORDERS, "paid_later": LATER_ORDERS, "unpaid": UNPAID_ORDERS},
            "copies_per_webhook": COPIES,
            "deliveries": {
                "round_1": len(round_one),
                "round_2": len(round_two),
                "accepted": accepted,
                "worker_messages": run_one.result["deliveries"]["messages"] + run_two.result["deliveries"]["messages"],
            },
            "ecwid_order_reads": {
                "measured": sum(per_order["reads"].values()),
                "bound": bounds["ecwid_order_reads"],
                "formula": "paid at checkout + 2 · paid later + unpaid",
                "per_kind_max": {k: max((per_order["reads"][o] for o in ids), default=0) for k, ids in by_kind.items()},
                "other_reads": sum(n for o, n in per_order["reads"].items() if o not in orders),
            },
            "tiktok_event_track": {
                "measured": len(tiktok_bodies),
                "bound": bounds["tiktok_event_track"],
                "formula": "paid orders",
                "per_paid_order_max": max((per_order["tracks"][o] for o in paid_ids), default=0),
                "for_unpaid_orders": sum(per_order["tracks"][o] for o in by_kind["unpaid"]),
            },
            "per_paid_order": {
                "ecwid_order_reads": round(sum(per_order["reads"].values()) / len(paid_ids), 2),
                "tiktok_calls": round(len(tiktok_bodies) / len(paid_ids), 2),
                "dynamodb_items_written": round(sum(writes.values()) / len(paid_ids), 2),
            },
            "conversions": {
                "paid_orders": len(paid_ids),
                "counted_for_paid": sum(1 for o in paid_ids if counted[o] == 1),
                "counted_more_than_once": sorted(o for o, n in counted.items() if n > 1),
                "counted_for_unpaid": sorted(o for o in by_kind["unpaid"] if counted[o]),
            },
            "dynamodb": {"items_written": sum(writes.values()), "by_kind": dict(sorted(writes.items()))},
            "wall_seconds": round(run_one.result["wall_seconds"] + run_two.result["wall_seconds"], 1),
            "worker_logs": [str(run_one.log), str(run_two.log)],
        }
    )
    size.say(
        f"  {size.size}: purchases: {len(tiktok_bodies)} event/track calls and {sum(per_order['reads'].values())} "
        f"order reads for {len(paid_ids)} paid orders"
    )


def purchase_targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    """PASS/FAIL lines for one purchases result."""
    script, reads, tracks, conv = (
        r["storefront_script"],
        r["ecwid_order_reads"],
        r["tiktok_event_track"],
        r["conversions"],
    )
    common = {"size": r["size"], "scenario": "purchases"}
    per_kind = reads["per_kind_max"]
    return [
        {
            **common,
            "target": f"the storefront script under {script['gzip_limit_bytes']:,} gzip bytes",
            "pass": script["gzip_bytes"] < script["gzip_limit_bytes"]
            and script["gzip9_bytes"] < script["gzip_limit_bytes"],
            "detail": f"{script['raw_bytes']:,} bytes raw, {script['gzip_bytes']:,} gzip (level 6), "
            f"{script['gzip9_bytes']:,} (level 9)",
        },
        {
            **common,
            "target": "1 Ecwid order read per paid order (2 when paid later, 1 per unpaid); repeats cost none",
            "pass": reads["measured"] <= reads["bound"]
            and per_kind.get("paid", 0) <= 1
            and per_kind.get("later", 0) <= 2
            and per_kind.get("unpaid", 0) <= 1,
            "detail": f"{reads['measured']} reads, bound {reads['bound']} ({reads['formula']}); most for one order: "
            + ", ".join(f"{k} {v}" for k, v in per_kind.items()),
        },
        {
            **common,
            "target": "1 TikTok event/track call per paid order, none for unpaid; repeats cost none",
            "pass": tracks["measured"] <= tracks["bound"]
            and tracks["per_paid_order_max"] <= 1
            and tracks["for_unpaid_orders"] == 0,
            "detail": f"{tracks['measured']} calls, bound {tracks['bound']} ({tracks['formula']}); "
            f"{r['deliveries']['round_1'] + r['deliveries']['round_2']} deliveries",
        },
        {
            **common,
            "target": "TikTok counts exactly one purchase per paid order, none for unpaid ones",
            "pass": conv["counted_for_paid"] == conv["paid_orders"]
            and not conv["counted_more_than_once"]
            and not conv["counted_for_unpaid"],
            "detail": f"{conv['counted_for_paid']}/{conv['paid_orders']} counted once; more than once "
            f"{conv['counted_more_than_once']}, for unpaid orders {conv['counted_for_unpaid']}",
        },
    ]


def purchases_targets(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The targets of every purchases result, or one not-measured line when the run had none."""
    if not results:
        return [
            {
                "target": "the purchases scenario (storefront script size, calls per paid order)",
                "size": 1000,
                "scenario": "purchases",
                "pass": None,
                "detail": "not measured: this run did not include it (see --scenarios)",
            }
        ]
    return [target for r in results for target in purchase_targets(r)]


PURCHASES_HEADER = ["figure", "measured", "bound", "per paid order"]


def purchase_rows(r: dict[str, Any]) -> list[list[str]]:
    script, reads, tracks, per = (
        r["storefront_script"],
        r["ecwid_order_reads"],
        r["tiktok_event_track"],
        r["per_paid_order"],
    )
    return [
        ["storefront script, raw bytes", f"{script['raw_bytes']:,}", "-", "-"],
        ["storefront script, gzip bytes", f"{script['gzip_bytes']:,}", f"< {script['gzip_limit_bytes']:,}", "-"],
        [
            "Ecwid order reads",
            str(reads["measured"]),
            f"{reads['bound']} ({reads['formula']})",
            str(per["ecwid_order_reads"]),
        ],
        [
            "TikTok event/track calls",
            str(tracks["measured"]),
            f"{tracks['bound']} ({tracks['formula']})",
            str(per["tiktok_calls"]),
        ],
        ["DynamoDB items written", str(r["dynamodb"]["items_written"]), "-", str(per["dynamodb_items_written"])],
    ]


def _place(ecwid: EcwidSandbox, store: EcwidStore, rng: random.Random, *, paid: bool) -> str:
    products = sorted(store.products)
    for _ in range(50):
        product = store.products[rng.choice(products)]
        combination = rng.choice(product.combinations).id if product.combinations else None
        try:
            order = ecwid.place_order(
                store.store_id,
                [(product.id, combination, 1)],
                email=f"shopper{rng.randrange(10**6)}@example.com",
                paid=paid,
            )
        except ValueError:
            continue
        return str(order["id"])
    raise RuntimeError(f"no product of store {store.store_id} could be bought")


def _post(stack: LocalStack, webhooks: list[EcwidWebhook]) -> int:
    accepted = 0
    for webhook in webhooks:
        answer = stack.http.post("/webhooks/ecwid", content=webhook.body, headers=dict(webhook.headers))
        accepted += answer.status_code == 200
    return accepted


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
