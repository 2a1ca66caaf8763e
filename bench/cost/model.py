"""The cost model: monthly AWS usage per store from measured counts and named assumptions, priced with
bench/prices.json. Pure arithmetic (no AWS, no network), so tests check it on small known inputs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

DAYS_PER_MONTH = 30
GB = 1024**3
MB = 1024**2


# -- unit prices -----------------------------------------------------------------------------------------------
def lambda_cost(prices: dict[str, Any], requests: float, gb_seconds: float) -> tuple[float, float]:
    """(requests $, duration $) of Lambda on arm64."""
    return (
        requests / 1e6 * prices["lambda_request_per_million"],
        gb_seconds * prices["lambda_arm64_gb_second"],
    )


def gb_seconds(invocations: float, seconds_each: float, memory_mb: int) -> float:
    """Lambda bills duration rounded up to the millisecond, times the memory in GB."""
    return invocations * math.ceil(seconds_each * 1000) / 1000 * memory_mb / 1024


def sqs_requests(messages: float, message_bytes: int, chunk_bytes: int = 65536) -> float:
    """SQS bills each 64 KB chunk of a request's payload as one request."""
    return messages * max(1, math.ceil(message_bytes / chunk_bytes))


def sqs_cost(prices: dict[str, Any], requests: float) -> float:
    return float(requests / 1e6 * prices["sqs_fifo_request_per_million"])


def dynamodb_cost(prices: dict[str, Any], write_units: float, read_units: float) -> float:
    return float(
        write_units / 1e6 * prices["dynamodb_write_request_unit_per_million"]
        + read_units / 1e6 * prices["dynamodb_read_request_unit_per_million"]
    )


def kms_cost(prices: dict[str, Any], requests: float) -> float:
    return float(requests / 1e4 * prices["kms_request_per_10k"])


def logs_cost(prices: dict[str, Any], ingested_bytes: float) -> tuple[float, float]:
    """(ingestion $, storage $): a month's bytes are kept for the template's 30-day retention, so about one
    month's ingestion is stored at any time (stored uncompressed here: an upper bound)."""
    gb = ingested_bytes / GB
    return gb * prices["cloudwatch_logs_ingestion_gb"], gb * prices["cloudwatch_logs_storage_gb_month"]


def xray_traces(invocations_per_month: float, seconds_per_month: float = DAYS_PER_MONTH * 86400.0) -> float:
    """X-Ray's default sampling rule: the first request each second (the reservoir), then 5% of the rest."""
    reservoir = min(invocations_per_month, seconds_per_month)
    return reservoir + 0.05 * max(0.0, invocations_per_month - reservoir)


# -- the store's month -------------------------------------------------------------------------------------------
@dataclass
class Usage:
    """One store's month: usage by line, then priced."""

    lambda_requests: dict[str, float] = field(default_factory=dict)  # by function
    lambda_gb_seconds: dict[str, float] = field(default_factory=dict)
    dynamodb_writes: dict[str, float] = field(default_factory=dict)  # write units by operation
    dynamodb_reads: dict[str, float] = field(default_factory=dict)  # read units by operation
    sqs_requests: float = 0.0
    kms_requests: float = 0.0
    secrets_calls: float = 0.0
    log_bytes: float = 0.0
    api_requests: float = 0.0
    data_out_bytes: float = 0.0
    dynamodb_stored_bytes: float = 0.0
    tiktok_calls_per_day: dict[str, float] = field(default_factory=dict)

    def add(self, mapping: dict[str, float], key: str, value: float) -> None:
        mapping[key] = mapping.get(key, 0.0) + value

    def tiktok(self, bucket: str, per_day: float) -> None:
        self.add(self.tiktok_calls_per_day, bucket, per_day)


def price_lines(prices: dict[str, Any], usage: Usage) -> dict[str, float]:
    """Dollars a month by line (variable costs of one store)."""
    lines: dict[str, float] = {}
    for function in sorted(set(usage.lambda_requests) | set(usage.lambda_gb_seconds)):
        requests, duration = lambda_cost(
            prices, usage.lambda_requests.get(function, 0.0), usage.lambda_gb_seconds.get(function, 0.0)
        )
        lines[f"Lambda requests: {function}"] = requests
        lines[f"Lambda GB-seconds: {function}"] = duration
    for operation, units in sorted(usage.dynamodb_writes.items()):
        lines[f"DynamoDB writes: {operation}"] = dynamodb_cost(prices, units, 0.0)
    for operation, units in sorted(usage.dynamodb_reads.items()):
        lines[f"DynamoDB reads: {operation}"] = dynamodb_cost(prices, 0.0, units)
    stored_gb = usage.dynamodb_stored_bytes / GB
    lines["DynamoDB storage and PITR"] = stored_gb * (
        prices["dynamodb_storage_gb_month"] + prices["dynamodb_pitr_gb_month"]
    )
    lines["SQS FIFO requests"] = sqs_cost(prices, usage.sqs_requests)
    lines["KMS requests (Decrypt)"] = kms_cost(prices, usage.kms_requests)
    lines["Secrets Manager API calls"] = usage.secrets_calls / 1e4 * prices["secrets_manager_api_call_per_10k"]
    ingestion, storage = logs_cost(prices, usage.log_bytes)
    lines["CloudWatch Logs ingestion"] = ingestion
    lines["CloudWatch Logs storage"] = storage
    lines["API Gateway HTTP API requests"] = usage.api_requests / 1e6 * prices["api_gateway_http_request_per_million"]
    lines["Data transfer out (storefront script)"] = usage.data_out_bytes / GB * prices["data_transfer_out_gb"]
    return lines
