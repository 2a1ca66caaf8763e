"""Loading handlers by file path and invoking them with a Lambda-like context and environment."""

from __future__ import annotations

import dataclasses
import os
import sys
import uuid
from typing import Any

import pytest

from localrun.aws import LocalResources
from localrun.lambda_runtime import LocalLambda


def test_same_file_names_load_as_separate_modules(lambdas: dict[str, LocalLambda], calls: Any) -> None:
    api, worker = lambdas["ApiFunction"], lambdas["WorkerFunction"]
    assert api.handler is not worker.handler
    assert sys.modules["fn_ApiFunction_app"].SERVICE_AT_IMPORT == "api"
    assert sys.modules["fn_WorkerFunction_app"].SERVICE_AT_IMPORT == "worker"
    assert api.handler is api.handler  # loaded once


def test_invoke_sets_the_environment_and_context(
    lambdas: dict[str, LocalLambda], resources: LocalResources, calls: Any
) -> None:
    result = lambdas["TickFunction"].invoke({"hello": 1})

    assert result == {"ticked": True}
    (call,) = calls("ticker")
    context = call["context"]
    assert call["event"] == {"hello": 1}
    assert context.function_name == "fx-TickFunction"
    assert context.function_version == "$LATEST"
    assert context.invoked_function_arn == f"arn:aws:lambda:us-east-1:{resources.account_id}:function:fx-TickFunction"
    assert 4000 < context.get_remaining_time_in_millis() <= 5000  # Globals Timeout: 5
    assert uuid.UUID(context.aws_request_id)
    assert os.environ["GREETING"] == "hello"
    assert os.environ["NAMESPACE"] == "fixture-test"
    assert os.environ["QUEUE_NAME"] == "fx-WorkQueue.fifo"
    assert os.environ["WORK_QUEUE_URL"] == resources.queues["WorkQueue"]
    assert os.environ["RECORDS_TABLE"] == resources.tables["RecordsTable"]
    assert os.environ["FLAG_STATE"] == "off"
    assert os.environ["AWS_LAMBDA_FUNCTION_NAME"] == "fx-TickFunction"


def test_missing_handler_file_is_a_clear_error(lambdas: dict[str, LocalLambda]) -> None:
    tick = lambdas["TickFunction"]
    broken = dataclasses.replace(tick, function=dataclasses.replace(tick.function, handler="nowhere.handler"))
    with pytest.raises(FileNotFoundError, match=r"nowhere\.py"):
        broken.invoke({})
