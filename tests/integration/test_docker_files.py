"""The production topology in docker/: compose.yaml, the Dockerfile, nginx.conf, minio-init.sh and
.env.example agree with each other, with the settings of the service and with the README."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import pytest

from fundraising.adapters.sql.engine import build_engine
from fundraising.application.use_cases.covers import COVER_FOLDER
from fundraising.entrypoints.http.bodies import MAX_FORM_BODY, MAX_JSON_BODY
from fundraising.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "compose.yaml"
DOCKERFILE = DOCKER / "Dockerfile"
ENV_EXAMPLE = DOCKER / ".env.example"
NGINX_CONF = DOCKER / "nginx.conf"
MINIO_INIT = DOCKER / "minio-init.sh"
SETTINGS = set(Settings.model_fields)
SERVICE_ENVS = ("app", "worker", "migrate")
# What an operator puts in docker/.env (compose reads it for ${...} interpolation).
OPERATOR_ENV = {
    "MYSQL_PASSWORD": "mysql-password",
    "MYSQL_ROOT_PASSWORD": "mysql-root-password",
    "MINIO_ROOT_USER": "minio-root",
    "MINIO_ROOT_PASSWORD": "minio-root-password",
    "FUNDRAISING_SECRET_KEY": "a-production-secret-that-is-long-enough-0123456789",
    "FUNDRAISING_S3_SECRET_ACCESS_KEY": "s3-service-secret",
}
# Only the service holding them may see these (mysql, minio, and minio-init that sets MinIO up).
ROOT_CREDENTIALS = ("MYSQL_ROOT_PASSWORD", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD")


def setting_name(variable: str) -> str:
    return variable.removeprefix("FUNDRAISING_").lower()


# --- compose's interpolation --------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BRACED = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?+])?(?P<arg>.*)", re.DOTALL)


class Variable(NamedTuple):
    name: str
    op: str  # "", "-", ":-", "?", ":?", "+" or ":+"
    arg: str  # the default, error message or replacement: itself a template


def _tokens(template: str) -> Iterator[str | Variable]:
    """Text and variables of one level: ${...} may nest in another's default (compose does)."""
    index = 0
    while index < len(template):
        if template.startswith("$$", index):
            yield "$"
            index += 2
        elif template.startswith("${", index):
            depth, end = 0, index
            while end < len(template):
                if template.startswith("${", end):
                    depth, end = depth + 1, end + 2
                    continue
                if template[end] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                end += 1
            else:
                raise ValueError(f"an unclosed ${{ in {template!r}")
            match = _BRACED.fullmatch(template[index + 2 : end])
            assert match, f"not a variable: {template[index : end + 1]!r}"
            yield Variable(match["name"], match["op"] or "", match["arg"])
            index = end + 1
        elif template[index] == "$" and (plain := _NAME.match(template, index + 1)):
            yield Variable(plain[0], "", "")
            index = plain.end()
        else:
            yield template[index]
            index += 1


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR:+value}, nested
    ones and $$ escapes; a default is read only when it is used, as compose does."""
    parts = []
    for token in _tokens(value):
        if isinstance(token, str):
            parts.append(token)
            continue
        present = env.get(token.name)
        empty = present is None or (token.op.startswith(":") and present == "")
        if token.op in (":?", "?") and empty:
            raise LookupError(f"{token.name}: {interpolate(token.arg, env)}")
        if token.op in (":-", "-") and empty:
            parts.append(interpolate(token.arg, env))
        elif token.op in (":+", "+"):
            parts.append("" if empty else interpolate(token.arg, env))
        else:
            parts.append(present or "")
    return "".join(parts)


def template_variables(value: str) -> list[Variable]:
    """Every variable of a template, those nested in defaults included."""
    found = []
    for token in _tokens(value):
        if isinstance(token, Variable):
            found += [token, *template_variables(token.arg)]
    return found


def strings(node: Any) -> Iterator[str]:
    """Every string value of a YAML document (compose interpolates values, not keys)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


# --- compose.yaml -------------------------------------------------------------------------------


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


def compose_variables(compose: Mapping[str, Any]) -> list[Variable]:
    return [variable for value in strings(compose) for variable in template_variables(value)]


