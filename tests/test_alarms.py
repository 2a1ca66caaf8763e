"""The operator's alarms and dashboard in template.yaml (issue 15): every function has an errors and a throttles
alarm, every alarm notifies the alarm topic and says what to do, every custom metric an alarm or the dashboard
reads is one the code emits under the service that emits it, and the README's Runbook names exactly the alarms.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from localrun.template import GetAtt, Ref, Sub, Template, load_template

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
README = ROOT / "README.md"
PACKAGE = ROOT / "layers" / "shared" / "tiktok_channel"
NAMESPACE = "tiktok-channel-${Stage}"


@cache
def template() -> Template:
    return load_template(TEMPLATE)


def alarms() -> dict[str, dict[str, Any]]:
    return {
        logical_id: dict(resource.properties)
        for logical_id, resource in template().resources.items()
        if resource.type == "AWS::CloudWatch::Alarm"
    }


def metric_specs(alarm: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The metrics an alarm reads: its own, or those of its metric math."""
    if "MetricName" in alarm:
        yield {key: alarm.get(key) for key in ("Namespace", "MetricName", "Dimensions")}
    for query in alarm.get("Metrics") or ():
        if "MetricStat" in query:
            yield dict(query["MetricStat"]["Metric"])


def dimensions(spec: dict[str, Any]) -> dict[str, Any]:
    return {item["Name"]: item["Value"] for item in spec.get("Dimensions") or ()}


def service_names() -> dict[str, str]:
    """Function logical id -> its POWERTOOLS_SERVICE_NAME."""
    return {
        logical_id: str(function.environment["POWERTOOLS_SERVICE_NAME"])
        for logical_id, function in template().functions.items()
    }


# -- what the code emits, and which function's code it is ----------------------------------------------------


def _module(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module(path): path for path in PACKAGE.rglob("*.py") if "web" not in path.relative_to(PACKAGE).parts}


def _imports(path: Path) -> set[str]:
    """The tiktok_channel modules a file imports (including `from package import module`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name in _modules()}


@cache
def reachable(function_id: str) -> frozenset[str]:
    """The tiktok_channel modules a function's handler imports, directly or not."""
    function = template().functions[function_id]
    handler = function.code_uri / (function.handler.split(".")[0] + ".py")
    seen: set[str] = set()
    todo = list(_imports(handler))
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(_imports(_modules()[name]) - seen)
    return frozenset(seen)


@cache
def emitters() -> dict[str, set[str]]:
    """Metric name -> the modules whose code emits it with `add_metric(name="<name>"`."""
    found: dict[str, set[str]] = {}
    for name, path in _modules().items():
        for metric in re.findall(r'add_metric\(name="([A-Za-z]+)"', path.read_text(encoding="utf-8")):
            found.setdefault(metric, set()).add(name)
    return found


def services_emitting(metric: str) -> set[str]:
    """The POWERTOOLS_SERVICE_NAMEs of the functions whose code emits `metric`."""
    modules = emitters().get(metric, set())
    return {service for fid, service in service_names().items() if modules & reachable(fid)}


def check_custom_metric(where: str, namespace: Any, metric: str, dims: dict[str, Any]) -> None:
    assert metric in emitters(), f"{where}: no code emits {metric} (add_metric(name=...))"
    assert set(dims) == {"service"}, f"{where}: {metric} is emitted with the dimension service only, not {dims}"
    assert dims["service"] in services_emitting(metric), (
        f"{where}: {metric} with service={dims['service']}, but only {sorted(services_emitting(metric))} emit it"
    )
    assert namespace == NAMESPACE, f"{where}: namespace {namespace!r}, the functions' is {NAMESPACE!r}"


def _text(value: Any) -> Any:
    return value.text if isinstance(value, Sub) else value


# -- alarms -----------------------------------------------------------------------------------------------


def test_the_template_has_alarms() -> None:
    assert len(alarms()) > 10


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_has_an_errors_and_a_throttles_alarm(metric: str) -> None:
    watched: set[str] = set()
    for alarm in alarms().values():
        for spec in metric_specs(alarm):
            name = dimensions(spec).get("FunctionName")
            if spec.get("Namespace") == "AWS/Lambda" and spec["MetricName"] == metric and isinstance(name, Ref):
                watched.add(name.name)
    assert set(template().functions) - watched == set(), f"functions without a {metric} alarm"


@pytest.mark.parametrize("logical_id", sorted(alarms()))
def test_every_alarm_notifies_the_alarm_topic_and_says_what_to_do(logical_id: str) -> None:
    alarm = alarms()[logical_id]
    assert alarm.get("AlarmActions") == [Ref("AlarmTopic")]
    assert alarm.get("OKActions") == [Ref("AlarmTopic")]
    description = alarm.get("AlarmDescription")
    assert isinstance(description, str)
    assert len(description) > 40
    assert len(description) <= 1024  # CloudWatch's limit
    assert "Runbook" in description, "the description names its Runbook section"


