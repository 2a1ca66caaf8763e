"""The reliability run's orders: per store, orders placed among the catalog changes, paid at placement, paid
later (offline payment), left unpaid, refunded or cancelled; their webhooks are shuffled and duplicated with the
catalog ones while Ecwid's order reads and TikTok's Events API misbehave too.

What TikTok must count at the end (`tiktok.conversions`, server source, event_id `ecwid-{storeId}-{orderId}`):
exactly one purchase per order the app could see paid, none for an order never paid, none twice.

The kinds, and what each expects:
- "paid": paid at placement                                                       -> 1
- "paid_later": offline, paid before the first deliveries                         -> 1
- "paid_late": offline, its `order.created` handled unpaid, paid after that round -> 1
- "refunded_after" / "cancelled_after": paid at placement, refunded (REFUNDED) or
  cancelled (CANCELLED) after the round that sent its purchase                    -> 1 (no second, no retraction)
- "refunded_before": paid at placement, refunded before any webhook was handled   -> 0 (the app sends only what
  it reads as PAID; purchases.py: "Refunds and cancellations send nothing")
- "unpaid": offline, never paid                                                   -> 0
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sandboxes.common import FaultPlan, FaultRule
from sandboxes.ecwid import EcwidSandbox, EcwidStore

# Per store, in this order; the expected count of each kind.
ORDER_KINDS = (
    "paid",
    "paid",
    "paid",
    "paid_later",
    "paid_late",
    "unpaid",
    "refunded_before",
    "refunded_after",
    "cancelled_after",
)
EXPECTED_COUNT = {
    "paid": 1,
    "paid_later": 1,
    "paid_late": 1,
    "refunded_after": 1,
    "cancelled_after": 1,
    "refunded_before": 0,
    "unpaid": 0,
}
PAID_AT_PLACEMENT = frozenset({"paid", "refunded_before", "refunded_after", "cancelled_after"})
# After the first round of deliveries (the purchase already sent, or the order seen unpaid): the new status.
SECOND_ROUND_STATUS = {"paid_late": "PAID", "refunded_after": "REFUNDED", "cancelled_after": "CANCELLED"}
# Before the first round (the app has seen nothing yet).
FIRST_ROUND_STATUS = {"paid_later": "PAID", "refunded_before": "REFUNDED"}

_ORDER_READ = re.compile(r"^/api/v3/\d+/orders(/|$)")


@dataclass(frozen=True)
class PlacedOrder:
    store_id: int
    order_id: str
    kind: str

    @property
    def event_id(self) -> str:
        """The purchase's event_id, as the app and the storefront script make it."""
        return f"ecwid-{self.store_id}-{self.order_id}"


def place_order(ecwid: EcwidSandbox, store: EcwidStore, kind: str, rng: random.Random) -> PlacedOrder | None:
    """One shopper's checkout of 1 or 2 products in stock (a variation where there are some); None when no
    product could be bought (every one tried was out of stock or disabled)."""
    for _ in range(20):
        product_ids = sorted(store.products)
        if not product_ids:
            return None
        items: list[tuple[int, int | None, int]] = []
        for product_id in rng.sample(product_ids, min(len(product_ids), rng.choice([1, 1, 2]))):
            product = store.products[product_id]
            combination = rng.choice(product.combinations).id if product.combinations else None
            items.append((product_id, combination, 1))
        try:
            order = ecwid.place_order(
                store.store_id,
                items,
                email=f"shopper{rng.randrange(10**6)}@example.com",
                phone=f"+1415555{rng.randrange(10**4):04d}",
                paid=kind in PAID_AT_PLACEMENT,
            )
        except ValueError:
            continue  # out of stock or disabled: another cart
        return PlacedOrder(store.store_id, str(order["id"]), kind)
    return None


def fault_area(sandbox: str, path: str) -> str:
    """Where a fault landed: the Events API or the catalog API on TikTok, order reads or the rest on Ecwid."""
    if sandbox == "tiktok":
        return "tiktok event/track" if "/event/track/" in path else "tiktok catalog"
    return "ecwid order reads" if _ORDER_READ.match(path) else "ecwid catalog"


class AreaFaultPlan(FaultPlan):
    """The sandbox's fault plan, counting also where each fault landed (`by_area`: "ecwid order reads 429", …)."""

    def __init__(self, sandbox: str, seed: int = 0) -> None:
        super().__init__(seed)
        self.sandbox = sandbox
        self.by_area: Counter[str] = Counter()

    def pick(self, method: str, path: str, query: str = "") -> FaultRule | None:
        rule = super().pick(method, path, query)
        if rule is not None:
            self.by_area[f"{fault_area(self.sandbox, path)}: {rule.kind}"] += 1
        return rule


def purchase_problems(orders: list[PlacedOrder], counted: Counter[str]) -> list[str]:
    """What differs from one counted purchase per order expected to count and none otherwise (`counted`: how many
    server-source conversions TikTok counts per event_id)."""
    problems = []
    for order in orders:
        expected, found = EXPECTED_COUNT[order.kind], counted.get(order.event_id, 0)
        if found != expected:
            problems.append(
                f"{order.kind} order {order.store_id}/{order.order_id}: {found} counted, {expected} expected"
            )
    known = {order.event_id for order in orders}
    problems += [
        f"unknown purchase {event_id} counted {n}" for event_id, n in sorted(counted.items()) if event_id not in known
    ]
    return problems


def purchase_summary(orders: list[PlacedOrder], counted: Counter[str], received: Counter[str]) -> dict[str, Any]:
    """The figures the report shows: orders by kind, purchases expected and counted, repeats TikTok dropped."""
    expected = sum(EXPECTED_COUNT[o.kind] for o in orders)
    return {
        "orders_placed": len(orders),
        "orders_by_kind": dict(sorted(Counter(o.kind for o in orders).items())),
        "orders_paid_at_some_point": sum(1 for o in orders if o.kind != "unpaid"),
        "purchases_expected": expected,
        "purchases_counted": sum(counted.values()),
        "orders_counted_twice_or_more": sum(1 for n in counted.values() if n > 1),
        "server_events_received": dict(sorted(received.items())),
    }
