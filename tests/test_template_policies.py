"""Least privilege in template.yaml (issue 10): each function may do in AWS what its code does, and no more.

moto enforces no IAM, so a missing or extra permission would only show in AWS: these tests read the template
against tables of what the code needs (traced from functions/*/app.py through services/ to adapters/) and
say which code needs each permission that could destroy or disclose something.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from localrun.template import GetAtt, Ref, Sub, Template, load_template, load_yaml
from tiktok_channel.adapters.kms import KmsSecretCipher, SecretField

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"

# DynamoDB actions that scan or delete, and the functions whose code uses them. No code calls Scan.
# Transactions need the action of each of their parts (DynamoDB's IAM), so a transaction's Delete counts.
DESTRUCTIVE_DYNAMODB = ("dynamodb:Scan", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")
NEEDS_DESTRUCTIVE: dict[str, dict[str, str]] = {
    "DisconnectFunction": {
        "dynamodb:DeleteItem": "the disconnect transaction deletes the STOREFRONT item, and a cleanup TikTok "
        "confirmed is deleted (adapters/cleanup_repository.py: disconnect, finish)",
        "dynamodb:BatchWriteItem": "the store's SKU, RUN and CATEGORIES items go in pages of 25 (purge_catalog)",
    },
    "AdminPageFunction": {
        "dynamodb:DeleteItem": "a category the merchant shows on TikTok again loses its CHOICE#C# item "
        "(adapters/choice_repository.py: keep_category_off)",
        "dynamodb:BatchWriteItem": "products switched off or on TikTok, up to 500 a request, are put and deleted "
        "in batches of 25 (adapters/choice_repository.py: keep_products_off)",
    },
    "CatalogWorkerFunction": {
        "dynamodb:DeleteItem": "uninstall events and cleanup messages take a store down as the disconnect "
        "function does; Powertools deletes the idempotency record of an event that failed",
        "dynamodb:BatchWriteItem": "SKU items and image sizes are put and deleted in batches "
        "(adapters/catalog_repository.py: _write), and cleanups purge a store's catalog items",
    },
}

# What each function encrypts and decrypts with the token key, by the `field` of the encryption context.
ECWID_TOKEN, TIKTOK_TOKEN, PHONE, STOREFRONT_PHONE = "ecwid_token", "tiktok_token", "phone", "storefront_phone"
KEY_FIELDS: dict[str, dict[str, set[str]]] = {
    "ConnectCallbackFunction": {
        # install keeps the Ecwid token; Connect remembers the phone; the callback keeps the TikTok token
        "kms:Encrypt": {ECWID_TOKEN, PHONE, TIKTOK_TOKEN},
        # ... and reads it back to set up the catalog and pixel
        "kms:Decrypt": {TIKTOK_TOKEN},
    },
    # a session is opened by comparing Ecwid's payload with the stored Ecwid token
    "AdminPageFunction": {"kms:Decrypt": {ECWID_TOKEN}},
    # TikTok is told with the token kept in the cleanup item; the pixel's config leaves Ecwid with the Ecwid token
    "DisconnectFunction": {"kms:Decrypt": {ECWID_TOKEN, TIKTOK_TOKEN}},
    # syncs read Ecwid and write TikTok; cleanups revoke the TikTok token
    "CatalogWorkerFunction": {"kms:Decrypt": {ECWID_TOKEN, TIKTOK_TOKEN}},
    "StorefrontApplicationFunction": {
        # the application's business phone
        "kms:Encrypt": {STOREFRONT_PHONE},
        # the application shown again, the connect phone for TikTok's page, the shop status with the token
        "kms:Decrypt": {STOREFRONT_PHONE, PHONE, TIKTOK_TOKEN},
    },
}
# Every action that uses a key's material, or hands that use to someone else (a grant).
KEY_USAGE_ACTIONS = (
    "kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext", "kms:GenerateDataKeyPair", "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:Sign", "kms:Verify", "kms:GenerateMac", "kms:VerifyMac", "kms:DeriveSharedSecret", "kms:CreateGrant",
)  # fmt: skip

# The actions of the SAM policy templates a function may name (samtranslator's policy_templates.json).
SAM_POLICY_TEMPLATES: dict[str, tuple[str, ...]] = {
    "AWSSecretsManagerGetSecretValuePolicy": ("secretsmanager:GetSecretValue",),
    "SQSSendMessagePolicy": ("sqs:SendMessage*",),
    "SQSPollerPolicy": (
        "sqs:ChangeMessageVisibility", "sqs:ChangeMessageVisibilityBatch", "sqs:DeleteMessage",
        "sqs:DeleteMessageBatch", "sqs:GetQueueAttributes", "sqs:ReceiveMessage",
    ),
    "EventBridgePutEventsPolicy": ("events:PutEvents",),
    "DynamoDBCrudPolicy": (
        "dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Scan", "dynamodb:Query",
        "dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem", "dynamodb:DescribeTable",
        "dynamodb:ConditionCheckItem",
    ),
    "DynamoDBReadPolicy": (
        "dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:DescribeTable",
    ),
    "DynamoDBWritePolicy": ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"),
    "KMSDecryptPolicy": ("kms:Decrypt",),
    "KMSEncryptPolicy": ("kms:Encrypt",),
}  # fmt: skip

# What the access log may say about a request: who, which route, how it ended (the error is API Gateway's own
# message). Never the query string (OAuth codes and states, Ecwid's payload), headers (sessions) or bodies.
ACCESS_LOG_VARIABLES = {
    "$context.requestId", "$context.requestTime", "$context.identity.sourceIp", "$context.identity.userAgent",
    "$context.httpMethod", "$context.routeKey", "$context.path", "$context.protocol", "$context.status",
    "$context.responseLength", "$context.responseLatency", "$context.integrationStatus",
    "$context.integrationLatency", "$context.error.message",
}  # fmt: skip


# -- reading the template ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def template() -> Template:
    return load_template(TEMPLATE)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Grant:
    """One statement of a function's Policies (a SAM policy template counts as one unconditioned statement)."""

    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    condition: Mapping[str, Any]

    def allows(self, action: str) -> bool:
        if self.effect != "Allow":
            return False
        if self.not_actions:
            return not matches(action, self.not_actions)
        return matches(action, self.actions)


