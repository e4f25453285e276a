"""Evaluation input (interfaces B): everything the evaluation needs about a set of firms, as polars frames.

A Bundle comes from the database (`load_bundle`) or straight from data files (registry.screening, for
`zjtx screen`, which stores nothing). Column names are the contract's English names; every frame has the
same schema whether it has rows or not, so the evaluation never special-cases an empty input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlmodel import SQLModel

from registry.fastread import Deferred, Queries, Query, read_frames
from registry.fastread import conform as fast_conform
from registry.models import REPORT_METRICS, Attribute, Enterprise, Event, Recognition, Report, table_of
from registry.policy import bundle_cache

# Column → polars type. The constants give dtype classes (pl.String), which polars takes as well as instances;
# mypy reads a class as type[pl.String], not as a pl.DataType, hence the union.
Schema = dict[str, pl.DataType | type[pl.DataType]]

ENTERPRISE_SCHEMA: Schema = {
    "uscc": pl.String, "name": pl.String, "region_code": pl.String, "industry_code": pl.String,
    "founded_on": pl.Date, "registered_capital": pl.Float64, "ownership": pl.String,
    "listing_board": pl.String, "main_product": pl.String,
}
RECOGNITION_SCHEMA: Schema = {
    "uscc": pl.String, "tier": pl.String, "jurisdiction": pl.String, "batch": pl.String,
    "recognized_on": pl.Date, "valid_until": pl.Date, "status": pl.String, "document_no": pl.String,
    "id": pl.Int64, "superseded_by": pl.Int64, "ended_on": pl.Date,
}
REPORT_SCHEMA: Schema = {
    "uscc": pl.String, "period": pl.String, "period_type": pl.String, "year": pl.Int32, "basis": pl.String,
    **{m: pl.Float64 for m in REPORT_METRICS},
}
ATTRIBUTE_SCHEMA: Schema = {
    "uscc": pl.String, "attribute": pl.String, "value": pl.String, "effective_on": pl.Date,
    "expires_on": pl.Date,
}
EVENT_SCHEMA: Schema = {
    "uscc": pl.String, "event": pl.String, "occurred_on": pl.Date, "notified_on": pl.Date, "detail": pl.String,
}
SCHEMAS = {
    "enterprises": ENTERPRISE_SCHEMA, "recognitions": RECOGNITION_SCHEMA, "reports": REPORT_SCHEMA,
    "attributes": ATTRIBUTE_SCHEMA, "events": EVENT_SCHEMA,
}


def conform(frame: pl.DataFrame | None, schema: Schema) -> pl.DataFrame:
    """The frame with exactly `schema`'s columns and types (absent columns become nulls)."""
    if frame is None:
        return pl.DataFrame(schema=schema)
    return frame.select(
        (pl.col(c) if c in frame.columns else pl.lit(None)).cast(t, strict=False).alias(c)
        for c, t in schema.items()
    )


@dataclass(frozen=True)
class Bundle:
    enterprises: pl.DataFrame
    recognitions: pl.DataFrame
    reports: pl.DataFrame
    attributes: pl.DataFrame
    events: pl.DataFrame
    # The annual figures of every firm and year (registry.policy.indicators.annual_figures), when a run that
    # evaluates many policies over one bundle has computed them once (with_annual_figures); None otherwise.
    annual: pl.DataFrame | None = field(default=None, repr=False, compare=False)
    # The registry_version (SQLite) of the snapshot this bundle was read from, when the database keeps one
    # (registry/policy/bundle_cache.py); None otherwise.
    copy_version: int | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, enterprises: pl.DataFrame | None = None, recognitions: pl.DataFrame | None = None,
           reports: pl.DataFrame | None = None, attributes: pl.DataFrame | None = None,
           events: pl.DataFrame | None = None) -> Bundle:
        """A bundle from whatever frames are at hand, conformed to the schemas (tests, screen, benchmarks)."""
        if reports is not None and "period_type" not in reports.columns:
            reports = reports.with_columns(period_columns(pl.col("period")))
        return cls(
            enterprises=conform(enterprises, ENTERPRISE_SCHEMA),
            recognitions=conform(recognitions, RECOGNITION_SCHEMA),
            reports=conform(reports, REPORT_SCHEMA),
            attributes=conform(attributes, ATTRIBUTE_SCHEMA),
            events=conform(events, EVENT_SCHEMA),
        )

    def only(self, usccs: Iterable[str]) -> Bundle:
        """The bundle of these firms. When the annual figures were computed once, the subset carries them and
        its `reports` are left empty: evaluation reads the annual figures only, and filtering millions of report
        rows again for every policy of a flags run cost more than the evaluation itself."""
        keep = pl.Series("uscc", list(usccs), dtype=pl.String).implode()
        if self.annual is None:
            return Bundle(**{name: getattr(self, name).filter(pl.col("uscc").is_in(keep)) for name in SCHEMAS})
        frames = {name: getattr(self, name).filter(pl.col("uscc").is_in(keep))
                  for name in SCHEMAS if name != "reports"}
        return Bundle(**frames, reports=self.reports.clear(), annual=self.annual.filter(pl.col("uscc").is_in(keep)))


