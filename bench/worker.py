"""The catalog worker in a process of its own, so that its peak RSS is its own.

`python -m bench.worker SPEC.json` rebuilds the provisioned stack's view (template, physical ids,
parameters) that the benchmark wrote into SPEC.json, loads CatalogWorkerFunction with localrun (the
template's environment, its layer, the real handler), and delivers the catalog queue to it with
SqsPollers until the queue is empty, in flight included (a message the worker gave back for later, after a
TikTok pause or a transient failure, is waited for, as Lambda would redeliver it). It then prints one line
`BENCH_RESULT {json}`: the sync's wall time, the process's peak RSS and the DynamoDB items it wrote.

DynamoDB writes are counted at the worker's own DynamoDB client (botocore events on boto3's default session,
which `tiktok_channel.runtime` uses): every successful PutItem, UpdateItem and DeleteItem is one item, every
BatchWriteItem request that DynamoDB processed is one item, and a write refused by its condition (the rate
limiter's conditional updates) is counted apart, as it writes nothing. Items are classed by their key.
"""

from __future__ import annotations

import json
import logging
import resource
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import boto3

from localrun.aws import LocalResources
from localrun.lambda_runtime import lambdas_for
from localrun.template import PhysicalResource, Resolver, load_template
from localrun.triggers import SqsPollers

RESULT_PREFIX = "BENCH_RESULT "
_SINGLE_WRITES = {"PutItem": "put", "UpdateItem": "update", "DeleteItem": "delete"}
_WRITES = {*_SINGLE_WRITES, "BatchWriteItem", "TransactWriteItems"}


def item_kind(key: dict[str, Any]) -> str:
    """What an item of the stores table is, from its key (see catalog_repository and store_repository)."""
    pk = str((key.get("pk") or {}).get("S", ""))
    sk = str((key.get("sk") or {}).get("S", ""))
    if pk.startswith("RATE#"):
        return "rate_limiter"
    if pk.startswith("IMAGE#"):
        return "image_size"
    if sk.startswith("SKU#"):
        return "sku"
    if sk.startswith("RUN#") and "#PAGE#" in sk:
        return "run_page"
    if sk.startswith("RUN#"):
        return "run"
    if sk == "STORE":
        return "store"
    return "other"


