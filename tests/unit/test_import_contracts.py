"""The import contracts (pyproject.toml, enforced by import-linter in `make lint`) keep up with
the dependencies: the core may import no library the service depends on but attrs."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
CORE_MAY_IMPORT = {"attr", "attrs"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_every_runtime_dependency_is_forbidden_to_the_core() -> None:
    project = tomllib.loads(PYPROJECT.read_text())
    dependencies = {_name(requirement) for requirement in project["project"]["dependencies"]}
    modules = {
        module
        for module, distributions in packages_distributions().items()
        if any(_name(distribution) in dependencies for distribution in distributions)
        and not module.startswith("_")
    }
    (core,) = [
        contract
        for contract in project["tool"]["importlinter"]["contracts"]
        if "fundraising.domain" in contract.get("source_modules", [])
    ]
    assert core["source_modules"] == ["fundraising.domain", "fundraising.application"]
    unlisted = modules - CORE_MAY_IMPORT - set(core["forbidden_modules"])
    assert unlisted == set(), f"add these to the core's forbidden modules: {sorted(unlisted)}"
