"""催报 lists: for each reporting obligation, the firms whose report for the period most recently due is
missing, grouped by region, one Excel file per region written to the outbox.

The region of a firm is the prefecture-level unit of its region_code (GB/T 2260: 市 / 地区 / 州 / 盟, or a
county-level unit directly under the province such as Hainan's 省直辖县), the unit that chases its firms.
Files: <outbox>/reminders/<as_of>/催报_<region code>_<region name>.xlsx.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine

from registry import labels
from registry.export import to_excel_bytes
from registry.lifecycle import BundleLike, LifecycleResolver, missed_info_updates, missing_reports
from registry.policy import lifecycle_for
from registry.policy.bundle import load_bundle
from registry.reference import regions
from registry.settings import Settings

FREQUENCY_ZH = labels.zh("frequency")

# Column headers of the Excel list: Chinese first (who reads it), English after.
HEADERS = {
    "region_code": "行政区划代码 region", "uscc": "统一社会信用代码 USCC", "name": "企业名称 name",
    "firm_region_code": "企业所在区划 firm region", "tiers": "称号 tiers", "frequency_zh": "报送类别 report",
    "period": "报告期 period", "report_due_on": "截止日期 due on", "days_overdue": "逾期天数 days overdue",
    "what": "报送内容 what", "obligation_source": "依据 source",
}


def _reporting_region(region_code: pl.Expr) -> pl.Expr:
    """Prefecture-level unit (or a county directly under the province) of a 6-digit region code."""
    known = regions().select("code", "name")
    codes = known["code"].implode()
    prefecture = region_code.str.slice(0, 4) + "00"
    province = region_code.str.slice(0, 2) + "0000"
    return (pl.when(region_code.is_in(codes) & ~region_code.str.ends_with("0000")).then(region_code)
            .when(prefecture.is_in(codes)).then(prefecture)
            .otherwise(province))


def reminder_list(bundle: BundleLike, as_of: date, resolver: LifecycleResolver = lifecycle_for) -> pl.DataFrame:
    """One row per firm × obligation whose most recently due report (or yearly information update) is missing on
    `as_of`.

    A firm holding several recognitions with the same duty is listed once for it, with all its tiers.
    Columns: region_code, region_name, uscc, name, firm_region_code, tiers, frequency, frequency_zh, period,
    report_due_on, days_overdue, what, obligation_source.
    """
    missing = missing_reports(bundle, as_of, resolver).filter(pl.col("latest_due"))
    # The yearly information update on the national platform is chased like a report (frequency info_update).
    updates = missed_info_updates(bundle, as_of, resolver).filter(pl.col("latest_due")).select(
        "uscc", "tier", frequency=pl.lit("info_update"), period=pl.col("year").cast(pl.String),
        report_due_on="due", what="what", obligation_source="duty_source")
    missing = pl.concat([missing.select(updates.columns), updates])
    names = regions().select(region_code="code", region_name="name")
    firms = bundle.enterprises.select("uscc", "name", firm_region_code="region_code")
    return (
        missing
        .with_columns(tier_zh=pl.col("tier").replace_strict(labels.zh("tier"), default=pl.col("tier")))
        .group_by("uscc", "frequency", "period", "report_due_on", "what", "obligation_source")
        .agg(tiers=pl.col("tier_zh").unique().sort().str.join("、"))
        .join(firms, on="uscc", how="left")
        .with_columns(region_code=_reporting_region(pl.col("firm_region_code")))
        .join(names, on="region_code", how="left")
        .with_columns(
            frequency_zh=pl.col("frequency").replace_strict(FREQUENCY_ZH, default=pl.col("frequency")),
            days_overdue=(pl.lit(as_of) - pl.col("report_due_on")).dt.total_days(),
        )
        .select("region_code", "region_name", "uscc", "name", "firm_region_code", "tiers", "frequency",
                "frequency_zh", "period", "report_due_on", "days_overdue", "what", "obligation_source")
        .sort("region_code", "frequency", "period", "uscc")
    )


def _safe_file_part(text: str) -> str:
    return "".join("_" if c in '\\/:*?"<>| ' else c for c in text)


def write_reminder_files(reminders: pl.DataFrame, folder: Path) -> list[Path]:
    """One Excel file per region; returns the paths written (none when nothing is missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for (code, name), rows in reminders.group_by("region_code", "region_name", maintain_order=True):
        sheet = rows.select(list(HEADERS)).rename(HEADERS)
        path = folder / f"催报_{code}_{_safe_file_part(name or '')}.xlsx"
        tmp = path.with_suffix(".xlsx.part")
        tmp.write_bytes(to_excel_bytes(sheet, sheet_name="催报 reminders"))
        tmp.replace(path)  # a reader never sees half a file
        written.append(path)
    return written


def write_reminders(engine: Engine, settings: Settings, as_of: date,
                    resolver: LifecycleResolver = lifecycle_for) -> dict[str, Any]:
    """The reminders job: today's 催报 lists into <outbox>/reminders/<as_of>/ (replacing that day's files)."""
    reminders = reminder_list(load_bundle(engine), as_of, resolver)
    folder = settings.path("outbox") / "reminders" / as_of.isoformat()
    if folder.exists():
        for old in folder.glob("催报_*.xlsx"):
            old.unlink()
    files = write_reminder_files(reminders, folder)
    return {"as_of": as_of.isoformat(), "firms": reminders["uscc"].n_unique(), "rows": len(reminders),
            "regions": len(files), "folder": str(folder)}
