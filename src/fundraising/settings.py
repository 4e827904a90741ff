"""Settings from `FUNDRAISING_*` environment variables and a `.env` file.

Layered: built-in defaults, then the profile chosen by `FUNDRAISING_ENV` (development,
production or test), then the environment and `.env`. Production refuses to start with the
default secret key, with debug on, or without an explicit database URL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import SecretStr, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

DEFAULT_SECRET_KEY = "insecure-development-key-change-me-in-production"
Profile = Literal["development", "production", "test"]

PROFILES: dict[str, dict[str, Any]] = {
    "development": {"debug": True, "auto_migrate": True},
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
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET_KEY)
    public_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"

    database_url: str = "sqlite:///var/fundraising.sqlite3"
    database_pool_size: int = 16
    auto_migrate: bool = False

    redis_url: str | None = None
    cache_enabled: bool = True
    cache_ttl_seconds: int = 300

    broker_url: str | None = None
    worker_threads: int = 2
    task_max_retries: int = 10
    task_min_backoff_ms: int = 5_000
    task_max_backoff_ms: int = 600_000
    relay_interval_seconds: float = 5.0
    relay_grace_seconds: float = 60.0
    task_lease_seconds: int = 120

    smtp_url: str | None = None
    mail_from: str = "Фандрайзинг <noreply@fundraising.local>"
    mail_dir: Path = Path("var/mail")
    media_dir: Path = Path("var/media")

    access_token_minutes: int = 15
    refresh_token_days: int = 7
    login_max_failures: int = 10
    login_window_seconds: int = 300
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

    @model_validator(mode="after")
    def _safe_for_production(self) -> Settings:
        if self.env != "production":
            return self
        problems = []
        if self.secret_key.get_secret_value() == DEFAULT_SECRET_KEY:
            problems.append("set FUNDRAISING_SECRET_KEY to a long random value")
        if len(self.secret_key.get_secret_value()) < 32:
            problems.append("FUNDRAISING_SECRET_KEY must be at least 32 characters")
        if self.debug:
            problems.append("unset FUNDRAISING_DEBUG (debug is never on in production)")
        if "database_url" not in self.model_fields_set:
            problems.append("set FUNDRAISING_DATABASE_URL (e.g. mysql+pymysql://user:pw@db/name)")
        if problems:
            raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
