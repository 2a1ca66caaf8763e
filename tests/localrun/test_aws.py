"""Provisioning the template's resources in moto, and the functions' resolved environment."""

from __future__ import annotations

import json

import boto3

from localrun.aws import LocalResources, provision
from localrun.template import load_template
from tests.localrun.support import REAL_TEMPLATE

SECRET = {
    "ecwid_client_id": "client",
    "ecwid_client_secret": "0123456789abcdef-secret",
    "tiktok_app_id": "app",
    "tiktok_secret": "tiktok-secret",
}


def test_provision_real_template(session: boto3.session.Session) -> None:
    template = load_template(REAL_TEMPLATE)
    local = provision(
        template, secret_value=SECRET, parameter_overrides={"Stage": "local"}, session=session, stack_name="run1"
    )

    table = session.client("dynamodb").describe_table(TableName=local.tables["StoresTable"])["Table"]
    assert {(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]} == {("pk", "HASH"), ("sk", "RANGE")}
    indexes = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"connected-stores", "sku-status", "pending-reviews"}
    index = indexes["connected-stores"]
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["connected_shard", "pk"]
    assert index["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["store_id", "epoch"]}
    assert [k["AttributeName"] for k in indexes["sku-status"]["KeySchema"]] == ["sku_status", "sk"]
    assert [k["AttributeName"] for k in indexes["pending-reviews"]["KeySchema"]] == ["review_shard", "review_due"]
    ttl = session.client("dynamodb").describe_time_to_live(TableName=local.tables["StoresTable"])
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "ttl"

    sqs = session.client("sqs")
    queue = sqs.get_queue_attributes(QueueUrl=local.queues["CatalogQueue"], AttributeNames=["All"])["Attributes"]
    assert queue["FifoQueue"] == "true"
    assert queue["VisibilityTimeout"] == "1800"
    assert queue["DeduplicationScope"] == "messageGroup"
    redrive = json.loads(queue["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == local.queue_arns["CatalogDeadLetterQueue"]
    assert int(redrive["maxReceiveCount"]) == 20
    assert local.queue_arns["CatalogDeadLetterQueue"].endswith(".fifo")

    env = local.function_environment("ConnectCallbackFunction")
    assert env["STORES_TABLE"] == local.tables["StoresTable"] == "run1-StoresTable"
    assert env["IDEMPOTENCY_TABLE"] == local.tables["IdempotencyTable"]
    assert env["CATALOG_QUEUE_URL"] == local.queues["CatalogQueue"]
    assert env["TOKEN_KEY_ID"] == local.kms_keys["TokenKey"]
    assert env["APP_SECRETS_ARN"] == local.secrets["AppSecrets"]
    assert env["PUBLIC_BASE_URL"] == ""
    assert env["ECWID_APP_PAGE_URL"] == "https://my.ecwid.com/store/{store_id}#app:name=tiktok-channel"
    assert env["TIKTOK_UPLOAD_BATCH_SIZE"] == "1000"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "tiktok-channel-local"
    assert env["POWERTOOLS_SERVICE_NAME"] == "connect_callback"
    assert all(isinstance(value, str) for value in env.values())

    kms = session.client("kms")
    assert kms.describe_key(KeyId=env["TOKEN_KEY_ID"])["KeyMetadata"]["Enabled"]
    assert kms.get_key_rotation_status(KeyId=env["TOKEN_KEY_ID"])["KeyRotationEnabled"]
    secret = json.loads(
        session.client("secretsmanager").get_secret_value(SecretId=env["APP_SECRETS_ARN"])["SecretString"]
    )
    assert secret["ecwid_client_id"] == "client"
    assert len(secret["session_key"]) == 64
    assert secret["session_key"].isalnum()


def test_provisions_coexist_and_take_overrides(session: boto3.session.Session) -> None:
    template = load_template(REAL_TEMPLATE)
    first = provision(template, secret_value=SECRET, session=session, stack_name="a")
    second = provision(
        template,
        secret_value=SECRET,
        parameter_overrides={"PublicBaseUrl": "http://127.0.0.1:3000"},
        session=session,
        stack_name="b",
    )
    assert first.tables["StoresTable"] != second.tables["StoresTable"]
    assert first.queues["CatalogQueue"] != second.queues["CatalogQueue"]
    assert second.function_environment("AdminPageFunction")["PUBLIC_BASE_URL"] == "http://127.0.0.1:3000"
    assert first.function_environment("AdminPageFunction")["PUBLIC_BASE_URL"] == ""


def test_resources_travel_to_another_process_as_json(session: boto3.session.Session) -> None:
    local = provision(
        load_template(REAL_TEMPLATE),
        secret_value=SECRET,
        parameter_overrides={"PublicBaseUrl": "http://127.0.0.1:3000"},
        session=session,
        stack_name="j",
    )

    again = LocalResources.from_json(json.loads(json.dumps(local.to_json())))

    assert (again.tables, again.queues, again.queue_arns) == (local.tables, local.queues, local.queue_arns)
    assert (again.kms_keys, again.secrets, again.region, again.account_id) == (
        local.kms_keys, local.secrets, local.region, local.account_id,
    )  # fmt: skip
    for function in ("CatalogWorkerFunction", "ConnectCallbackFunction"):
        assert again.function_environment(function) == local.function_environment(function)
        assert again.function_arn(function) == local.function_arn(function)
