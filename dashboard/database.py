"""The database the dashboard talks to: the configured one (registry.db keeps one engine per URL)."""

from __future__ import annotations

from sqlalchemy import Engine

from registry.db import get_engine
from registry.settings import get_settings


def engine() -> Engine:
    return get_engine(get_settings().database_url)