def matches(action: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in patterns)


def grants(template: Template, function: str) -> list[Grant]:
    found: list[Grant] = []
    for policy in as_list(template.resources[function].properties.get("Policies") or []):
        if isinstance(policy, str):
            pytest.fail(f"{function}: managed policy {policy}: use a SAM policy template or a statement")
        if "Statement" in policy:
            for statement in as_list(policy["Statement"]):
                found.append(
                    Grant(
                        statement.get("Effect", "Allow"),
                        tuple(as_list(statement.get("Action", []))),
                        tuple(as_list(statement.get("NotAction", []))),
                        statement.get("Condition") or {},
                    )
                )
            continue
        ((name, _),) = policy.items()
        if name not in SAM_POLICY_TEMPLATES:
            pytest.fail(f"{function}: SAM policy template {name}: add its actions to SAM_POLICY_TEMPLATES")
        found.append(Grant("Allow", SAM_POLICY_TEMPLATES[name], (), {}))
    return found


def condition_values(condition: Mapping[str, Any], operators: tuple[str, ...], key: str) -> list[Any] | None:
    """The values a condition compares `key` with under one of `operators` (None: it does not)."""
    for operator, tests in condition.items():
        if operator in operators:
            for name, value in tests.items():
                if name.lower() == key.lower():
                    return as_list(value)
    return None


def fields_used(template: Template, function: str) -> dict[str, set[str] | str]:
    """Per key usage action the function holds: the `field` values it is bounded to, or "any field"."""
    use: dict[str, set[str] | str] = {}
    for action in KEY_USAGE_ACTIONS:
        fields: set[str] = set()
        for grant in grants(template, function):
            if not grant.allows(action):
                continue
            bound = condition_values(grant.condition, ("StringEquals",), "kms:EncryptionContext:field")
            if bound is None:
                use[action] = "any field"
                break
            fields.update(bound)
        else:
            if fields:
                use[action] = fields
    return use


