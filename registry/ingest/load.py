"""Load a validated file into the database, inside the caller's transaction: plan in polars, apply in bulk.

For each kind the plan is: find the firms (unknown firm → rejected row), read the stored rows with the same keys,
split the file's rows into new ones (bulk insert) and changed ones (bulk update; for reports the replaced values
go to report_revision first). Rows identical to what is stored are counted as loaded and not rewritten, so
re-sending a file leaves the provenance (ingestion_run_id) of unchanged figures where it was.

Which columns a file updates: a column present in the file replaces the stored value (a blank cell included:
that is how a figure is withdrawn); a column the file does not have leaves stored values alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import polars as pl
import sqlalchemy as sa

from registry.identity import normalize_name_expr
from registry.ingest import bulk
from registry.ingest.headers import CATALOGUE
from registry.ingest.read import ParsedFile
from registry.models import REPORT_METRICS
from registry.reference import jurisdictions

# A pl.Schema, not a dict: polars types DataFrame.cast's mapping with column-or-selector keys, which a
# dict[str, ...] does not match (mapping keys are invariant).
REJECTION_SCHEMA = pl.Schema({"row": pl.Int64, "column": pl.String, "reason": pl.String})


@dataclass
class LoadResult:
    rows_loaded: int
    rejections: pl.DataFrame  # load-time rejections: row, column, reason


@dataclass
class _Context:
    conn: sa.Connection
    run_id: int
    now: datetime
    present: set[str]
    progress: bulk.Progress | None


def _dtype(kind: str, column: str) -> type[pl.DataType]:
    spec = next(s for s in CATALOGUE[kind] if s.name == column)
    if spec.type == "date":
        return pl.Date
    if spec.type in {"money", "count", "ratio", "rank", "target"}:
        return pl.Int64 if (kind, column) == ("regional_targets", "target_count") else pl.Float64
    if spec.type == "year":
        return pl.Int32
    return pl.String


def _select_sql(table: str, columns: bulk.Schema) -> str:
    parts = [bulk.date_text(c) + f" AS {c}" if t == pl.Date else c for c, t in columns.items()]
    return f"SELECT {', '.join(parts)} FROM {table} WHERE 1 = 1"


def _empty_rejections() -> pl.DataFrame:
    return pl.DataFrame(schema=REJECTION_SCHEMA)


def _upsert(ctx: _Context, table: str, data: pl.DataFrame, keys: list[str], compare: list[str],
            existing: pl.DataFrame, *, insert_extra: dict[str, pl.Expr], update_extra: dict[str, pl.Expr],
            nulls_equal: bool = False) -> pl.DataFrame:
    """Insert the rows of `data` whose keys are not in `existing`; update those whose `compare` columns differ.
    Returns the changed rows joined to their stored values (`old_<column>`), for history."""
    old = existing.rename({c: f"old_{c}" for c in existing.columns if c not in keys})
    joined = data.join(old, on=keys, how="left", nulls_equal=nulls_equal, maintain_order="left")
    new = joined.filter(pl.col("old_id").is_null()).select(*data.columns).drop("row", strict=False)
    bulk.insert_frame(ctx.conn, table, new.with_columns(**insert_extra), ctx.progress)

    matched = joined.filter(pl.col("old_id").is_not_null())
    differs = [pl.col(c).ne_missing(pl.col(f"old_{c}")) for c in compare]
    changed = matched.filter(pl.any_horizontal(differs)) if differs else matched.clear()
    if ctx.progress and matched.height > changed.height:
        ctx.progress(matched.height - changed.height)  # identical rows: nothing to write, but done
    updates = changed.select(pl.col("old_id").alias("id"), *compare).with_columns(**update_extra)
    bulk.update_frame(ctx.conn, table, updates, progress=ctx.progress)
    return changed


def _resolve_firms(ctx: _Context, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Attach enterprise_id (and region_code) by USCC; rows of firms not in the registry are rejected."""
    firms = bulk.fetch_where_in(
        ctx.conn, "SELECT uscc, id AS enterprise_id, region_code AS firm_region FROM enterprise WHERE 1 = 1", "uscc",
        frame.get_column("uscc").unique().to_list(),
        {"uscc": pl.String, "enterprise_id": pl.Int64, "firm_region": pl.String},
    )
    joined = frame.join(firms, on="uscc", how="left", maintain_order="left")
    unknown = joined.filter(pl.col("enterprise_id").is_null()).select(
        pl.col("row"), pl.lit("uscc").alias("column"),
        pl.format("企业不在名录中（请先载入其企业名录）：{} / firm not in the registry (load it with an enterprises "
                  "file first): {}", pl.col("uscc"), pl.col("uscc")).alias("reason"),
    )
    return joined.filter(pl.col("enterprise_id").is_not_null()), unknown


