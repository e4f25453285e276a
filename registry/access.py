"""Who is asking, and which firms they may see.

A principal belongs to a jurisdiction (`cn`, `cn-gd`, `cn-gd-shenzhen` ...); they see the firms whose region code
falls in it (GB/T 2260 prefixes from data/reference/jurisdictions.csv). `cn` sees everything. Every query in
registry/queries.py takes a principal first and applies `scope_clause`, so no page can forget the filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import polars as pl
from sqlalchemy import ColumnElement, false, or_

from registry import reference
from registry.errors import UserError

NATIONAL = "cn"


@dataclass(frozen=True)
class Principal:
    username: str
    role: str
    jurisdiction: str


SYSTEM = Principal("system", "admin", NATIONAL)


@cache
def region_prefixes(jurisdiction: str) -> tuple[str, ...] | None:
    """The region-code prefixes of a jurisdiction; None for `cn` (no restriction).

    Raises UserError for a jurisdiction that is not in the reference table: an unknown scope must never
    silently mean "everything" or "nothing".
    """
    if jurisdiction == NATIONAL:
        return None
    rows = reference.jurisdictions().filter(pl.col("id") == jurisdiction)
    if rows.is_empty():
        raise UserError(f"未知辖区 / unknown jurisdiction: {jurisdiction!r}")
    return tuple(p for p in rows["region_codes"][0].split(";") if p)


def scope_clause(principal: Principal, region_code_column) -> ColumnElement[bool] | None:
    """SQL condition limiting `region_code_column` to the principal's jurisdiction; None when unrestricted."""
    prefixes = region_prefixes(principal.jurisdiction)
    if prefixes is None:
        return None
    if not prefixes:
        return false()
    return or_(*(region_code_column.startswith(p, autoescape=True) for p in prefixes))


def in_scope(principal: Principal, region_code: str | None) -> bool:
    """Whether one firm (by its region code) is visible to the principal."""
    prefixes = region_prefixes(principal.jurisdiction)
    if prefixes is None:
        return True
    return bool(region_code) and any(region_code.startswith(p) for p in prefixes)


def jurisdictions_in_scope(principal: Principal) -> pl.DataFrame:
    """The reference jurisdictions a principal may look at: their own, those below it, and those above it
    (a provincial official compares against the national plan)."""
    table = reference.jurisdictions()
    own = principal.jurisdiction
    if own == NATIONAL:
        return table
    ancestors = _ancestors(own)
    return table.filter(
        (pl.col("id") == own) | pl.col("id").str.starts_with(own + "-") | pl.col("id").is_in(ancestors)
    )


def _ancestors(jurisdiction: str) -> list[str]:
    parents = dict(zip(reference.jurisdictions()["id"], reference.jurisdictions()["parent_id"], strict=True))
    chain: list[str] = []
    current = parents.get(jurisdiction, "")
    while current:
        chain.append(current)
        current = parents.get(current, "")
    return chain
