"""Paths the local-run tests share (a uniquely named module, so that no other conftest shadows it)."""

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_TEMPLATE = FIXTURES / "template.yaml"
REAL_TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