def _check_jurisdiction(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A recognising jurisdiction must cover the firm's region (cn covers all; cn-zj-ningbo covers 3302xx)."""
    prefixes = (
        jurisdictions().select("id", pl.col("region_codes").str.split(";").alias("prefix"))
        .explode("prefix").filter(pl.col("prefix") != "")
    )
    covered = (
        frame.select("row", "jurisdiction", "firm_region")
        .join(prefixes, left_on="jurisdiction", right_on="id", how="inner")
        .filter(pl.col("firm_region").str.starts_with(pl.col("prefix")))
        .get_column("row").unique()
    )
    outside = frame.filter((pl.col("jurisdiction") != "cn") & ~pl.col("row").is_in(covered.implode()))
    rejections = outside.select(
        pl.col("row"), pl.lit("jurisdiction").alias("column"),
        pl.format("企业所在地区 {} 不属于辖区 {} / the firm's region {} is outside jurisdiction {}",
                  pl.col("firm_region"), pl.col("jurisdiction"), pl.col("firm_region"), pl.col("jurisdiction"))
        .alias("reason"),
    )
    return frame.filter(~pl.col("row").is_in(outside.get_column("row").implode())), rejections


def _present(ctx: _Context, columns: list[str]) -> list[str]:
    return [c for c in columns if c in ctx.present]


# ----------------------------------------------------------------------------------------------------------------
# One loader per kind
# ----------------------------------------------------------------------------------------------------------------

def _load_enterprises(ctx: _Context, frame: pl.DataFrame) -> None:
    optional = ["registered_capital", "ownership", "listing_board", "main_product"]
    columns = ["name", "region_code", "industry_code", "founded_on", *_present(ctx, optional)]
    data = frame.select("uscc", *columns).with_columns(
        normalize_name_expr("name").alias("name_norm"), pl.col("region_code").str.slice(0, 2).alias("province_code")
    )
    schema: bulk.Schema = {"id": pl.Int64, "uscc": pl.String, **{c: _dtype("enterprises", c) for c in columns}}
    existing = bulk.fetch_where_in(ctx.conn, _select_sql("enterprise", schema), "uscc",
                                   data.get_column("uscc").to_list(), schema)
    now = pl.lit(ctx.now)
    _upsert(ctx, "enterprise", data, ["uscc"], columns, existing,
            insert_extra={"created_at": now, "updated_at": now},
            update_extra={"name_norm": normalize_name_expr("name"),
                          "province_code": pl.col("region_code").str.slice(0, 2), "updated_at": now})


def _load_reports(ctx: _Context, frame: pl.DataFrame) -> None:
    metrics = _present(ctx, list(REPORT_METRICS))
    keys = ["enterprise_id", "period", "basis"]
    data = frame.select(*keys, "period_type", "year", "period_end", *metrics)
    schema = {"id": pl.Int64, "enterprise_id": pl.Int64, "period": pl.String, "basis": pl.String,
              **{m: pl.Float64 for m in REPORT_METRICS}, "ingestion_run_id": pl.Int64}
    # Stored rows for the file's periods (a handful of values), narrowed to the file's firms in polars.
    existing = bulk.fetch_where_in(ctx.conn, _select_sql("report", schema), "period",
                                   data.get_column("period").unique().to_list(), schema)
    existing = existing.join(data.select("enterprise_id").unique(), on="enterprise_id", how="semi")
    run, now = pl.lit(ctx.run_id, dtype=pl.Int64), pl.lit(ctx.now)
    changed = _upsert(ctx, "report", data, keys, metrics, existing,
                      insert_extra={"ingestion_run_id": run, "updated_at": now},
                      update_extra={"ingestion_run_id": run, "updated_at": now})
    # History first: the values each changed row had, and which run they came from.
    history = [pl.col(f"old_{m}").alias(m) for m in REPORT_METRICS] + [pl.col("old_ingestion_run_id").alias("ingestion_run_id")]
    revisions = changed.select(
        pl.col("old_id").alias("report_id"),
        pl.struct(history).struct.json_encode().alias("values"),
        run.alias("replaced_by_run_id"),
        now.alias("replaced_at"),
    )
    bulk.insert_frame(ctx.conn, "report_revision", revisions)


_RECOGNITION_GROUP = ["enterprise_id", "tier", "jurisdiction"]


def _load_recognitions(ctx: _Context, frame: pl.DataFrame) -> None:
    keys = [*_RECOGNITION_GROUP, "recognized_on"]
    # valid_until is always in the frame (derived from the policy when the file has none); it updates stored rows
    # only when the file gives it.
    updatable = ["batch", *_present(ctx, ["valid_until", "document_no"]), "status"]
    data = frame.select(*keys, "batch", "valid_until", "document_no", "status")
    schema = {"id": pl.Int64, "enterprise_id": pl.Int64, "tier": pl.String, "jurisdiction": pl.String,
              "recognized_on": pl.Date, "batch": pl.String, "valid_until": pl.Date, "document_no": pl.String,
              "status": pl.String}
    firm_ids = data.get_column("enterprise_id").unique().to_list()
    existing = bulk.fetch_where_in(ctx.conn, _select_sql("recognition", schema), "enterprise_id", firm_ids, schema)
    run = pl.lit(ctx.run_id, dtype=pl.Int64)
    _upsert(ctx, "recognition", data, keys, updatable, existing,
            insert_extra={"ingestion_run_id": run, "created_at": pl.lit(ctx.now)}, update_extra={})
    _supersede(ctx, firm_ids)


def _supersede(ctx: _Context, firm_ids: list[int]) -> None:
    """A passed 复核 is a newer recognition of the same firm, tier and jurisdiction: each older active row is
    superseded by the next newer one (status superseded, superseded_by, ended_on = the newer recognition date)."""
    schema = {"id": pl.Int64, "enterprise_id": pl.Int64, "tier": pl.String, "jurisdiction": pl.String,
              "recognized_on": pl.Date, "status": pl.String, "superseded_by": pl.Int64, "ended_on": pl.Date}
    rows = bulk.fetch_where_in(ctx.conn, _select_sql("recognition", schema), "enterprise_id", firm_ids, schema)
    chain = (
        rows.filter(pl.col("status").is_in(["active", "superseded"]))
        .sort([*_RECOGNITION_GROUP, "recognized_on", "id"])
        .with_columns(
            pl.col("id").shift(-1).over(_RECOGNITION_GROUP).alias("next_id"),
            pl.col("recognized_on").shift(-1).over(_RECOGNITION_GROUP).alias("next_on"),
        )
        .filter(pl.col("next_id").is_not_null())
    )
    changes = chain.filter(
        (pl.col("status") != "superseded") | pl.col("superseded_by").ne_missing(pl.col("next_id"))
        | pl.col("ended_on").ne_missing(pl.col("next_on"))
    ).select(
        "id", pl.lit("superseded").alias("status"), pl.col("next_id").alias("superseded_by"),
        pl.col("next_on").alias("ended_on"),
        pl.lit("复核通过，由新认定取代 / renewed: superseded by a newer recognition").alias("end_reason"),
    )
    bulk.update_frame(ctx.conn, "recognition", changes)


def _load_attributes(ctx: _Context, frame: pl.DataFrame) -> None:
    keys = ["enterprise_id", "attribute", "value", "effective_on"]
    updatable = _present(ctx, ["expires_on", "evidence"])
    data = frame.select(*keys, "expires_on", "evidence")
    schema = {"id": pl.Int64, "enterprise_id": pl.Int64, "attribute": pl.String, "value": pl.String,
              "effective_on": pl.Date, "expires_on": pl.Date, "evidence": pl.String}
    existing = bulk.fetch_where_in(ctx.conn, _select_sql("attribute", schema), "enterprise_id",
                                   data.get_column("enterprise_id").unique().to_list(), schema)
    _upsert(ctx, "attribute", data, keys, updatable, existing,
            insert_extra={"ingestion_run_id": pl.lit(ctx.run_id, dtype=pl.Int64)}, update_extra={})


def _load_events(ctx: _Context, frame: pl.DataFrame) -> None:
    keys = ["enterprise_id", "event", "occurred_on", "detail"]
    updatable = _present(ctx, ["notified_on", "source"])
    data = frame.select(*keys, "notified_on", "source")
    schema = {"id": pl.Int64, "enterprise_id": pl.Int64, "event": pl.String, "occurred_on": pl.Date,
              "detail": pl.String, "notified_on": pl.Date, "source": pl.String}
    existing = bulk.fetch_where_in(ctx.conn, _select_sql("event", schema), "enterprise_id",
                                   data.get_column("enterprise_id").unique().to_list(), schema)
    # detail is often blank: two blank details are the same event, not two.
    _upsert(ctx, "event", data, keys, updatable, existing, nulls_equal=True,
            insert_extra={"ingestion_run_id": pl.lit(ctx.run_id, dtype=pl.Int64)}, update_extra={})


def _load_firm_targets(ctx: _Context, frame: pl.DataFrame) -> None:
    keys = ["enterprise_id", "indicator", "start_period"]
    updatable = ["baseline", "target_year1", "target_year2", *_present(ctx, ["direction", "unit"])]
    data = frame.select(*keys, "baseline", "target_year1", "target_year2",
                        pl.col("direction").fill_null("higher"), "unit")
    schema = {"id": pl.Int64, "enterprise_id": pl.Int64, "indicator": pl.String, "start_period": pl.String,
              "baseline": pl.Float64, "target_year1": pl.Float64, "target_year2": pl.Float64,
              "direction": pl.String, "unit": pl.String}
    existing = bulk.fetch_where_in(ctx.conn, _select_sql("firm_target", schema), "enterprise_id",
                                   data.get_column("enterprise_id").unique().to_list(), schema)
    _upsert(ctx, "firm_target", data, keys, updatable, existing, insert_extra={}, update_extra={})


def _load_regional_targets(ctx: _Context, frame: pl.DataFrame) -> None:
    keys = ["jurisdiction", "tier", "year"]
    updatable = ["target_count", *_present(ctx, ["parent_jurisdiction", "source"])]
    parents = dict(zip(jurisdictions()["id"].to_list(), jurisdictions()["parent_id"].to_list(), strict=True))
    # Targets cascade province → city: the parent defaults to the jurisdiction's parent in the reference table.
    data = frame.select(
        *keys, "target_count", "source",
        pl.coalesce(pl.col("parent_jurisdiction"),
                    pl.col("jurisdiction").replace_strict(parents, default=None, return_dtype=pl.String)
                    .replace("", None)).alias("parent_jurisdiction"),
    )
    schema = {"id": pl.Int64, "jurisdiction": pl.String, "tier": pl.String, "year": pl.Int32,
              "target_count": pl.Int64, "parent_jurisdiction": pl.String, "source": pl.String}
    existing = bulk.fetch_frame(ctx.conn, _select_sql("regional_target", schema), schema)
    _upsert(ctx, "regional_target", data, keys, updatable, existing, insert_extra={}, update_extra={})


LOADERS: dict[str, Callable[[_Context, pl.DataFrame], None]] = {
    "enterprises": _load_enterprises,
    "recognitions": _load_recognitions,
    "reports": _load_reports,
    "attributes": _load_attributes,
    "events": _load_events,
    "firm_targets": _load_firm_targets,
    "regional_targets": _load_regional_targets,
}


def load_parsed(conn: sa.Connection, parsed: ParsedFile, run_id: int, now: datetime,
                progress: bulk.Progress | None = None) -> LoadResult:
    """Write the file's valid rows (in the caller's transaction) and return the rows loaded and the rows
    rejected at load time (firm not in the registry, jurisdiction not covering the firm)."""
    ctx = _Context(conn, run_id, now, set(parsed.present_columns), progress)
    frame = parsed.frame
    rejections = [_empty_rejections()]
    if parsed.kind not in ("enterprises", "regional_targets"):
        frame, unknown = _resolve_firms(ctx, frame)
        rejections.append(unknown)
        if progress and unknown.height:
            progress(unknown.height)
    if parsed.kind == "recognitions":
        frame, outside = _check_jurisdiction(frame)
        rejections.append(outside)
        if progress and outside.height:
            progress(outside.height)
    LOADERS[parsed.kind](ctx, frame)
    return LoadResult(frame.height, pl.concat([r.cast(REJECTION_SCHEMA) for r in rejections]))
