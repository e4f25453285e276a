"""Who is asking, what they may do, and which firms they may see.

Roles (issue 6): `admin` everything (user management, audit trail, data intake); `official` reads and exports
within their jurisdiction; `analyst` reads and exports aggregate tables, but no list naming firms, no review list
and no briefing; `manager` is an official who can also record review decisions and revocations.
`can(principal, action)` is the one place that says which role may do what; `can_export(principal, what)` the one
place that says who may download what.

A principal belongs to one jurisdiction: `cn` (national), a jurisdiction id of data/reference/jurisdictions.csv
(`cn-gd`, `cn-gd-shenzhen` ...), or the 6-digit GB/T 2260 code of a prefecture or county (`440100`, `440106`) for
the places that have no jurisdiction id. They see the firms whose region code falls in it — their area and
everything below — and nothing else. Every query in registry/queries.py takes a principal first and applies
`scope_clause`, so no page can forget the filter. Mutations are marked with `@mutation(action)`, which checks the
role before the function runs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import ParamSpec, TypeVar

import polars as pl
from sqlalchemy import ColumnElement, false, or_

from registry import reference
from registry.errors import UserError
from registry.label_codes import FIXED

NATIONAL = "cn"
ROLES: tuple[str, ...] = ("admin", "manager", "official", "analyst")
ROLE_LABELS: dict[str, tuple[str, str]] = FIXED["role"]  # names: the label catalogue (registry/labels.py)

# action → (中文, English). Pages and mutations ask `can(principal, action)`; nothing checks role names directly.
ACTIONS: dict[str, tuple[str, str]] = {
    "read": ("查看辖区内数据", "read the data of the jurisdiction"),
    "export": ("导出企业名单、复核清单、简报", "export lists of firms, review lists and briefings"),
    "export.aggregate": ("导出汇总统计表", "export aggregate tables"),
    "review.decide": ("记录复核决定", "record review decisions"),
    "recognition.revoke": ("撤销认定", "revoke recognitions"),
    "data.ingest": ("上传、导入数据文件", "upload and ingest data files"),
    "jobs.run": ("立即运行定时任务", "run scheduled jobs now"),
    "users.manage": ("管理用户与角色", "manage users and roles"),
    "audit.view": ("查看、导出审计日志", "view and export the audit trail"),
}

# Actions over things that belong to no region (accounts, the audit trail): national principals only, whatever
# the role says (registry.auth also refuses to give the admin role a non-national jurisdiction).
NATIONAL_ACTIONS = frozenset({"users.manage", "audit.view"})

ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(ACTIONS),
    "manager": frozenset({"read", "export", "export.aggregate", "review.decide", "recognition.revoke"}),
    "official": frozenset({"read", "export", "export.aggregate"}),
    "analyst": frozenset({"read", "export.aggregate"}),
}

# What a download holds → the action it needs (docs/access.md, "导出 Exports"). Every download button asks
# can_export(principal, what); the kinds are the download's content, not the page it sits on.
EXPORTS: dict[str, tuple[str, str, str]] = {
    "aggregate": ("export.aggregate", "汇总统计表（不列企业）", "aggregate table (names no firm)"),
    "firms": ("export", "企业名单或企业明细", "list or details of firms"),
    "review_list": ("export", "复核清单", "review list"),
    "briefing": ("export", "简报", "briefing"),
    "audit": ("audit.view", "审计日志", "audit trail"),
}


@dataclass(frozen=True)
class Principal:
    username: str
    role: str
    jurisdiction: str


SYSTEM = Principal("system", "admin", NATIONAL)


class PermissionDenied(UserError):
    """The principal's role does not allow the action, or the firm lies outside their jurisdiction."""


# ---------------------------------------------------------------- roles and actions


