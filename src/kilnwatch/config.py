"""Settings: the one place that reads the environment (prefix ``KILNWATCH_``).

Built by ``create_app()`` and the CLI and passed down; never instantiated at import time,
so that the same code runs against SQLite and PostgreSQL in one test session.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kilnwatch.errors import ConfigError

DEV_SECRET = "kilnwatch-development-secret-change-me-in-production"


class Settings(BaseSettings):
    """Runtime configuration of kilnwatch."""

    model_config = SettingsConfigDict(env_prefix="KILNWATCH_", frozen=True, extra="ignore")

    environment: Literal["dev", "test", "production"] = "dev"
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means the embedded SQLite file under var_dir.",
    )
    var_dir: Path = Path("var")
    secret_key: str = DEV_SECRET
    token_ttl_s: int = 8 * 3600
    session_ttl_s: int = Field(
        default=8 * 3600, ge=60, description="lifetime of a signed-in browser session [s]"
    )
    timezone: str = "Asia/Shanghai"
    default_locale: Literal["zh-CN", "en"] = "zh-CN"
    host: str = "127.0.0.1"
    port: int = 8000
    sql_echo: bool = False

    @model_validator(mode="after")
    def _refuse_dev_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEV_SECRET:
            raise ConfigError("KILNWATCH_SECRET_KEY must be set in production")
        if len(self.secret_key.encode()) < 32:
            raise ConfigError("KILNWATCH_SECRET_KEY must be at least 32 bytes (RFC 7518, 3.2)")
        return self

    @property
    def secure_cookies(self) -> bool:
        """Cookies carry ``Secure`` everywhere but in development (plain HTTP on a laptop)."""
        return self.environment != "dev"

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite database under ``var_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'kilnwatch.sqlite').as_posix()}"
