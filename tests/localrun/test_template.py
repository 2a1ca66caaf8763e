"""Reading template.yaml: short tags, the function model, and resolving values."""

from __future__ import annotations

import pytest

from localrun.template import (
    GetAtt,
    Intrinsic,
    PhysicalResource,
    Ref,
    Resolver,
    Sub,
    Template,
    UnresolvedReference,
    load_template,
)
from tests.localrun.support import FIXTURES, REAL_TEMPLATE


def test_short_tags_load_as_objects(tmp_path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "Resources:\n"
        "  A: {Type: X, Properties: {"
        "r: !Ref P, g1: !GetAtt Q.Arn, g2: !GetAtt [Q, QueueName], s: !Sub 'x-${P}',"
        " s2: !Sub ['${a}-${Q.Arn}', {a: !Ref P}], j: !Join ['-', [a, !Ref P]], long: {'Fn::GetAtt': [Q, Arn]}}}\n"
    )
    props = load_template(path).resources["A"].properties
    assert props["r"] == Ref("P")
    assert props["g1"] == GetAtt("Q", "Arn") == props["long"]
    assert props["g2"] == GetAtt("Q", "QueueName")
    assert props["s"] == Sub("x-${P}")
    assert props["s2"] == Sub("${a}-${Q.Arn}", {"a": Ref("P")})
    assert props["j"] == Intrinsic("Join", ["-", ["a", Ref("P")]])


def test_function_model_merges_globals_and_reads_events(fixture_template: Template) -> None:
    api = fixture_template.functions["ApiFunction"]
    assert api.code_uri == FIXTURES / "functions" / "api"
    assert api.handler == "app.handler"
    assert (api.timeout, api.memory_size) == (3, 256)  # own Timeout over the Globals one
    assert api.environment["SERVICE"] == "api"
    assert api.environment["GREETING"] == Ref("Greeting")
    assert api.layers == (FIXTURES / "layer",)
    assert {(r.method, r.path) for r in api.routes} == {
        ("GET", "/items/{itemId}"), ("GET", "/items/report"), ("ANY", "/files/{proxy+}"),
        ("POST", "/echo"), ("GET", "/behave/{how}"),
    }  # fmt: skip

    (work,) = fixture_template.functions["WorkerFunction"].sqs_triggers
    assert (work.queue, work.batch_size, work.report_batch_item_failures) == ("WorkQueue", 10, True)

    tick, hourly = fixture_template.functions["TickFunction"].schedules
    assert tick.schedule == Ref("TickSchedule")
    assert tick.input is None
    assert hourly.schedule == "rate(1 hour)"
    assert hourly.input == '{"mode": "hourly"}'

    assert fixture_template.queues["WorkQueue"].fifo
    assert fixture_template.queues["WorkQueue"].dead_letter_target == "WorkDeadLetterQueue"
    assert fixture_template.parameters["Stage"].default == "test"


def test_resolver_evaluates_refs_attributes_subs_and_conditions(fixture_template: Template) -> None:
    physical = {"WorkQueue": PhysicalResource("https://q/url", {"Arn": "arn:q", "QueueName": "q.fifo"})}
    resolver = Resolver(fixture_template, physical, {"Stage": "prod"}, region="eu-west-1", account_id="111")
    assert resolver.resolve(Ref("WorkQueue")) == "https://q/url"
    assert resolver.resolve(Ref("Greeting")) == "hello"
    assert resolver.resolve(Sub("${Stage}-${WorkQueue.QueueName}-${AWS::Region}-${!Literal}")) == (
        "prod-q.fifo-eu-west-1-${Literal}"
    )
    assert resolver.resolve(Intrinsic("Select", [1, Intrinsic("Split", [",", "a,b,c"])])) == "b"
    assert resolver.resolve(Intrinsic("If", ["HasFlag", "on", "off"])) == "off"
    assert Resolver(fixture_template, physical, {"Flag": "x"}).condition("HasFlag") is True
    with pytest.raises(UnresolvedReference):
        resolver.resolve(Ref("RecordsTable"))  # not provisioned in this mapping
    with pytest.raises(ValueError, match="unknown parameter"):
        Resolver(fixture_template, physical, {"NoSuchParameter": "x"})


def test_real_template_loads() -> None:
    template = load_template(REAL_TEMPLATE)
    connect = template.functions["ConnectCallbackFunction"]
    assert ("POST", "/api/stores/{storeId}/connect") in {(r.method, r.path) for r in connect.routes}
    assert "StoresTable" in template.tables
    assert template.queues["CatalogQueue"].fifo
