"""The repository's layout rules: nothing outside tests/ imports the tests, and one module builds the local stack."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIPPED_DIRS = {".git", ".aws-sam", "__pycache__", "node_modules"}
STACK_MODULE = ROOT / "localrun" / "stack.py"
STACK_BUILDERS = {"provision", "lambdas_for"}  # localrun.aws.provision, localrun.lambda_runtime.lambdas_for
# Allowed to call them besides localrun/stack.py: the tests of those pieces themselves, and the rate limiter's
# tests, which provision the template's stores table alone (no sandboxes, no functions) for the limiter.
STACK_BUILDERS_ALLOWED = (ROOT / "tests" / "localrun", ROOT / "tests" / "limits" / "test_rate_limit.py")


def python_files(*, without: tuple[Path, ...] = ()) -> Iterator[tuple[Path, ast.Module]]:
    """Every .py file of the repository (no virtualenvs, no build output) and its syntax tree."""
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if any(part in SKIPPED_DIRS or part.startswith(".venv") for part in parts[:-1]):
            continue
        if any(path == place or place in path.parents for place in without):
            continue
        yield path, ast.parse(path.read_text(), filename=str(path))


def _is_tests(module: str | None) -> bool:
    return module is not None and (module == "tests" or module.startswith("tests."))


def test_nothing_outside_tests_imports_from_tests():
    found = []
    for path, tree in python_files(without=(ROOT / "tests",)):
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names if _is_tests(alias.name)]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and _is_tests(node.module):
                names = [str(node.module)]
            else:
                continue
            found += [f"{path.relative_to(ROOT)}:{node.lineno} imports {name}" for name in names]

    assert found == [], "only tests/ may import from tests/ (shared code belongs in localrun, sandboxes, …):\n" + (
        "\n".join(found)
    )


def _builder_names(tree: ast.Module) -> set[str]:
    """The names a module calls the stack's builders by: their own, and any alias it imports them as."""
    names = set(STACK_BUILDERS)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names |= {alias.asname for alias in node.names if alias.name in STACK_BUILDERS and alias.asname}
    return names


def test_only_localrun_stack_builds_the_local_stack():
    found = []
    for path, tree in python_files(without=(STACK_MODULE, *STACK_BUILDERS_ALLOWED)):
        names = _builder_names(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            callee = node.func
            name = getattr(callee, "id", None) or getattr(callee, "attr", None)  # f(…) or module.f(…)
            if name in names:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} calls {name}(")

    assert found == [], "build the local stack with localrun.stack.local_stack, not by hand:\n" + "\n".join(found)
