"""The core depends on nothing at the edges: services, catalog rules and models import no adapter, no composition
root and no AWS or HTTP library, so every domain rule runs against in-memory fakes (tests/fast)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "shared" / "tiktok_channel"
CORE = ("services", "catalog", "models")
CORE_FILES = ("ports.py", "repository_ports.py", "errors.py", "settings.py", "eligibility.py", "schedule.py")
FORBIDDEN = ("boto3", "botocore", "httpx", "tiktok_channel.adapters", "tiktok_channel.runtime")


def _core_modules() -> list[Path]:
    files = [path for folder in CORE for path in sorted((PACKAGE / folder).rglob("*.py"))]
    return files + [PACKAGE / name for name in CORE_FILES]


def _imported(tree: ast.AST) -> list[tuple[int, str]]:
    """Every module an import names, type-checking-only imports included (they are dependencies too)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _wrong_way(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in FORBIDDEN)


@pytest.mark.parametrize("path", _core_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_module_imports_nothing_from_the_edges(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    wrong = [f"line {line}: {module}" for line, module in _imported(tree) if _wrong_way(module)]
    assert wrong == [], f"{path.relative_to(PACKAGE)} reaches the edges"


def test_the_check_sees_every_kind_of_import() -> None:
    source = "import boto3\nfrom httpx import Client\nif TYPE_CHECKING:\n    from tiktok_channel.runtime import x\n"
    assert [m for _, m in _imported(ast.parse(source)) if _wrong_way(m)] == [
        "boto3",
        "httpx",
        "tiktok_channel.runtime",
    ]


def test_the_core_is_where_the_check_looks() -> None:
    assert len(_core_modules()) > 20


MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 250


def test_no_module_or_class_of_the_layer_outgrows_one_job() -> None:
    """Size is where a second job shows first: a module over 400 lines or a class over 250 gets split by job."""
    too_big: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text()
        name = str(path.relative_to(PACKAGE))
        if len(source.splitlines()) > MAX_MODULE_LINES:
            too_big.append(f"{name}: {len(source.splitlines())} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ClassDef) and (node.end_lineno or 0) - node.lineno + 1 > MAX_CLASS_LINES:
                too_big.append(f"{name}: class {node.name}, {(node.end_lineno or 0) - node.lineno + 1} lines")
    assert too_big == []