def text(value: Any) -> str:
    """A value of the template as text: a !Sub's template, a !Ref's name."""
    if isinstance(value, Sub):
        return value.text
    if isinstance(value, Ref):
        return value.name
    return str(value)


def is_account_root(principal: Any) -> bool:
    """The account itself (its root), which lets IAM policies in the account decide."""
    accounts = [text(value) for value in as_list(principal.get("AWS", []))] if isinstance(principal, dict) else []
    return any(value.endswith(":root") or value in ("AWS::AccountId", "${AWS::AccountId}") for value in accounts)


def key_statements(template: Template, key: str) -> list[dict[str, Any]]:
    return as_list(template.resources[key].properties["KeyPolicy"]["Statement"])


def resource_policies(template: Template) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every statement of the template's key, topic and queue policies, with the resource it is on."""
    documents = {
        "AWS::KMS::Key": "KeyPolicy",
        "AWS::SNS::TopicPolicy": "PolicyDocument",
        "AWS::SQS::QueuePolicy": "PolicyDocument",
    }
    for logical_id, resource in template.resources.items():
        if resource.type in documents:
            for statement in as_list(resource.properties[documents[resource.type]]["Statement"]):
                yield logical_id, statement


def kms_keys(template: Template) -> list[str]:
    return [logical_id for logical_id, r in template.resources.items() if r.type == "AWS::KMS::Key"]


# -- DynamoDB ----------------------------------------------------------------------------------------
def test_no_function_may_scan_or_delete_unless_its_code_does(template: Template):
    wrong = []
    for function in template.functions:
        held = grants(template, function)
        for action in DESTRUCTIVE_DYNAMODB:
            granted = any(grant.allows(action) for grant in held)
            needed = action in NEEDS_DESTRUCTIVE.get(function, {})
            if granted != needed:
                wrong.append(f"{function} {'holds' if granted else 'lacks'} {action}")
    assert not wrong, "\n".join(wrong)


# -- the token key -----------------------------------------------------------------------------------
def test_each_function_encrypts_and_decrypts_only_the_fields_its_code_uses(template: Template):
    # The table above names every field the code knows (adapters/kms.py), and no other.
    assert set().union(*(fields for uses in KEY_FIELDS.values() for fields in uses.values())) == set(
        get_args(SecretField)
    )
    wrong = {}
    for function in template.functions:
        held, needed = fields_used(template, function), KEY_FIELDS.get(function, {})
        if held != needed:
            wrong[function] = {"holds": held, "needs": needed}
    assert not wrong, json.dumps(wrong, indent=1, default=sorted)


def test_the_account_administers_each_key_and_uses_none(template: Template):
    for key in kms_keys(template):
        statements = [s for s in key_statements(template, key) if s["Effect"] == "Allow"]
        unconditioned = [s for s in statements if is_account_root(s.get("Principal")) and not s.get("Condition")]
        # KMS refuses a key policy that would lock its administration out.
        assert any(matches("kms:PutKeyPolicy", tuple(as_list(s["Action"]))) for s in unconditioned), key
        for statement in unconditioned:
            used = [a for a in KEY_USAGE_ACTIONS if matches(a, tuple(as_list(statement["Action"])))]
            assert not used, f"{key}: the account may {used} ({statement.get('Sid')})"


def test_only_the_stacks_function_roles_use_the_token_key_and_only_for_store_fields(template: Template):
    role_path = ((load_yaml(TEMPLATE).get("Globals") or {}).get("Function") or {}).get("RolePath")
    assert text(role_path) == "/${AWS::StackName}/", "every function role under the stack's path"
    assert not [f for f in template.functions if "Role" in template.resources[f].properties], "roles SAM makes"
    users = [
        s
        for s in key_statements(template, "TokenKey")
        if s["Effect"] == "Allow" and s.get("Condition") and matches("kms:Decrypt", tuple(as_list(s["Action"])))
    ]
    assert users, "a statement for the functions' use of the key"
    for statement in users:
        condition = statement["Condition"]
        principals = condition_values(condition, ("ArnLike", "ArnEquals"), "aws:PrincipalArn") or []
        assert [text(p) for p in principals] == [
            "arn:${AWS::Partition}:iam::${AWS::AccountId}:role" + text(role_path) + "*"
        ], statement.get("Sid")
        fields = condition_values(condition, ("StringEquals",), "kms:EncryptionContext:field")
        assert set(fields or ()) == set(get_args(SecretField)), statement.get("Sid")
        assert condition_values(condition, ("Null",), "kms:EncryptionContext:store_id") == ["false"]


