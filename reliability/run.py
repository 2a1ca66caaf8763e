"""The reliability run: many Ecwid changes, delivered as webhooks shuffled and duplicated, while Ecwid and
TikTok misbehave; at the end every TikTok catalog must equal what a fault-free full sync would produce.

Some changes put promotional text (reliability.refusals.MARKER) in a product's name, which the sandbox TikTok
refuses the whole upload request for (40002 naming the title); later changes take it out again. A SKU whose name
still carries it at the end is expected rejected on the store's page with TikTok's message, and not on TikTok as
it is now: absent, or the version TikTok accepted before the marker came (a refused request changes nothing).

Among the changes, orders (reliability.purchases): per store, orders paid at placement, paid later, left unpaid,
refunded or cancelled, their webhooks shuffled and duplicated with the rest while Ecwid's order reads and TikTok's
Events API fail too; a second round of deliveries after the first has been handled pays the orders left for it,
refunds and cancels others, and delivers some of the first round's order webhooks again, as Ecwid's retries do.
At the end TikTok must count exactly one purchase per order the app could see paid, none for the others.

Used by `make chaos` (the full size) and by a pytest case (a tenth of it).
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import boto3
import httpx

from localrun.stack import LocalStack, local_stack
from reliability.purchases import (
    FIRST_ROUND_STATUS,
    ORDER_KINDS,
    SECOND_ROUND_STATUS,
    AreaFaultPlan,
    PlacedOrder,
    place_order,
    purchase_problems,
    purchase_summary,
)
from reliability.refusals import ISSUE, MARKER, refuse_marked_titles
from sandboxes.common import FaultRule
from sandboxes.ecwid import EcwidStore, Variation
from sandboxes.ecwid_webhooks import EcwidWebhook
from tiktok_channel.adapters.images import read_image_size
from tiktok_channel.adapters.queue import SqsCatalogQueue
from tiktok_channel.catalog.mapping import map_product
from tiktok_channel.catalog.visibility import hidden_category_ids
from tiktok_channel.models.ecwid_catalog import CategoryPage, ProductPage

FIRST_STORE = 5001
TIKTOK = "/open_api/v1.3/"
ECWID_API = "/api/v3/"


@dataclass
class Report:
    stores: int
    changes: int
    deliveries: int
    webhooks_accepted: int = 0
    receives: int = 0
    retries: int = 0
    dead_letters: int = 0
    redriven: int = 0
    lost: int = 0  # messages left on the dead-letter queue after the redrive
    lost_sample: dict[str, int] = field(default_factory=dict)  # some of them, by store and kind
    tiktok_calls: int = 0
    ecwid_calls: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    marked: int = 0  # changes that put TikTok's refused text in a name
    unmarked: int = 0  # changes that took it out
    refused_at_end: int = 0  # SKUs whose name still carries it: expected rejected, not on TikTok as they are
    mismatches: dict[int, list[str]] = field(default_factory=dict)
    order_deliveries: int = 0  # of `deliveries`, order webhooks (duplicates included), both rounds
    second_round_deliveries: int = 0  # the second round's deliveries (within `deliveries`)
    purchases: dict[str, Any] = field(default_factory=dict)  # reliability.purchases.purchase_summary
    purchase_problems: list[str] = field(default_factory=list)
    faults_by_area: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def converged(self) -> bool:
        return not self.mismatches and not self.purchase_problems

    def as_json(self) -> dict[str, Any]:
        return {
            "stores": self.stores,
            "changes": self.changes,
            "deliveries": self.deliveries,
            "webhooks_accepted": self.webhooks_accepted,
            "receives": self.receives,
            "retries": self.retries,
            "dead_letters": self.dead_letters,
            "redriven": self.redriven,
            "dead_letters_after_redrive": {"count": self.lost, "sample": self.lost_sample},
            "tiktok_calls_per_change": round(self.tiktok_calls / max(1, self.changes), 2),
            "ecwid_calls_per_change": round(self.ecwid_calls / max(1, self.changes), 2),
            "faults_injected": self.faults,
            "faults_by_area": self.faults_by_area,
            "refusing_changes": {"marked": self.marked, "unmarked": self.unmarked},
            "refused_skus_at_end": self.refused_at_end,
            "converged": self.converged,
            "mismatches": {str(k): v[:10] for k, v in self.mismatches.items()},
            "order_deliveries": self.order_deliveries,
            "second_round_deliveries": self.second_round_deliveries,
            "purchases": {**self.purchases, "one_per_paid_order": not self.purchase_problems},
            "purchase_problems": self.purchase_problems[:20],
            "seconds": round(self.seconds, 1),
        }


def run(*, stores: int = 10, products: int = 100, changes: int = 700, duplicates: int = 300, seed: int = 7) -> Report:
    started = time.monotonic()
    rng = random.Random(seed)
    # TikTok's five-minute pause and the retry backoff, scaled down so the run takes a minute, not hours.
    parameters = {"TikTokPauseSeconds": "0.3", "RetryBaseSeconds": "1", "LogLevel": "WARNING"}
    with local_stack(parameters=parameters, ecwid_options={"retry_after_seconds": 1}) as stack:
        stack.tiktok.request_refusal_rules.append(refuse_marked_titles())
        ecwid_stores = [_build_store(stack, FIRST_STORE + n, products, rng) for n in range(stores)]
        for store in ecwid_stores:
            assert stack.connect(store.store_id).status_code == 302
        _drain(stack, Report(stores, changes, 0))
        stack.ecwid.take_webhooks()

        # Orders are placed among the catalog changes (each store's kinds at random moments).
        pending = [(store, kind) for store in ecwid_stores for kind in ORDER_KINDS]
        moments = sorted(rng.sample(range(changes + len(pending)), len(pending)))
        rng.shuffle(pending)
        orders: list[PlacedOrder] = []
        kinds: Counter[str] = Counter()
        for moment in range(changes + len(pending)):
            if moments and moments[0] == moment:
                moments.pop(0)
                store, kind = pending.pop()
                placed = place_order(stack.ecwid, store, kind, rng)
                if placed is not None:
                    orders.append(placed)
            else:
                kinds[_change(rng.choice(ecwid_stores), rng)] += 1
        for order in orders:  # offline payments arriving, and an early refund, before anything is delivered
            if order.kind in FIRST_ROUND_STATUS:
                stack.ecwid.set_payment_status(order.store_id, order.order_id, FIRST_ROUND_STATUS[order.kind])
        webhooks = stack.ecwid.take_webhooks()
        order_webhooks = [w for w in webhooks if w.event_type.startswith("order.")]
        deliveries = webhooks + [rng.choice(webhooks) for _ in range(duplicates)]
        deliveries += [rng.choice(order_webhooks) for _ in range(len(order_webhooks) // 2)]
        rng.shuffle(deliveries)
        report = Report(stores, changes, len(deliveries), marked=kinds["mark"], unmarked=kinds["unmark"])

        stack.tiktok.reset_calls()
        stack.ecwid.reset_calls()
        _faults_on(stack, seed, [s.store_id for s in ecwid_stores])
        _deliver_and_drain(stack, report, deliveries)

        # Second round: orders paid, refunded and cancelled after the first was handled, and some of its order
        # webhooks delivered again (Ecwid retries), shuffled and duplicated, faults still on.
        for order in orders:
            if order.kind in SECOND_ROUND_STATUS:
                stack.ecwid.set_payment_status(order.store_id, order.order_id, SECOND_ROUND_STATUS[order.kind])
        later = stack.ecwid.take_webhooks()
        again = rng.sample(order_webhooks, len(order_webhooks) // 4)
        second = later + [rng.choice(later) for _ in range(len(later))] + again if later else again
        rng.shuffle(second)
        report.deliveries += len(second)
        report.second_round_deliveries = len(second)
        report.order_deliveries = sum(1 for w in deliveries + second if w.event_type.startswith("order."))
        _deliver_and_drain(stack, report, second)
        report.lost = stack.queued("CatalogDeadLetterQueue")
        report.lost_sample = _dead_letters(stack)
        report.faults = dict(stack.tiktok.faults.injected + stack.ecwid.faults.injected)
        report.faults_by_area = _faults_by_area(stack)
        report.tiktok_calls = len(stack.tiktok.calls_to(TIKTOK))
        report.ecwid_calls = len(stack.ecwid.calls_to(ECWID_API))
        stack.tiktok.faults.clear()
        stack.ecwid.faults.clear()

        for store in ecwid_stores:
            mismatches, refused = _compare(stack, store)
            report.refused_at_end += refused
            if mismatches:
                report.mismatches[store.store_id] = mismatches
        counted, received = _purchases_on_tiktok(stack, [s.store_id for s in ecwid_stores])
        report.purchases = purchase_summary(orders, counted, received)
        report.purchase_problems = purchase_problems(orders, counted)
    report.seconds = time.monotonic() - started
    return report


# -- the store and its changes --------------------------------------------------------------------
def _build_store(stack: LocalStack, store_id: int, products: int, rng: random.Random) -> EcwidStore:
    store = stack.ecwid.add_store(store_id)
    with store.quietly():
        parent = store.add_category("Shop")
        categories = [parent, store.add_category("Kitchen", parent_id=parent), store.add_category("Garden")]
        for n in range(products):
            variations = [Variation({"Size": size}) for size in ("S", "M", "L")] if n % 5 == 0 else []
            store.add_product(
                f"Product {store_id}-{n}",
                round(rng.uniform(5, 90), 2),
                category_ids=[rng.choice(categories)],
                combinations=variations,
                quantity=rng.choice([None, 0, 3, 12]),
            )
    return store


def _change(store: EcwidStore, rng: random.Random) -> str:
    """One change to the store; its kind ("new" when there was no product to change)."""
    product_ids = list(store.products)
    kind = rng.choice(
        [
            "price",
            "title",
            "stock",
            "image",
            "new",
            "delete",
            "add_variation",
            "remove_variation",
            "category",
            "mark",
            "unmark",
        ]
    )
    if kind == "new" or not product_ids:
        store.add_product(
            f"New {rng.randrange(10**6)}",
            round(rng.uniform(5, 90), 2),
            category_ids=[rng.choice(list(store.categories))],
        )
        return "new"
    marked = [p for p in product_ids if MARKER in store.products[p].name]
    if kind == "unmark" and not marked:
        kind = "mark"  # nothing to take it out of: put it in somewhere, so that refusals keep coming
    product_id = rng.choice(marked if kind == "unmark" else product_ids)
    product = store.products[product_id]
    if kind == "mark":
        store.update_product(product_id, name=f"{product.name} {MARKER}")
    elif kind == "unmark":
        store.update_product(product_id, name=product.name.replace(f" {MARKER}", ""))
    elif kind == "price":
        store.update_product(product_id, price=round(rng.uniform(5, 90), 2))
    elif kind == "title":
        store.update_product(product_id, name=f"{product.name.split(' v')[0]} v{rng.randrange(100)}")
    elif kind == "stock":
        store.update_product(product_id, quantity=rng.choice([0, 1, 7, 40]))
    elif kind == "image":
        side = rng.choice([300, 600, 900, 1200])
        store.update_product(product_id, image=(side, side, rng.choice(["jpg", "png"])))
    elif kind == "delete":
        store.delete_product(product_id)
    elif kind == "add_variation":
        store.add_combination(product_id, {"Color": f"C{rng.randrange(1000)}"}, price=round(rng.uniform(5, 90), 2))
    elif kind == "remove_variation" and product.combinations:
        store.remove_combination(product_id, rng.choice(product.combinations).id)
    else:
        category = rng.choice(list(store.categories))
        store.update_category(category, enabled=not store.categories[category].enabled)
    return kind


def _faults_on(stack: LocalStack, seed: int, store_ids: list[int]) -> None:
    # TikTok (catalog and Events API alike): 20% 40100, 10% HTTP 5xx, 5% timeouts of which half were applied;
    # Ecwid: 10% 429, and on order reads 10% HTTP 5xx before that.
    # Each rule draws from what the earlier ones left, so the shares are set to give those overall rates.
    stack.tiktok.faults = AreaFaultPlan("tiktok")
    stack.ecwid.faults = AreaFaultPlan("ecwid")
    stack.tiktok.faults.set(
        [
            FaultRule(kind="rate_limit", path_prefix=TIKTOK, probability=0.20),
            FaultRule(kind="http_5xx", path_prefix=TIKTOK, probability=0.10 / 0.80),
            FaultRule(kind="applied_timeout", path_prefix=TIKTOK, probability=0.025 / 0.70, delay_seconds=0.05),
            FaultRule(kind="drop", path_prefix=TIKTOK, probability=0.025 / (0.70 - 0.025)),
        ],
        seed=seed,
    )
    order_reads = [
        FaultRule(kind="http_5xx", path_prefix=f"{ECWID_API}{store_id}/orders", probability=0.10)
        for store_id in store_ids
    ]
    stack.ecwid.faults.set(
        [*order_reads, FaultRule(kind="rate_limit", path_prefix=ECWID_API, probability=0.10)], seed=seed + 1
    )


def _faults_by_area(stack: LocalStack) -> dict[str, int]:
    found: Counter[str] = Counter()
    for plan in (stack.tiktok.faults, stack.ecwid.faults):
        if isinstance(plan, AreaFaultPlan):
            found.update(plan.by_area)
    return dict(sorted(found.items()))


def _purchases_on_tiktok(stack: LocalStack, store_ids: list[int]) -> tuple[Counter[str], Counter[str]]:
    """Per event_id, the purchases TikTok counts from the Events API; and what became of the server events it
    received (counted, duplicate: a repeat it dropped, refused)."""
    counted: Counter[str] = Counter()
    received: Counter[str] = Counter()
    for store_id in store_ids:
        pixel_code = str(stack.store_item(store_id)["tiktok"]["pixel_code"])
        for conversion in stack.tiktok.conversions(pixel_code):
            if "server" in conversion.sources:
                counted[conversion.event_id] += 1
        for event in stack.tiktok.received_events(pixel_code, source="server"):
            received[event.status] += 1
    return counted, received


def _deliver_and_drain(stack: LocalStack, report: Report, deliveries: list[EcwidWebhook]) -> None:
    """POST the webhooks to the app's receiver, then run the worker until the queue is empty, redrive the
    dead-letter queue and run it again."""
    for webhook in deliveries:
        answer = stack.http.post("/webhooks/ecwid", content=webhook.body, headers=dict(webhook.headers))
        report.webhooks_accepted += answer.status_code == 200
    _drain(stack, report)
    queue = SqsCatalogQueue(boto3.client("sqs"), stack.resources.queues["CatalogQueue"])
    report.redriven += queue.redrive(stack.resources.queues["CatalogDeadLetterQueue"])
    _drain(stack, report)


# -- running the worker as Lambda would -----------------------------------------------------------
def _drain(stack: LocalStack, report: Report) -> None:
    """Deliver messages to the worker until the queue is empty, waiting out messages given back for later,
    with three pollers at once, as Lambda runs several invocations of a FIFO queue (one store each)."""
    received, redelivered = stack.pollers.received, stack.pollers.redelivered
    stack.run_worker(120 + 2 * max(report.deliveries, 50), until_empty=True, concurrency=3)
    report.receives += stack.pollers.received - received
    report.retries += stack.pollers.redelivered - redelivered
    report.dead_letters = max(report.dead_letters, stack.queued("CatalogDeadLetterQueue"))


def _dead_letters(stack: LocalStack) -> dict[str, int]:
    """Messages on the dead-letter queue by store and kind ("5003 product.updated"), left there; a FIFO queue gives
    only the first messages of each store's group while those are held, so this is a sample."""
    sqs = boto3.client("sqs")
    url = stack.resources.queues["CatalogDeadLetterQueue"]
    kinds: Counter[str] = Counter()
    handles = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages", [])
        if not messages:
            break
        for message in messages:
            body = json.loads(message["Body"])
            kinds[f"{body.get('store_id')} {body.get('event_type') or body.get('kind')}"] += 1
            handles.append(message["ReceiptHandle"])
    for handle in handles:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    return dict(sorted(kinds.items()))


