"""复核 risk: which recognitions due for 复核 in the coming months are on course to fail it.

Definitions (docs/operations.md states them to users):
- **due** — a recognition in force on the as-of date (registry.lifecycle: current_recognitions, with its
  jurisdiction's rules) whose next 复核 date (registry.lifecycle.next_reviews, the date the `review_due` flag uses)
  falls within `months` months after the as-of date (config `[monitoring] review_risk_months`).
- **the standard** — `policy_in_force(tier, jurisdiction, 复核 date, "review")`: the rule set that will judge that
  复核 (the 2022 小巨人 rules for a 复核 in 2026, 117号; the 2026 ones after). For the second list, "would fail a new
  application": `policy_in_force(tier, jurisdiction, 复核 date, "new_application")` (the 2026 standard from 2026).
- **on course to fail** — the firm's latest figures (the as-of date's view: 上年 = the as-of year − 1) give the
  verdict `ineligible` under that standard. Each failing criterion (leaf) is listed with the engine's actual and
  expected values, and `gap` = actual − threshold where both are single numbers (negative: short by that much).

One engine call per policy over all its due firms (polars, no per-firm loop); only the principal's firms.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import Engine

from registry import result_store
from registry.access import SYSTEM, Principal, require
from registry.db import get_engine
from registry.export import to_excel_workbook_bytes
from registry.label_codes import FIXED
from registry.lifecycle import _policy_breakpoints, current_recognitions, next_reviews, with_rules
from registry.policy import Bundle, Policy, load_bundle
from registry.policy.engine import evaluate_indicators, required_refs
from registry.policy.indicators import derive_indicators, with_annual_figures
from registry.queries import evaluated_data_version
from registry.selection import E, R, firm_conditions, held_on, read_frame
from registry.warnings import review_policies

# The two standards a recognition due for 复核 is judged by (code → names, from the label catalogue).
STANDARDS = FIXED["risk_standard"]

RISK_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "standard": pl.String, "uscc": pl.String, "name": pl.String, "region_code": pl.String, "tier": pl.String,
    "jurisdiction": pl.String, "recognition_id": pl.Int64, "review_on": pl.Date, "policy": pl.String,
    "criterion": pl.String, "criterion_label": pl.String, "actual": pl.String, "expected": pl.String, "gap": pl.Float64,
    "source": pl.String,
}
# The due recognitions a stored result keeps, so that `due` can be counted for any principal's firms.
DUE_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {"uscc": pl.String, "recognition_id": pl.Int64}


@dataclass(frozen=True)
class ReviewRisk:
    as_of: date
    months: int
    due: int  # recognitions due for 复核 in the window
    firms: pl.DataFrame  # RISK_SCHEMA, one row per failing firm × failed criterion, both standards

    def of(self, standard: str) -> pl.DataFrame:
        return self.firms.filter(pl.col("standard") == standard)

    def count(self, standard: str = "review") -> int:
        """Recognitions on course to fail under the standard."""
        count: int = self.of(standard).select(pl.col("recognition_id").n_unique()).item()
        return count


def _in_scope_firms(engine: Engine, principal: Principal, as_of: date) -> pl.DataFrame:
    stmt = (E.join(R, R.c.enterprise_id == E.c.id).select()
            .with_only_columns(E.c.uscc, E.c.name, E.c.region_code)
            .where(*firm_conditions(principal), held_on(as_of)).distinct())
    return read_frame(engine, stmt, {"uscc": pl.String, "name": pl.String, "region_code": pl.String})


def _number(text: str | None) -> float | None:
    try:
        value = json.loads(text) if text is not None else None
    except ValueError:
        return None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _failures(policy: Policy, due: pl.DataFrame, bundle: Bundle, as_of: date) -> pl.DataFrame:
    """The due firms `policy` finds ineligible, one row per failed leaf with actual, expected and gap."""
    indicators = derive_indicators(bundle.only(due["uscc"].unique().to_list()), required_refs(policy), as_of)
    result = evaluate_indicators(policy, indicators, as_of, detail=True)
    failing = result.filter(pl.col("verdict") == "ineligible").select("uscc", "criteria").explode("criteria")
    leaves = {leaf.id: leaf for leaf in policy.leaves()}
    rows = failing.unnest("criteria").filter(pl.col("result") == "fail", pl.col("id").is_in(list(leaves)))
    thresholds = {i: float(leaf.threshold) for i, leaf in leaves.items()
                  if isinstance(leaf.threshold, (int, float)) and not isinstance(leaf.threshold, bool)}
    gaps = [(number - thresholds[i]) if i in thresholds and (number := _number(a)) is not None else None
            for i, a in zip(rows["id"].to_list(), rows["actual"].to_list(), strict=True)]
    rows = rows.select("uscc", criterion="id", criterion_label="label", actual="actual", expected="expected", source="source",
                       gap=pl.Series(gaps, dtype=pl.Float64).round(4))
    return due.join(rows, on="uscc", how="inner")


KIND = "review_risk"  # registry.result_store


def review_risk(principal: Principal, as_of: date, months: int, *, engine: Engine | None = None) -> ReviewRisk:
    """The recognitions of the principal's firms due for 复核 within `months` and on course to fail it, and the
    same ones judged by the new-application standard (see the module docstring). Read from the whole registry's
    result the flags job stored when it is still current (registry.result_store), else computed here."""
    require(principal, "read")
    engine = engine if engine is not None else get_engine()
    stored = stored_review_risk(engine, principal, as_of, months)
    return stored if stored is not None else _compute(engine, principal, as_of, months)[0]


def stored_review_risk(engine: Engine, principal: Principal, as_of: date, months: int) -> ReviewRisk | None:
    """The stored national result narrowed to the principal's firms — the same firm set the live path reads
    (_in_scope_firms), so the same rows and due count — or None when there is none for today's data and policies."""
    require(principal, "read")
    found = result_store.get(engine, KIND, {"as_of": as_of, "months": months}, evaluated_data_version(engine))
    if found is None:
        return None
    due, firms = found.frames["due"], found.frames["firms"]
    if firm_conditions(principal):  # a national principal reads the national result as it is
        mine = _in_scope_firms(engine, principal, as_of).select("uscc")
        due, firms = due.join(mine, on="uscc", how="semi"), firms.join(mine, on="uscc", how="semi")
    return ReviewRisk(as_of, months, due.height, firms.cast(pl.Schema(RISK_SCHEMA)))


