"""Fixtures of the sandbox tests: a started sandbox Ecwid with the tests' app, an HTTP client on it, its demo store."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sandboxes.ecwid import EcwidSandbox, EcwidStore
from tests.sandboxes.ecwid_app import CLIENT_ID, SECRET


@pytest.fixture
def ecwid() -> Iterator[EcwidSandbox]:
    sandbox = EcwidSandbox(client_id=CLIENT_ID, client_secret=SECRET)
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def http(ecwid: EcwidSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ecwid.base_url, timeout=5.0) as client:
        yield client


@pytest.fixture
def demo(ecwid: EcwidSandbox) -> EcwidStore:
    return ecwid.add_demo_store()