def period_columns(period: pl.Expr) -> list[pl.Expr]:
    """period_type and year from a normalised period string (2024 | 2024Q3 | 2024-07)."""
    return [
        pl.when(period.str.contains("Q")).then(pl.lit("quarterly"))
        .when(period.str.contains("-")).then(pl.lit("monthly"))
        .otherwise(pl.lit("annual")).alias("period_type"),
        period.str.slice(0, 4).cast(pl.Int32, strict=False).alias("year"),
    ]


# Up to this many firms are filtered in SQL (an IN list; SQLite binds at most 32766 parameters on the
# fallback reader); a longer list reads every firm and filters in polars, which is faster than many IN chunks.
_SQL_FILTER_LIMIT = 5000

_CHILD_TABLES: dict[str, type[SQLModel]] = {"recognitions": Recognition, "reports": Report, "attributes": Attribute,
                                            "events": Event}


def load_bundle(engine: sa.Engine, usccs: list[str] | None = None, *, metrics: Iterable[str] | None = None,
                years: Iterable[int] | None = None, attributes: Iterable[str] | None = None,
                refresh_copy: bool = False) -> Bundle:
    """The firms in the database (or only `usccs`) with all their recognitions, reports, attributes, events.

    For a run that knows what it evaluates (`zjtx evaluate`: one policy's `indicators.data_needs`), read less
    — at a million firms the reports are most of the read: `metrics` reads only these report columns (the
    others are null); `metrics` with `years` reads only the reports the annual figures of those years need:
    a firm-year whose annual report has every one of the metrics (on PostgreSQL: every one that a sub-annual
    report of those years carries, `_settled_reports`) is read without its quarterly and monthly reports, which
    could not change a figure. `attributes` reads only the attribute rows of these names.
    Such a bundle is for evaluation, not for anything that counts reports.

    Read through registry.fastread (columnar, one snapshot on PostgreSQL). Child rows are read by
    enterprise_id and given their USCC in polars: joining `enterprise` in SQL cost the server a hash join of the
    whole registry for nothing the database does better. On SQLite a read of every firm takes the columnar
    copy of the tables when it is current (registry/policy/bundle_cache.py); `refresh_copy` (the flags job)
    makes a whole read that missed it the new copy."""
    ids = list(dict.fromkeys(usccs)) if usccs is not None else None
    e = table_of(Enterprise).c
    in_sql = ids is not None and len(ids) <= _SQL_FILTER_LIMIT
    firm_ids = sa.select(e.id).where(e.uscc.in_(ids)) if in_sql and ids is not None else None
    sqlite = engine.dialect.name == "sqlite"
    queries = _queries(engine, firm_ids, metrics, years, attributes)
    version, annual = None, None
    if not in_sql and bundle_cache.usable(engine):
        whole = queries if metrics is None and years is None and attributes is None else _queries(engine)
        read = bundle_cache.read(engine, queries, lambda copy: _narrowed(copy, queries, metrics, years, attributes),
                                 whole=whole, store=refresh_copy)
        frames, version, annual = read.frames, read.version, read.annual
    elif metrics is not None and years is not None and not sqlite:
        frames = read_frames(engine, _settled_reports(queries, sorted(set(metrics)), sorted(set(years)), firm_ids))
        frames.pop(_CARRIED)
    else:
        frames = read_frames(engine, queries)
    if metrics is not None and years is not None and sqlite:
        frames["reports"] = _without_covered_sub_annual(frames["reports"], sorted(set(metrics)))

    enterprises = frames.pop("enterprises")
    if ids is not None and not in_sql:
        enterprises = enterprises.filter(pl.col("uscc").is_in(pl.Series(ids, dtype=pl.String).implode()))
    uscc_of = enterprises.select("enterprise_id", "uscc")
    children = {name: _with_uscc(frame, uscc_of) for name, frame in frames.items()}
    if annual is not None and ids is not None:
        annual = annual.join(uscc_of.select("uscc"), on="uscc", how="semi", maintain_order="left")
    return Bundle(enterprises=conform(enterprises, ENTERPRISE_SCHEMA),
                  **{name: conform(frame, SCHEMAS[name]) for name, frame in children.items()},
                  annual=annual, copy_version=version)


