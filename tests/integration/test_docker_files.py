"""The production topology in docker/: compose.yaml, the Dockerfile and .env.example agree with
each other, with the settings of the service and with the README."""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from fundraising.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "compose.yaml"
DOCKERFILE = DOCKER / "Dockerfile"
ENV_EXAMPLE = DOCKER / ".env.example"
SETTINGS = set(Settings.model_fields)
SERVICE_ENVS = ("app", "worker", "migrate")
# What an operator puts in docker/.env (compose reads it for ${...} interpolation).
OPERATOR_ENV = {
    "MYSQL_PASSWORD": "mysql-password",
    "MYSQL_ROOT_PASSWORD": "mysql-root-password",
    "FUNDRAISING_SECRET_KEY": "a-production-secret-that-is-long-enough-0123456789",
}


def setting_name(variable: str) -> str:
    return variable.removeprefix("FUNDRAISING_").lower()


# --- compose.yaml -------------------------------------------------------------------------------

_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|\$(?P<plain>\w+)")


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error} and $$ escapes."""

    def replace(match: re.Match[str]) -> str:
        name = match["name"] or match["plain"]
        op, arg = match["op"], match["arg"]
        present = env.get(name)
        if op in (":?", "?") and (present is None or (op == ":?" and present == "")):
            raise LookupError(f"{name}: {arg}")
        if op in (":-", "-") and (present is None or (op == ":-" and present == "")):
            return arg
        return present or ""

    parts = value.split("$$")
    return "$".join(_VARIABLE.sub(replace, part) for part in parts)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed: compose.yaml not parsed")
    document = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = compose.get("services")
    assert isinstance(found, dict)
    return found


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's environment as written (before interpolation); list or mapping syntax."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        return dict(item.partition("=")[::2] for item in raw)
    return {key: "" if value is None else str(value) for key, value in raw.items()}


def resolved_environment(service: Mapping[str, Any]) -> dict[str, str]:
    return {key: interpolate(value, OPERATOR_ENV) for key, value in environment(service).items()}


def command(service: Mapping[str, Any]) -> list[str]:
    raw = service.get("command")
    if raw is None:
        return []
    return shlex.split(raw) if isinstance(raw, str) else [str(part) for part in raw]


def option(arguments: list[str], name: str) -> str | None:
    for index, argument in enumerate(arguments):
        if argument == name and index + 1 < len(arguments):
            return arguments[index + 1]
        if argument.startswith(f"{name}="):
            return argument.partition("=")[2]
    return None


def published_ports(service: Mapping[str, Any]) -> set[tuple[int, int]]:
    """(published, target) pairs, short ("8000:8000", "127.0.0.1:8000:8000") or long syntax."""
    pairs = set()
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            pairs.add((int(entry["published"]), int(entry["target"])))
        else:
            parts = str(entry).split("/")[0].split(":")
            if len(parts) >= 2:
                pairs.add((int(parts[-2]), int(parts[-1])))
    return pairs


def mounts(service: Mapping[str, Any]) -> dict[str, str]:
    """target path → source (a named volume or a host path)."""
    found = {}
    for entry in service.get("volumes") or []:
        if isinstance(entry, dict):
            found[entry["target"]] = entry.get("source", "")
        else:
            source, _, rest = str(entry).partition(":")
            found[rest.split(":")[0]] = source
    return found


def depends_on(service: Mapping[str, Any]) -> dict[str, str]:
    """dependency → condition (service_started for the list syntax)."""
    raw = service.get("depends_on") or {}
    if isinstance(raw, list):
        return dict.fromkeys(raw, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in raw.items()}


def test_compose_names_the_services_of_the_topology(services: dict[str, Any]) -> None:
    assert {"mysql", "redis", "migrate", "app", "worker", "mailhog"} <= set(services)


def test_mysql_is_8_4_with_a_healthcheck_and_a_volume(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    mysql = services["mysql"]
    assert mysql["image"] == "mysql:8.4"
    assert mysql.get("healthcheck", {}).get("test"), "a healthcheck"
    assert not mysql["healthcheck"].get("disable")
    data = mounts(mysql).get("/var/lib/mysql")
    assert data, "the data directory is on a volume"
    assert data in (compose.get("volumes") or {}), f"{data} is a named volume"


def test_redis_has_a_healthcheck(services: dict[str, Any]) -> None:
    redis = services["redis"]
    assert "redis" in redis["image"]
    assert redis.get("healthcheck", {}).get("test")
    assert not redis["healthcheck"].get("disable")


def test_migrate_is_a_one_shot_db_upgrade(services: dict[str, Any]) -> None:
    migrate = services["migrate"]
    assert command(migrate) == ["fundraising", "db", "upgrade"]
    assert str(migrate.get("restart", "no")) == "no", "a one-shot job is not restarted"
    assert depends_on(migrate).get("mysql") == "service_healthy"


def test_app_serves_with_several_workers_on_a_published_port(services: dict[str, Any]) -> None:
    app = services["app"]
    arguments = command(app)
    assert arguments[:2] == ["fundraising", "serve"], arguments
    workers = option(arguments, "--workers")
    assert workers is not None and int(workers) >= 2, arguments
    assert option(arguments, "--host") == "0.0.0.0", "reachable from outside the container"
    port = int(option(arguments, "--port") or 8000)
    assert (8000, port) in published_ports(app)
    dependencies = depends_on(app)
    assert dependencies.get("migrate") == "service_completed_successfully"
    assert "redis" in dependencies


def test_worker_runs_the_task_worker_after_the_migration(services: dict[str, Any]) -> None:
    worker = services["worker"]
    assert command(worker)[:2] == ["fundraising", "worker"], command(worker)
    assert depends_on(worker).get("migrate") == "service_completed_successfully"


def test_mailhog_publishes_its_ui(services: dict[str, Any]) -> None:
    mailhog = services["mailhog"]
    assert "mailhog" in mailhog["image"]
    assert any(target == 8025 for _, target in published_ports(mailhog))


def test_app_and_worker_share_the_media_volume_at_the_media_dir(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    sources = set()
    for name in ("app", "worker"):
        media_dir = resolved_environment(services[name]).get("FUNDRAISING_MEDIA_DIR")
        assert media_dir, f"{name} sets FUNDRAISING_MEDIA_DIR"
        source = mounts(services[name]).get(media_dir)
        assert source, f"{name} mounts a volume at {media_dir}"
        sources.add((source, media_dir))
    assert len(sources) == 1, f"the same volume at the same path: {sources}"
    ((source, _),) = sources
    assert source in (compose.get("volumes") or {}), f"{source} is a named (shared) volume"


def test_every_fundraising_variable_in_compose_is_a_setting(
    services: dict[str, Any],
) -> None:
    used = set(re.findall(r"FUNDRAISING_[A-Z0-9_]+", COMPOSE.read_text(encoding="utf-8")))
    for service in services.values():
        used |= {key for key in environment(service) if key.startswith("FUNDRAISING_")}
    assert used
    unknown = sorted(name for name in used if setting_name(name) not in SETTINGS)
    assert not unknown, f"not settings of fundraising.settings.Settings: {unknown}"


@pytest.mark.parametrize("name", SERVICE_ENVS)
def test_production_settings_are_complete(name: str, services: dict[str, Any]) -> None:
    written = environment(services[name])
    env = resolved_environment(services[name])
    assert env.get("FUNDRAISING_ENV") == "production"
    assert env.get("FUNDRAISING_DATABASE_URL"), "production needs an explicit database"
    assert "FUNDRAISING_SECRET_KEY" in written
    with pytest.raises(LookupError):  # required from docker/.env: no default secret
        interpolate(written["FUNDRAISING_SECRET_KEY"], {})
    assert env.get("FUNDRAISING_DEBUG", "false").lower() in ("", "0", "false", "no", "off")


@pytest.mark.parametrize("name", SERVICE_ENVS)
def test_the_environment_makes_valid_production_settings(
    name: str, services: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """What the container's `Settings()` would build from it (production rules included)."""
    for variable in list(os.environ):
        if variable.startswith("FUNDRAISING_"):
            monkeypatch.delenv(variable)
    for key, value in resolved_environment(services[name]).items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)  # no .env
    settings = Settings()
    assert settings.env == "production"
    assert not settings.uses_sqlite
    assert settings.broker_url and settings.redis_url and settings.smtp_url


