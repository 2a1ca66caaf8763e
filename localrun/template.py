"""template.yaml as typed data: the functions, their triggers and the resources the local run provisions.

The template is the only source of truth for routes, queues, schedules and table schemas, so the local
run reads it instead of repeating it. CloudFormation short tags (!Ref, !GetAtt, !Sub, ...) load as small
objects that `Resolver` turns into local values once the resources exist.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# ---------------------------------------------------------------------------------------------------
# Intrinsic functions


@dataclass(frozen=True)
class Ref:
    name: str


@dataclass(frozen=True)
class GetAtt:
    resource: str
    attribute: str


@dataclass(frozen=True)
class Sub:
    text: str
    variables: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Intrinsic:
    """Any other `Fn::X` (If, Not, Equals, Select, Join, Split, ...): its name without "Fn::" and its argument."""

    name: str
    argument: Any


# Short tags other than !Ref/!GetAtt/!Sub; each loads as Intrinsic(name, argument).
_OTHER_TAGS = (
    "If", "Not", "Equals", "And", "Or", "Condition", "Select", "Join", "Split", "FindInMap", "Base64",
    "GetAZs", "ImportValue", "Cidr", "Length", "ToJsonString", "Transform",
)  # fmt: skip


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that also understands CloudFormation's short tags."""