def role_can(role: str, action: str) -> bool:
    """Whether `role` may perform `action`. An unknown action is a programming error, not a silent "no"."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; known: {', '.join(ACTIONS)}")
    return action in ROLE_ACTIONS.get(role, frozenset())


def can(principal: Principal, action: str) -> bool:
    """Whether the principal may perform `action` (see ACTIONS). Scope is separate: see in_scope/scope_clause."""
    if action in NATIONAL_ACTIONS and principal.jurisdiction != NATIONAL:
        return False
    return role_can(principal.role, action)


def can_export(principal: Principal, what: str) -> bool:
    """Whether the principal may download a `what` (see EXPORTS); the one check every download button makes."""
    if what not in EXPORTS:
        raise ValueError(f"unknown export {what!r}; known: {', '.join(EXPORTS)}")
    return can(principal, EXPORTS[what][0])


def require(principal: Principal, action: str, region_code: str | None = None) -> None:
    """Raise PermissionDenied unless the principal may perform `action` (on the firm at `region_code`, if given)."""
    if not can(principal, action):
        zh, en = ACTIONS[action]
        raise PermissionDenied(f"权限不足：角色 {principal.role} 不能{zh} / permission denied: role "
                               f"{principal.role!r} may not {en}")
    if region_code is not None and not in_scope(principal, region_code):
        raise PermissionDenied(f"权限不足：该企业不在辖区 {principal.jurisdiction} 内 / permission denied: the firm is "
                               f"outside jurisdiction {principal.jurisdiction!r}")


P = ParamSpec("P")
R = TypeVar("R")


def mutation(action: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Mark a function that changes data and takes the acting principal first: the role is checked before it runs.

    The scope-leakage test calls every principal-first function of the registry as a read; functions marked
    here are left out of it (they are covered by the role × action tests instead).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def checked(*args: P.args, **kwargs: P.kwargs) -> R:
            principal = args[0] if args else kwargs.get("principal")
            if not isinstance(principal, Principal):
                raise TypeError(f"{function.__qualname__}: the acting Principal must come first")
            require(principal, action)
            return function(*args, **kwargs)

        checked.__zjtx_mutation__ = action  # type: ignore[attr-defined]
        return checked

    return decorate


def is_mutation(function: Callable[..., object]) -> bool:
    return hasattr(function, "__zjtx_mutation__")


# ---------------------------------------------------------------- jurisdictions and scope

_REGION_CODE = re.compile(r"\d{6}")


@cache
def region_prefixes(jurisdiction: str) -> tuple[str, ...] | None:
    """The region-code prefixes of a jurisdiction; None for `cn` (no restriction).

    Raises UserError for a jurisdiction that is neither in the reference table nor a known prefecture/county code:
    an unknown scope must never silently mean "everything" or "nothing".
    """
    if jurisdiction == NATIONAL:
        return None
    rows = reference.jurisdictions().filter(pl.col("id") == jurisdiction)
    if not rows.is_empty():
        return tuple(p for p in rows["region_codes"][0].split(";") if p)
    if _REGION_CODE.fullmatch(jurisdiction or ""):
        return (_region_code_prefix(jurisdiction),)
    raise UserError(f"未知辖区 / unknown jurisdiction: {jurisdiction!r} (a jurisdictions.csv id such as cn-gd, or the "
                    f"6-digit code of a prefecture or county such as 440106)")


def _region_code_prefix(code: str) -> str:
    """440100 (prefecture) → 4401; 440106 (county under a known prefecture) → 440106. Provinces use their ids."""
    regions = reference.regions()
    known = regions.filter(pl.col("code") == code)
    if not known.is_empty() and known["level"][0] == "prefecture":
        return code[:4]
    if not known.is_empty() and known["level"][0] == "county":
        return code
    prefecture = regions.filter((pl.col("code") == code[:4] + "00") & (pl.col("level") == "prefecture"))
    if known.is_empty() and not code.endswith("00") and not prefecture.is_empty():
        return code
    raise UserError(f"未知辖区 / unknown jurisdiction: {code!r} is not a prefecture or county code of GB/T 2260 "
                    f"(provinces are given by id, e.g. cn-gd)")


def validate_jurisdiction(jurisdiction: str) -> str:
    """The jurisdiction, stripped, if it is known; UserError otherwise (for user management)."""
    jurisdiction = (jurisdiction or "").strip()
    region_prefixes(jurisdiction)
    return jurisdiction


def scope_clause(principal: Principal, region_code_column: ColumnElement[str]) -> ColumnElement[bool] | None:
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
    if not region_code:
        return False
    return any(region_code.startswith(p) for p in prefixes)


def scope_expr(principal: Principal, region_code: pl.Expr | str) -> pl.Expr:
    """Vectorised in_scope, for frames that carry a region code."""
    column = pl.col(region_code) if isinstance(region_code, str) else region_code
    prefixes = region_prefixes(principal.jurisdiction)
    if prefixes is None:
        return pl.lit(True)
    if not prefixes:
        return pl.lit(False)
    return pl.any_horizontal([column.str.starts_with(p) for p in prefixes]).fill_null(False)


def jurisdictions_in_scope(principal: Principal) -> pl.DataFrame:
    """The reference jurisdictions whose whole area lies inside the principal's: their own and those below it.

    Jurisdictions above (the province of a city official, the national plan) are not in scope: their figures
    count firms the principal may not see.
    """
    table = reference.jurisdictions()
    own = region_prefixes(principal.jurisdiction)
    if own is None:
        return table
    inside = (
        pl.col("region_codes").str.split(";").list.eval(pl.element().filter(pl.element() != ""))
        .list.eval(pl.any_horizontal([pl.element().str.starts_with(p) for p in own]) if own else pl.lit(False))
        .list.all()
    )
    has_area = pl.col("region_codes") != ""
    return table.filter((pl.col("id") == principal.jurisdiction) | (has_area & inside))
