"""Configuration, read once from `GRIDGOV_*` environment variables by the composition root."""

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRIDGOV_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./gridgov.db"
    tz: str = "Asia/Shanghai"
    default_locale: str = "zh_CN"

    http_host: str = "127.0.0.1"
    http_port: int = 8080
    public_url: str = ""  # https://gridgov.example.org, for the webhook and media links

    telegram_token: SecretStr | None = None
    telegram_api_base: str | None = None  # a self-hosted or test Bot API server
    webhook_secret: SecretStr | None = None
    telegram_mode: str = Field(default="polling", pattern="^(polling|webhook)$")

    working_hours: str = "08:30-12:00,14:00-17:30"
    yellow_ratio: float = Field(default=0.8, gt=0, lt=1)
    # The escalation ladder: level 1 at the deadline, then levels 2 and 3 after this much
    # further working time (hours) overdue.
    escalation_level2_after_hours: float = Field(default=4.0, gt=0)
    escalation_level3_after_hours: float = Field(default=16.0, gt=0)
    reopen_days: int = Field(default=7, ge=0)
    max_extension_days: int = Field(default=365, ge=1)  # how far an extension may reach

    locate_tolerance_m: float = Field(default=30.0, ge=0)
    duplicate_radius_m: float = Field(default=50.0, gt=0)
    duplicate_window_hours: float = Field(default=72.0, gt=0)

    sweep_interval_s: float = Field(default=60.0, gt=0)
    outbox_interval_s: float = Field(default=2.0, gt=0)
    outbox_max_attempts: int = Field(default=8, ge=1)
    config_check_interval_s: float = Field(default=30.0, gt=0)
    digest_time: str = Field(default="08:00", pattern=r"^\d{2}:\d{2}$")

    draft_ttl_minutes: int = Field(default=120, ge=1)
    # Retention of rows that only serve operations, purged by a periodic job (cases and case
    # events are the record and are kept). Telegram redelivers an update for a day at most.
    retention_sent_outbox_days: float = Field(default=30.0, gt=0)
    retention_console_sessions_days: float = Field(default=7.0, ge=0)  # after expiry
    retention_login_failures_days: float = Field(default=30.0, ge=1)
    retention_processed_updates_days: float = Field(default=2.0, ge=1)
    retention_interval_minutes: float = Field(default=15.0, gt=0)
    media_dir: Path = Path("media")
    max_upload_bytes: int = 10 * 1024 * 1024

    # Addresses or networks (comma-separated, e.g. "127.0.0.1,10.0.0.0/8") of the reverse
    # proxies whose X-Forwarded-For header names the client; nobody else's is believed.
    trusted_proxies: str = ""
    # Failed console logins allowed in 15 minutes: per account from one address, and per
    # address across accounts.
    login_max_failures: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=50, ge=1)
    # Signs the expiring links to uploaded photos given to Open311 clients; without it a random
    # key is drawn at start (links then die with the process and differ between instances).
    media_link_secret: SecretStr | None = None
    media_link_ttl_hours: float = Field(default=168.0, gt=0)