@pytest.mark.parametrize("logical_id", sorted(alarms()))
def test_alarm_thresholds_are_parameters(logical_id: str) -> None:
    threshold = alarms()[logical_id]["Threshold"]
    if logical_id in ("CatalogDeadLetterAlarm", "SyncStalledAlarm"):
        assert threshold == 0  # any dead letter, any stall
        return
    assert isinstance(threshold, Ref)
    assert threshold.name in template().parameters
    assert template().parameters[threshold.name].default is not None


@pytest.mark.parametrize("logical_id", sorted(alarms()))
def test_alarms_read_what_the_code_and_the_stack_emit(logical_id: str) -> None:
    for spec in metric_specs(alarms()[logical_id]):
        dims, namespace = dimensions(spec), _text(spec.get("Namespace"))
        if namespace == "AWS/Lambda":
            assert isinstance(dims["FunctionName"], Ref)
            assert dims["FunctionName"].name in template().functions
        elif namespace == "AWS/SQS":
            queue = dims["QueueName"]
            assert isinstance(queue, GetAtt)
            assert queue.attribute == "QueueName"
            assert queue.resource in template().queues
        else:
            check_custom_metric(logical_id, namespace, spec["MetricName"], dims)


def test_metric_math_alarms_return_one_expression() -> None:
    for logical_id, alarm in alarms().items():
        queries = alarm.get("Metrics") or []
        if queries:
            returned = [q for q in queries if q.get("ReturnData", True)]
            assert len(returned) == 1, logical_id
            assert "Expression" in returned[0], logical_id
            ids = {q["Id"] for q in queries}
            assert set(re.findall(r"[a-z][a-zA-Z0-9_]*", returned[0]["Expression"])) - {"FILL"} - ids == set()


# -- the runbook ------------------------------------------------------------------------------------------


def runbook() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## Runbook\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def test_the_runbook_names_every_alarm_and_nothing_else() -> None:
    named = set(re.findall(r"\b[A-Z][A-Za-z]*Alarm\b", runbook()))
    assert set(alarms()) - named == set(), "alarms the Runbook does not name"
    assert named - set(alarms()) == set(), "names in the Runbook that are no alarm of the template"


def test_every_alarm_description_names_a_runbook_section() -> None:
    sections = set(re.findall(r"^### (\S+)$", runbook(), flags=re.MULTILINE))
    for logical_id, alarm in alarms().items():
        named = re.search(r'Runbook: README, "Runbook", (\w+)\.', alarm["AlarmDescription"])
        assert named is not None, logical_id
        assert named.group(1) in sections, logical_id


def test_the_runbook_uses_the_operator_samples_that_exist() -> None:
    for sample in re.findall(r"events/operator_\w+\.json", runbook()):
        json.loads((ROOT / sample).read_text(encoding="utf-8"))


# -- the dashboard ----------------------------------------------------------------------------------------


def dashboard_body() -> dict[str, Any]:
    dashboards = [r for r in template().resources.values() if r.type == "AWS::CloudWatch::Dashboard"]
    assert len(dashboards) == 1
    body = dashboards[0].properties["DashboardBody"]
    assert isinstance(body, Sub)
    names = set(re.findall(r"\$\{([^}]+)\}", body.text))
    for name in names:
        target = name.split(".")[0]
        assert target in template().resources or target in template().parameters or target.startswith("AWS::"), name
    # Placeholders inside strings keep their text; bare ones (annotation values) are numbers.
    text = re.sub(r'(?<!")\$\{(\w+)\}(?!")', "1", body.text)
    parsed = json.loads(text)
    assert isinstance(parsed, dict)
    return parsed


def test_the_dashboard_is_json_and_reads_only_metrics_that_exist() -> None:
    widgets = dashboard_body()["widgets"]
    rows = [row for w in widgets for row in w["properties"].get("metrics", ())]
    assert rows
    for row in rows:
        namespace, metric, *rest = row
        pairs = [item for item in rest if not isinstance(item, dict)]
        dims = dict(zip(pairs[::2], pairs[1::2], strict=True))
        if namespace == "AWS/Lambda":
            assert re.fullmatch(r"\$\{(\w+)\}", dims["FunctionName"]).group(1) in template().functions  # type: ignore[union-attr]
        elif namespace == "AWS/SQS":
            assert re.fullmatch(r"\$\{(\w+)\.QueueName\}", dims["QueueName"]).group(1) in template().queues  # type: ignore[union-attr]
        else:
            check_custom_metric(f"dashboard {metric}", namespace, metric, dims)


def test_the_dashboard_shows_every_alarm_and_the_issue_s_figures() -> None:
    widgets = dashboard_body()["widgets"]
    shown = {a for w in widgets if w["type"] == "alarm" for a in w["properties"]["alarms"]}
    assert shown == {f"${{{logical_id}.Arn}}" for logical_id in alarms()}
    metrics = {row[1] for w in widgets for row in w["properties"].get("metrics", ())}
    for metric in (
        "WebhookEventsQueued",
        "EventsApplied",
        "SkusUploaded",
        "SkusDeleted",
        "SkusRefused",
        "TikTokPaused",
        "ApproximateAgeOfOldestMessage",
        "ApproximateNumberOfMessagesVisible",
        "ScheduledSyncsQueued",
        "SyncRunSeconds",
        "PurchaseSent",
        "Errors",
    ):
        assert metric in metrics
