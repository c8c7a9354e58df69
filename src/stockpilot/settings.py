"""Configuration read from the environment, only when asked for (never at import time)."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_PATH = Path("var") / "stockpilot.db"


class Settings(BaseSettings):
    """Runtime settings; every field can be set as ``STOCKPILOT_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="STOCKPILOT_", extra="ignore")

    database_url: str = Field(
        default="", description="SQLAlchemy URL; empty means var/stockpilot.db"
    )
    max_page_size: int = 500
    default_page_size: int = 100
    max_batch_lines: int = 5000
    returns_as_negative_demand: bool = False
    """Returned quantities enter demand history as negative demand (source ``return``)."""
    max_body_bytes: int = 4 * 1024 * 1024
    db_retry_attempts: int = 8
    sqlite_busy_timeout_ms: int = 30000
    # Planner actions above these need a second person with planning:approve.
    approval_value_threshold: float = 10000.0
    approval_override_ratio: float = 0.5
    # Journal account codes by role (stockpilot.valuation.journal.DEFAULT_ACCOUNTS), as JSON:
    # STOCKPILOT_ACCOUNTS='{"inventory": "14000", "cogs": "60000"}'.
    accounts: dict[str, str] = Field(default_factory=dict)
    # A revaluation changing value by more than this waits for valuation:approve.
    revaluation_approval_threshold: Decimal = Decimal("1000")
    # Web sign-in: failures in a row that lock an account, for how long; session lifetimes.
    sign_in_attempts: int = 5
    lockout_minutes: int = 15
    session_idle_minutes: int = 30
    session_lifetime_hours: int = 12
    # Send the session cookie only over HTTPS (set behind a TLS-terminating proxy).
    secure_cookies: bool = False

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        DEFAULT_SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{DEFAULT_SQLITE_PATH}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
