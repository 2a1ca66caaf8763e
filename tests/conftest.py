"""Fixtures for the product's own tests: a clean environment and the whole stack on 127.0.0.1."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

from localrun.stack import use_local_aws
from tests.app_stack import AppStack, app_stack


@pytest.fixture(autouse=True)
def _clean_environment() -> Iterator[None]:
    """Handlers write their variables into os.environ: give every test a fresh, AWS-free environment."""
    saved_environ, saved_path = dict(os.environ), list(sys.path)
    for name in [name for name in os.environ if name.startswith("POWERTOOLS_")]:
        del os.environ[name]
    use_local_aws()  # moto's in-process mock must answer, not a server or an account named by the shell
    yield
    os.environ.clear()
    os.environ.update(saved_environ)
    sys.path[:] = saved_path


@pytest.fixture
def stack() -> Iterator[AppStack]:
    with app_stack() as running:
        yield running