class DynamoWrites:
    """Items written by this process's DynamoDB clients, by kind and verb ("sku:put", "run_page:put", …)."""

    def __init__(self) -> None:
        self.items: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()  # conditional writes that wrote nothing
        self.calls: Counter[str] = Counter()

    def install(self, session: boto3.session.Session) -> None:
        session.events.register("provide-client-params.dynamodb", self._remember)
        session.events.register("after-call.dynamodb", self._count)

    def _remember(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if model.name in _WRITES:
            context["bench_write_params"] = params

    def _count(self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        params = context.get("bench_write_params")
        if params is None:
            return
        self.calls[model.name] += 1
        ok = http_response.status_code < 300
        if model.name in _SINGLE_WRITES:
            key = params.get("Item") or params.get("Key") or {}
            (self.items if ok else self.refused)[f"{item_kind(key)}:{_SINGLE_WRITES[model.name]}"] += 1
        elif model.name == "BatchWriteItem" and ok:
            for table, requests in params.get("RequestItems", {}).items():
                for request in requests:
                    self.items[_batch_label(request)] += 1
                for request in (parsed.get("UnprocessedItems") or {}).get(table, []):
                    self.items[_batch_label(request)] -= 1
        elif model.name == "TransactWriteItems" and ok:
            for entry in params.get("TransactItems", []):
                for verb, body in entry.items():
                    if verb != "ConditionCheck":
                        key = body.get("Item") or body.get("Key") or {}
                        self.items[f"{item_kind(key)}:{verb.lower()}"] += 1

    def summary(self) -> dict[str, Any]:
        items = {k: v for k, v in sorted(self.items.items()) if v}
        return {
            "items_written": sum(items.values()),
            "by_kind": items,
            "sku_items_written": sum(v for k, v in items.items() if k.startswith("sku:")),
            "refused_conditional_writes": dict(sorted(self.refused.items())),
            "write_calls": dict(sorted(self.calls.items())),
        }


def _batch_label(request: dict[str, Any]) -> str:
    if "PutRequest" in request:
        return f"{item_kind(request['PutRequest'].get('Item', {}))}:put"
    return f"{item_kind(request.get('DeleteRequest', {}).get('Key', {}))}:delete"


class _Deliveries(logging.Handler):
    """Reads localrun's poller log: batches delivered, messages that failed, invocations that raised."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.batches = 0
        self.messages = 0
        self.failed = 0
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "%s: %d message(s), %d failed" and isinstance(record.args, tuple):
            self.batches += 1
            self.messages += int(record.args[1])
            self.failed += int(record.args[2])
        elif record.levelno >= logging.ERROR:
            self.errors.append(record.getMessage())


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _queue_depth(sqs: Any, url: str) -> tuple[int, int]:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    visible = int(attributes.get(names[0], 0)) + int(attributes.get(names[2], 0))
    return visible, int(attributes.get(names[1], 0))


def _resources(spec: dict[str, Any]) -> LocalResources:
    template = load_template(spec["template"])
    physical = {k: PhysicalResource(v["ref"], v["attributes"]) for k, v in spec["physical"].items()}
    resolver = Resolver(
        template,
        physical,
        spec["parameters"],
        region=spec["region"],
        account_id=spec["account_id"],
        stack_name=spec["stack_name"],
    )
    return LocalResources(
        template,
        spec["stack_name"],
        spec["region"],
        spec["account_id"],
        resolver,
        tables=dict(spec["tables"]),
        queues=dict(spec["queues"]),
        queue_arns=dict(spec["queue_arns"]),
        kms_keys=dict(spec["kms_keys"]),
        secrets=dict(spec["secrets"]),
    )


def run(spec: dict[str, Any]) -> dict[str, Any]:
    writes = DynamoWrites()
    boto3.setup_default_session(region_name=spec["region"])
    assert boto3.DEFAULT_SESSION is not None
    writes.install(boto3.DEFAULT_SESSION)
    deliveries = _Deliveries()
    triggers_log = logging.getLogger("localrun.triggers")
    triggers_log.setLevel(logging.INFO)
    triggers_log.addHandler(deliveries)

    resources = _resources(spec)
    function_id = spec["function"]
    lambdas = {k: v for k, v in lambdas_for(resources).items() if k == function_id}
    if function_id not in lambdas:
        raise SystemExit(f"bench.worker: the template has no function {function_id}")
    started = time.perf_counter()
    _ = lambdas[function_id].handler  # the cold start: the handler module, its layer, Powertools
    init_seconds = time.perf_counter() - started
    rss_after_init = peak_rss_mb()

    pollers = SqsPollers(resources, lambdas, wait_seconds=0)
    sqs = boto3.session.Session(region_name=resources.region).client("sqs")
    queue_url = resources.queues[spec["queue"]]
    timeout = float(spec["timeout_seconds"])
    started = time.perf_counter()
    deadline = started + timeout
    waited_for_redelivery = 0.0
    timed_out = False
    while True:
        pollers.drain(timeout=max(1.0, deadline - time.perf_counter()))
        visible, in_flight = _queue_depth(sqs, queue_url)
        if visible == 0 and in_flight == 0:
            break
        if time.perf_counter() >= deadline:
            timed_out = True
            break
        time.sleep(0.5)
        waited_for_redelivery += 0.5
    wall_seconds = time.perf_counter() - started

    engine_items = None
    from tiktok_channel.runtime import services  # the very module the handler uses (same sys.modules entry)

    if services.cache_info().currsize:
        engine_items = services().catalog.items_written
    return {
        "wall_seconds": round(wall_seconds, 3),
        "init_seconds": round(init_seconds, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_after_init_mb": round(rss_after_init, 1),
        "dynamodb": writes.summary(),
        "engine_catalog_items_written": engine_items,
        "deliveries": {
            "batches": deliveries.batches,
            "messages": deliveries.messages,
            "failed": deliveries.failed,
            "errors": deliveries.errors[:20],
            "seconds_waiting_for_redelivery": waited_for_redelivery,
        },
        "timed_out": timed_out,
    }


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m bench.worker SPEC.json")
    spec = json.loads(Path(sys.argv[1]).read_text())
    result = run(spec)
    print(RESULT_PREFIX + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