# -- what a fault-free full sync would produce ----------------------------------------------------
def _compare(stack: LocalStack, store: EcwidStore) -> tuple[list[str], int]:
    """What differs from a fault-free full sync, and how many SKUs TikTok refuses as they are now."""
    expected = expected_catalog(stack, store.store_id)
    actual = stack.tiktok_catalog(store.store_id)
    refused = {sku for sku, fields in expected.items() if MARKER in str(fields.get("title", ""))}
    problems = _refused_problems(stack, store.store_id, refused, actual)
    expected = {sku: fields for sku, fields in expected.items() if sku not in refused}
    actual = {sku: fields for sku, fields in actual.items() if sku not in refused}
    problems += [f"missing {sku}" for sku in sorted(expected.keys() - actual.keys())]
    problems += [f"extra {sku}" for sku in sorted(actual.keys() - expected.keys())]
    problems += [
        f"differs {sku}: {sorted(k for k in expected[sku] if expected[sku].get(k) != actual[sku].get(k))}"
        for sku in sorted(expected.keys() & actual.keys())
        if expected[sku] != actual[sku]
    ]
    return problems, len(refused)


def _refused_problems(stack: LocalStack, store_id: int, refused: set[str], actual: dict[str, Any]) -> list[str]:
    """Each SKU TikTok refuses as it is now: shown rejected with TikTok's message; on TikTok only in a version
    TikTok accepted before (never one carrying the refused text), and then known to the app as on TikTok."""
    records = stack.sku_items(store_id, fields=("status", "reasons", "on_tiktok"))
    problems = []
    for sku in sorted(refused):
        record = records.get(sku, {})
        messages = [str(reason.get("message", "")) for reason in record.get("reasons", [])]
        if record.get("status") != "rejected" or not any(ISSUE in message for message in messages):
            problems.append(f"refused {sku} shown {record.get('status')} {messages[:1]}")
        if sku in actual and (MARKER in str(actual[sku].get("title", "")) or not record.get("on_tiktok")):
            problems.append(f"refused {sku} on TikTok as {actual[sku].get('title')!r}")
    return problems


