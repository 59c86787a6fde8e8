"""Configuration, read once from `GRIDGOV_*` environment variables by the composition root."""

import re
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

WECOM_AES_KEY = re.compile(r"[A-Za-z0-9+/]{43}")


class Settings(BaseSettings):
    # A refused value is not echoed in the error: it may be a secret.
    model_config = SettingsConfigDict(
        env_prefix="GRIDGOV_", extra="ignore", hide_input_in_errors=True
    )

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
    # Signs chat buttons; when unset, a key generated once per database is used.
    secret_key: SecretStr | None = None

    # WeCom (企业微信) self-built app; without a corp id there is no WeCom channel.
    wecom_corp_id: str = ""
    wecom_agent_id: int | None = None
    wecom_secret: SecretStr | None = None
    wecom_token: SecretStr | None = None
    wecom_aes_key: SecretStr | None = None  # the 43-character EncodingAESKey
    wecom_api_base: str = "https://qyapi.weixin.qq.com"

    working_hours: str = "08:30-12:00,14:00-17:30"
    yellow_ratio: float = Field(default=0.8, gt=0, lt=1)
    # The escalation ladder: level 1 at the deadline, then levels 2 and 3 after this much
    # further working time (hours) overdue.
    escalation_level2_after_hours: float = Field(default=4.0, gt=0)
    escalation_level3_after_hours: float = Field(default=16.0, gt=0)
    reopen_days: int = Field(default=7, ge=0)
    # Working days an office has to answer a rectification notice (整改通知).
    rectification_days: int = Field(default=5, ge=1)
    # Working days after a citizen's case is closed by which the follow-up call (回访) is due.
    followup_days: int = Field(default=3, ge=0)
    max_extension_days: int = Field(default=365, ge=1)  # how far an extension may reach

    locate_tolerance_m: float = Field(default=30.0, ge=0)
    duplicate_radius_m: float = Field(default=50.0, gt=0)
    duplicate_window_hours: float = Field(default=72.0, gt=0)

    sweep_interval_s: float = Field(default=60.0, gt=0)
    outbox_interval_s: float = Field(default=2.0, gt=0)
    outbox_max_attempts: int = Field(default=8, ge=1)
    config_check_interval_s: float = Field(default=30.0, gt=0)
    digest_time: str = Field(default="08:00", pattern=r"^\d{2}:\d{2}$")

    # The login-free transparency page (政务公开) at /public/: off (404) unless switched on.
    public_page: bool = False
    public_cache_seconds: float = Field(default=300.0, ge=0)
    public_requests_per_minute: int = Field(default=60, ge=1)  # per client address

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

    @field_validator("wecom_aes_key")
    @classmethod
    def _aes_key_is_43_chars(cls, key: SecretStr | None) -> SecretStr | None:
        """The EncodingAESKey is 43 base64 characters (32 bytes); anything else would only
        fail at the first callback."""
        if key is not None and not WECOM_AES_KEY.fullmatch(key.get_secret_value()):
            raise ValueError("GRIDGOV_WECOM_AES_KEY must be 43 characters of [A-Za-z0-9+/]")
        return key

    @property
    def wecom_enabled(self) -> bool:
        """All WeCom settings given; a partial set is refused by `wecom_problems`."""
        return bool(self.wecom_corp_id) and not self.wecom_problems()

    def wecom_problems(self) -> list[str]:
        """The WeCom settings still missing once any of them is set."""
        given = {
            "GRIDGOV_WECOM_CORP_ID": bool(self.wecom_corp_id),
            "GRIDGOV_WECOM_AGENT_ID": self.wecom_agent_id is not None,
            "GRIDGOV_WECOM_SECRET": self.wecom_secret is not None,
            "GRIDGOV_WECOM_TOKEN": self.wecom_token is not None,
            "GRIDGOV_WECOM_AES_KEY": self.wecom_aes_key is not None,
        }
        if not any(given.values()):
            return []
        return [name for name, ok in given.items() if not ok]