def _node_value(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    assert isinstance(node, yaml.MappingNode)
    return loader.construct_mapping(node, deep=True)


def _construct_ref(loader: yaml.SafeLoader, node: yaml.Node) -> Ref:
    return Ref(str(_node_value(loader, node)))


def _construct_getatt(loader: yaml.SafeLoader, node: yaml.Node) -> GetAtt:
    return _getatt(_node_value(loader, node))


def _getatt(value: Any) -> GetAtt:
    # "Resource.Attribute" (the attribute itself may contain dots, e.g. Endpoint.Address) or [Resource, Attribute].
    if isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return GetAtt(resource, attribute)
    resource, attribute = value
    return GetAtt(str(resource), str(attribute))


def _construct_sub(loader: yaml.SafeLoader, node: yaml.Node) -> Sub:
    return _sub(_node_value(loader, node))


def _sub(value: Any) -> Sub:
    if isinstance(value, str):
        return Sub(value)
    text, variables = value
    return Sub(str(text), dict(variables))


def _make_constructor(name: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> Intrinsic:
        return Intrinsic(name, _node_value(loader, node))

    return construct


CfnLoader.add_constructor("!Ref", _construct_ref)
CfnLoader.add_constructor("!GetAtt", _construct_getatt)
CfnLoader.add_constructor("!Sub", _construct_sub)
for _tag in _OTHER_TAGS:
    CfnLoader.add_constructor(f"!{_tag}", _make_constructor(_tag))


def _long_forms(value: Any) -> Any:
    """Turn the long forms ({"Ref": x}, {"Fn::GetAtt": ...}) into the same objects as the short tags."""
    if isinstance(value, list):
        return [_long_forms(item) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, argument),) = value.items()
        if key == "Ref":
            return Ref(str(argument))
        if key == "Fn::GetAtt":
            return _getatt(_long_forms(argument))
        if key == "Fn::Sub":
            return _sub(_long_forms(argument))
        if key.startswith("Fn::"):
            return Intrinsic(key.removeprefix("Fn::"), _long_forms(argument))
    return {key: _long_forms(item) for key, item in value.items()}


def load_yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as stream:
        data = yaml.load(stream, Loader=CfnLoader)  # noqa: S506 - CfnLoader is a SafeLoader
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a CloudFormation template")
    return dict(_long_forms(data))


# ---------------------------------------------------------------------------------------------------
# The model


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: Any = None  # None: no default (an override is then required to resolve it)


@dataclass(frozen=True)
class HttpRoute:
    event_name: str
    method: str  # upper case; "ANY" matches every method
    path: str | None  # None: the $default route


@dataclass(frozen=True)
class SqsTrigger:
    event_name: str
    queue: str  # the queue's logical id
    batch_size: int
    function_response_types: tuple[str, ...]
    enabled: bool = True

    @property
    def report_batch_item_failures(self) -> bool:
        return "ReportBatchItemFailures" in self.function_response_types


@dataclass(frozen=True)
class ScheduleTrigger:
    event_name: str
    schedule: Any  # "rate(...)"/"cron(...)" or an unresolved value such as Ref("SyncSchedule")
    input: str | None  # the JSON text the rule sends instead of the EventBridge event
    enabled: bool = True


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_uri: Path  # absolute
    handler: str  # "module.function"
    runtime: str
    timeout: int  # seconds
    memory_size: int  # MB
    environment: Mapping[str, Any]  # Globals merged with the function's own; values still unresolved
    layers: tuple[Path, ...]  # local directories of the template's own layers, in order
    routes: tuple[HttpRoute, ...]
    sqs_triggers: tuple[SqsTrigger, ...]
    schedules: tuple[ScheduleTrigger, ...]
    condition: str | None = None


@dataclass(frozen=True)
class Resource:
    logical_id: str
    type: str
    properties: Mapping[str, Any]
    condition: str | None = None


@dataclass(frozen=True)
class Queue(Resource):
    @property
    def fifo(self) -> bool:
        return _truthy(self.properties.get("FifoQueue", False))

    @property
    def dead_letter_target(self) -> str | None:
        """The logical id of the queue RedrivePolicy points at, when it is one of the template's queues."""
        target = (self.properties.get("RedrivePolicy") or {}).get("deadLetterTargetArn")
        if isinstance(target, GetAtt):
            return target.resource
        return None


@dataclass(frozen=True)
class Template:
    path: Path
    parameters: Mapping[str, Parameter]
    conditions: Mapping[str, Any]
    resources: Mapping[str, Resource]  # every resource, raw
    functions: Mapping[str, Function]
    tables: Mapping[str, Resource]
    queues: Mapping[str, Queue]
    kms_keys: Mapping[str, Resource]
    secrets: Mapping[str, Resource]

    @property
    def root(self) -> Path:
        return self.path.parent


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _merge_globals(global_props: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(global_props)
    for key, value in own.items():
        if key == "Environment":
            variables = {
                **(global_props.get("Environment") or {}).get("Variables", {}),
                **(value or {}).get("Variables", {}),
            }
            merged["Environment"] = {"Variables": variables}
        else:
            merged[key] = value
    return merged


def _queue_id(value: Any) -> str:
    if isinstance(value, GetAtt):
        return value.resource
    if isinstance(value, Ref):
        return value.name
    raise ValueError(f"SQS event Queue must reference a queue of the template, got {value!r}")


def _function(
    logical_id: str, props: Mapping[str, Any], root: Path, resources: Mapping[str, Any], condition: str | None
) -> Function:
    routes: list[HttpRoute] = []
    sqs: list[SqsTrigger] = []
    schedules: list[ScheduleTrigger] = []
    for name, event in (props.get("Events") or {}).items():
        kind, ev = event.get("Type"), event.get("Properties") or {}
        if kind == "HttpApi":
            method, path = ev.get("Method"), ev.get("Path")
            # An HttpApi event without Method and Path is the API's $default route.
            routes.append(HttpRoute(name, str(method or "ANY").upper(), str(path) if path else None))
        elif kind == "SQS":
            sqs.append(
                SqsTrigger(
                    name,
                    _queue_id(ev["Queue"]),
                    int(ev.get("BatchSize", 10)),
                    tuple(ev.get("FunctionResponseTypes") or ()),
                    ev.get("Enabled", True) is not False,
                )
            )
        elif kind in ("Schedule", "ScheduleV2"):
            expression = ev.get("Schedule") if kind == "Schedule" else ev.get("ScheduleExpression")
            payload = ev.get("Input")
            enabled = ev.get("Enabled", True) is not False and ev.get("State", "ENABLED") != "DISABLED"
            schedules.append(ScheduleTrigger(name, expression, None if payload is None else str(payload), enabled))
    layers: list[Path] = []
    for layer in props.get("Layers") or ():
        # Only the template's own layers have local code; ARNs of foreign layers are skipped.
        if isinstance(layer, Ref) and layer.name in resources:
            content = (resources[layer.name].get("Properties") or {}).get("ContentUri")
            if isinstance(content, str):
                layers.append((root / content).resolve())
    env = (props.get("Environment") or {}).get("Variables") or {}
    return Function(
        logical_id=logical_id,
        code_uri=(root / str(props.get("CodeUri", "."))).resolve(),
        handler=str(props["Handler"]),
        runtime=str(props.get("Runtime", "")),
        timeout=int(props.get("Timeout", 3)),
        memory_size=int(props.get("MemorySize", 128)),
        environment=dict(env),
        layers=tuple(layers),
        routes=tuple(routes),
        sqs_triggers=tuple(sqs),
        schedules=tuple(schedules),
        condition=condition,
    )


def load_template(path: str | Path) -> Template:
    path = Path(path).resolve()
    data = load_yaml(path)
    root = path.parent
    raw_resources: dict[str, Any] = data.get("Resources") or {}
    global_function = ((data.get("Globals") or {}).get("Function")) or {}

    parameters = {
        name: Parameter(name, str(spec.get("Type", "String")), spec.get("Default"))
        for name, spec in (data.get("Parameters") or {}).items()
    }
    resources: dict[str, Resource] = {}
    functions: dict[str, Function] = {}
    queues: dict[str, Queue] = {}
    by_type: dict[str, dict[str, Resource]] = {}
    for logical_id, spec in raw_resources.items():
        rtype, props, condition = spec["Type"], spec.get("Properties") or {}, spec.get("Condition")
        resource = (Queue if rtype == "AWS::SQS::Queue" else Resource)(logical_id, rtype, props, condition)
        resources[logical_id] = resource
        by_type.setdefault(rtype, {})[logical_id] = resource
        if isinstance(resource, Queue):
            queues[logical_id] = resource
        if rtype == "AWS::Serverless::Function":
            merged = _merge_globals(global_function, props)
            functions[logical_id] = _function(logical_id, merged, root, raw_resources, condition)
    return Template(
        path=path,
        parameters=parameters,
        conditions=dict(data.get("Conditions") or {}),
        resources=resources,
        functions=functions,
        tables=by_type.get("AWS::DynamoDB::Table", {}),
        queues=queues,
        kms_keys=by_type.get("AWS::KMS::Key", {}),
        secrets=by_type.get("AWS::SecretsManager::Secret", {}),
    )


# ---------------------------------------------------------------------------------------------------
# Resolving values


class UnresolvedReference(LookupError):
    """A !Ref/!GetAtt/${} names something the local run has no value for."""


@dataclass(frozen=True)
class PhysicalResource:
    """What !Ref returns for a resource, and its !GetAtt attributes."""

    ref: str
    attributes: Mapping[str, str] = field(default_factory=dict)


_NO_VALUE = object()  # AWS::NoValue: the property is removed
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class Resolver:
    """Evaluates intrinsic functions against local physical values and parameter values."""

    def __init__(
        self,
        template: Template,
        resources: Mapping[str, PhysicalResource],
        parameter_overrides: Mapping[str, Any] | None = None,
        *,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        stack_name: str = "local",
    ) -> None:
        self.template = template
        self.resources = resources
        self.region = region
        self.account_id = account_id
        self.stack_name = stack_name
        overrides = dict(parameter_overrides or {})
        unknown = set(overrides) - set(template.parameters)
        if unknown:
            raise ValueError(f"unknown parameter(s): {', '.join(sorted(unknown))}")
        self.parameters: dict[str, Any] = {
            name: overrides.get(name, param.default) for name, param in template.parameters.items()
        }

    def pseudo(self, name: str) -> Any:
        partition = "aws-cn" if self.region.startswith("cn-") else "aws"
        values: dict[str, Any] = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": partition,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": (
                f"arn:{partition}:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/local"
            ),
            "AWS::URLSuffix": "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com",
            "AWS::NoValue": _NO_VALUE,
            "AWS::NotificationARNs": [],
        }
        if name not in values:
            raise UnresolvedReference(f"unknown pseudo parameter {name}")
        return values[name]

    def ref(self, name: str) -> Any:
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name in self.parameters:
            value = self.parameters[name]
            if value is None:
                raise UnresolvedReference(f"parameter {name} has no default and no override")
            return value
        if name in self.resources:
            return self.resources[name].ref
        raise UnresolvedReference(f"!Ref {name}: no local value (not a parameter or a provisioned resource)")

    def get_att(self, resource: str, attribute: str) -> str:
        physical = self.resources.get(resource)
        if physical is None or attribute not in physical.attributes:
            raise UnresolvedReference(f"!GetAtt {resource}.{attribute}: no local value")
        return physical.attributes[attribute]

    def condition(self, name: str) -> bool:
        if name not in self.template.conditions:
            raise UnresolvedReference(f"unknown condition {name}")
        return bool(self.resolve(self.template.conditions[name]))

    def sub(self, text: str, variables: Mapping[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal} stands for the text ${Literal}
                return "${" + name[1:] + "}"
            if name in variables:
                return as_text(self.resolve(variables[name]))
            if "." in name and not name.startswith("AWS::"):
                resource, _, attribute = name.partition(".")
                return self.get_att(resource, attribute)
            return as_text(self.ref(name))

        return _SUB_VARIABLE.sub(replace, text)

    def resolve(self, value: Any) -> Any:
        """The value with every intrinsic function evaluated (AWS::NoValue entries removed)."""
        if isinstance(value, Ref):
            return self.ref(value.name)
        if isinstance(value, GetAtt):
            return self.get_att(value.resource, value.attribute)
        if isinstance(value, Sub):
            return self.sub(value.text, value.variables)
        if isinstance(value, Intrinsic):
            return self._intrinsic(value.name, value.argument)
        if isinstance(value, dict):
            items = ((key, self.resolve(item)) for key, item in value.items())
            return {key: item for key, item in items if item is not _NO_VALUE}
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not _NO_VALUE]
        return value

    def _intrinsic(self, name: str, arg: Any) -> Any:
        if name == "If":
            condition, if_true, if_false = arg
            return self.resolve(if_true if self.condition(condition) else if_false)
        if name == "Condition":
            return self.condition(arg)
        function = _FUNCTIONS.get(name)
        if function is None:
            raise UnresolvedReference(f"Fn::{name} is not supported by the local run")
        return function(self, arg)


def _select(resolver: Resolver, arg: Any) -> Any:
    index, items = arg
    return resolver.resolve(items)[int(resolver.resolve(index))]


def _join(resolver: Resolver, arg: Any) -> str:
    separator, items = arg
    return str(separator).join(as_text(item) for item in resolver.resolve(items))


def _split(resolver: Resolver, arg: Any) -> list[str]:
    separator, text = arg
    return str(resolver.resolve(text)).split(str(separator))


def _equals(resolver: Resolver, arg: Any) -> bool:
    left, right = (resolver.resolve(item) for item in arg)
    return as_text(left) == as_text(right)


# The other intrinsic functions: each takes the resolver and the function's argument.
_FUNCTIONS: dict[str, Callable[[Resolver, Any], Any]] = {
    "Not": lambda r, arg: not r.resolve(arg[0]),
    "And": lambda r, arg: all(r.resolve(item) for item in arg),
    "Or": lambda r, arg: any(r.resolve(item) for item in arg),
    "Equals": _equals,
    "Select": _select,
    "Join": _join,
    "Split": _split,
    "Length": lambda r, arg: len(r.resolve(arg)),
    "ToJsonString": lambda r, arg: json.dumps(r.resolve(arg), separators=(",", ":")),
    "Base64": lambda r, arg: base64.b64encode(str(r.resolve(arg)).encode()).decode(),
    "GetAZs": lambda r, arg: [f"{r.region}{suffix}" for suffix in "abc"],
}


def as_text(value: Any) -> str:
    """A value as CloudFormation writes it into strings and environment variables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return ",".join(as_text(item) for item in value)
    return str(value)
