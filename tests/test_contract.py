"""The HTTP API as docs/contract.md states it, against what the functions serve.

Each HTTP function of template.yaml is loaded from its CodeUri, its variables set, and describes its routes with
Powertools' OpenAPI document (`app.get_openapi_schema()`): paths, methods and the statuses declared with `responses=`.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from localrun.template import Function, load_template
from tiktok_channel.runtime import reset_services

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT / "docs" / "contract.md"

# Routes the contract names that no function serves yet, with the issue that builds each. Once one is built,
# test_routes_not_built_yet_are_in_the_contract_and_not_served fails until it leaves this list.
NOT_BUILT: dict[tuple[str, str], int] = {}

Route = tuple[str, str]  # (method, path), the path as the contract spells its parameters


@dataclass(frozen=True)
class ContractRoute:
    function: str
    statuses: frozenset[int]


def contract_routes() -> dict[Route, ContractRoute]:
    """The table of docs/contract.md, with the statuses each row names (200 when it names none) and those the
    rules under the table add: every `/api/stores/...` call answers 401 without a valid session and 403 for
    another store's; every failure of POST /api/session is a 401."""
    rows: dict[Route, tuple[str, str]] = {}
    for line in CONTRACT.read_text().splitlines():
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) != 3 or " /" not in cells[0]:
            continue  # not a route row (the header, the delimiter, or no table at all)
        method, path = cells[0].split(" ", 1)
        rows[(method, path)] = (cells[1], cells[2])
    routes: dict[Route, ContractRoute] = {}
    for (method, path), (function, answer) in rows.items():
        same = re.fullmatch(r"as (\w+) (\S+)", answer)  # "as GET /oauth/tiktok/callback"
        if same:
            answer = rows[(same[1], same[2])][1]
        statuses = {int(status) for status in re.findall(r"(?:→|;|\()\s*([1-5]\d\d)\b", answer)} or {200}
        if path.startswith("/api/stores/"):
            statuses |= {401, 403}
        if (method, path) == ("POST", "/api/session"):
            statuses.add(401)
        routes[(method, path)] = ContractRoute(function, frozenset(statuses))
    return routes


def same_path(path: str) -> str:
    """`/api/stores/{storeId}` (contract, template) and `/api/stores/{store_id}` (Powertools) are one path."""
    return re.sub(r"\{[^}]+\}", "{}", path)


@dataclass(frozen=True)
class HttpFunction:
    name: str  # its directory under functions/, as the contract names it
    function: Function
    module: ModuleType

    def served(self) -> dict[Route, frozenset[int]]:
        """(method, path) → the statuses it declares, from the resolver's OpenAPI document."""
        document = json.loads(self.module.app.get_openapi_json_schema())
        return {
            (method.upper(), same_path(path)): frozenset(int(status) for status in operation["responses"])
            for path, operations in document["paths"].items()
            for method, operation in operations.items()
        }


@pytest.fixture(scope="module")
def functions() -> Iterator[list[HttpFunction]]:
    """Every function of template.yaml with HTTP routes, its handler module loaded with its own variables."""
    loaded = []
    with pytest.MonkeyPatch.context() as env:
        for function in load_template(ROOT / "template.yaml").functions.values():
            if not function.routes:
                continue
            for variable in function.environment:
                if not variable.startswith("POWERTOOLS_"):  # Powertools' own defaults do
                    env.setenv(variable, "https://example.com/{store_id}" if variable.endswith("_URL") else "x")
            name = function.code_uri.name
            spec = importlib.util.spec_from_file_location(f"contract_{name}_app", function.code_uri / "app.py")
            assert spec is not None
            assert spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            loaded.append(HttpFunction(name, function, module))
    yield loaded
    reset_services()  # the session check below made the handlers' composition root


@pytest.fixture(scope="module")
def served(functions: list[HttpFunction]) -> dict[Route, tuple[str, frozenset[int]]]:
    routes: dict[Route, tuple[str, frozenset[int]]] = {}
    for function in functions:
        for route, statuses in function.served().items():
            assert route not in routes, f"{route} is served by both {routes[route][0]} and {function.name}"
            routes[route] = (function.name, statuses)
    return routes


def test_every_route_of_the_contract_is_served_by_the_function_it_names(served):
    wrong = {}
    for (method, path), route in contract_routes().items():
        if (method, path) in NOT_BUILT:
            continue
        serving, _ = served.get((method, same_path(path)), ("nothing", None))
        if serving != route.function:
            wrong[f"{method} {path}"] = f"served by {serving}, not {route.function}"
    assert wrong == {}


def test_every_route_served_is_in_the_contract(served):
    named = {(method, same_path(path)) for method, path in contract_routes()}
    assert sorted(route for route in served if route not in named) == []


def test_routes_not_built_yet_are_in_the_contract_and_not_served(served):
    contract = contract_routes()
    for (method, path), issue in NOT_BUILT.items():
        assert (method, path) in contract, f"{method} {path} (issue {issue}) is not in docs/contract.md"
        assert (method, same_path(path)) not in served, (
            f"{method} {path} is built: take it off NOT_BUILT (issue {issue})"
        )


def test_each_route_declares_the_statuses_the_contract_names(served):
    undeclared = {}
    for (method, path), route in contract_routes().items():
        if (method, path) in NOT_BUILT:
            continue
        _, declared = served[(method, same_path(path))]
        if not route.statuses <= declared:
            undeclared[f"{method} {path}"] = sorted(route.statuses - declared)
    assert undeclared == {}, "statuses the contract names that the route does not declare (responses=)"


BROWSER_ROUTES = {"/oauth/ecwid/callback", "/oauth/tiktok/callback", "/oauth/tiktok/storefront/callback"}


def test_routes_a_browser_follows_declare_no_json_answer(functions):
    """The OAuth callbacks answer a redirect or an HTML page, whatever happens (the contract: never JSON)."""
    declared = {}
    for function in functions:
        document = json.loads(function.module.app.get_openapi_json_schema())
        for path in BROWSER_ROUTES & set(document["paths"]):
            responses = document["paths"][path]["get"]["responses"]
            declared[path] = {int(status): sorted(answer.get("content", {})) for status, answer in responses.items()}
    assert set(declared) == BROWSER_ROUTES
    for path, answers in declared.items():
        assert answers[302] == [], path
        assert {status for status, kinds in answers.items() if kinds != ["text/html"]} == {302}, path


def test_the_template_sends_each_route_to_the_function_that_serves_it(functions):
    for function in functions:
        template = {(route.method, same_path(route.path or "")) for route in function.function.routes}
        assert template == set(function.served()), function.name


def test_store_routes_check_the_session_before_the_body(functions):
    """No session is a 401 whatever the request carries: a malformed body is nobody's business before."""
    checked = 0
    for function in functions:
        for method, path in function.served():
            if not path.startswith("/api/stores/"):
                continue
            answer = function.module.app.resolve(_event(method, path.replace("{}", "1003"), body="{"), _CONTEXT)
            assert answer["statusCode"] == 401, (method, path, answer["body"])
            assert json.loads(answer["body"])["error"]["code"] == "session_required"
            assert answer["headers"]["Cache-Control"] == "no-store"
            checked += 1
    assert checked >= 8


_CONTEXT = SimpleNamespace(function_name="contract", aws_request_id="contract")


def _event(method: str, path: str, body: str) -> dict[str, Any]:
    """API Gateway's HTTP API event (payload format 2.0) for a request without any header."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {"http": {"method": method, "path": path}, "domainName": "example.com", "stage": "$default"},
        "body": body,
        "isBase64Encoded": False,
    }
