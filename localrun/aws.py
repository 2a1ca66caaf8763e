"""Create the template's stateful resources in the current AWS endpoint (moto) and resolve the functions' env.

Whatever boto3 reaches is used: moto's in-process `mock_aws`, or a moto server named by the standard
AWS_ENDPOINT_URL variable (boto3 reads it itself). Names are `<stack_name>-<LogicalId>` so that several
provisions (tests, two local runs against one moto server) can share an endpoint.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3

from localrun.template import PhysicalResource, Queue, Resolver, Resource, Template, as_text, load_template

# CloudFormation GSI/LSI properties that the DynamoDB API takes as they are.
_INDEX_KEYS = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput", "OnDemandThroughput")
# AWS::SQS::Queue properties that are queue attributes of the same name.
_QUEUE_ATTRIBUTES = (
    "ContentBasedDeduplication", "DeduplicationScope", "DelaySeconds", "FifoQueue", "FifoThroughputLimit",
    "KmsDataKeyReusePeriodSeconds", "KmsMasterKeyId", "MaximumMessageSize", "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds", "SqsManagedSseEnabled", "VisibilityTimeout",
)  # fmt: skip


@dataclass
class LocalResources:
    """The provisioned resources: physical ids by logical id, and the resolver that uses them."""

    template: Template
    stack_name: str
    region: str
    account_id: str
    resolver: Resolver
    tables: dict[str, str] = field(default_factory=dict)  # logical id -> table name
    queues: dict[str, str] = field(default_factory=dict)  # logical id -> queue URL
    queue_arns: dict[str, str] = field(default_factory=dict)  # logical id -> queue ARN
    kms_keys: dict[str, str] = field(default_factory=dict)  # logical id -> key id
    secrets: dict[str, str] = field(default_factory=dict)  # logical id -> secret ARN

    @property
    def physical(self) -> Mapping[str, PhysicalResource]:
        return self.resolver.resources

    def function_name(self, logical_id: str) -> str:
        return self.physical[logical_id].ref

    def function_arn(self, logical_id: str) -> str:
        return self.physical[logical_id].attributes["Arn"]

    def function_environment(self, logical_id: str) -> dict[str, str]:
        """The function's environment variables as Lambda would set them (every value a string)."""
        function = self.template.functions[logical_id]
        resolved = self.resolver.resolve(dict(function.environment))
        return {name: as_text(value) for name, value in resolved.items()}

    def to_json(self) -> dict[str, Any]:
        """What another process needs to see the same resources (`from_json`), as JSON-ready data."""
        return {
            "template": str(self.template.path),
            "stack_name": self.stack_name,
            "region": self.region,
            "account_id": self.account_id,
            "parameters": {k: v for k, v in self.resolver.parameters.items() if v is not None},
            "physical": {k: {"ref": v.ref, "attributes": dict(v.attributes)} for k, v in self.physical.items()},
            "tables": self.tables,
            "queues": self.queues,
            "queue_arns": self.queue_arns,
            "kms_keys": self.kms_keys,
            "secrets": self.secrets,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LocalResources:
        """The resources another process provisioned (`to_json`), with the template as it is on disk now."""
        template = load_template(data["template"])
        physical = {k: PhysicalResource(v["ref"], v["attributes"]) for k, v in data["physical"].items()}
        resolver = Resolver(
            template,
            physical,
            # A parameter the template lost meanwhile (others edit it) is dropped rather than refused.
            {k: v for k, v in data["parameters"].items() if k in template.parameters},
            region=data["region"],
            account_id=data["account_id"],
            stack_name=data["stack_name"],
        )
        return cls(
            template,
            data["stack_name"],
            data["region"],
            data["account_id"],
            resolver,
            tables=dict(data["tables"]),
            queues=dict(data["queues"]),
            queue_arns=dict(data["queue_arns"]),
            kms_keys=dict(data["kms_keys"]),
            secrets=dict(data["secrets"]),
        )


def _physical_name(stack_name: str, logical_id: str, *, limit: int, suffix: str = "") -> str:
    name = f"{stack_name}-{logical_id}"[: limit - len(suffix)]
    return name + suffix


def _skipped(resource: Resource, resolver: Resolver) -> bool:
    return resource.condition is not None and not resolver.condition(resource.condition)


def _create_table(client: Any, name: str, props: Mapping[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    if "ProvisionedThroughput" in props:
        request["ProvisionedThroughput"] = props["ProvisionedThroughput"]
    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if props.get(kind):
            request[kind] = [{k: v for k, v in index.items() if k in _INDEX_KEYS} for index in props[kind]]
    if props.get("StreamSpecification"):
        stream = props["StreamSpecification"]
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    description: dict[str, Any] = client.create_table(**request)["TableDescription"]
    ttl = props.get("TimeToLiveSpecification")
    if ttl and as_text(ttl.get("Enabled")) == "true":
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
        )
    return description


def _queue_order(queues: Mapping[str, Queue]) -> list[Queue]:
    """Dead-letter queues before the queues whose RedrivePolicy points at them."""
    ordered: list[Queue] = []
    seen: set[str] = set()

    def visit(queue: Queue, path: tuple[str, ...]) -> None:
        if queue.logical_id in seen:
            return
        if queue.logical_id in path:
            raise ValueError(f"redrive cycle between queues: {' -> '.join(path)}")
        target = queue.dead_letter_target
        if target is not None and target in queues:
            visit(queues[target], (*path, queue.logical_id))
        seen.add(queue.logical_id)
        ordered.append(queue)

    for queue in queues.values():
        visit(queue, ())
    return ordered


def _queue_attributes(props: Mapping[str, Any]) -> dict[str, str]:
    attributes = {key: as_text(props[key]) for key in _QUEUE_ATTRIBUTES if key in props}
    for policy in ("RedrivePolicy", "RedriveAllowPolicy"):
        if props.get(policy):
            attributes[policy] = json.dumps(props[policy])
    return attributes


def _secret_string(props: Mapping[str, Any], secret_value: Mapping[str, Any]) -> str:
    """The secret as deployed (template's SecretStringTemplate plus the generated key), then the given values."""
    value: dict[str, Any] = {}
    generate = props.get("GenerateSecretString") or {}
    if generate.get("SecretStringTemplate"):
        value.update(json.loads(generate["SecretStringTemplate"]))
    if generate.get("GenerateStringKey"):
        alphabet = string.ascii_letters + string.digits
        if not _truthy(generate.get("ExcludePunctuation")):
            alphabet += "!#$%&()*+,-.:;<=>?@[]^_{|}~"
        length = int(generate.get("PasswordLength", 32))
        value[generate["GenerateStringKey"]] = "".join(secrets.choice(alphabet) for _ in range(length))
    value.update(secret_value)
    return json.dumps(value)


def _truthy(value: Any) -> bool:
    return as_text(value).lower() == "true"


def provision(
    template: Template,
    *,
    secret_value: Mapping[str, Any],
    parameter_overrides: Mapping[str, Any] | None = None,
    session: boto3.session.Session | None = None,
    stack_name: str = "local",
) -> LocalResources:
    """Create every table, queue, KMS key and secret of the template and return their physical ids.

    `secret_value` is written into every AWS::SecretsManager::Secret (over the template's
    SecretStringTemplate and generated key, so a key the template generates need not be given).
    Resources whose Condition is false are skipped, as CloudFormation would.
    """
    session = session or boto3.session.Session()
    region = session.region_name or "us-east-1"
    account_id = session.client("sts").get_caller_identity()["Account"]
    physical: dict[str, PhysicalResource] = {}
    resolver = Resolver(
        template, physical, parameter_overrides, region=region, account_id=account_id, stack_name=stack_name
    )
    local = LocalResources(template, stack_name, region, account_id, resolver)
    _provision_tables(local, session.client("dynamodb"), physical)
    _provision_queues(local, session.client("sqs"), physical)
    _provision_keys(local, session.client("kms"), physical)
    _provision_secrets(local, session.client("secretsmanager"), physical, secret_value)
    _name_in_process_resources(local, physical)
    return local


def _provision_tables(local: LocalResources, dynamodb: Any, physical: dict[str, PhysicalResource]) -> None:
    for logical_id, table in local.template.tables.items():
        if _skipped(table, local.resolver):
            continue
        name = _physical_name(local.stack_name, logical_id, limit=255)
        description = _create_table(dynamodb, name, local.resolver.resolve(dict(table.properties)))
        attributes = {"Arn": description["TableArn"]}
        if description.get("LatestStreamArn"):
            attributes["StreamArn"] = description["LatestStreamArn"]
        physical[logical_id] = PhysicalResource(name, attributes)
        local.tables[logical_id] = name


def _provision_queues(local: LocalResources, sqs: Any, physical: dict[str, PhysicalResource]) -> None:
    for queue in _queue_order(local.template.queues):
        if _skipped(queue, local.resolver):
            continue
        # Dead-letter queues come first, so resolving RedrivePolicy's !GetAtt finds their ARN.
        props = local.resolver.resolve(dict(queue.properties))
        name = _physical_name(local.stack_name, queue.logical_id, limit=80, suffix=".fifo" if queue.fifo else "")
        url = sqs.create_queue(QueueName=name, Attributes=_queue_attributes(props))["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        physical[queue.logical_id] = PhysicalResource(url, {"Arn": arn, "QueueName": name, "QueueUrl": url})
        local.queues[queue.logical_id] = url
        local.queue_arns[queue.logical_id] = arn


def _provision_keys(local: LocalResources, kms: Any, physical: dict[str, PhysicalResource]) -> None:
    for logical_id, key in local.template.kms_keys.items():
        if _skipped(key, local.resolver):
            continue
        props = local.resolver.resolve(dict(key.properties))
        request: dict[str, Any] = {"Description": props.get("Description", logical_id)}
        request.update({name: props[name] for name in ("KeyUsage", "KeySpec", "MultiRegion") if name in props})
        if props.get("KeyPolicy"):
            request["Policy"] = json.dumps(props["KeyPolicy"])
        metadata = kms.create_key(**request)["KeyMetadata"]
        if _truthy(props.get("EnableKeyRotation", False)):
            kms.enable_key_rotation(KeyId=metadata["KeyId"])
        physical[logical_id] = PhysicalResource(metadata["KeyId"], {"Arn": metadata["Arn"], "KeyId": metadata["KeyId"]})
        local.kms_keys[logical_id] = metadata["KeyId"]


def _provision_secrets(
    local: LocalResources, secretsmanager: Any, physical: dict[str, PhysicalResource], value: Mapping[str, Any]
) -> None:
    for logical_id, secret in local.template.secrets.items():
        if _skipped(secret, local.resolver):
            continue
        props = local.resolver.resolve(dict(secret.properties))
        created = secretsmanager.create_secret(
            Name=_physical_name(local.stack_name, logical_id, limit=512),
            Description=str(props.get("Description", "")),
            SecretString=_secret_string(props, value),
        )
        physical[logical_id] = PhysicalResource(created["ARN"], {"Id": created["ARN"]})
        local.secrets[logical_id] = created["ARN"]


def _name_in_process_resources(local: LocalResources, physical: dict[str, PhysicalResource]) -> None:
    """Functions and the HTTP API exist only in-process, but a !Ref or !GetAtt to them must still resolve."""
    partition = "aws-cn" if local.region.startswith("cn-") else "aws"
    for logical_id in local.template.functions:
        name = _physical_name(local.stack_name, logical_id, limit=64)
        arn = f"arn:{partition}:lambda:{local.region}:{local.account_id}:function:{name}"
        physical[logical_id] = PhysicalResource(name, {"Arn": arn})
    for logical_id, resource in local.template.resources.items():
        if resource.type == "AWS::Serverless::HttpApi":
            physical[logical_id] = PhysicalResource("local", {"ApiEndpoint": "http://127.0.0.1", "ApiId": "local"})