def test_service_urls_point_at_the_compose_services(services: dict[str, Any]) -> None:
    mysql_env = resolved_environment(services["mysql"])
    for name in SERVICE_ENVS:
        env = resolved_environment(services[name])
        expected = {
            "FUNDRAISING_DATABASE_URL": ("mysql", 3306),
            "FUNDRAISING_REDIS_URL": ("redis", 6379),
            "FUNDRAISING_BROKER_URL": ("redis", 6379),
            "FUNDRAISING_SMTP_URL": ("mailhog", 1025),
        }
        for variable, (host, port) in expected.items():
            url = urlsplit(env.get(variable, ""))
            assert (url.hostname, url.port or port) == (host, port), f"{name}: {variable}"
            assert host in services
        database = urlsplit(env["FUNDRAISING_DATABASE_URL"])
        assert database.username == mysql_env["MYSQL_USER"]
        assert database.password == mysql_env["MYSQL_PASSWORD"]
        assert database.path.lstrip("/") == mysql_env["MYSQL_DATABASE"]


# --- .env.example -------------------------------------------------------------------------------


def env_example_lines() -> list[str]:
    return ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()


def env_example_variables() -> dict[str, int]:
    """FUNDRAISING_* variable → its line number (0-based)."""
    found = {}
    for number, line in enumerate(env_example_lines()):
        match = re.match(r"\s*(?:export\s+)?(FUNDRAISING_[A-Z0-9_]+)\s*=", line)
        if match:
            found[match.group(1)] = number
    return found


