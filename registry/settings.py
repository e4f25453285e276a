"""Settings as data: one typed model, read from config.toml, overridable from the environment.

Every field carries a description; tests check each one is present and commented in config.toml and
documented in docs/configuration.md, so a setting cannot exist without its documentation.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class DatabaseSettings(BaseModel):
    url: str = Field("sqlite:///data/zjtx.db", description="SQLAlchemy URL of the system of record")
    echo: bool = Field(False, description="Log every SQL statement")
    owner_url: str = Field("", description="URL of the schema's owner, used to migrate (zjtx init); empty = url. "
                                           "On PostgreSQL the app's role (url) then gets only the grants it needs")


class PathSettings(BaseModel):
    inbox: Path = Field(Path("data/runtime/inbox"), description="Files waiting to be ingested")
    archive: Path = Field(Path("data/runtime/archive"), description="Every ingested file, kept by sha256")
    quarantine: Path = Field(Path("data/runtime/quarantine"), description="Rejected rows per ingestion run")
    outbox: Path = Field(Path("data/runtime/outbox"), description="Generated lists and briefings")
    policy_compilation: Path = Field(Path("data/sources/policy-compilation-2021.txt"),
                                     description="The policy compilation whose lines the policies cite (optional)")
    cjk_font: Path = Field(Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
                           description="A Chinese font (TTF/OTF/TTC) embedded in PDF briefings")


class LifecycleSettings(BaseModel):
    review_due_days: int = Field(180, ge=0, description="review_due opens this many days before valid_until")
    expiring_days: int = Field(90, ge=0, description="expiring within this many days of valid_until")


class MonitoringSettings(BaseModel):
    review_risk_months: int = Field(12, ge=1, le=60, description="复核 risk lists the recognitions due for 复核 "
                                                                  "within this many months")
    peer_min_group: int = Field(10, ge=2, description="Smallest peer group on the firm page; a smaller one widens "
                                                      "(division → section, province → national)")


class SchedulerSettings(BaseModel):
    timezone: str = Field("Asia/Shanghai", description="Time zone of the cron schedules")
    misfire_grace_seconds: int = Field(3600, ge=1, description="Late runs within this grace still run once")
    ingest_cron: str = Field("*/5 * * * *", description="Cron schedule of the ingest job")
    flags_cron: str = Field("30 6 * * *", description="Cron schedule of the flags job")
    snapshot_cron: str = Field("0 1 * * *", description="Cron schedule of the snapshot job")
    reminders_cron: str = Field("0 8 11 * *", description="Cron schedule of the reminders job")
    briefing_cron: str = Field("0 7 1 * *", description="Cron schedule of the monthly briefing job")
    request_poll_seconds: int = Field(10, ge=1, description="Polling interval for run-now requests")


class DashboardSettings(BaseModel):
    address: str = Field("127.0.0.1", description="Address the Streamlit server listens on")
    port: int = Field(8501, ge=1, le=65535, description="Port of the Streamlit server")
    language: Literal["zh", "en"] = Field("zh", description="Default dashboard language")


class DemoSettings(BaseModel):
    firms: int = Field(3000, ge=0, description="Demo registry size loaded by `zjtx up` into an empty database")
    seed: int = Field(2021, description="Random seed of the demo registry")


class AuthSettings(BaseModel):
    session_idle_minutes: int = Field(30, ge=1, description="A dashboard session ends after this many idle minutes")
    max_failed_logins: int = Field(5, ge=1, description="Failed logins in a row that lock an account")
    lockout_minutes: int = Field(15, ge=1, description="How long a locked account stays locked")
    min_password_length: int = Field(10, ge=8, description="Shortest password accepted")
    sso_provider: str = Field("", description="Streamlit OIDC provider for single sign-on (empty = off)")
    sso_username_claim: str = Field("email", description="OIDC claim matched against local usernames")


class UploadSettings(BaseModel):
    max_file_mb: int = Field(50, ge=1, description="Largest data file accepted by a dashboard upload (MB)")
    max_unpacked_mb: int = Field(500, ge=1, description="Largest total uncompressed size of an .xlsx (MB)")
    max_compression_ratio: int = Field(100, ge=1, description="Largest uncompressed/compressed ratio of an .xlsx")


# Largest plausible magnitude (|value|) of a number column in a data file, in the column's unit (money in 万元).
# A value beyond it is a typo or an attack, rejected with its row; columns not listed use ingest.default_bound.
DEFAULT_BOUNDS: dict[str, float] = {
    **dict.fromkeys(("revenue", "main_revenue", "net_profit", "total_assets", "total_liabilities", "taxes_paid",
                     "rd_expense", "export_value", "main_product_revenue", "equity_financing",
                     "registered_capital"), 1e8),
    **dict.fromkeys(("employees", "rd_staff"), 1e6),
    **dict.fromkeys(("invention_patents", "utility_patents", "design_patents", "software_copyrights"), 1e5),
    "market_share": 100,
    "province_rank": 1e5,
    "target_count": 1e5,
}


class IngestSettings(BaseModel):
    default_bound: float = Field(1e9, gt=0, description="Largest plausible magnitude of a number column "
                                                        "without a bound of its own")
    bounds: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_BOUNDS),
                                     description="Largest plausible magnitude per number column (|value|), "
                                                 "in its unit; entries given replace the defaults one by one")

    @field_validator("bounds")
    @classmethod
    def _over_defaults(cls, bounds: dict[str, float]) -> dict[str, float]:
        bad = [name for name, bound in bounds.items() if not bound > 0]
        if bad:
            raise ValueError(f"ingest.bounds must be positive: {', '.join(bad)}")
        return {**DEFAULT_BOUNDS, **bounds}

    def bound(self, column: str) -> float:
        return self.bounds.get(column, self.default_bound)


class Settings(BaseModel):
    database: DatabaseSettings = DatabaseSettings()
    paths: PathSettings = PathSettings()
    lifecycle: LifecycleSettings = LifecycleSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    dashboard: DashboardSettings = DashboardSettings()
    demo: DemoSettings = DemoSettings()
    auth: AuthSettings = AuthSettings()
    uploads: UploadSettings = UploadSettings()
    ingest: IngestSettings = IngestSettings()
    # Folder the config file lives in: relative paths and SQLite files resolve against it.
    base_dir: Path = Field(PROJECT_ROOT, exclude=True)

    def path(self, name: Literal["inbox", "archive", "quarantine", "outbox", "policy_compilation", "cjk_font"]
             ) -> Path:
        p: Path = getattr(self.paths, name)
        return p if p.is_absolute() else self.base_dir / p

    @property
    def database_url(self) -> str:
        return resolve_sqlite_url(self.database.url, self.base_dir)

    @property
    def owner_database_url(self) -> str:
        """Where migrations run: the schema owner's URL, or the one URL of a single-role setup."""
        return resolve_sqlite_url(self.database.owner_url, self.base_dir) if self.database.owner_url \
            else self.database_url


def resolve_sqlite_url(url: str, base_dir: Path) -> str:
    """`sqlite:///data/x.db` is relative to the config's folder, not to wherever the command runs."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////") and ":memory:" not in url:
        rel = url[len(prefix):]
        if rel:
            return prefix + str((base_dir / rel).resolve())
    return url


def config_path() -> Path:
    return Path(os.environ.get("ZJTX_CONFIG", PROJECT_ROOT / "config.toml")).resolve()


class ConfigError(Exception):
    """A configuration file that cannot be read or does not validate."""


def load_settings(path: Path | None = None) -> Settings:
    path = path or config_path()
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    elif "ZJTX_CONFIG" in os.environ:
        raise ConfigError(f"ZJTX_CONFIG points to {path}, which does not exist")
    url = os.environ.get("ZJTX_DATABASE_URL")
    if url:
        data.setdefault("database", {})["url"] = url
    owner_url = os.environ.get("ZJTX_OWNER_DATABASE_URL")
    if owner_url:
        data.setdefault("database", {})["owner_url"] = owner_url
    try:
        return Settings(**data, base_dir=path.parent)
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
