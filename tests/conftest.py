"""Fixtures for the product's own tests: a clean environment and the whole stack on 127.0.0.1."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

from tests.app_stack import AppStack, app_stack


@pytest.fixture(autouse=True)
def _clean_environment() -> Iterator[None]:
    """Handlers write their variables into os.environ: give every test a fresh, AWS-free environment."""
    saved_environ, saved_path = dict(os.environ), list(sys.path)
    for name in list(os.environ):
        if name.startswith(("AWS_ENDPOINT_URL", "POWERTOOLS_")) or name == "AWS_PROFILE":
            del os.environ[name]  # moto's in-process mock must answer, not a server named by the shell
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    yield
    os.environ.clear()
    os.environ.update(saved_environ)
    sys.path[:] = saved_path


@pytest.fixture
def stack() -> Iterator[AppStack]:
    with app_stack() as running:
        yield running