def test_env_example_lists_every_setting() -> None:
    listed = env_example_variables()
    missing = sorted(f"FUNDRAISING_{name.upper()}" for name in SETTINGS) - listed.keys()
    assert not missing, f"missing from docker/.env.example: {sorted(missing)}"
    unknown = sorted(name for name in listed if setting_name(name) not in SETTINGS)
    assert not unknown, f"not settings: {unknown}"


def test_env_example_explains_every_setting() -> None:
    lines = env_example_lines()
    unexplained = []
    for name, number in env_example_variables().items():
        start = number
        while start > 0 and lines[start - 1].strip():
            start -= 1  # the top of the block of non-blank lines
        if not any(line.lstrip().startswith("#") for line in lines[start:number]):
            unexplained.append(name)
    assert not unexplained, f"no comment before or in the block of: {unexplained}"


def test_env_example_values_are_valid_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for variable in list(os.environ):
        if variable.startswith("FUNDRAISING_"):
            monkeypatch.delenv(variable)
    monkeypatch.chdir(tmp_path)
    settings = Settings(
        _env_file=ENV_EXAMPLE,  # type: ignore[call-arg]
        secret_key=OPERATOR_ENV["FUNDRAISING_SECRET_KEY"],
    )
    assert settings.env == "production"
    assert settings.redis_url and settings.broker_url and settings.smtp_url


def test_every_setting_of_env_example_reaches_the_containers(services: dict[str, Any]) -> None:
    for name in SERVICE_ENVS:
        service = services[name]
        env_files = service.get("env_file") or []
        env_files = [env_files] if isinstance(env_files, str | dict) else env_files
        paths = {entry["path"] if isinstance(entry, dict) else entry for entry in env_files}
        if {".env", "./.env"} & paths:
            continue
        written = environment(service)
        ignored = sorted(name for name in env_example_variables() if name not in written)
        assert not ignored, f"{name} ignores these lines of docker/.env: {ignored}"


# --- Dockerfile ---------------------------------------------------------------------------------


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    found, current = [], ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        keyword, _, rest = current.partition(" ")
        found.append((keyword.upper(), rest.strip()))
        current = ""
    return found


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last = max(index for index, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last:]