def store_national_review_risk(engine: Engine, as_of: date, months: int, version: str) -> dict[str, Any]:
    """Compute the whole registry's 复核 risk and store it under `version` (read by the caller before this
    computation started: see registry.result_store). Returns counts for the job's record."""
    fingerprint = result_store.policy_fingerprint()
    started = time.monotonic()
    result, due = _compute(engine, SYSTEM, as_of, months)
    seconds = time.monotonic() - started
    result_store.put(engine, KIND, {"as_of": as_of, "months": months}, version, fingerprint,
                     {"due": due, "firms": result.firms}, {}, seconds)
    return {"due": result.due, "rows": result.firms.height, "seconds": round(seconds, 1)}


def _compute(engine: Engine, principal: Principal, as_of: date, months: int) -> tuple[ReviewRisk, pl.DataFrame]:
    """The live computation: the result, and the due recognitions (uscc, recognition_id) it counted."""
    firms = _in_scope_firms(engine, principal, as_of)
    bundle = with_annual_figures(load_bundle(engine, firms["uscc"].to_list())) if firms.height else None
    if bundle is None:
        return ReviewRisk(as_of, months, 0, pl.DataFrame(schema=RISK_SCHEMA)), pl.DataFrame(schema=DUE_SCHEMA)
    horizon = pl.select(pl.lit(as_of).dt.offset_by(f"{months}mo")).item()
    cur, _ = with_rules(current_recognitions(bundle.recognitions, as_of))
    due = (next_reviews(cur.filter(pl.col("valid_until") >= as_of), as_of)
           .filter(pl.col("review_on").is_between(as_of, horizon))
           .join(firms, on="uscc", how="inner")
           .select("uscc", "name", "region_code", "tier", "jurisdiction", pl.col("id").alias("recognition_id"),
                   "review_on"))
    breakpoints = _policy_breakpoints()
    parts = []
    for standard in STANDARDS:
        judged, policies = review_policies(due, breakpoints, purpose=standard)
        for pid, policy in policies.items():
            mine = judged.filter(pl.col("policy") == pid)
            parts.append(_failures(policy, mine, bundle, as_of).with_columns(standard=pl.lit(standard)))
    # As a pl.Schema: cast() types a dict's keys as name | selector | dtype, which dict[str, ...] is not.
    found = pl.concat([p.select(list(RISK_SCHEMA)).cast(pl.Schema(RISK_SCHEMA)) for p in parts if not p.is_empty()]
                      or [pl.DataFrame(schema=RISK_SCHEMA)])
    # recognition_id last: a firm due twice (two tiers) fails the same criterion twice, and the order of the two
    # must not depend on which firms were read with it (a narrowed stored result equals a live one row for row).
    result = ReviewRisk(as_of, months, due.height,
                        found.sort("standard", "review_on", "uscc", "criterion", "recognition_id"))
    return result, due.select(list(DUE_SCHEMA)).cast(pl.Schema(DUE_SCHEMA))


def risk_workbook(result: ReviewRisk, column_names: dict[str, str] | None = None) -> bytes:
    """One sheet per standard (复核标准, 新申请标准), one row per failing firm × criterion (formula-safe: the
    registry's Excel writer neutralises text that a spreadsheet would run)."""
    return to_excel_workbook_bytes({f"{zh} {en}": result.of(standard).drop("standard").rename(column_names or {})
                                    for standard, (zh, en) in STANDARDS.items()})
