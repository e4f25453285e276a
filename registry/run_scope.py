"""Which ingestion runs, and which of their rows, a principal may see (docs/access.md, "导入记录 Ingestion runs").

A file may hold firms of several provinces, so a run is not one jurisdiction's: each of its rows is.

- A loaded row (recognition, report, attribute, event) belongs to the jurisdiction of the firm it is stored under.
- A rejected row belongs to the registry's region of the USCC written in it; for a firm the registry does not hold,
  to the region code written in the row, else to the division code inside the USCC (its characters 3–8).
- A row that names no firm (a whole-file rejection, a column note, a row without a readable code) belongs to the
  run's uploader: the user the audit trail names for the run (`ingest.run`). A CLI or inbox run (actor `cli:…`,
  `scheduler`) has no regional uploader: its file-level notes are national.

A scoped principal sees a run when one of its rows is theirs — their firms' rows, or, when they uploaded the run
or their jurisdiction covers the uploader's, its file-level rows — and then only those rows; the counts shown are
of those rows. National principals see every run as recorded. File names are shown without their folder and
server paths are cut out of every message: the archive, the inbox and the upload folder are nobody's business.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Engine

from registry.access import NATIONAL, Principal, region_prefixes, scope_clause, scope_expr
from registry.errors import UserError
from registry.ingest.headers import CATALOGUE, normalize_header
from registry.models import (
    Attribute,
    AuditLog,
    Enterprise,
    Event,
    IngestionRun,
    Recognition,
    RejectedRow,
    Report,
    User,
    table_of,
)

E, IR, RJ, AUDIT, USERS = (table_of(Enterprise), table_of(IngestionRun), table_of(RejectedRow),
                           table_of(AuditLog), table_of(User))
LOADED_TABLES = tuple(table_of(m) for m in (Recognition, Report, Attribute, Event))

RUN_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "run_id": pl.Int64, "file_name": pl.String, "file_kind": pl.String, "status": pl.String, "source": pl.String,
    "rows_read": pl.Int64, "rows_loaded": pl.Int64, "rows_rejected": pl.Int64, "started_at": pl.Datetime("us"),
    "finished_at": pl.Datetime("us"), "error": pl.String,
}
REJECTION_SCHEMA = {"run_id": pl.Int64, "file_name": pl.String, "row": pl.Int64, "column": pl.String,
                    "reason": pl.String}
CHUNK = 500  # runs examined per round, newest first, until enough are visible

# Headers (normalised) under which a file gives a firm's code or region: every name the catalogue accepts.
_HEADERS = {name: {normalize_header(n) for specs in CATALOGUE.values() for s in specs if s.name == name
                   for n in (s.name, *s.zh, *s.aliases)} for name in ("uscc", "region_code")}
# A folder part of a path (POSIX or Windows): "/srv/zjtx/inbox/archive/2025/x.csv" → "x.csv".
_FOLDERS = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\s\\/'\"，。；]+)+[\\/]")


# ---------------------------------------------------------------- no server paths


def strip_folders(text: pl.Expr) -> pl.Expr:
    """Every path in the text reduced to its file name."""
    return text.str.replace_all(_FOLDERS.pattern, "")


def strip_folders_text(text: str | None) -> str | None:
    return None if text is None else _FOLDERS.sub("", text)


# ---------------------------------------------------------------- whose row is it


def _owned(principal: Principal, engine: Engine, run_ids: Sequence[int]) -> set[int]:
    """The runs whose file-level rows are the principal's: national principals own all; otherwise the runs they
    uploaded, or whose uploader's jurisdiction lies inside theirs."""
    if principal.jurisdiction == NATIONAL:
        return set(run_ids)
    own = region_prefixes(principal.jurisdiction) or ()
    stmt = (sa.select(AUDIT.c.entity_id, AUDIT.c.actor, USERS.c.jurisdiction)
            .select_from(AUDIT.outerjoin(USERS, sa.func.lower(USERS.c.username) == sa.func.lower(AUDIT.c.actor)))
            .where(AUDIT.c.action == "ingest.run", AUDIT.c.entity == "ingestion_run",
                   AUDIT.c.entity_id.in_([str(i) for i in run_ids])))
    owned: set[int] = set()
    with engine.connect() as conn:
        for entity_id, actor, jurisdiction in conn.execute(stmt):
            if actor.lower() == principal.username.lower() or _inside(jurisdiction, own):
                owned.add(int(entity_id))
    return owned