def environment(service: Mapping[str, Any]) -> dict[str, str | None]:
    """A service's environment as written (before interpolation); list or mapping syntax.
    None: no value, passed on from docker/.env (or the shell) when set there."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        return {
            key: value if sep else None
            for key, sep, value in (str(item).partition("=") for item in raw)
        }
    return {key: None if value is None else str(value) for key, value in raw.items()}


def resolved_environment(
    service: Mapping[str, Any], env: Mapping[str, str] = OPERATOR_ENV
) -> dict[str, str]:
    """What the container gets: interpolated values, and those without one when `env` has them."""
    found = {}
    for key, value in environment(service).items():
        if value is not None:
            found[key] = interpolate(value, env)
        elif key in env:
            found[key] = env[key]
    return found


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
            published = interpolate(str(entry["published"]), OPERATOR_ENV)
            pairs.add((int(published), int(entry["target"])))
        else:
            parts = interpolate(str(entry), OPERATOR_ENV).split("/")[0].split(":")
            if len(parts) >= 2:
                pairs.add((int(parts[-2]), int(parts[-1])))
    return pairs


def mounts(service: Mapping[str, Any]) -> dict[str, tuple[str, bool]]:
    """target path → (source: a named volume or a host path, read-only)."""
    found = {}
    for entry in service.get("volumes") or []:
        if isinstance(entry, dict):
            found[entry["target"]] = (entry.get("source", ""), bool(entry.get("read_only")))
        else:
            source, _, rest = str(entry).partition(":")
            target, _, mode = rest.partition(":")
            found[target] = (source, "ro" in mode.split(","))
    return found


def depends_on(service: Mapping[str, Any]) -> dict[str, str]:
    """dependency → condition (service_started for the list syntax)."""
    raw = service.get("depends_on") or {}
    if isinstance(raw, list):
        return dict.fromkeys(raw, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in raw.items()}


def seconds(duration: str) -> float:
    """A compose duration: 30s, 1m30s, 1h, 500ms."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 0.000001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|us|m|s)", duration)
    assert parts and "".join(number + unit for number, unit in parts) == duration, duration
    return sum(float(number) * units[unit] for number, unit in parts)


def redis_options(service: Mapping[str, Any]) -> dict[str, str]:
    """The --name value pairs of a redis-server command line."""
    arguments = command(service)
    assert arguments[:1] == ["redis-server"], arguments
    return {
        name.removeprefix("--"): value
        for name, value in zip(arguments[1::2], arguments[2::2], strict=True)
    }


def is_one_shot(service: Mapping[str, Any]) -> bool:
    return str(service.get("restart", "no")) == "no"


def test_compose_names_the_services_of_the_topology(services: dict[str, Any]) -> None:
    expected = {"proxy", "app", "worker", "migrate", "mysql", "redis-cache", "redis-broker"}
    assert expected | {"minio", "minio-init", "mailpit"} <= set(services)
    assert not {"mailhog", "redis"} & set(services), "MailHog and the shared Redis are gone"