_Queries = dict[str, tuple[sa.Select[*tuple[Any, ...]], Schema]]


def _with_uscc(frame: pl.DataFrame, uscc_of: pl.DataFrame) -> pl.DataFrame:
    """The child rows whose firm is in `uscc_of` (enterprise_id, uscc), in their order, with the firm's USCC: an
    inner join. Ids are the tables' integer keys, so the USCC is looked up in an array indexed by the id rather
    than by hashing every row (half the time of the join for the 1.7M reports of 200,000 firms); ids too sparse
    for an array take the join."""
    ids = frame.get_column("enterprise_id")
    known = uscc_of.get_column("enterprise_id")
    if frame.is_empty() or known.is_empty():
        return frame.join(uscc_of, on="enterprise_id", how="inner", maintain_order="left")
    lowest, highest = min(ids.min(), known.min()), max(ids.max(), known.max())  # type: ignore[type-var]
    if lowest is None or int(lowest) < 0 or int(highest) > 4 * known.len() + 1_000_000:  # type: ignore[arg-type]
        return frame.join(uscc_of, on="enterprise_id", how="inner", maintain_order="left")
    by_id = pl.Series("uscc", [None], dtype=pl.String).extend_constant(None, int(highest))  # type: ignore[arg-type]
    by_id = by_id.scatter(known, uscc_of.get_column("uscc"))
    return frame.with_columns(by_id.gather(ids)).filter(pl.col("uscc").is_not_null())


def _queries(engine: sa.Engine, firm_ids: sa.Select[*tuple[Any, ...]] | None = None,
             metrics: Iterable[str] | None = None, years: Iterable[int] | None = None,
             attributes: Iterable[str] | None = None) -> _Queries:
    """The SELECTs of load_bundle, by frame name, with their schemas (enterprise_id instead of uscc on children)."""
    e = table_of(Enterprise).c
    firms = sa.select(e.id.label("enterprise_id"), *(getattr(e, c) for c in ENTERPRISE_SCHEMA))
    if firm_ids is not None:
        firms = firms.where(e.id.in_(firm_ids))
    queries: _Queries = {"enterprises": (firms, {"enterprise_id": pl.Int64, **ENTERPRISE_SCHEMA})}
    for name, table in _CHILD_TABLES.items():
        t = table_of(table).c
        schema = {c: dt for c, dt in SCHEMAS[name].items() if c != "uscc"}
        if name == "reports" and metrics is not None:
            wanted = set(metrics)
            schema = {c: dt for c, dt in schema.items() if c not in REPORT_METRICS or c in wanted}
        stmt = sa.select(t.enterprise_id, *(getattr(t, c) for c in schema))
        if firm_ids is not None:
            stmt = stmt.where(t.enterprise_id.in_(firm_ids))
        if name == "reports" and metrics is not None and years is not None and engine.dialect.name == "sqlite":
            # In process there is no wire to save: read the years' rows and drop the covered sub-annual ones in
            # polars (linear whatever SQLite's planner does with the anti-join: issue 13). On PostgreSQL
            # load_bundle reads them through _settled_reports.
            stmt = stmt.where(t.year.in_(sorted(set(years))))
        if name == "attributes" and attributes is not None:
            stmt = stmt.where(t.attribute.in_(sorted(set(attributes)) or [""]))
        queries[name] = (stmt, {"enterprise_id": pl.Int64, **schema})
    return queries


def _narrowed(copy: dict[str, pl.DataFrame], queries: _Queries, metrics: Iterable[str] | None,
              years: Iterable[int] | None, attributes: Iterable[str] | None) -> dict[str, pl.DataFrame]:
    """The copy of the whole tables (bundle_cache) narrowed in polars to what `queries` select on SQLite: the
    same filters as `_queries`, the same columns and types."""
    reports, attrs = copy["reports"], copy["attributes"]
    if metrics is not None and years is not None:
        reports = reports.filter(pl.col("year").is_in(sorted(set(years))))
    if attributes is not None:
        attrs = attrs.filter(pl.col("attribute").is_in(sorted(set(attributes)) or [""]))
    narrowed = {**copy, "reports": reports, "attributes": attrs}
    return {name: fast_conform(narrowed[name], schema) for name, (_, schema) in queries.items()}


