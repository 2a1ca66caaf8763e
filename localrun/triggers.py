"""Lambda's event sources, done locally: SQS pollers and an EventBridge-like scheduler.

moto runs no triggers without Docker, so these deliver the template's SQS and Schedule events to the
real handlers the way Lambda does: SQS records in Lambda's shape, partial batch responses honoured,
failed messages left to reappear after their visibility timeout (and to reach the DLQ through the
queue's own RedrivePolicy); scheduled events in EventBridge's shape at the times the expression gives.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import boto3
from croniter import croniter

from localrun.aws import LocalResources
from localrun.lambda_runtime import LocalLambda
from localrun.template import ScheduleTrigger, SqsTrigger

log = logging.getLogger("localrun.triggers")

# ---------------------------------------------------------------------------------------------------
# SQS


def _message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    """One message attribute as Lambda writes it (camelCase keys, binary values base64)."""
    attribute: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [base64.b64encode(item).decode() for item in value.get("BinaryListValues", [])],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return attribute


def sqs_record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """A received SQS message (boto3's shape) as one record of Lambda's SQS event."""
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        # ApproximateReceiveCount, SentTimestamp, SenderId, ApproximateFirstReceiveTimestamp and, for
        # FIFO queues, SequenceNumber, MessageGroupId, MessageDeduplicationId: as SQS returned them.
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    record.update({"eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": region})
    return record


def sqs_event(messages: Sequence[Mapping[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    return {"Records": [sqs_record(message, queue_arn, region) for message in messages]}


def failed_message_ids(result: Any, message_ids: list[str]) -> set[str]:
    """The messages a ReportBatchItemFailures response fails, by Lambda's rules.

    No response, an empty one or an empty list means all succeeded; an entry without a valid
    itemIdentifier of this batch fails the whole batch.
    """
    if not result:
        return set()
    if not isinstance(result, dict):
        return set(message_ids)
    failures = result.get("batchItemFailures")
    if not failures:
        return set()
    if not isinstance(failures, list):
        return set(message_ids)
    failed: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in message_ids:
            return set(message_ids)
        failed.add(identifier)
    return failed


class SqsPoller:
    """Delivers one queue's messages to one function, one batch at a time (so FIFO groups stay in order)."""

    def __init__(
        self,
        function: LocalLambda,
        trigger: SqsTrigger,
        queue_url: str,
        queue_arn: str,
        sqs_client: Any,
        *,
        region: str,
        wait_seconds: int = 1,
    ) -> None:
        self.function = function
        self.trigger = trigger
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.sqs = sqs_client
        self.region = region
        self.wait_seconds = wait_seconds
        # Since this poller was made: messages received, and those received before (a redelivery). Several
        # threads may poll with one poller (SqsPollers.drain with concurrency), hence the lock.
        self.received = 0
        self.redelivered = 0
        self._count_lock = threading.Lock()

    def poll_once(self, wait_seconds: int | None = None) -> int:
        """Receive one batch, invoke the function with it and delete what succeeded; the batch size."""
        messages: list[dict[str, Any]] = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            # One receive gives at most 10; Lambda's batching window, which gathers more, is not emulated.
            MaxNumberOfMessages=max(1, min(self.trigger.batch_size, 10)),
            WaitTimeSeconds=self.wait_seconds if wait_seconds is None else wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        with self._count_lock:
            self.received += len(messages)
            self.redelivered += sum(
                int(m.get("Attributes", {}).get("ApproximateReceiveCount", 1)) > 1 for m in messages
            )
        ids = [message["MessageId"] for message in messages]
        failed = self._deliver(sqs_event(messages, self.queue_arn, self.region), ids)
        done = [message for message in messages if message["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            entries = [
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                for index, message in enumerate(done[start : start + 10])
            ]
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
        log.info("%s: %d message(s), %d failed", self.function.logical_id, len(messages), len(failed))
        return len(messages)

    def _deliver(self, event: dict[str, Any], ids: list[str]) -> set[str]:
        """Invoke the function; the ids of the messages that failed (left for redelivery)."""
        started = time.monotonic()
        try:
            result = self.function.invoke(event)
        except Exception as error:  # a failed invocation fails the whole batch, as in Lambda
            log.error("%s raised %s", self.function.logical_id, type(error).__name__, exc_info=error)
            return set(ids)
        if time.monotonic() - started > self.function.timeout:
            # Lambda would have stopped the function and failed the batch.
            log.error("%s: task timed out after %s seconds", self.function.logical_id, self.function.timeout)
            return set(ids)
        if not self.trigger.report_batch_item_failures:
            return set()
        return failed_message_ids(result, ids)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception:  # keep polling, as Lambda's poller does
                log.exception("%s: polling %s failed", self.function.logical_id, self.trigger.queue)
                stop.wait(1.0)


class SqsPollers:
    """A poller per SQS event of the template's functions, each on its own thread once started."""

    def __init__(
        self,
        resources: LocalResources,
        lambdas: Mapping[str, LocalLambda],
        *,
        session: boto3.session.Session | None = None,
        wait_seconds: int = 1,
    ) -> None:
        sqs = (session or boto3.session.Session(region_name=resources.region)).client("sqs")
        self.pollers = [
            SqsPoller(
                function,
                trigger,
                resources.queues[trigger.queue],
                resources.queue_arns[trigger.queue],
                sqs,
                region=resources.region,
                wait_seconds=wait_seconds,
            )
            for function in lambdas.values()
            for trigger in function.function.sqs_triggers
            if trigger.enabled
        ]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> SqsPollers:
        self._stop.clear()
        for poller in self.pollers:
            thread = threading.Thread(
                target=poller.run, args=(self._stop,), name=f"sqs-{poller.function.logical_id}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Stop polling; wait for batches being delivered, up to `timeout` seconds in all (None: as long as they
        take). A function still running then is left to finish in its (daemon) thread."""
        self._stop.set()
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                log.warning("%s: left running (the stop waits no longer)", thread.name)
        self._threads.clear()

    @property
    def received(self) -> int:
        """Messages the pollers received so far."""
        return sum(poller.received for poller in self.pollers)

    @property
    def redelivered(self) -> int:
        """Of those, the ones SQS had given out before (a failure or a message given back for later)."""
        return sum(poller.redelivered for poller in self.pollers)

    def empty(self) -> bool:
        """No message waiting, delayed or in flight on any polled queue."""
        urls = {poller.queue_url for poller in self.pollers}
        return all(queue_depth(self.pollers[0].sqs, url) == (0, 0) for url in urls)

    def drain(self, timeout: float = 10.0, *, until_empty: bool = False, concurrency: int = 1) -> int:
        """Deliver until no queue has a message to give; the number delivered.

        Messages that failed stay in flight until their visibility timeout and are not waited for, unless
        `until_empty`: then delivering goes on until every queue is empty, in flight included (as Lambda
        would redeliver them). `concurrency` threads poll at once, as Lambda runs several invocations of a
        queue (of a FIFO queue, one message group each).
        """
        deadline = time.monotonic() + timeout
        if concurrency == 1:
            return self._drain(deadline, timeout, until_empty)
        delivered: list[int] = []
        errors: list[BaseException] = []

        def run() -> None:
            try:
                delivered.append(self._drain(deadline, timeout, until_empty))
            except BaseException as error:  # raised below, in the caller's thread
                errors.append(error)

        threads = [threading.Thread(target=run, name=f"sqs-drain-{n}") for n in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        return sum(delivered)

    def _drain(self, deadline: float, timeout: float, until_empty: bool) -> int:
        delivered = 0
        while True:
            received = sum(poller.poll_once(wait_seconds=0) for poller in self.pollers)
            delivered += received
            if received == 0:
                if not until_empty or self.empty():
                    return delivered
                time.sleep(0.2)  # what is in flight comes back after its visibility timeout
            if time.monotonic() > deadline:
                raise TimeoutError(f"queues still had messages after {timeout} s")


class QueueDepth(NamedTuple):
    waiting: int  # visible or delayed: still to be delivered
    in_flight: int  # received and neither deleted nor back yet


def queue_depth(sqs: Any, queue_url: str) -> QueueDepth:
    """How many messages a queue holds, as SQS approximates it."""
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesDelayed",
        "ApproximateNumberOfMessagesNotVisible",
    ]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)["Attributes"]
    waiting = int(attributes.get(names[0], 0)) + int(attributes.get(names[1], 0))
    return QueueDepth(waiting, int(attributes.get(names[2], 0)))


# ---------------------------------------------------------------------------------------------------
# Schedules

_RATE = re.compile(r"rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)")
_CRON = re.compile(r"cron\(\s*(.*?)\s*\)")
_UNITS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


@dataclass(frozen=True)
class RateSchedule:
    interval: timedelta

    def next_after(self, moment: datetime, start: datetime) -> datetime | None:
        # A rate rule fires every interval counted from when it was created (here: when the run started).
        periods = (moment - start) // self.interval + 1
        return start + periods * self.interval


@dataclass(frozen=True)
class CronSchedule:
    expression: str  # croniter's five fields
    years: frozenset[int] | None = None  # None: every year

    def next_after(self, moment: datetime, start: datetime) -> datetime | None:
        iterator = croniter(self.expression, moment.astimezone(UTC))
        while True:
            candidate: datetime = iterator.get_next(datetime)
            if self.years is None or candidate.year in self.years:
                return candidate
            if candidate.year > max(self.years):
                return None


def _years(field: str) -> frozenset[int] | None:
    if field in ("*", "?"):
        return None
    years: set[int] = set()
    for part in field.split(","):
        low, _, high = part.partition("-")
        years.update(range(int(low), int(high or low) + 1))
    return frozenset(years)


def aws_cron_to_croniter(fields: str) -> tuple[str, frozenset[int] | None]:
    """AWS's six cron fields as croniter's five, plus the years the AWS year field allows."""
    parts = fields.split()
    if len(parts) != 6:
        raise ValueError(f"cron() needs six fields (minute hour day-of-month month day-of-week year): {fields!r}")
    minute, hour, day_of_month, month, day_of_week, year = parts
    if (day_of_month == "?") == (day_of_week == "?"):
        raise ValueError(f"cron(): exactly one of day-of-month and day-of-week must be '?': {fields!r}")
    day_of_month = "*" if day_of_month == "?" else day_of_month
    if day_of_week == "?":
        day_of_week = "*"
    else:
        # AWS numbers days 1-7 from Sunday, croniter 0-6; the number after '#' or '/' is not a day.
        day_of_week = re.sub(r"(?<![#/\d])(\d+)", lambda m: str(int(m.group(1)) - 1), day_of_week)
        day_of_week = re.sub(r"^(\d)L$", r"L\1", day_of_week)  # last <day> of the month
    expression = " ".join((minute, hour, day_of_month, month, day_of_week))
    if not croniter.is_valid(expression):
        raise ValueError(f"cron({fields}) is not supported by the local scheduler")
    return expression, _years(year)


def parse_schedule(expression: str) -> RateSchedule | CronSchedule:
    """A `rate(...)` or `cron(...)` schedule expression of EventBridge."""
    expression = expression.strip()
    rate = _RATE.fullmatch(expression)
    if rate is not None:
        value, unit = int(rate.group(1)), rate.group(2)
        if value < 1 or (value == 1) != (not unit.endswith("s")):
            raise ValueError(f"{expression}: use rate(1 minute) or rate(N minutes), N > 1")
        return RateSchedule(value * _UNITS[unit.rstrip("s")])
    cron = _CRON.fullmatch(expression)
    if cron is not None:
        return CronSchedule(*aws_cron_to_croniter(cron.group(1)))
    raise ValueError(f"not a schedule expression: {expression!r}")


def scheduled_event(rule_arn: str, *, account_id: str, region: str, now: datetime) -> dict[str, Any]:
    """The event an EventBridge schedule rule sends to its target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


class UnknownSchedule(LookupError):
    """No Schedule event of that function (or no such function)."""


@dataclass
class ScheduledJob:
    function: LocalLambda
    trigger: ScheduleTrigger
    schedule: RateSchedule | CronSchedule
    rule_arn: str
    next_at: datetime | None


class Scheduler:
    """Invokes the functions' Schedule events at their due times, and on demand with `fire`."""

    def __init__(
        self, resources: LocalResources, lambdas: Mapping[str, LocalLambda], *, start: datetime | None = None
    ) -> None:
        self.account_id = resources.account_id
        self.region = resources.region
        self.started = start or datetime.now(UTC)
        partition = "aws-cn" if self.region.startswith("cn-") else "aws"
        self.jobs: list[ScheduledJob] = []
        for function in lambdas.values():
            for trigger in function.function.schedules:
                schedule = parse_schedule(str(resources.resolver.resolve(trigger.schedule)))
                # SAM names the rule after the function and the event.
                rule = f"{resources.stack_name}-{function.logical_id}{trigger.event_name}"[:64]
                arn = f"arn:{partition}:events:{self.region}:{self.account_id}:rule/{rule}"
                next_at = schedule.next_after(self.started, self.started) if trigger.enabled else None
                self.jobs.append(ScheduledJob(function, trigger, schedule, arn, next_at))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def event_for(self, job: ScheduledJob, now: datetime) -> Any:
        if job.trigger.input is not None:
            return json.loads(job.trigger.input)  # a rule with Input sends it instead of the event
        return scheduled_event(job.rule_arn, account_id=self.account_id, region=self.region, now=now)

    def fire(self, logical_id: str, event_name: str | None = None) -> Any:
        """Invoke the function's (first, or named) Schedule event now; the handler's result."""
        for job in self.jobs:
            if job.function.logical_id == logical_id and event_name in (None, job.trigger.event_name):
                return job.function.invoke(self.event_for(job, datetime.now(UTC)))
        raise UnknownSchedule(f"no Schedule event for {logical_id}")

    def run_due(self, now: datetime | None = None) -> list[ScheduledJob]:
        """Invoke every job whose time has come (one at a time), and set its next time; the jobs run."""
        now = now or datetime.now(UTC)
        fired: list[ScheduledJob] = []
        for job in self.jobs:
            if job.next_at is None or job.next_at > now:
                continue
            try:
                job.function.invoke(self.event_for(job, job.next_at))
            except Exception as error:  # a failed run is logged; the schedule goes on
                log.error("%s raised %s", job.function.logical_id, type(error).__name__, exc_info=error)
            job.next_at = job.schedule.next_after(now, self.started)
            fired.append(job)
        return fired

    def start(self) -> Scheduler:
        def loop() -> None:
            while not self._stop.wait(1.0):
                self.run_due()

        self._stop.clear()
        self._thread = threading.Thread(target=loop, name="localrun-scheduler", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Stop; wait for a job being run up to `timeout` seconds (None: as long as it takes)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("%s: a scheduled job left running (the stop waits no longer)", self._thread.name)
            self._thread = None