def test_tokens_and_phones_keep_the_encryption_context_the_key_policy_checks():
    """The key's conditions read `field` (and require `store_id`): what today's code writes must keep that shape."""
    with mock_aws():
        kms = boto3.client("kms", region_name="us-east-1")
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        cipher = KmsSecretCipher(kms, key_id)
        for field in get_args(SecretField):
            ciphertext = cipher.encrypt(f"secret {field}", store_id=1003, field=field)
            context = {"store_id": "1003", "field": field}
            plaintext = kms.decrypt(CiphertextBlob=ciphertext, EncryptionContext=context)["Plaintext"]
            assert plaintext == f"secret {field}".encode()
            other = {"store_id": "1003", "field": "phone" if field != "phone" else "ecwid_token"}
            with pytest.raises(ClientError):
                kms.decrypt(CiphertextBlob=ciphertext, EncryptionContext=other)


# -- service principals ------------------------------------------------------------------------------
def test_every_service_principal_in_a_key_or_topic_policy_is_bound_to_its_source(template: Template):
    unbound = []
    for resource, statement in resource_policies(template):
        if statement["Effect"] == "Allow" and "Service" in (statement.get("Principal") or {}):
            sources = [
                condition_values(statement.get("Condition") or {}, operators, key)
                for operators, key in (
                    (("ArnEquals", "ArnLike", "StringEquals", "StringLike"), "aws:SourceArn"),
                    (("StringEquals",), "aws:SourceAccount"),
                )
            ]
            if not any(sources):
                unbound.append(f"{resource}: {statement.get('Sid')}")
    assert not unbound, unbound


def test_the_topic_key_names_the_rule_that_publishes_to_the_topic(template: Template):
    rule = template.resources["StorefrontApplicationRule"].properties
    assert Ref("StorefrontApplicationTopic") in [target["Arn"] for target in rule["Targets"]]
    assert template.resources["StorefrontApplicationTopic"].properties["KmsMasterKeyId"] == Ref("StorefrontTopicKey")
    assert "Name" in rule, "the rule is named, so the key can name it without depending on it"
    [statement] = [s for s in key_statements(template, "StorefrontTopicKey") if "Service" in s.get("Principal", {})]
    assert statement["Principal"]["Service"] == "events.amazonaws.com"
    [source] = condition_values(statement["Condition"], ("ArnEquals",), "aws:SourceArn") or [None]
    assert text(source) == ("arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/" + text(rule["Name"]))


# -- the HTTP API ------------------------------------------------------------------------------------
def test_the_http_api_writes_an_access_log_without_query_strings_headers_or_bodies(template: Template):
    [api] = [r for r in template.resources.values() if r.type == "AWS::Serverless::HttpApi"]
    settings = api.properties.get("AccessLogSettings")
    assert settings, "the HTTP API has an access log"
    destination = settings["DestinationArn"]
    assert isinstance(destination, GetAtt), destination
    assert destination.attribute == "Arn"
    group = template.resources[destination.resource]
    assert group.type == "AWS::Logs::LogGroup"
    assert group.properties.get("RetentionInDays"), "the access log is kept for a bounded time"
    logged = json.loads(settings["Format"])
    assert {"$context.requestId", "$context.routeKey", "$context.status"} <= set(logged.values())
    assert set(logged.values()) <= ACCESS_LOG_VARIABLES, set(logged.values()) - ACCESS_LOG_VARIABLES
