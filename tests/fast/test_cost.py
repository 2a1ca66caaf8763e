"""`make cost`: the cost model's arithmetic on small known inputs, the KMS reuse, and that the report names
every line, size and fleet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.cost.__main__ import FLEETS, SIZES, build, halving
from bench.cost.model import gb_seconds, lambda_cost, logs_cost, sqs_cost, sqs_requests, xray_traces
from bench.cost.report import render
from tiktok_channel.adapters.kms import KmsSecretCipher

ROOT = Path(__file__).resolve().parents[2]
PRICES: dict[str, Any] = json.loads((ROOT / "bench" / "prices.json").read_text())


def test_a_million_lambda_requests_cost_the_price_per_million():
    requests, duration = lambda_cost(PRICES, 1_000_000, 0)
    assert requests == pytest.approx(PRICES["lambda_request_per_million"])
    assert duration == 0


def test_gb_seconds_round_each_invocation_up_to_the_millisecond():
    assert gb_seconds(1000, 0.1, 1024) == pytest.approx(100.0)
    assert gb_seconds(1, 0.0101, 512) == pytest.approx(0.011 * 0.5)
    _, duration = lambda_cost(PRICES, 0, 100.0)
    assert duration == pytest.approx(100 * PRICES["lambda_arm64_gb_second"])


def test_fifo_sqs_bills_each_64_kb_chunk_as_a_request():
    assert sqs_requests(10, 1_000) == 10
    assert sqs_requests(10, 65_536) == 10
    assert sqs_requests(10, 65_537) == 20
    assert sqs_cost(PRICES, 2_000_000) == pytest.approx(2 * PRICES["sqs_fifo_request_per_million"])


def test_a_gb_of_logs_costs_ingestion_and_a_month_of_storage():
    ingestion, storage = logs_cost(PRICES, 1024**3)
    assert ingestion == pytest.approx(PRICES["cloudwatch_logs_ingestion_gb"])
    assert storage == pytest.approx(PRICES["cloudwatch_logs_storage_gb_month"])


def test_xray_records_one_a_second_then_five_percent():
    assert xray_traces(1000) == 1000
    assert xray_traces(2_592_000 + 100_000) == pytest.approx(2_592_000 + 5_000)


def test_prices_say_their_region_date_and_sources():
    assert PRICES["region"] == "us-east-1"
    assert PRICES["architecture"] == "arm64"
    assert PRICES["taken"]
    assert all(url.startswith("https://aws.amazon.com/") for url in PRICES["sources"].values())


class _CountingKms:
    def __init__(self) -> None:
        self.decrypts: list[dict[str, str]] = []

    def decrypt(self, **kwargs: Any) -> dict[str, bytes]:
        self.decrypts.append(kwargs["EncryptionContext"])
        return {"Plaintext": b"token-" + kwargs["CiphertextBlob"]}


def test_a_decrypted_token_is_reused_briefly_for_the_same_ciphertext_store_and_field_only():
    kms, now = _CountingKms(), [0.0]
    cipher = KmsSecretCipher(kms, "key", clock=lambda: now[0], reuse_seconds=60)  # type: ignore[arg-type]
    assert cipher.decrypt(b"a", store_id=1, field="ecwid_token") == "token-a"
    assert cipher.decrypt(b"a", store_id=1, field="ecwid_token") == "token-a"
    assert len(kms.decrypts) == 1
    cipher.decrypt(b"a", store_id=2, field="ecwid_token")  # another store: KMS checks its context
    cipher.decrypt(b"a", store_id=1, field="tiktok_token")  # another field: the same
    cipher.decrypt(b"b", store_id=1, field="ecwid_token")  # another ciphertext (a new token)
    assert len(kms.decrypts) == 4
    now[0] = 60.0
    cipher.decrypt(b"a", store_id=1, field="ecwid_token")  # too old: asked again
    assert len(kms.decrypts) == 5
    assert kms.decrypts[1] == {"store_id": "2", "field": "ecwid_token"}


def test_the_reuse_is_bounded_and_can_be_turned_off():
    kms = _CountingKms()
    cipher = KmsSecretCipher(kms, "key", reuse_seconds=60, reuse_entries=2)  # type: ignore[arg-type]
    for blob in (b"a", b"b", b"c", b"a"):
        cipher.decrypt(blob, store_id=1, field="ecwid_token")
    assert len(kms.decrypts) == 4  # "a" was dropped when "c" came
    off = KmsSecretCipher(kms, "key", reuse_seconds=0)  # type: ignore[arg-type]
    off.decrypt(b"a", store_id=1, field="ecwid_token")
    off.decrypt(b"a", store_id=1, field="ecwid_token")
    assert len(kms.decrypts) == 6


def test_the_report_names_every_line_size_and_fleet():
    committed = json.loads((ROOT / "bench" / "results" / "cost.json").read_text())
    document = build(committed["measured"])
    document["halving"] = halving(document)
    document["binding_by_size"] = committed["binding_by_size"]
    text = render(document)
    for line in (
        "Lambda requests: CatalogWorkerFunction",
        "Lambda GB-seconds: ProductWebhookFunction",
        "DynamoDB writes: full syncs",
        "DynamoDB writes: edits",
        "DynamoDB writes: orders",
        "DynamoDB writes: review checks",
        "DynamoDB writes: rate limiter",
        "SQS FIFO requests",
        "KMS requests (Decrypt)",
        "Secrets Manager",
        "CloudWatch Logs ingestion",
        "CloudWatch Logs storage",
        "Custom metrics",
        "CloudWatch alarms",
        "CloudWatch dashboards",
        "API Gateway HTTP API requests",
        "X-Ray",
        "EventBridge",
        "SNS",
        "KMS keys",
    ):
        assert line in text, line
    for size in SIZES:
        assert f"{size:,} products" in text
    for fleet in FLEETS:
        assert f"| {fleet:,} |" in text
    for bucket in ("upload", "delete", "default", "events"):
        assert f"| {bucket} |" in text
    assert "The first limit to bind" in text
    assert "Biggest line" in text