def _inside(jurisdiction: str | None, own: tuple[str, ...]) -> bool:
    if not jurisdiction:
        return False  # cli:…, scheduler, a removed account: national
    try:
        theirs = region_prefixes(jurisdiction)
    except UserError:
        return False
    return theirs is not None and bool(theirs) and all(any(t.startswith(p) for p in own) for t in theirs)


def _loaded_counts(principal: Principal, engine: Engine, run_ids: Sequence[int]) -> pl.DataFrame:
    """run_id, loaded (rows on record under the run), loaded_in_scope (those of the principal's firms)."""
    clause = scope_clause(principal, E.c.region_code)
    mine = sa.literal(True) if clause is None else clause
    parts = []
    for table in LOADED_TABLES:
        parts.append(sa.select(table.c.ingestion_run_id.label("run_id"), sa.func.count().label("loaded"),
                               sa.func.sum(sa.case((mine, 1), else_=0)).label("mine"))
                     .select_from(table.join(E, E.c.id == table.c.enterprise_id))
                     .where(table.c.ingestion_run_id.in_(list(run_ids))).group_by(table.c.ingestion_run_id))
    with engine.connect() as conn:
        rows = [r for part in parts for r in conn.execute(part)]
    frame = pl.DataFrame(rows, orient="row", schema={"run_id": pl.Int64, "loaded": pl.Int64, "mine": pl.Int64})
    return frame.group_by("run_id").agg(pl.col("loaded").sum(), pl.col("mine").sum().alias("loaded_in_scope"))


def attributed_rejections(engine: Engine, run_ids: Sequence[int]) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    """The rejected rows of the runs (REJECTION_SCHEMA + `region_code`, null for a row that names no firm), in
    run, row order, and each row's cells as the file had them."""
    stmt = (sa.select(RJ.c.run_id, IR.c.file_name, RJ.c.row, RJ.c.column, RJ.c.reason, RJ.c.raw)
            .select_from(RJ.join(IR, IR.c.id == RJ.c.run_id))
            .where(RJ.c.run_id.in_(list(run_ids))).order_by(RJ.c.run_id, RJ.c.row, RJ.c.id))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    raws = [r[5] if isinstance(r[5], dict) else {} for r in rows]
    codes = [_cell(raw, "uscc") for raw in raws]
    written_regions = [_cell(raw, "region_code") for raw in raws]
    frame = pl.DataFrame([r[:5] for r in rows], orient="row", schema=REJECTION_SCHEMA).with_columns(
        uscc=pl.Series(codes, dtype=pl.String), written=pl.Series(written_regions, dtype=pl.String))
    registered = _registered_regions(engine, sorted({c for c in codes if c}))
    division = pl.col("uscc").str.slice(2, 6)
    frame = (
        frame.join(registered, on="uscc", how="left", maintain_order="left")
        .with_columns(region_code=pl.coalesce(
            pl.col("registered"),
            pl.when(pl.col("written").str.contains(r"^\d{6}$")).then(pl.col("written")),
            pl.when((pl.col("uscc").str.len_chars() == 18) & division.str.contains(r"^\d{6}$")).then(division)))
        .drop("uscc", "written", "registered")
    )
    return frame, raws


def _cell(raw: dict[str, Any], column: str) -> str | None:
    for header, value in raw.items():
        if value is not None and normalize_header(str(header)) in _HEADERS[column]:
            text = str(value).strip().upper()
            return text or None
    return None


def _registered_regions(engine: Engine, usccs: list[str]) -> pl.DataFrame:
    found: list[tuple[str, str]] = []
    with engine.connect() as conn:
        for start in range(0, len(usccs), 5000):  # stay under the engines' bound-parameter limits
            found += conn.execute(sa.select(E.c.uscc, E.c.region_code)
                                  .where(E.c.uscc.in_(usccs[start:start + 5000]))).all()
    return pl.DataFrame(found, orient="row", schema={"uscc": pl.String, "registered": pl.String})