def test_dockerfile_is_multi_stage_on_python_slim() -> None:
    bases = [arguments.split()[0] for keyword, arguments in instructions() if keyword == "FROM"]
    assert len(bases) >= 2, bases
    assert all(re.fullmatch(r"python:3\.\d+(\.\d+)?-slim(-\w+)?", base) for base in bases), bases
    assert any(
        keyword == "COPY" and "--from=" in arguments for keyword, arguments in final_stage()
    ), "the final stage takes what the build stage made"


def test_dependencies_are_installed_from_the_lock_before_the_source_is_copied() -> None:
    steps = instructions()

    def first(predicate: Any) -> int:
        return next(index for index, step in enumerate(steps) if predicate(*step))

    lock = first(lambda keyword, arguments: keyword == "COPY" and "uv.lock" in arguments.split())
    install = first(
        lambda keyword, arguments: (
            keyword == "RUN" and "uv sync" in arguments and "--frozen" in arguments
        )
    )
    source = first(
        lambda keyword, arguments: keyword == "COPY" and re.search(r"(^|\s)\.?/?src/?\s", arguments)
    )
    assert lock < install < source, (lock, install, source)
    assert "--no-install-project" in steps[install][1], "the dependency layer is only dependencies"


def test_the_image_runs_as_a_non_root_user() -> None:
    users = [arguments for keyword, arguments in final_stage() if keyword == "USER"]
    assert users, "a USER in the final stage"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_the_image_health_check_hits_health_live() -> None:
    checks = [arguments for keyword, arguments in final_stage() if keyword == "HEALTHCHECK"]
    assert checks and checks[-1].upper() != "NONE"
    assert "/health/live" in checks[-1]


def test_the_image_serves_on_all_interfaces() -> None:
    cmd = [arguments for keyword, arguments in final_stage() if keyword == "CMD"][-1]
    arguments = json.loads(cmd) if cmd.startswith("[") else shlex.split(cmd)
    assert arguments[:2] == ["fundraising", "serve"]
    assert option(arguments, "--host") == "0.0.0.0"


def build_context(services: dict[str, Any]) -> Path:
    build = services["app"]["build"]
    context = build["context"] if isinstance(build, dict) else build
    return (COMPOSE.parent / context).resolve()


def test_compose_builds_the_dockerfile_from_the_repository_root(services: dict[str, Any]) -> None:
    build = services["app"]["build"]
    assert build_context(services) == ROOT
    assert (build_context(services) / build.get("dockerfile", "Dockerfile")).resolve() == DOCKERFILE


def test_every_copied_path_exists_in_the_build_context() -> None:
    missing = []
    for keyword, arguments in instructions():
        if keyword not in ("COPY", "ADD") or "--from=" in arguments:
            continue
        if arguments.startswith("["):
            parts = json.loads(arguments)
        else:
            parts = [part for part in shlex.split(arguments) if not part.startswith("--")]
        missing += [source for source in parts[:-1] if not (ROOT / source).exists()]
    assert not missing, f"COPY sources not in the repository: {missing}"


def test_the_media_dir_exists_in_the_image_for_the_non_root_user(
    services: dict[str, Any],
) -> None:
    """A named volume mounted on a directory the image lacks is root's: covers would fail."""
    media_dir = resolved_environment(services["app"])["FUNDRAISING_MEDIA_DIR"]
    runs = " ".join(arguments for keyword, arguments in final_stage() if keyword == "RUN")
    assert re.search(rf"mkdir\s+(-\w+\s+)*[^&;]*{re.escape(media_dir)}", runs), runs
    user = [arguments for keyword, arguments in final_stage() if keyword == "USER"][-1]
    assert re.search(rf"chown\s+(-\w+\s+)*{re.escape(user)}\b", runs), "owned by the user"


def test_the_build_context_ignores_local_state() -> None:
    candidates = [ROOT / ".dockerignore", DOCKER / "Dockerfile.dockerignore"]
    existing = [path for path in candidates if path.exists()]
    assert existing, "a .dockerignore"
    patterns = {line.strip().strip("/") for line in existing[0].read_text().splitlines()}
    assert {".venv", ".git", "var", ".env"} <= patterns


# --- README -------------------------------------------------------------------------------------


def test_readme_documents_the_compose_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docker compose -f docker/compose.yaml up --build" in readme
    assert "docker/.env.example" in readme
