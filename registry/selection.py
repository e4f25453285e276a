"""Which firms and recognitions an analytics query covers, in SQL (shared by registry.pipeline and registry.targets).

- The firms: the principal's jurisdiction (registry.access), optionally narrowed to a region-code prefix
  ("44" a province, "4403" a city, "440305" a county) and a GB/T 4754 industry section letter or code prefix.
- "Held on a day" reads the recognitions as history, so that any past date gets the answer it had then: a row
  counts from recognized_on to valid_until (open-ended when the file gave none) unless it was closed earlier
  (`ended_on`: revoked, expired by an official, or superseded by its 复核 renewal, which takes over that day).
  A revocation or closure without a date counts from the start (as registry.snapshot reads it); withdrawn rows
  never happened. For today this equals registry.queries.valid_on (status active) on data whose closures are dated
  on or before today.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Engine, Select

from registry.access import Principal, scope_clause
from registry.models import TIERS, Enterprise, Recognition, table_of

E = table_of(Enterprise)
R = table_of(Recognition)

# Ladder rank of the national tiers (models.TIERS order); regional tiers have none and never count as a step up.
TIER_RANK: dict[str, int] = {tier: rank for rank, tier in enumerate(TIERS)}


def read_frame(engine: Engine, stmt: Select[Any], schema: dict[str, Any]) -> pl.DataFrame:
    """The statement's rows as a frame with exactly `schema` (an empty result keeps the columns and types)."""
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return pl.DataFrame(rows, schema=schema, orient="row")


def firm_conditions(principal: Principal, region: str | None = None,
                    industry: str | None = None) -> list[sa.ColumnElement[bool]]:
    """Conditions on `enterprise` for the principal's scope, a region-code prefix and an industry prefix."""
    conditions: list[sa.ColumnElement[bool]] = []
    scope = scope_clause(principal, E.c.region_code)
    if scope is not None:
        conditions.append(scope)
    if region:
        conditions.append(E.c.region_code.startswith(region.strip(), autoescape=True))
    if industry:
        conditions.append(E.c.industry_code.startswith(industry.strip().upper(), autoescape=True))
    return conditions


def recognition_source(principal: Principal, region: str | None = None, industry: str | None = None
                       ) -> tuple[sa.FromClause, list[sa.ColumnElement[bool]]]:
    """`recognition` (joined to `enterprise` only when a firm condition needs it: a national, unfiltered count
    does not pay for the join) and the conditions to apply."""
    return firm_rows_source(R, principal, region, industry)


def firm_rows_source(table: sa.Table, principal: Principal, region: str | None = None, industry: str | None = None
                     ) -> tuple[sa.FromClause, list[sa.ColumnElement[bool]]]:
    """`table` (a table of firms' rows: enterprise_id) joined to `enterprise` only when a firm condition needs it,
    and the conditions to apply."""
    conditions = firm_conditions(principal, region, industry)
    if not conditions:
        return table, []
    return table.join(E, E.c.id == table.c.enterprise_id), conditions


def recognitions_of_firms(stmt: Select[Any], principal: Principal, region: str | None = None,
                          industry: str | None = None) -> Select[Any]:
    """Select from `recognition` limited to the chosen firms."""
    source, conditions = recognition_source(principal, region, industry)
    return stmt.select_from(source).where(*conditions)


def held_on(day: date | sa.ColumnElement[date], table: sa.FromClause = R) -> sa.ColumnElement[bool]:
    """The recognition row (of `table`, default `recognition`) was in force on `day` (a date or a SQL date)."""
    c = table.c
    return sa.and_(
        c.status != "withdrawn",
        c.recognized_on <= day,
        sa.or_(c.valid_until.is_(None), c.valid_until >= day),
        sa.or_(c.ended_on.is_(None), c.ended_on > day),
        # Revoked / expired with no date: the closure counts from the start.
        sa.not_(sa.and_(c.status.in_(("revoked", "expired")), c.ended_on.is_(None))),
    )


def tier_rank(tier_column: sa.ColumnElement[str]) -> sa.ColumnElement[int]:
    """SQL ladder rank of a tier column (NULL for a regional tier)."""
    return sa.case(TIER_RANK, value=tier_column, else_=None)


def year_of(column: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
    return sa.cast(sa.extract("year", column), sa.Integer)