def visible_rejections(principal: Principal, engine: Engine, run_ids: Sequence[int]
                       ) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    """The rejected rows of the runs that are the principal's (see the module text), with their cells."""
    frame, raws = attributed_rejections(engine, run_ids)
    owned = _owned(principal, engine, sorted(set(frame["run_id"].to_list())))
    mine = (pl.col("region_code").is_not_null() & scope_expr(principal, "region_code")) | (
        pl.col("region_code").is_null() & pl.col("run_id").is_in(list(owned)))
    keep = frame.select(mine.alias("keep"))["keep"].to_list()
    shown = frame.filter(pl.Series(keep, dtype=pl.Boolean)).drop("region_code").with_columns(
        pl.col("file_name").str.replace(r"^.*[\\/]", ""), strip_folders(pl.col("reason")))
    return shown, [raw for raw, k in zip(raws, keep, strict=True) if k]


# ---------------------------------------------------------------- runs


def _stored_runs(engine: Engine, limit: int, offset: int = 0) -> pl.DataFrame:
    from registry.fastread import read_frame

    stmt = (sa.select(IR.c.id.label("run_id"), IR.c.file_name, IR.c.kind.label("file_kind"), IR.c.status,
                      IR.c.source, IR.c.rows_read, IR.c.rows_loaded, IR.c.rows_rejected, IR.c.started_at,
                      IR.c.finished_at, IR.c.error)
            .order_by(IR.c.id.desc()).limit(limit).offset(offset))
    return read_frame(engine, stmt, RUN_SCHEMA)


def visible_runs(principal: Principal, engine: Engine, limit: int = 50) -> pl.DataFrame:
    """The latest runs the principal may see, newest first (RUN_SCHEMA; times in UTC), with the counts of their
    rows (all rows for national principals and for the uploader's side, otherwise their firms' rows only)."""
    if principal.jurisdiction == NATIONAL:
        return _tidy(_stored_runs(engine, limit))
    found: list[pl.DataFrame] = []
    offset, have = 0, 0
    while have < limit:
        stored = _stored_runs(engine, CHUNK, offset)
        if stored.is_empty():
            break
        offset += CHUNK
        ids = stored["run_id"].to_list()
        owned = _owned(principal, engine, ids)
        loaded = _loaded_counts(principal, engine, ids)
        rejected, _ = visible_rejections(principal, engine, ids)
        counts = (stored.select("run_id")
                  .join(loaded, on="run_id", how="left")
                  .join(rejected.group_by("run_id").agg(pl.len().cast(pl.Int64).alias("rejected_mine")),
                        on="run_id", how="left")
                  .with_columns(pl.col("loaded", "loaded_in_scope", "rejected_mine").fill_null(0),
                                owned=pl.col("run_id").is_in(list(owned))))
        runs = (
            stored.join(counts, on="run_id", how="left")
            .filter(pl.col("owned") | (pl.col("loaded_in_scope") > 0) | (pl.col("rejected_mine") > 0))
            .with_columns(
                rows_loaded=pl.when(pl.col("owned")).then(pl.col("rows_loaded")).otherwise(pl.col("loaded_in_scope")),
                rows_rejected=pl.col("rejected_mine"),
                error=pl.when(pl.col("owned")).then(pl.col("error")))
            .with_columns(rows_read=pl.when(pl.col("owned")).then(pl.col("rows_read"))
                          .otherwise(pl.col("rows_loaded") + pl.col("rows_rejected")))
            .select(list(RUN_SCHEMA))
        )
        found.append(runs)
        have += runs.height
    if not found:
        return pl.DataFrame(schema=RUN_SCHEMA)
    return _tidy(pl.concat(found).head(limit))


def _tidy(runs: pl.DataFrame) -> pl.DataFrame:
    """The file's own name only, and no folder in an error message."""
    return runs.with_columns(pl.col("file_name").str.replace(r"^.*[\\/]", ""), strip_folders(pl.col("error")))
