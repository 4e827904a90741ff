"""Settings from `FUNDRAISING_*` environment variables and a `.env` file.

Layered: built-in defaults, then the profile chosen by `FUNDRAISING_ENV` (development,
production or test), then the environment and `.env`. Production refuses to start without a
secret key or a public URL, with debug on, or without an explicit database URL.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from fundraising.adapters.files.keys import s3_location

MIN_SECRET_BYTES = 32  # PyJWT's minimum for HS256: the length of its digest
Profile = Literal["development", "production", "test"]

PROFILES: dict[str, dict[str, Any]] = {
    "development": {"debug": True, "auto_migrate": True, "webhooks_allow_private": True},
    "production": {"debug": False, "auto_migrate": False, "log_format": "json"},
    "test": {
        "auto_migrate": True,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 256,
        "task_min_backoff_ms": 10,
        "task_max_backoff_ms": 100,
        "task_max_retries": 2,
        "relay_interval_seconds": 0.2,
        "relay_grace_seconds": 1.0,
        "task_lease_seconds": 5,
    },
}


class _ProfileDefaults(PydanticBaseSettingsSource):
    """The defaults of the profile named by the sources above it (env, .env, arguments)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        raise NotImplementedError  # __call__ is overridden

    def __call__(self) -> dict[str, Any]:
        profile = self.current_state.get("env", "development")
        return dict(PROFILES.get(profile, {}))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FUNDRAISING_", env_file=".env", extra="ignore", frozen=True
    )

    env: Profile = "development"
    debug: bool = False
    secret_key: SecretStr | None = None
    secret_key_file: Path = Path("var/secret_key")
    public_url: str | None = None
    frontend_url: str | None = None  # the pages e-mailed links open (default: the public URL)
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    access_log: bool = True  # one line per request, by the app (uvicorn's own is off)
    metrics_token: SecretStr | None = None  # GET /metrics wants it as a bearer token; unset: 404
    worker_metrics_address: str | None = None  # host:port of the worker's /metrics; unset: none

    database_url: str = "sqlite:///var/fundraising.sqlite3"
    database_pool_size: int = 16
    auto_migrate: bool = False

    redis_url: str | None = None
    cache_enabled: bool = True
    cache_ttl_seconds: int = 300
    cache_changes_file: Path = Path("var/cache-changes")

    broker_url: str | None = None
    worker_threads: int = 2
    task_max_retries: int = 10
    task_min_backoff_ms: int = 5_000
    task_max_backoff_ms: int = 600_000
    relay_interval_seconds: float = 5.0
    lifecycle_interval_seconds: float = 30.0  # how often the lifecycle e-mails are looked for
    relay_grace_seconds: float = 60.0
    task_lease_seconds: int = 120

    smtp_url: str | None = None
    mail_from: str = "Фандрайзинг <noreply@fundraising.local>"
    mail_dir: Path = Path("var/mail")
    media_dir: Path = Path("var/media")
    media_url: str | None = None  # where cover files are served (default: the public URL/media/)
    storage_url: str | None = None  # s3://bucket[/prefix]; unset: files under media_dir
    s3_endpoint_url: str | None = None  # MinIO and other S3-compatible servers
    s3_region: str | None = None
    s3_access_key_id: str | None = None  # unset: boto3's chain (AWS_* variables, a role)
    s3_secret_access_key: SecretStr | None = None

    access_token_minutes: int = 15
    refresh_token_days: int = 7
    login_max_failures: int = 10
    login_window_seconds: int = 300
    registrations_per_hour: int = 20
    account_emails_per_hour: int = 5
    activation_token_hours: int = 24
    reset_token_hours: int = 1
    reminder_interval_hours: float = 24  # a member is reminded at most once in this time
    webhook_max_attempts: int = Field(default=6, ge=1, le=20)
    webhook_backoff_seconds: float = Field(default=30.0, gt=0)  # the first delay, then doubling
    webhooks_allow_private: bool = False  # development: local receivers, plain http
    trusted_proxies: str = ""
    cors_origins: str = ""
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19_456

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            file_secret_settings,
            _ProfileDefaults(settings_cls),
        )

    @field_validator("redis_url", "broker_url")
    @classmethod
    def _redis_scheme(cls, url: str | None, info: ValidationInfo) -> str | None:
        """Other schemes would fail only once a request needs Redis, or worse, half work."""
        if url and not url.startswith(("redis://", "rediss://", "unix://")):
            variable = f"FUNDRAISING_{info.field_name}".upper()
            raise ValueError(f"{variable} must be a redis://, rediss:// or unix:// URL")
        return url

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        """Comma-separated addresses or networks (`10.0.0.0/8, 192.0.2.7`), checked here:
        uvicorn would take a typo for a host name and trust nobody."""
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        try:
            return ",".join(str(ipaddress.ip_network(entry, strict=False)) for entry in entries)
        except ValueError as error:
            raise ValueError(f"FUNDRAISING_TRUSTED_PROXIES: {error}") from None

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        """Comma-separated origins, each `scheme://host[:port]` (no path), or `*`."""
        origins = [entry.strip().rstrip("/") for entry in value.split(",") if entry.strip()]
        for origin in origins:
            scheme, _, rest = origin.partition("://")
            if origin != "*" and (scheme not in ("http", "https") or not rest or "/" in rest):
                raise ValueError(f"FUNDRAISING_CORS_ORIGINS: {origin!r} is not an origin")
        return ",".join(origins)

    @property
    def origins(self) -> list[str]:
        return self.cors_origins.split(",") if self.cors_origins else []

    @property
    def proxies(self) -> list[str]:
        """The networks whose X-Forwarded-For is believed (none by default)."""
        return self.trusted_proxies.split(",") if self.trusted_proxies else []

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, key: SecretStr | None) -> SecretStr | None:
        if key is not None and len(key.get_secret_value().encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"FUNDRAISING_SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes")
        return key

    @field_validator("public_url", "frontend_url", "media_url", "s3_endpoint_url")
    @classmethod
    def _absolute(cls, url: str | None, info: ValidationInfo) -> str | None:
        if url and url.partition("://")[0] not in ("http", "https"):
            variable = f"FUNDRAISING_{info.field_name}".upper()
            raise ValueError(f"{variable} must be an http:// or https:// URL")
        if url and info.field_name == "media_url":
            return url.rstrip("/") + "/"  # a file's key is appended to it
        return url.rstrip("/") if url else None

    @field_validator("worker_metrics_address")
    @classmethod
    def _address(cls, address: str | None) -> str | None:
        host, _, port = (address or "").rpartition(":")
        if address and not (host and port.isdigit() and 0 < int(port) < 65536):
            raise ValueError("FUNDRAISING_WORKER_METRICS_ADDRESS must be host:port")
        return address

    @field_validator("storage_url")
    @classmethod
    def _bucket(cls, url: str | None) -> str | None:
        if url:
            try:
                s3_location(url)
            except ValueError:
                raise ValueError(
                    "FUNDRAISING_STORAGE_URL must be an s3://bucket[/prefix] URL"
                ) from None
        return url

    @model_validator(mode="after")
    def _served_files(self) -> Settings:
        """Files in a bucket are not served by the app: browsers need their address."""
        if self.storage_url and not self.media_url:
            raise ValueError(
                "FUNDRAISING_STORAGE_URL puts covers in a bucket: set FUNDRAISING_MEDIA_URL to "
                "where browsers read them (the bucket's public-read URL or a CDN in front of it)"
            )
        return self

    @model_validator(mode="after")
    def _safe_for_production(self) -> Settings:
        if self.env != "production":
            return self
        problems = []
        if self.secret_key is None:
            problems.append(
                f"set FUNDRAISING_SECRET_KEY to a random value of at least {MIN_SECRET_BYTES} "
                "bytes, the same on every host"
            )
        if self.public_url is None:
            problems.append("set FUNDRAISING_PUBLIC_URL (e.g. https://fundraising.example.com)")
        if self.debug:
            problems.append("unset FUNDRAISING_DEBUG (debug is never on in production)")
        if "database_url" not in self.model_fields_set:
            problems.append("set FUNDRAISING_DATABASE_URL (e.g. mysql+pymysql://user:pw@db/name)")
        if problems:
            raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self

    @property
    def webhooks_https_only(self) -> bool:
        return self.env == "production" and not self.webhooks_allow_private

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
