"""The dependency rule, checked on the import graph: the core imports no adapter or framework."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "fundraising"

FORBIDDEN_IN_CORE = (
    "sqlalchemy",
    "litestar",
    "redis",
    "dramatiq",
    "PIL",
    "jwt",
    "smtplib",
    "argon2",
    "msgspec",
    "pydantic",
    "fundraising.adapters",
    "fundraising.entrypoints",
)
ALLOWED = {
    "domain": ("attrs", "__future__", "fundraising.domain"),
    "application": ("attrs", "__future__", "fundraising.domain", "fundraising.application"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, *, is_package: bool = False) -> list[str]:
    """Every module `source` imports, relative imports resolved against `module`."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                origin = ".".join([*base, node.module] if node.module else base)
            else:
                origin = node.module or ""
            if origin == "fundraising":  # `from fundraising import domain` names a subpackage
                names.extend(f"{origin}.{alias.name}" for alias in node.names)
            else:
                names.append(origin)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None))
            in {"import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.append(str(node.args[0].value))
    return names


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(source: str, module: str, *, is_package: bool = False) -> list[str]:
    """The imports of a core `module` that break the dependency rule of its layer."""
    layer = module.split(".")[1]
    allowed = ALLOWED[layer]
    found = []
    for name in imported_modules(source, module, is_package=is_package):
        top = name.split(".")[0]
        if any(within(name, bad) for bad in FORBIDDEN_IN_CORE):
            found.append(f"{module} imports {name} (forbidden in the core)")
        elif top != "fundraising" and top in sys.stdlib_module_names:
            continue
        elif not any(within(name, ok) for ok in allowed):
            found.append(f"{module} imports {name} (not allowed in {layer}/)")
    return found


def core_modules(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


def layer_violations(layer: str) -> list[str]:
    found = []
    for path in core_modules(layer):
        found += violations(
            path.read_text(encoding="utf-8"),
            module_name(path),
            is_package=path.name == "__init__.py",
        )
    return found


@pytest.mark.parametrize("layer", ["domain", "application"])
def test_the_layer_has_modules_to_check(layer):
    assert len(core_modules(layer)) >= 5


def test_the_domain_imports_only_the_stdlib_attrs_and_itself():
    assert layer_violations("domain") == []


def test_the_application_imports_only_the_stdlib_attrs_the_domain_and_itself():
    assert layer_violations("application") == []


def test_the_checker_sees_the_imports_the_core_really_has():
    path = PACKAGE / "application" / "use_cases" / "collects.py"
    names = imported_modules(path.read_text(encoding="utf-8"), module_name(path))
    assert "attrs" in names
    assert "fundraising.domain.collect" in names
    assert "fundraising.application.ports.unit_of_work" in names


# the checker itself


@pytest.mark.parametrize(
    "source",
    [
        "import sqlalchemy",
        "from sqlalchemy.orm import Session",
        "import sqlalchemy.orm as orm",
        "from PIL import Image",
        "import smtplib",
        "from fundraising.adapters.sql import SqlUnitOfWork",
        "from fundraising import entrypoints",
        "from ..adapters import sql",
        "from .. import entrypoints",
        "import importlib\nimportlib.import_module('redis')",
        "def f():\n    import jwt",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import msgspec",
    ],
)
def test_the_checker_reports_a_forbidden_import(source):
    assert violations(source, "fundraising.domain.collect")


def test_the_checker_names_the_module_and_the_import():
    assert violations("import sqlalchemy", "fundraising.domain.collect") == [
        "fundraising.domain.collect imports sqlalchemy (forbidden in the core)"
    ]


@pytest.mark.parametrize("source", ["import requests", "from faker import Faker", "import attr"])
def test_the_checker_reports_a_third_party_import(source):
    assert violations(source, "fundraising.application.views")


def test_the_domain_may_not_import_the_application():
    assert violations("from fundraising.application.errors import NotFound", "fundraising.domain.x")
    assert violations("from ..application import errors", "fundraising.domain.x")


def test_the_checker_allows_what_the_rule_allows():
    source = (
        "from __future__ import annotations\n"
        "import gzip, re\n"
        "from decimal import Decimal\n"
        "from attrs import frozen\n"
        "from fundraising.domain.money import Money\n"
        "from .errors import Conflict\n"
        "from . import payment\n"
    )
    assert violations(source, "fundraising.domain.collect") == []


def test_relative_imports_resolve_from_a_package_init():
    names = imported_modules("from .ports import cache", "fundraising.application", is_package=True)
    assert names == ["fundraising.application.ports"]


def test_importing_a_core_subpackage_from_the_root_is_allowed():
    assert violations("from fundraising import domain", "fundraising.application.views") == []
