"""Settings: the one place that reads the environment (prefix ``KILNWATCH_``).

Built by ``create_app()`` and the CLI and passed down; never instantiated at import time,
so that the same code runs against SQLite and PostgreSQL in one test session.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
    totp_key_file: Path | None = None
    """File of the key that encrypts the TOTP secrets in the database (AES-256-GCM,
    ``kilnwatch/keyfile.py``); kept outside the database and its backups. Unset:
    ``var_dir/totp.key``. Created by ``kilnwatch user totp-key create`` (``kilnwatch demo``
    creates it for the demo)."""
    token_ttl_s: int = 8 * 3600
    session_ttl_s: int = Field(
        default=8 * 3600, ge=60, description="lifetime of a signed-in browser session [s]"
    )
    sign_in_window_s: int = Field(default=900, ge=1)
    """Window over which failed sign-ins are counted (OWASP ASVS 4.0.3 V2.2.1)."""
    sign_in_max_failures_per_account: int = Field(default=5, ge=1)
    """Failures for one username in the window after which it is refused until the window
    frees (slows password guessing against one account)."""
    sign_in_max_failures_per_address: int = Field(default=20, ge=1)
    """Failures from one client address in the window after which it is refused (slows
    credential stuffing across accounts)."""
    ingest_future_tolerance_s: float = Field(default=300.0, ge=0)
    """How far ahead of the receiving clock a reading's timestamp may lie (device clock skew);
    later ones are refused as ``ingest.future_timestamp`` [s]."""
    ingest_device_max_age_s: float | None = Field(default=None, gt=0)
    """How old a reading a gateway or device delivers may be (a logger whose clock was reset
    to 2000 or 1970); older ones are refused as ``ingest.stale_timestamp`` [s]. Unset: no
    limit (back-filled history is legitimate); operator file imports are never limited."""
    timezone: str = "Asia/Shanghai"
    """IANA zone of local days, months and reporting periods (the one place it has a default)."""
    default_locale: Literal["zh-CN", "en"] = "zh-CN"
    host: str = "127.0.0.1"
    port: int = 8000
    sql_echo: bool = False
    db_idle_in_transaction_timeout_s: float = Field(default=60.0, ge=0)
    """PostgreSQL ends a session that stays idle inside an open transaction this long
    (``idle_in_transaction_session_timeout``, set on every connection of the long-running
    processes: web, receivers, writers, forwarder): a process frozen mid-transaction (SIGSTOP,
    a lost host, a hung handler) releases its row and advisory locks instead of holding them
    until someone notices. Batch commands (imports, verification, archiving, reports) compute
    between statements for minutes on purpose and have none [s]; 0: never (docs/security.md
    "Faults")."""
    web_statement_timeout_s: float = Field(default=120.0, ge=0)
    """PostgreSQL cancels a statement of the web server (pages and API) running longer
    (``statement_timeout``): a runaway query of one request does not hold a connection and
    locks for ever; answered 503 ``store.timeout``. Commands, receivers and writers have no
    statement timeout (imports, verification and archiving are long on purpose) [s]; 0: none."""
    ingest_log: str = Field(
        default="",
        description="NATS URLs of the ingest log (nats://host:port[,…]): the front ends "
        "publish readings to JetStream for the writers instead of storing them; empty: store "
        "directly (docs/deployment.md).",
    )
    smtp_host: str = Field(default="", description="SMTP server for report e-mail; empty: none.")
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "kilnwatch@localhost"
    smtp_starttls: bool = False
    smtp_timeout_s: float = 30.0
    report_delivery_attempts: int = Field(default=5, ge=1)
    """E-mail attempts per recipient before a delivery is recorded as failed."""
    report_retry_s: float = Field(default=300.0, gt=0)
    """Wait before the first retry of a failed e-mail; doubled after each further failure."""
    schedule_poll_s: float = Field(default=30.0, gt=0)
    weekly_report_due_h: float = Field(default=36.0, ge=0)
    """Hours after the end of an ISO week (Sunday 24:00 local) by which a city's weekly joint
    report is due; no published deadline was found, so it is a setting (default 36 h: the
    Tuesday after the week, 12:00)."""
    dispatch_due_h: float = Field(default=9.0, ge=0)
    """Hours after a day's end by which its readings count as on time for the daily dispatch
    (default: 09:00 of the next day, when the dispatch is read); a setting, not a published
    rule."""
    weekly_difference_tolerance_fraction: float = Field(default=0.02, ge=0)
    """A reported weekly figure further than this from metering is shown as a difference."""
    """How often ``kilnwatch schedule run`` looks for due reports."""
    province: str = "shandong"
    """Province whose programme rules apply (``reference/programme/policy.csv`` rows
    ``province:<name>``, e.g. its retrofit deadline); national rules otherwise."""
    provincial_levels_dir: Path | None = None
    """Directory of provincial level tables (CSV, ``reference/levels/README.md``) used by the
    programme's determinations next to the packaged NDRC and GB tables."""

    @model_validator(mode="after")
    def _refuse_dev_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEV_SECRET:
            raise ConfigError("KILNWATCH_SECRET_KEY must be set in production")
        if len(self.secret_key.encode()) < 32:
            raise ConfigError("KILNWATCH_SECRET_KEY must be at least 32 bytes (RFC 7518, 3.2)")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"KILNWATCH_TIMEZONE {self.timezone!r} is not an IANA zone (e.g. Asia/Shanghai)"
            ) from None
        return self

    @property
    def secure_cookies(self) -> bool:
        """Cookies carry ``Secure`` everywhere but in development (plain HTTP on a laptop)."""
        return self.environment != "dev"

    @property
    def zone(self) -> ZoneInfo:
        """:attr:`timezone` as a zone, for :func:`kilnwatch.domain.periods.parse_period` and
        the local calendar of rollups."""
        return ZoneInfo(self.timezone)

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite database under ``var_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'kilnwatch.sqlite').as_posix()}"

    @property
    def totp_key_path(self) -> Path:
        """:attr:`totp_key_file`, or ``totp.key`` under :attr:`var_dir`."""
        return self.totp_key_file or self.var_dir / "totp.key"

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host)
