"""`fundraising --help` and each command's help: the README's commands and options, explained."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from fundraising.entrypoints.cli import main
from tests.e2e.cli_helpers import Cli, Result, assert_ok

PLAIN_OUTPUT = {"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}


def _command_tree() -> list[tuple[tuple[str, ...], Any]]:
    """Every command of the app with its path (`()` is the app itself, `("db", "upgrade")`…)."""
    found: list[tuple[tuple[str, ...], Any]] = []

    def walk(path: tuple[str, ...], command: Any) -> None:
        found.append((path, command))
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk((*path, name), sub)

    walk((), typer.main.get_command(main.app))
    return found


COMMANDS = _command_tree()


def _flat(text: str) -> str:
    """Help text without the boxes' borders and line wrapping."""
    return " ".join(re.sub(r"[│╭╮╰╯─┃━]", " ", text).split())


@pytest.fixture(scope="module")
def helps(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, ...], Result]:
    """`--help` of the app and of every command: the app's through the console script, as an
    operator runs it; the commands' rendered by Typer's runner in this process (the same app,
    without a second of start-up each)."""
    directory = tmp_path_factory.mktemp("help")
    cli = Cli(directory / "cwd", f"sqlite:///{directory / 'unused.sqlite3'}")
    found = {(): cli.run("--help")}
    runner = CliRunner()
    for path, _ in COMMANDS[1:]:
        args = (*path, "--help")
        done = runner.invoke(main.app, args, env=PLAIN_OUTPUT, prog_name="fundraising")
        found[path] = Result(args, done.exit_code, done.stdout, done.stderr)
    return found


def test_the_app_has_the_commands_of_the_readme() -> None:
    paths = {path for path, _ in COMMANDS}
    expected = {
        ("serve",),
        ("worker",),
        ("create-user",),
        ("deactivate-collect",),
        ("reconcile",),
        ("check",),
        ("generate-test-data",),
        ("db",),
        ("db", "upgrade"),
        ("db", "downgrade"),
        ("db", "current"),
        ("db", "revision"),
    }
    assert expected <= paths


def test_app_help_lists_every_command_with_what_it_does(
    helps: dict[tuple[str, ...], Result],
) -> None:
    result = assert_ok(helps[()])
    text = _flat(result.stdout)
    assert "FUNDRAISING_" in text
    assert "--debug" in text
    for path, command in COMMANDS:
        if len(path) == 1:
            assert path[0] in text
            summary = (command.short_help or command.help or "").split(".")[0]
            assert summary, f"{path[0]} has no help text"
            assert _flat(summary)[:40] in text, f"{path[0]}: {summary!r} not shown"


@pytest.mark.parametrize(
    "path", [path for path, _ in COMMANDS], ids=lambda path: " ".join(path) or "fundraising"
)
def test_help_explains_every_option(
    path: tuple[str, ...], helps: dict[tuple[str, ...], Result]
) -> None:
    command = dict(COMMANDS)[path]
    result = assert_ok(helps[path])
    text = _flat(result.stdout)
    assert f"Usage: fundraising {' '.join(path)}".replace("  ", " ").strip() in text
    assert _flat((command.help or "").split("\n")[0]) in text
    for param in command.params:
        if getattr(param, "hidden", False):
            continue  # a command's own plumbing, not for users
        shown = [option for option in param.opts if option in text]
        if param.param_type_name == "argument":
            shown = [param.name] if param.name.lower() in text.lower() else []
        assert shown, f"{param.name} of `{' '.join(path)}` is not in its --help"
        assert param.help, f"{param.name} of `{' '.join(path)}` has no help text"
        assert _flat(param.help) in text, f"the help of {param.name} is not shown"


README_OPTIONS: list[tuple[tuple[str, ...], list[str]]] = [
    ((), ["--debug", "--help"]),
    (("serve",), ["--host", "--port", "--workers", "--reload"]),
    (("worker",), ["--processes", "--threads"]),
    (("create-user",), ["--email", "--first-name", "--last-name", "--password-stdin"]),
    (("deactivate-collect",), ["collect_id"]),
    (("reconcile",), ["--fix"]),
    (
        ("generate-test-data",),
        ["--users", "--collects", "--payments", "--seed", "--locale", "--password"],
    ),
    (("db", "downgrade"), ["revision", '"base" removes everything']),
    (("db", "revision"), ["--message", "--autogenerate"]),
]


@pytest.mark.parametrize(
    ("path", "options"),
    README_OPTIONS,
    ids=[" ".join(path) or "fundraising" for path, _ in README_OPTIONS],
)
def test_help_names_the_options_of_the_readme(
    path: tuple[str, ...], options: list[str], helps: dict[tuple[str, ...], Result]
) -> None:
    text = _flat(helps[path].stdout)
    missing = [option for option in options if option not in text]
    assert not missing, helps[path].describe()
