"""The fast tier runs the domain against in-memory fakes: any attempt to open a network connection (moto, a
sandbox, AWS, TikTok) fails the test, so a slow dependency cannot creep in unnoticed."""

from __future__ import annotations

import socket
from typing import Any

import pytest


class NetworkUsed(AssertionError):
    """A fast-tier test reached for the network."""


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise NetworkUsed("the fast tier uses the fakes of tests/fakes.py, never the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def services() -> Any:
    """A fresh product over the fakes of tests/fakes.py."""
    from tests.fast.steps import fresh_services

    return fresh_services()


@pytest.fixture
def installed(services: Any) -> Any:
    """The fakes with store 1003 installed (Ecwid's demo store: US, USD)."""
    from tests.fast.steps import install_store

    install_store(services)
    return services


@pytest.fixture
def connected(services: Any) -> Any:
    """The fakes with store 1003 installed, connected to TikTok, and its first sync done."""
    from tests.fast.steps import connected_store

    connected_store(services)
    return services
