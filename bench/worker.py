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

import contextlib
import json
import logging
import resource
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from localrun.aws import LocalResources
from localrun.lambda_runtime import LocalLambda
from localrun.stack import catalog_items_written, move_clock
from localrun.triggers import SqsPollers, queue_depth

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
    return sk.split("#", 1)[0].lower() or "other"  # e.g. CATEGORIES, CLEANUP#…


class DynamoCalls:
    """This process's DynamoDB calls: items written, by kind and verb ("sku:put", "run_page:put", …), and per
    operation the calls, the seconds they took (seen from the client: moto's share of the wall time) and the
    items they returned.

    Items of the stores table are classed by key; items of the template's other tables by the table's logical id.
    """

    def __init__(self, tables: dict[str, str]) -> None:
        self._table_ids = {name: logical_id for logical_id, name in tables.items()}
        self._stores_table = tables.get("StoresTable")
        self.items: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()  # conditional writes that wrote nothing
        self.calls: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()
        self.items_read: Counter[str] = Counter()

    def install(self, session: boto3.session.Session) -> None:
        session.events.register("provide-client-params.dynamodb", self._remember)
        session.events.register("before-call.dynamodb", self._start)
        session.events.register("after-call.dynamodb", self._count)

    def _remember(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if model.name in _WRITES:
            context["bench_write_params"] = params

    def _start(self, context: dict[str, Any], **_: Any) -> None:
        context["bench_started"] = time.perf_counter()

    def _count(self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        self.calls[model.name] += 1
        if "bench_started" in context:
            self.seconds[model.name] += time.perf_counter() - context["bench_started"]
        if model.name in ("Query", "Scan"):
            self.items_read[model.name] += int(parsed.get("Count", 0))
        elif model.name == "BatchGetItem":
            self.items_read[model.name] += sum(len(v) for v in (parsed.get("Responses") or {}).values())
        elif model.name == "GetItem":
            self.items_read[model.name] += 1 if parsed.get("Item") else 0
        params = context.get("bench_write_params")
        if params is not None:
            self._count_writes(model.name, params, parsed, ok=http_response.status_code < 300)

    def _count_writes(self, operation: str, params: dict[str, Any], parsed: dict[str, Any], *, ok: bool) -> None:
        if operation in _SINGLE_WRITES:
            key = params.get("Item") or params.get("Key") or {}
            kind = self._kind(params.get("TableName", ""), key)
            (self.items if ok else self.refused)[f"{kind}:{_SINGLE_WRITES[operation]}"] += 1
        elif operation == "BatchWriteItem" and ok:
            for table, requests in params.get("RequestItems", {}).items():
                for request in requests:
                    self.items[self._batch_label(table, request)] += 1
                for request in (parsed.get("UnprocessedItems") or {}).get(table, []):
                    self.items[self._batch_label(table, request)] -= 1
        elif operation == "TransactWriteItems" and ok:
            for entry in params.get("TransactItems", []):
                for verb, body in entry.items():
                    if verb != "ConditionCheck":
                        key = body.get("Item") or body.get("Key") or {}
                        self.items[f"{self._kind(body.get('TableName', ''), key)}:{verb.lower()}"] += 1

    def _kind(self, table: str, key: dict[str, Any]) -> str:
        if table == self._stores_table:
            return item_kind(key)
        return self._table_ids.get(table, table)

    def _batch_label(self, table: str, request: dict[str, Any]) -> str:
        if "PutRequest" in request:
            return f"{self._kind(table, request['PutRequest'].get('Item', {}))}:put"
        return f"{self._kind(table, request.get('DeleteRequest', {}).get('Key', {}))}:delete"

    def summary(self) -> dict[str, Any]:
        items = {k: v for k, v in sorted(self.items.items()) if v}
        return {
            "items_written": sum(items.values()),
            "by_kind": items,
            "sku_items_written": sum(v for k, v in items.items() if k.startswith("sku:")),
            "refused_conditional_writes": dict(sorted(self.refused.items())),
            "calls": {
                operation: {
                    "calls": count,
                    "seconds": round(self.seconds[operation], 2),
                    **({"items_read": self.items_read[operation]} if operation in self.items_read else {}),
                }
                for operation, count in sorted(self.calls.items())
            },
            "seconds_in_calls": round(sum(self.seconds.values()), 2),
        }


class AwsCalls:
    """This process's AWS calls of every service, by `service.Operation` (kms.Decrypt, sqs.SendMessage, …), as the
    handler makes them: `make cost` prices them. The pollers standing in for Lambda's SQS trigger use a session of
    their own, so their receives and deletes are not among them."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def install(self, session: boto3.session.Session) -> None:
        session.events.register("after-call", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}.{model.name}"] += 1

    def summary(self) -> dict[str, int]:
        return dict(sorted(self.calls.items()))


class _Deliveries(logging.Handler):
    """Reads localrun's poller log: batches delivered, messages that failed, invocations that raised."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.batches = 0
        self.messages = 0
        self.failed = 0
        self.lambda_timeouts = 0
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        if record.msg == "%s: %d message(s), %d failed" and isinstance(args, tuple) and len(args) == 3:
            self.batches += 1
            self.messages += int(str(args[1]))
            self.failed += int(str(args[2]))
        elif record.levelno >= logging.ERROR:
            message = record.getMessage()
            self.errors.append(message)
            if "task timed out" in message:
                self.lambda_timeouts += 1


def peak_rss_mb() -> float:
    """This process's peak resident set size, in MiB.

    From /proc/self/status (VmHWM, the high-water mark of this process's own memory map) where there is one:
    on Linux `getrusage(RUSAGE_SELF).ru_maxrss` survives execve, so a child started by a large parent reports
    the parent's size from before the exec. Elsewhere, ru_maxrss (KiB on Linux, bytes on macOS).
    """
    hwm = _status_mb("VmHWM:")
    if hwm is not None:
        return hwm
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / 2**20 if sys.platform == "darwin" else maxrss / 1024


class RssSampler:
    """This process's resident set size, sampled on a thread: when the peak came, and the curve, coarsely."""

    def __init__(self, interval: float = 0.25) -> None:
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self.samples: list[tuple[float, float]] = []  # (seconds since start, MiB)
        self._started = 0.0

    def start(self) -> RssSampler:
        self._started = time.perf_counter()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            rss = _status_mb("VmRSS:")
            if rss is not None:
                self.samples.append((time.perf_counter() - self._started, rss))
            if self._stop.wait(self._interval):
                return

    def summary(self) -> dict[str, Any]:
        if not self.samples:
            return {}
        at, peak = max(self.samples, key=lambda sample: sample[1])
        step = max(1, len(self.samples) // 40)
        return {
            "peak_sampled_mb": round(peak, 1),
            "peak_at_s": round(at, 2),
            "curve": [[round(t, 1), round(mb)] for t, mb in self.samples[::step]],
        }


@dataclass
class MeasuredLambda(LocalLambda):
    """A LocalLambda that remembers each invocation: how long it took and the receipt handles of its records."""

    invocations: list[dict[str, Any]] = field(default_factory=list)

    def invoke(self, event: Any, context: Any = None) -> Any:
        started = time.perf_counter()
        try:
            return super().invoke(event, context)
        finally:
            self.invocations.append(
                {
                    "seconds": round(time.perf_counter() - started, 2),
                    "receipt_handles": [r.get("receiptHandle") for r in event.get("Records", [])],
                }
            )


def release_timed_out(worker: MeasuredLambda, sqs: Any, queue_url: str, released: set[str]) -> int:
    """Make the messages of invocations that ran past the function's timeout visible again at once.

    Lambda would have stopped such an invocation and SQS would give its batch back only after the queue's
    visibility timeout (30 minutes); localrun ran it to its end in-process. Giving the messages back now lets the
    sync go on (a finished run answers "done") instead of leaving the store's FIFO group blocked.
    """
    count = 0
    for invocation in worker.invocations:
        if invocation["seconds"] <= worker.timeout:
            continue
        for handle in invocation["receipt_handles"]:
            if handle and handle not in released:
                released.add(handle)
                with contextlib.suppress(Exception):  # already deleted: nothing to give back
                    sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=0)
                    count += 1
    return count


def _status_mb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def ru_maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (2**20 if sys.platform == "darwin" else 1024)


def run(spec: dict[str, Any]) -> dict[str, Any]:
    resources = LocalResources.from_json(spec["resources"])
    writes = DynamoCalls(resources.tables)
    boto3.setup_default_session(region_name=resources.region)
    assert boto3.DEFAULT_SESSION is not None
    writes.install(boto3.DEFAULT_SESSION)
    aws_calls = AwsCalls()
    aws_calls.install(boto3.DEFAULT_SESSION)
    deliveries = _Deliveries()
    triggers_log = logging.getLogger("localrun.triggers")
    triggers_log.setLevel(logging.INFO)
    triggers_log.addHandler(deliveries)

    function_id = spec["function"]
    function = resources.template.functions.get(function_id)
    if function is None:
        raise SystemExit(f"bench.worker: the template has no function {function_id}")
    # As localrun.lambda_runtime.lambdas_for builds it, with the environment the benchmark's provisioning
    # resolved (the template on disk may have gained resources since, while others edit it).
    worker = MeasuredLambda(
        function, spec["environment"], spec["function_name"], spec["function_arn"], resources.region
    )
    lambdas: dict[str, LocalLambda] = {function_id: worker}
    started = time.perf_counter()
    _ = lambdas[function_id].handler  # the cold start: the handler module, its layer, Powertools
    init_seconds = time.perf_counter() - started
    rss_after_init = peak_rss_mb()
    if spec.get("clock_offset_seconds"):  # the benchmark moved time forward (freshness): the app's clock too
        move_clock(float(spec["clock_offset_seconds"]))

    pollers = SqsPollers(resources, lambdas, wait_seconds=0)
    sqs = boto3.session.Session(region_name=resources.region).client("sqs")
    queue_url = resources.queues[spec["queue"]]
    timeout = float(spec["timeout_seconds"])
    started_at = time.time()
    sampler = RssSampler().start()
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    deadline = started + timeout
    waited_for_redelivery = 0.0
    timed_out = False
    released: set[str] = set()
    while True:
        pollers.drain(timeout=max(1.0, deadline - time.perf_counter()))
        if queue_depth(sqs, queue_url) == (0, 0):
            break
        if time.perf_counter() >= deadline:
            timed_out = True
            break
        if release_timed_out(worker, sqs, queue_url, released):
            continue
        time.sleep(0.5)
        waited_for_redelivery += 0.5
    wall_seconds = time.perf_counter() - started
    cpu_seconds = _cpu_seconds() - cpu_before
    sampler.stop()

    return {
        "wall_seconds": round(wall_seconds, 3),
        "started_at": started_at,
        "cpu_seconds": round(cpu_seconds, 2),
        "init_seconds": round(init_seconds, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_after_init_mb": round(rss_after_init, 1),
        "ru_maxrss_mb": round(ru_maxrss_mb(), 1),
        "rss": sampler.summary(),
        "dynamodb": writes.summary(),
        "aws_calls": aws_calls.summary(),
        "engine_catalog_items_written": catalog_items_written(),
        "deliveries": {
            "batches": deliveries.batches,
            "messages": deliveries.messages,
            "failed": deliveries.failed,
            "errors": deliveries.errors[:20],
            "lambda_timeouts": deliveries.lambda_timeouts,
            "released_after_lambda_timeout": len(released),
            "invocation_seconds": [i["seconds"] for i in worker.invocations],
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
