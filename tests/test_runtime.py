"""The composition root builds each adapter once, on first use, even when several threads ask at once (the local
run serves the gateway and the SQS pollers from threads)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from tiktok_channel.runtime import Runtime
from tiktok_channel.settings import Settings

SETTINGS = Settings.model_validate(
    {
        "STORES_TABLE": "stores",
        "IDEMPOTENCY_TABLE": "idempotency",
        "CATALOG_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/catalog.fifo",
        "APP_SECRETS_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:app",
        "TOKEN_KEY_ID": "alias/tokens",
        "ECWID_APP_PAGE_URL": "https://my.ecwid.com/store/{store_id}#app:name=tiktok-channel",
    }
)


def test_threads_asking_at_once_get_one_ecwid_client_and_one_http_client():
    runtime = Runtime(SETTINGS)
    start = threading.Barrier(8)

    def ask(_: int) -> tuple[int, int]:
        start.wait()
        return id(runtime.ecwid()), id(runtime.http)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = set(pool.map(ask, range(8)))

    assert len(answers) == 1


def test_nothing_is_built_before_it_is_used():
    runtime = Runtime(SETTINGS)
    runtime.ecwid()
    built = set(vars(runtime))
    assert {"_ecwid", "http", "settings"} <= built
    assert not built & {"stores", "catalog", "queue", "cipher", "limiter", "_dynamodb", "_quick_http"}