def expected_catalog(stack: LocalStack, store_id: int) -> dict[str, dict[str, Any]]:
    """sku_id → fields, mapped straight from Ecwid's current state with the sync's own mapping rules."""
    token = stack.ecwid.token_for(store_id)
    headers = {"Authorization": f"Bearer {token}"}
    base = f"{stack.ecwid.base_url}/api/v3/{store_id}"
    with httpx.Client(headers=headers, timeout=30) as http:
        categories = CategoryPage.model_validate(
            http.get(f"{base}/categories", params={"hidden_categories": "true", "limit": 100}).json()
        ).items
        products = []
        offset = 0
        while True:
            page = ProductPage.model_validate(http.get(f"{base}/products", params={"offset": offset}).json())
            products += page.items
            offset += page.count
            if page.count == 0 or offset >= page.total:
                break
        store = stack.store_item(store_id)
        currency, store_name = store["tiktok"]["catalog_currency"], str(store.get("store_name", ""))
        hidden = hidden_category_ids(categories)
        sizes: dict[str, Any] = {}

        def size(url: str) -> Any:
            if url not in sizes:
                sizes[url] = read_image_size(http, url)
            return sizes[url]

        return {
            upload.sku_id: upload.fields
            for product in products
            for upload in map_product(
                product, currency=currency, hidden=hidden, image_sizes=size, store_name=store_name
            ).uploads
        }


def summary(report: Report) -> str:
    data = report.as_json()
    return json.dumps(data, indent=2)