def _without_covered_sub_annual(reports: pl.DataFrame, metrics: list[str]) -> pl.DataFrame:
    """`_annual_figure_rows` in polars (SQLite): sub-annual rows of a firm-year whose annual report has every one
    of `metrics` are dropped (they cannot change an annual figure). PostgreSQL drops more (`_settled_reports`);
    the figures are the same (tests/test_bundle_reads.py)."""
    annual = pl.col("period_type") == "annual"
    complete = (reports.filter(annual, *[pl.col(m).is_not_null() for m in metrics])
                .select("enterprise_id", "year").unique().with_columns(pl.lit(True).alias("_complete")))
    return (reports.join(complete, on=["enterprise_id", "year"], how="left", maintain_order="left")
            .filter(annual | pl.col("_complete").is_null()).drop("_complete"))


_Select = sa.Select[*tuple[Any, ...]]  # a SELECT of any columns


_CARRIED = "sub_annual_carries"


def _settled_reports(queries: _Queries, metrics: list[str], years: list[int],
                     firm_ids: _Select | None = None) -> Queries:
    """`queries` with PostgreSQL's lean report read: the report rows of `years`, less the sub-annual rows that
    cannot change an annual figure — those of a firm-year whose annual report settles every one of `metrics`.

    The annual report settles a metric when it has it, or when no monthly or quarterly report of these years has it
    (a metric only annual reports carry, such as Ⅰ类知识产权 or 国际市场占有率 in the demo): every sub-annual source
    of `annual_figures` (the year-end 本年累计 report, the 12 months, the 4 quarters) then gives null for it whatever
    rows there are, and the annual value — null or not — is the figure; requiring an annual row keeps every
    firm-year of `annual_figures`' output. So a first query (one scan of the years' sub-annual reports) finds the
    metrics sub-annual reports carry (of the firms read: `firm_ids`, when the firms are chosen in SQL), and the
    report read — built from its answer in the same snapshot — drops the
    sub-annual rows of firm-years whose annual report has all of those (`_annual_figure_rows`). At a million firms
    that leaves 2.5 million rows of `cn/little-giant/2026` unsent. The answer is put into the SQL rather than
    computed inside it: as a subquery it hid from the planner how many annual reports pass, and the anti-join
    became a merge join that sorted every annual report once per worker (10 s instead of ≈ 3 s)."""
    s = table_of(Report).c
    carries = sa.select(*[sa.func.coalesce(sa.func.bool_or(s[m].is_not(None)), False).label(m) for m in metrics]
                        ).where(s.year.in_(years), s.period_type.in_(["monthly", "quarterly"]))
    if firm_ids is not None:
        carries = carries.where(s.enterprise_id.in_(firm_ids))
    stmt, schema = queries["reports"]

    def reports(frames: Mapping[str, pl.DataFrame]) -> _Select:
        carried = frames[_CARRIED].row(0, named=True)
        return _annual_figure_rows(stmt, s, [m for m in metrics if carried[m]], years)

    settled: dict[str, tuple[Query | Deferred, Schema]] = {_CARRIED: (carries, {m: pl.Boolean for m in metrics})}
    settled.update({name: ((reports, schema) if name == "reports" else (query, schema))
                    for name, (query, schema) in queries.items()})
    return settled


def _annual_figure_rows(stmt: _Select, t: sa.ColumnCollection[str, sa.Column[Any]], metrics: list[str],
                        years: list[int]) -> _Select:
    """The report rows of `years`, less the sub-annual rows of firm-years with an annual report that has every
    one of `metrics` (no metric: any annual report): an anti-join in PostgreSQL, so most sub-annual rows are
    neither sent nor decoded at a million firms. (SQLite drops the rows in polars instead:
    `_without_covered_sub_annual`.)

    Written as a NOT EXISTS AND-ed into the WHERE clause: PostgreSQL plans that as a hash anti-join, which
    spills to disk when the complete firm-years outgrow work_mem and stays linear. The `(enterprise_id, year)
    NOT IN (subquery)` form is hashed only while the planner's estimate of the subquery fits in work_mem;
    beyond that (600,000 firm-years estimated for the peers' two years at 1M firms, 4 MB work_mem) it is a
    plain SubPlan that rescans the materialised list for every report row: quadratic, hours at 1M firms.
    tests/test_scaling.py checks the plan under a tiny work_mem."""
    a = table_of(Report).alias("complete_annual")
    covered = sa.exists().where(
        t.period_type != "annual", a.c.enterprise_id == t.enterprise_id, a.c.year == t.year,
        a.c.period_type == "annual", *[a.c[m].is_not(None) for m in metrics])
    return stmt.where(t.year.in_(years), ~covered)