def test_mysql_is_8_4_with_a_healthcheck_and_a_volume(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    mysql = services["mysql"]
    assert re.fullmatch(r"mysql:8\.4(\.\d+)?", mysql["image"]), mysql["image"]
    assert mysql.get("healthcheck", {}).get("test"), "a healthcheck"
    assert not mysql["healthcheck"].get("disable")
    data, _ = mounts(mysql).get("/var/lib/mysql", ("", False))
    assert data, "the data directory is on a volume"
    assert data in (compose.get("volumes") or {}), f"{data} is a named volume"


def test_mysql_max_connections_cover_every_pool(services: dict[str, Any]) -> None:
    """Each process may hold pool_size + max_overflow connections: every uvicorn worker of every
    app replica, every worker process, and a few more (migrate, health checks, admin)."""
    arguments = command(services["mysql"])
    written = option(arguments, "--max-connections") or option(arguments, "--max_connections")
    assert written, "max_connections is set explicitly (MySQL's default is 151)"
    max_connections = int(interpolate(written, OPERATOR_ENV))
    pool_size = int(resolved_environment(services["app"])["FUNDRAISING_DATABASE_POOL_SIZE"])
    engine = build_engine("mysql+pymysql://user:password@mysql/fundraising", pool_size=pool_size)
    try:
        per_process = engine.pool.size() + engine.pool._max_overflow
    finally:
        engine.dispose()
    app = services["app"]
    replicas = int(interpolate(str(app["deploy"]["replicas"]), OPERATOR_ENV))
    uvicorn_workers = int(option(command(app), "--workers") or 1)
    worker_processes = int(option(command(services["worker"]), "--processes") or 1)
    needed = per_process * (replicas * uvicorn_workers + worker_processes) + 10
    assert max_connections >= needed, (max_connections, needed)


def test_cache_and_broker_are_separate_redis_instances(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    for name in SERVICE_ENVS:
        env = resolved_environment(services[name])
        cache = urlsplit(env["FUNDRAISING_REDIS_URL"]).hostname
        broker = urlsplit(env["FUNDRAISING_BROKER_URL"]).hostname
        assert (cache, broker) == ("redis-cache", "redis-broker"), name
    for name in ("redis-cache", "redis-broker"):
        redis = services[name]
        assert redis["image"].startswith("redis:")
        assert redis.get("healthcheck", {}).get("test"), name
        assert not redis["healthcheck"].get("disable")

    cache = redis_options(services["redis-cache"])
    assert cache.get("maxmemory-policy") == "allkeys-lru", "a cache evicts what is least used"
    assert interpolate(cache.get("maxmemory", ""), OPERATOR_ENV), "within a bound"
    assert cache.get("save") == "" and cache.get("appendonly", "no") == "no", "not persisted"
    assert "/data" not in mounts(services["redis-cache"])

    broker = redis_options(services["redis-broker"])
    assert broker.get("maxmemory-policy") == "noeviction", "a queued task is never evicted"
    assert broker.get("appendonly") == "yes", "queued tasks survive a restart"
    data, _ = mounts(services["redis-broker"]).get("/data", ("", False))
    assert data in (compose.get("volumes") or {}), "on a named volume"


def test_migrate_is_a_one_shot_db_upgrade(services: dict[str, Any]) -> None:
    migrate = services["migrate"]
    assert command(migrate) == ["fundraising", "db", "upgrade"]
    assert is_one_shot(migrate), "a one-shot job is not restarted"
    assert depends_on(migrate).get("mysql") == "service_healthy"


def test_app_serves_several_replicas_of_several_workers_behind_the_proxy(
    services: dict[str, Any],
) -> None:
    app = services["app"]
    arguments = command(app)
    assert arguments[:2] == ["fundraising", "serve"], arguments
    workers = option(arguments, "--workers")
    assert workers is not None and int(workers) >= 2, arguments
    assert option(arguments, "--host") == "0.0.0.0", "reachable from the proxy"
    replicas = app.get("deploy", {}).get("replicas")
    assert replicas is not None and int(interpolate(str(replicas), OPERATOR_ENV)) >= 2
    assert interpolate(str(replicas), {"APP_REPLICAS": "7"}) == "7", "set by APP_REPLICAS"
    assert not app.get("ports"), "no host port: replicas cannot share one; the proxy has it"
    assert "container_name" not in app, "replicas need names of their own"
    dependencies = depends_on(app)
    assert dependencies.get("migrate") == "service_completed_successfully"
    assert dependencies.get("redis-cache") == dependencies.get("redis-broker") == "service_healthy"


def test_the_proxy_publishes_the_service_and_reaches_every_replica(
    services: dict[str, Any],
) -> None:
    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx:")
    conf = nginx_code()
    source, read_only = mounts(proxy).get("/etc/nginx/nginx.conf", ("", False))
    assert (COMPOSE.parent / source).resolve() == NGINX_CONF and read_only
    listen = re.search(r"^\s*listen\s+(\d+)\s*;", conf, re.MULTILINE)
    assert listen, "a server listening on all interfaces"
    assert (8000, int(listen.group(1))) in published_ports(proxy)
    assert interpolate(str(proxy["ports"][0]), {"HTTP_PORT": "80"}).startswith("80:")
    app_port = int(option(command(services["app"]), "--port") or 8000)
    assert re.search(rf"^\s*server\s+app:{app_port}\b[^;]*\bresolve\b", conf, re.MULTILINE), (
        "the replicas of `app` are found by name, and found again as they come and go"
    )
    assert re.search(r"^\s*resolver\s+127\.0\.0\.11\b", conf, re.MULTILINE), "Docker's DNS"
    assert depends_on(proxy).get("app") in ("service_started", "service_healthy")


def test_the_proxy_tells_the_app_who_the_client_is() -> None:
    conf = nginx_code()
    headers = dict(re.findall(r"^\s*proxy_set_header\s+(\S+)\s+(.+?)\s*;", conf, re.MULTILINE))
    assert headers.get("X-Forwarded-For") == "$proxy_add_x_forwarded_for"
    assert headers.get("X-Forwarded-Proto") == "$scheme"
    assert "X-Request-ID" in headers, "the client's request id reaches the app"


def test_the_app_trusts_the_proxy_and_nobody_else(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    network = services["proxy"]["networks"]["default"]
    address = ipaddress.ip_address(interpolate(network["ipv4_address"], OPERATOR_ENV))
    (pool,) = compose["networks"]["default"]["ipam"]["config"]
    assert address in ipaddress.ip_network(pool["subnet"])
    assert address not in ipaddress.ip_network(pool["ip_range"]), (
        "outside the range the other containers get their addresses from"
    )
    for name in SERVICE_ENVS:
        trusted = resolved_environment(services[name])["FUNDRAISING_TRUSTED_PROXIES"]
        assert Settings(trusted_proxies=trusted).proxies == [f"{address}/32"], name
    assert env_example_entries()["FUNDRAISING_TRUSTED_PROXIES"].value == str(address)


def nginx_size(value: str) -> int:
    match = re.fullmatch(r"(\d+)([kKmMgG]?)", value)
    assert match, value
    return int(match[1]) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match[2].lower()]


def test_the_proxy_takes_the_bodies_the_service_takes() -> None:
    conf = nginx_code()
    limits = re.findall(r"^\s*client_max_body_size\s+(\S+)\s*;", conf, re.MULTILINE)
    assert limits, "nginx's default (1 MiB) would refuse covers"
    assert {nginx_size(limit) for limit in limits} == {max(MAX_FORM_BODY, MAX_JSON_BODY)}


def nginx_code() -> str:
    """nginx.conf without its comments (they hold quotes; the code holds no `#`)."""
    lines = NGINX_CONF.read_text(encoding="utf-8").splitlines()
    return "\n".join(line.partition("#")[0] for line in lines)


def nginx_locations() -> list[tuple[str, str, str]]:
    """(modifier, pattern, body) of every location block; quoted strings may hold braces."""
    code, found = nginx_code(), []
    for match in re.finditer(r"location\s+(=|~\*?|\^~)?\s*(\S+)\s*\{", code):
        depth, index, quote = 1, match.end(), ""
        while depth:
            char = code[index]
            if quote:
                quote = "" if char == quote else quote
            elif char in "'\"":
                quote = char
            elif char in "{}":
                depth += 1 if char == "{" else -1
            index += 1
        found.append((match[1] or "", match[2], code[match.end() : index - 1]))
    return found


def test_the_proxy_does_not_serve_the_metrics() -> None:
    """Only the compose network reaches /metrics (Prometheus scrapes each replica directly)."""

    def matches(modifier: str, pattern: str, path: str) -> bool:
        if modifier == "=":
            return path == pattern
        if modifier.startswith("~"):
            return re.search(pattern, path, re.IGNORECASE if modifier == "~*" else 0) is not None
        return path.startswith(pattern)

    for path in ("/metrics", "/metrics/", "/metrics/anything"):
        # Exact and regular-expression locations win over the prefix ones such as `/`.
        chosen = [
            body
            for modifier, pattern, body in nginx_locations()
            if modifier in ("=", "~", "~*") and matches(modifier, pattern, path)
        ]
        assert chosen, f"no location of its own for {path}"
        assert re.search(r"^\s*return\s+404\b", chosen[0], re.MULTILINE), chosen[0]
        assert "proxy_pass" not in chosen[0]
    (default,) = [body for modifier, pattern, body in nginx_locations() if pattern == "/"]
    assert re.search(r"^\s*proxy_pass\s+http://app\s*;", default, re.MULTILINE)


def test_nginx_accepts_the_proxy_config(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light): config not tested")
    version_line = subprocess.run(
        [nginx, "-v"], capture_output=True, text=True, timeout=10, check=False
    ).stderr
    version = tuple(int(part) for part in re.findall(r"nginx/(\d+)\.(\d+)\.(\d+)", version_line)[0])
    conf = NGINX_CONF.read_text(encoding="utf-8")
    conf = conf.replace("server app:", "server 127.0.0.1:")  # `app` is a name on Docker's DNS
    if version < (1, 27, 3):  # upstream servers `resolve` in open-source nginx since 1.27.3
        conf = re.sub(r"(server 127\.0\.0\.1:\d+[^;]*?) resolve\b", r"\1", conf)
    copy = tmp_path / "nginx.conf"
    copy.write_text(conf, encoding="utf-8")
    result = subprocess.run(
        [nginx, "-t", "-q", "-e", "stderr", "-p", f"{tmp_path}/", "-c", str(copy)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_worker_runs_the_task_worker_after_the_migration(services: dict[str, Any]) -> None:
    worker = services["worker"]
    assert command(worker)[:2] == ["fundraising", "worker"], command(worker)
    dependencies = depends_on(worker)
    assert dependencies.get("migrate") == "service_completed_successfully"
    assert dependencies.get("redis-broker") == "service_healthy"


def test_the_worker_health_check_checks_the_worker(services: dict[str, Any]) -> None:
    """Its metrics server lives in the worker's top process, which exits as soon as one of its
    worker processes dies; `fundraising check` asks the database, Redis and the broker."""
    worker = services["worker"]
    address = resolved_environment(worker).get("FUNDRAISING_WORKER_METRICS_ADDRESS", "")
    host, _, port = address.rpartition(":")
    assert host == "0.0.0.0" and port.isdigit(), address
    test = worker["healthcheck"]["test"]
    assert test[0] == "CMD-SHELL", test
    script = " ".join(test[1:])
    assert re.search(r"(^|&&\s*)fundraising check\b", script), script
    assert "&&" in script, "both must pass"
    assert f"http://127.0.0.1:{port}/metrics" in script
    assert re.search(r"timeout\s*=\s*2\b", script), "a stuck worker fails the check"
    for other in ("app", "migrate"):
        assert "FUNDRAISING_WORKER_METRICS_ADDRESS" not in environment(services[other])


def test_stop_grace_periods_let_work_in_flight_finish(services: dict[str, Any]) -> None:
    app = seconds(services["app"].get("stop_grace_period", "10s"))
    worker = seconds(services["worker"].get("stop_grace_period", "10s"))
    assert app >= 20, "uvicorn ends the requests in flight"
    assert worker >= 45 and worker >= app, "a task may take longer than a request"


def test_mailpit_takes_the_mail_and_publishes_its_ui(services: dict[str, Any]) -> None:
    mailpit = services["mailpit"]
    assert mailpit["image"].startswith("axllent/mailpit:")
    assert any(target == 8025 for _, target in published_ports(mailpit))
    assert all(target != 1025 for _, target in published_ports(mailpit)), "SMTP stays inside"
    for name in SERVICE_ENVS:
        url = urlsplit(resolved_environment(services[name])["FUNDRAISING_SMTP_URL"])
        assert (url.scheme, url.hostname, url.port) == ("smtp", "mailpit", 1025), name


def test_covers_live_in_minio_not_on_a_volume(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    minio = services["minio"]
    assert minio["image"].startswith("minio/minio:RELEASE.")
    assert services["minio-init"]["image"].startswith("minio/mc:RELEASE.")
    data, _ = mounts(minio).get("/data", ("", False))
    assert data in (compose.get("volumes") or {})
    assert command(minio)[:2] == ["server", "/data"]
    env = resolved_environment(services["app"])
    storage = urlsplit(env["FUNDRAISING_STORAGE_URL"])
    assert storage.scheme == "s3" and storage.netloc
    endpoint = urlsplit(env["FUNDRAISING_S3_ENDPOINT_URL"])
    assert (endpoint.hostname, endpoint.port) == ("minio", 9000)
    media = urlsplit(env["FUNDRAISING_MEDIA_URL"])
    assert (media.port or 80, 9000) in published_ports(minio), "browsers reach it"
    assert media.path.rstrip("/") == f"/{storage.netloc}{storage.path}".rstrip("/"), (
        "the bucket (and prefix) path-style: a cover's key is appended to it"
    )
    assert "media" not in (compose.get("volumes") or {})
    for name in SERVICE_ENVS:
        service = services[name]
        assert (
            resolved_environment(service)["FUNDRAISING_STORAGE_URL"]
            == env["FUNDRAISING_STORAGE_URL"]
        )
        assert not mounts(service), f"{name} needs no volume: the files are in the bucket"
        assert depends_on(service).get("minio-init") == "service_completed_successfully", name
    minio_init = services["minio-init"]
    assert is_one_shot(minio_init)
    assert depends_on(minio_init).get("minio") == "service_healthy"
    source, read_only = mounts(minio_init)[minio_init["entrypoint"][-1]]
    assert (COMPOSE.parent / source).resolve() == MINIO_INIT and read_only


FAKE_MC = """\
import json, os, sys
arguments = sys.argv[1:]
files = {a: open(a, encoding="utf-8").read() for a in arguments if a.endswith(".json")}
with open(os.environ["MC_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps({"arguments": arguments, "files": files}) + "\\n")
"""


def run_minio_init(
    tmp_path: Path, env: Mapping[str, str]
) -> list[tuple[list[str], dict[str, str]]]:
    """What minio-init.sh asks of `mc`: (arguments, contents of the JSON files it names)."""
    shell = shutil.which("sh")
    if shell is None:
        pytest.skip("no POSIX shell")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "mc"
    fake.write_text(f"#!{sys.executable}\n{FAKE_MC}", encoding="utf-8")
    fake.chmod(0o755)
    log = tmp_path / "mc.log"
    run_env = {
        **env,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "TMPDIR": str(tmp_path),
        "MC_LOG": str(log),
    }
    subprocess.run([shell, str(MINIO_INIT)], env=run_env, check=True, timeout=30)
    calls = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    return [(call["arguments"], call["files"]) for call in calls]


@pytest.mark.parametrize("storage_url", [None, "s3://other-bucket/production/"])
def test_minio_init_makes_the_bucket_of_the_storage_url(
    storage_url: str | None, services: dict[str, Any], tmp_path: Path
) -> None:
    """The bucket of FUNDRAISING_STORAGE_URL, the service's own user allowed that bucket only,
    and anonymous reads of single covers: no listing (a private collect's cover is served to
    whoever knows its random name), and the uploads awaiting processing stay private."""
    operator = {**OPERATOR_ENV, **({"FUNDRAISING_STORAGE_URL": storage_url} if storage_url else {})}
    app = resolved_environment(services["app"], operator)
    calls = run_minio_init(tmp_path, resolved_environment(services["minio-init"], operator))
    storage = urlsplit(app["FUNDRAISING_STORAGE_URL"])
    bucket, prefix = storage.netloc, storage.path.strip("/")
    covers = f"{bucket}/{prefix}/{COVER_FOLDER}" if prefix else f"{bucket}/{COVER_FOLDER}"
    by_command = {" ".join(arguments[:2]): (arguments, files) for arguments, files in calls}

    alias, _ = by_command["alias set"]
    assert alias[2:] == [
        "local",
        app["FUNDRAISING_S3_ENDPOINT_URL"],
        OPERATOR_ENV["MINIO_ROOT_USER"],
        OPERATOR_ENV["MINIO_ROOT_PASSWORD"],
    ]
    assert by_command["mb --ignore-existing"][0] == ["mb", "--ignore-existing", f"local/{bucket}"]

    user, _ = by_command["admin user"]
    key_id = app["FUNDRAISING_S3_ACCESS_KEY_ID"]
    assert user == [
        "admin",
        "user",
        "add",
        "local",
        key_id,
        app["FUNDRAISING_S3_SECRET_ACCESS_KEY"],
    ]
    attach, _ = next(call for call in calls if call[0][:3] == ["admin", "policy", "attach"])
    created, files = next(call for call in calls if call[0][:3] == ["admin", "policy", "create"])
    assert attach[4:] == [created[4], "--user", key_id]
    (service_policy,) = (json.loads(text) for text in files.values())
    resources = {r for s in service_policy["Statement"] for r in s["Resource"]}
    assert resources == {f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"}

    anonymous, files = by_command["anonymous set-json"]
    assert anonymous[-1] == f"local/{bucket}"
    (policy,) = (json.loads(text) for text in files.values())
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow" and statement["Principal"] == {"AWS": ["*"]}
    assert statement["Action"] == ["s3:GetObject"], "reading a cover, not listing them"
    assert statement["Resource"] == [f"arn:aws:s3:::{covers}/*"]


def test_every_fundraising_variable_in_compose_is_a_setting(
    services: dict[str, Any],
) -> None:
    used = set(re.findall(r"FUNDRAISING_[A-Z0-9_]+", COMPOSE.read_text(encoding="utf-8")))
    for service in services.values():
        used |= {key for key in environment(service) if key.startswith("FUNDRAISING_")}
    assert used
    unknown = sorted(name for name in used if setting_name(name) not in SETTINGS)
    assert not unknown, f"not settings of fundraising.settings.Settings: {unknown}"


def test_every_image_is_pinned(services: dict[str, Any]) -> None:
    """A tag naming a version (not `latest`, not none): the same topology on every host."""
    unpinned = []
    for name, service in services.items():
        image = interpolate(service.get("image", ""), OPERATOR_ENV)
        reference = image.partition("@")[0]
        last = reference.rsplit("/", 1)[-1]
        tag = last.partition(":")[2]
        # An image built here is named by its tag; the others' tags name a version.
        pinned = tag not in ("", "latest") and ("build" in service or re.search(r"\d", tag))
        if not pinned:
            unpinned.append(f"{name}: {image!r}")
    assert not unpinned, unpinned


def test_every_service_rotates_its_logs(services: dict[str, Any]) -> None:
    for name, service in services.items():
        logging = service.get("logging") or {}
        assert logging.get("driver") in ("json-file", "local"), name
        options = logging.get("options") or {}
        assert options.get("max-size") and options.get("max-file"), name


def test_every_long_running_service_has_a_health_check(services: dict[str, Any]) -> None:
    for name, service in services.items():
        if is_one_shot(service):
            continue
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), name


def test_dependencies_wait_for_what_they_can(services: dict[str, Any]) -> None:
    """service_healthy needs a health check; service_completed_successfully a one-shot job."""
    for name, service in services.items():
        for dependency, condition in depends_on(service).items():
            target = services[dependency]
            if condition == "service_healthy":
                assert (target.get("healthcheck") or {}).get("test"), (name, dependency)
            if condition == "service_completed_successfully":
                assert is_one_shot(target), (name, dependency)


def test_no_root_credentials_in_the_app_containers(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    for name in SERVICE_ENVS:
        service = services[name]
        assert not service.get("env_file"), f"{name}: docker/.env holds the root passwords"
        written = environment(service)
        assert not set(written) & set(ROOT_CREDENTIALS), name
        used = {v.name for value in written.values() if value for v in template_variables(value)}
        assert not used & set(ROOT_CREDENTIALS), (name, used)
        values = set(resolved_environment(service).values())
        assert not values & {OPERATOR_ENV[credential] for credential in ROOT_CREDENTIALS}
    readers = {
        name
        for name, service in services.items()
        for value in strings(service)
        for variable in template_variables(value)
        if variable.name == "MYSQL_ROOT_PASSWORD"
    }
    assert readers == {"mysql"}


@pytest.mark.parametrize("name", SERVICE_ENVS)
def test_production_settings_are_complete(name: str, services: dict[str, Any]) -> None:
    written = environment(services[name])
    env = resolved_environment(services[name])
    assert env.get("FUNDRAISING_ENV") == "production"
    assert env.get("FUNDRAISING_DATABASE_URL"), "production needs an explicit database"
    assert env.get("FUNDRAISING_LOG_FORMAT") == "json"
    assert env.get("FUNDRAISING_ACCESS_LOG", "true").lower() in ("1", "true", "yes", "on")
    for secret in ("FUNDRAISING_SECRET_KEY", "FUNDRAISING_S3_SECRET_ACCESS_KEY"):
        value = written.get(secret)
        assert value is not None, f"{secret} is required"
        with pytest.raises(LookupError):  # required from docker/.env: no default secret
            interpolate(value, {})
    assert env.get("FUNDRAISING_DEBUG", "false").lower() in ("", "0", "false", "no", "off")


def _settings_of(
    environment: Mapping[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Settings:
    """What the container's `Settings()` would build from its environment."""
    for variable in list(os.environ):
        if variable.startswith("FUNDRAISING_"):
            monkeypatch.delenv(variable)
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)  # no .env
    return Settings()


@pytest.mark.parametrize("name", SERVICE_ENVS)
def test_the_environment_makes_valid_production_settings(
    name: str, services: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Production rules included."""
    settings = _settings_of(resolved_environment(services[name]), monkeypatch, tmp_path)
    assert settings.env == "production"
    assert not settings.uses_sqlite
    assert settings.broker_url and settings.redis_url and settings.smtp_url
    assert settings.storage_url and settings.media_url


def test_service_urls_point_at_the_compose_services(services: dict[str, Any]) -> None:
    mysql_env = resolved_environment(services["mysql"])
    for name in SERVICE_ENVS:
        env = resolved_environment(services[name])
        expected = {
            "FUNDRAISING_DATABASE_URL": ("mysql", 3306),
            "FUNDRAISING_REDIS_URL": ("redis-cache", 6379),
            "FUNDRAISING_BROKER_URL": ("redis-broker", 6379),
            "FUNDRAISING_SMTP_URL": ("mailpit", 1025),
            "FUNDRAISING_S3_ENDPOINT_URL": ("minio", 9000),
        }
        for variable, (host, port) in expected.items():
            url = urlsplit(env.get(variable, ""))
            assert (url.hostname, url.port or port) == (host, port), f"{name}: {variable}"
            assert host in services
            override = "redis://elsewhere:6379/0" if "REDIS" in variable else "x://elsewhere"
            value = environment(services[name])[variable] or ""
            assert interpolate(value, {**OPERATOR_ENV, variable: override}) == override, (
                f"{variable} can be overridden from docker/.env"
            )
        database = urlsplit(env["FUNDRAISING_DATABASE_URL"])
        assert database.username == mysql_env["MYSQL_USER"]
        assert database.password == mysql_env["MYSQL_PASSWORD"]
        assert database.path.lstrip("/") == mysql_env["MYSQL_DATABASE"]


# --- .env.example -------------------------------------------------------------------------------

_ASSIGNMENT = re.compile(r"\s*(?P<off>#\s*)?(?:export\s+)?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)")


class Entry(NamedTuple):
    line: int  # 0-based
    value: str
    active: bool  # False: commented out (shows compose's own value, if any)


def env_example_lines() -> list[str]:
    return ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()


def env_example_entries() -> dict[str, Entry]:
    """Every variable of .env.example, set or commented out."""
    found = {}
    for number, line in enumerate(env_example_lines()):
        match = _ASSIGNMENT.fullmatch(line)
        if match:
            found[match["name"]] = Entry(number, match["value"], not match["off"])
    return found


def env_example_variables() -> dict[str, int]:
    """FUNDRAISING_* variable → its line number (0-based)."""
    return {
        name: entry.line
        for name, entry in env_example_entries().items()
        if name.startswith("FUNDRAISING_")
    }


def operator_env_from_example() -> dict[str, str]:
    """docker/.env as an operator makes it: .env.example's lines, the REQUIRED ones filled in."""
    env = {name: entry.value for name, entry in env_example_entries().items() if entry.active}
    return {name: value or OPERATOR_ENV.get(name, value) for name, value in env.items()}


def test_env_example_says_it_is_for_compose_only() -> None:
    header = []
    for line in env_example_lines():
        if not line.startswith("#"):
            break
        header.append(line)
    text = " ".join(header)
    assert "docker/.env" in text and "compose" in text.lower()
    assert "repository root" in text and "make run" in text, "not the root .env of `make run`"


def test_env_example_lists_every_setting() -> None:
    listed = env_example_variables()
    missing = sorted(f"FUNDRAISING_{name.upper()}" for name in SETTINGS) - listed.keys()
    assert not missing, f"missing from docker/.env.example: {sorted(missing)}"
    unknown = sorted(name for name in listed if setting_name(name) not in SETTINGS)
    assert not unknown, f"not settings: {unknown}"


def test_env_example_lists_every_variable_compose_reads(compose: dict[str, Any]) -> None:
    entries = env_example_entries()
    variables = compose_variables(compose)
    missing = sorted({v.name for v in variables} - entries.keys())
    assert not missing, f"read by compose.yaml, missing from docker/.env.example: {missing}"
    for variable in variables:
        if variable.op != ":?":
            continue
        entry = entries[variable.name]
        assert entry.active, f"{variable.name} is required: a line to fill in, not a comment"
        if re.search(r"PASSWORD|SECRET", variable.name):
            assert entry.value == "", f"{variable.name}: no example secret that would start"


def test_env_example_agrees_with_compose_defaults(compose: dict[str, Any]) -> None:
    """Copied as it is, .env.example changes nothing compose would not do by itself."""
    entries = env_example_entries()
    env = operator_env_from_example()
    for variable in compose_variables(compose):
        if variable.op != ":-" or variable.name not in entries:
            continue
        example = interpolate(entries[variable.name].value, env)
        assert example == interpolate(variable.arg, env), variable.name


def test_env_example_explains_every_setting() -> None:
    lines = env_example_lines()
    unexplained = []
    for name, entry in env_example_entries().items():
        start = entry.line
        while start > 0 and lines[start - 1].strip():
            start -= 1  # the top of the block of non-blank lines
        comments = [
            line
            for line in lines[start : entry.line]
            if line.lstrip().startswith("#") and not _ASSIGNMENT.fullmatch(line)
        ]
        if not comments:
            unexplained.append(name)
    assert not unexplained, f"no comment before or in the block of: {unexplained}"


@pytest.mark.parametrize("name", SERVICE_ENVS)
def test_env_example_makes_valid_production_settings(
    name: str, services: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """docker/.env copied from the example, its REQUIRED values filled in: what the containers
    get from compose makes valid production settings."""
    env = resolved_environment(services[name], operator_env_from_example())
    settings = _settings_of(env, monkeypatch, tmp_path)
    assert settings.env == "production"
    assert settings.redis_url and settings.broker_url and settings.smtp_url


def test_every_setting_of_env_example_reaches_the_containers(services: dict[str, Any]) -> None:
    """Set in docker/.env (or uncommented there), a setting reaches app, worker and migrate:
    as written in compose.yaml, or passed on."""
    worker_only = {"FUNDRAISING_WORKER_METRICS_ADDRESS"}
    for name in SERVICE_ENVS:
        written = environment(services[name])
        ignored = sorted(
            variable
            for variable in env_example_variables()
            if variable not in written and not (name != "worker" and variable in worker_only)
        )
        assert not ignored, f"{name} ignores these lines of docker/.env: {ignored}"


# --- docker compose itself ----------------------------------------------------------------------


def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker binary: compose.yaml checked by the tests above only")
    plugin = subprocess.run(
        [docker, "compose", "version"], capture_output=True, timeout=30, check=False
    )
    if plugin.returncode != 0:
        pytest.skip("docker has no compose plugin: compose.yaml checked by the tests above only")
    env = {key: value for key, value in os.environ.items() if key not in OPERATOR_ENV}
    env_file = tmp_path / "compose.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in OPERATOR_ENV.items()), encoding="utf-8")

    def config(env_file: Path) -> subprocess.CompletedProcess[str]:
        arguments = ["-f", str(COMPOSE), "--env-file", str(env_file), "config", "--quiet"]
        return subprocess.run(
            [docker, "compose", *arguments],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )

    result = config(env_file)
    assert result.returncode == 0, result.stderr
    empty = tmp_path / "empty.env"
    empty.write_text("", encoding="utf-8")
    refused = config(empty)
    assert refused.returncode != 0, "the REQUIRED values are required"


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


def test_dockerfile_is_multi_stage_on_a_pinned_python_slim() -> None:
    bases = [arguments.split()[0] for keyword, arguments in instructions() if keyword == "FROM"]
    assert len(bases) >= 2, bases
    # A Python release and a Debian release: not a tag that moves to the next one.
    assert all(re.fullmatch(r"python:3\.\d+\.\d+-slim-[a-z]+", base) for base in bases), bases
    assert len(set(bases)) == 1, "both stages on the same base"
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


def test_the_media_dir_exists_in_the_image_for_the_non_root_user() -> None:
    """Without a bucket, covers go to FUNDRAISING_MEDIA_DIR: a directory the user may write."""
    env = " ".join(arguments for keyword, arguments in final_stage() if keyword == "ENV")
    media_dir = re.search(r"FUNDRAISING_MEDIA_DIR=(\S+)", env)
    assert media_dir, "the image names its media directory"
    runs = " ".join(arguments for keyword, arguments in final_stage() if keyword == "RUN")
    assert re.search(rf"mkdir\s+(-\w+\s+)*[^&;]*{re.escape(media_dir.group(1))}", runs), runs
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
    production = readme.partition("## Production")[2].partition("\n## ")[0]
    for word in ("Mailpit", "MinIO", "nginx", "APP_REPLICAS", "redis-cache", "redis-broker"):
        assert word in production, f"the Production section names {word}"
    assert "MailHog" not in production
