"""The webhook receiver's own target (issue 4): under 50 ms per warm in-process invocation, one AWS call.

`python -m bench.webhook` invokes the real ProductWebhookFunction handler in-process on the local stack
(moto in-process, sandboxes on 127.0.0.1) with signed product.updated events, and counts the AWS calls
each warm invocation makes with a botocore hook; results go to bench/results/webhook.json.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from moto.core.botocore_stubber import BotocoreStubber

from localrun.stack import LocalStack, local_stack

WARM_INVOCATIONS = 200
TARGET_MS = 50.0
RESULTS = Path(__file__).resolve().parent / "results" / "webhook.json"
RECEIVER = "ProductWebhookFunction"


def _event(stack: LocalStack) -> dict[str, Any]:
    """The event API Gateway gives the receiver for one signed product.updated delivery."""
    body = {
        "eventId": str(uuid.uuid4()),
        "eventCreated": int(time.time()),
        "storeId": 1003,
        "entityId": 700000001,
        "eventType": "product.updated",
    }
    headers, raw = stack.ecwid.sign_webhook(body)
    routed = stack.gateway.request_event(
        "POST", "/webhooks/ecwid", [("Content-Type", "application/json"), *headers.items()], raw
    )
    assert routed is not None
    function_id, event = routed
    assert function_id == RECEIVER, function_id
    return event


def main() -> int:
    with local_stack(parameters={"LogLevel": "WARNING"}) as stack:
        receiver = stack.lambdas[RECEIVER]
        assert receiver.invoke(_event(stack))["statusCode"] == 200  # cold: imports, secret fetched and cached
        calls: list[str] = []
        dispatch = BotocoreStubber.__call__

        def counted(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
            # moto answers every AWS request of the process here: each one is an AWS call.
            calls.append(event_name.split(".")[-1])
            return dispatch(self, event_name, request, **kwargs)

        BotocoreStubber.__call__ = counted  # type: ignore[method-assign]
        timings, per_call = [], []
        try:
            for _ in range(WARM_INVOCATIONS):
                event = _event(stack)
                before = len(calls)
                started = time.perf_counter()
                answer = receiver.invoke(event)
                timings.append((time.perf_counter() - started) * 1000)
                per_call.append(len(calls) - before)
                assert answer["statusCode"] == 200, answer
        finally:
            BotocoreStubber.__call__ = dispatch  # type: ignore[method-assign]
    p95 = statistics.quantiles(timings, n=20)[18]
    holds = p95 < TARGET_MS and set(per_call) == {1}
    result: dict[str, Any] = {
        "command": "python -m bench.webhook",
        "warm_invocations": WARM_INVOCATIONS,
        "median_ms": round(statistics.median(timings), 2),
        "p95_ms": round(p95, 2),
        "max_ms": round(max(timings), 2),
        "aws_calls_per_invocation": sorted(set(per_call)),
        "aws_operations": sorted(set(calls)),
        "target": f"under {TARGET_MS:.0f} ms per warm invocation (p95), one AWS call",
        "holds": holds,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if holds else 1


if __name__ == "__main__":
    sys.exit(main())
