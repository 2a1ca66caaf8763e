"""The local stack (localrun.stack) as the tests run it, and what only tests need around it: the functions'
logs captured, and the shape of the app's error answers."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from localrun.stack import (
    APP_PAGE_URL,
    ECWID_CLIENT_SECRET,
    ROOT,
    SESSION_KEY,
    TIKTOK_APP_ID,
    TIKTOK_SECRET,
    LocalStack,
    local_stack,
    move_clock,
    read_form,
)

__all__ = [
    "APP_PAGE_URL",
    "ECWID_CLIENT_SECRET",
    "ROOT",
    "SESSION_KEY",
    "TIKTOK_APP_ID",
    "TIKTOK_SECRET",
    "AppStack",
    "CapturedLogs",
    "app_stack",
    "assert_error",
    "captured_logs",
    "decode_external_data",
    "move_clock",
    "read_form",
]

AppStack = LocalStack


@contextmanager
def app_stack(
    *,
    ecwid_options: Mapping[str, Any] | None = None,
    tiktok_options: Mapping[str, Any] | None = None,
    parameters: Mapping[str, str] | None = None,
) -> Iterator[AppStack]:
    """The local stack with moto in-process, its functions logging at DEBUG: the no-secrets-in-logs checks read
    the most verbose output."""
    with local_stack(
        ecwid_options=ecwid_options,
        tiktok_options=tiktok_options,
        parameters={"LogLevel": "DEBUG", **(parameters or {})},
    ) as stack:
        yield stack


class CapturedLogs(logging.Handler):
    """Keeps every record with all its attributes (message, arguments, extra keys, exception text)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        exception = logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
        self.texts.append(f"{record.getMessage()} {record.__dict__!r} {exception}")


@contextmanager
def captured_logs(stack: AppStack) -> Iterator[CapturedLogs]:
    """What reaches CloudWatch meanwhile: the functions' Powertools loggers (DEBUG in tests, through the
    LogLevel parameter; they do not propagate) and whatever any library sends the root logger at INFO."""
    for function in stack.lambdas.values():
        function.handler  # noqa: B018 - import the handlers now, so their loggers exist to listen to
    records = CapturedLogs()
    root = logging.getLogger()
    own = [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    previous_level = root.level
    root.setLevel(logging.INFO)
    for logger in [root, *own]:
        logger.addHandler(records)
    try:
        yield records
    finally:
        for logger in [root, *own]:
            logger.removeHandler(records)
        root.setLevel(previous_level)


def assert_error(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The app's error answer: this status and code, and a sentence that tells the merchant what to do."""
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    assert len(error["message"]) > 20
    return dict(error)


def decode_external_data(authorize_url: str) -> dict[str, Any]:
    value = parse_qs(urlsplit(authorize_url).query)["external_data"][0]
    return dict(json.loads(base64.b64decode(value)))
