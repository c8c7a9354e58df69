"""Configuration read from the environment, only when asked for (never at import time)."""

from __future__ import annotations

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

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        DEFAULT_SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{DEFAULT_SQLITE_PATH}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
