"""Shared fixtures: moto in-process, the fixture template provisioned, and a clean environment per test."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from localrun.aws import LocalResources, provision
from localrun.lambda_runtime import LocalLambda, lambdas_for
from localrun.template import Template, load_template
from tests.localrun.support import FIXTURE_TEMPLATE, FIXTURES


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def session(aws: None) -> boto3.session.Session:
    return boto3.session.Session(region_name="us-east-1")


@pytest.fixture
def fixture_template() -> Template:
    return load_template(FIXTURE_TEMPLATE)


@pytest.fixture
def resources(fixture_template: Template, session: boto3.session.Session) -> LocalResources:
    return provision(fixture_template, secret_value={}, session=session, stack_name="fx")


@pytest.fixture
def lambdas(resources: LocalResources) -> dict[str, LocalLambda]:
    return lambdas_for(resources)


@pytest.fixture
def calls(lambdas: dict[str, LocalLambda]) -> Any:
    """What the fixture handlers received: calls("api") -> [{"event", "context"}, ...]."""
    sys.path.append(str(FIXTURES / "layer"))
    shared = importlib.import_module("fixture_shared")  # the fixture layer's module the handlers record into
    shared.CALLS.clear()
    return shared.calls
