"""Early warning (预警) as rules in data: data/warnings/early-warning.yaml, validated here, evaluated for every
recognition in force at once (polars, no per-firm loop). Each hit becomes a lifecycle flag of kind `warning`
(registry.lifecycle.compute_flags), stored by the flags job and reviewed on the 复核 page like the other flags.

Rule kinds:
- `revenue_decline`: quarterly revenue down ≥ `decline_pct` % year on year in each of the last
  `consecutive_quarters` quarters (the firm's latest quarter with a comparison, ended before the as-of date, and
  the ones just before it).
- `rd_below_standard` / `debt_above_standard`: last year's R&D intensity (rd_expense / revenue) below, or debt
  ratio (total_liabilities / total_assets) above, the threshold of the standard the firm will be reviewed against:
  `policy_in_force(tier, jurisdiction, next 复核 date, "review")`, its `rd_ratio` / `debt_ratio` criteria. The
  numbers are the policy's, never copies in the rules file.
- `reports_missing`: at least `min_missing` reporting periods past their due date without a report (the same
  computation as the `missing_report` flags: registry.lifecycle._missing_reports).
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from registry.errors import UserError
from registry.policy.bundle import Bundle
from registry.policy.engine import _band_condition
from registry.policy.indicators import bundle_annual
from registry.policy.resolve import policy_in_force
from registry.policy.schema import BandTable, Leaf, Policy

WARNING_RULES_FILE = Path(__file__).resolve().parent.parent / "data" / "warnings" / "early-warning.yaml"

# Figures a band table may be banded by (last year's value, column `band_<metric>` of the firms judged).
BAND_METRICS = ("revenue", "total_assets", "employees")

RuleKind = Literal["revenue_decline", "rd_below_standard", "debt_above_standard", "reports_missing"]


class WarningRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: RuleKind
    label_zh: str
    label_en: str
    severity: Literal["info", "warning", "critical"] = "warning"
    decline_pct: float | None = Field(None, gt=0, lt=100)
    consecutive_quarters: int | None = Field(None, ge=1, le=8)
    min_missing: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _thresholds(self) -> WarningRule:
        needs = {"revenue_decline": ("decline_pct", "consecutive_quarters"), "reports_missing": ("min_missing",)}
        for name in needs.get(self.kind, ()):
            if getattr(self, name) is None:
                raise ValueError(f"rule {self.id}: kind {self.kind} needs `{name}`")
        return self


class WarningRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[WarningRule]

    @model_validator(mode="after")
    def _unique(self) -> WarningRules:
        ids = [r.id for r in self.rules]
        if len(ids) != len(set(ids)):
            raise ValueError(f"duplicate rule ids: {sorted({i for i in ids if ids.count(i) > 1})}")
        return self


def load_warning_rules(path: Path = WARNING_RULES_FILE) -> list[WarningRule]:
    """The rules of the file, validated; a clear error naming the file and the field when it is wrong."""
    return list(_load(path.resolve()))


@cache
def _load(path: Path) -> tuple[WarningRule, ...]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"{path}: 无法读取预警规则 / cannot read the early-warning rules: {exc}") from exc
    try:
        return tuple(WarningRules.model_validate(raw).rules)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise UserError(f"{path}: 预警规则有误 / invalid early-warning rules: {problems}") from exc


# ------------------------------------------------------------------------------------------------------------
# The standard a firm will be reviewed against
# ------------------------------------------------------------------------------------------------------------

def review_policies(due: pl.DataFrame, breakpoints: pl.Series, purpose: str = "review"
                    ) -> tuple[pl.DataFrame, dict[str, Policy]]:
    """`due` has tier, jurisdiction, review_on: adds `policy` (id of the rule set judging that 复核, null when
    there is none). policy_in_force runs once per tier × jurisdiction × stretch between policy breakpoints (its
    answer cannot change inside one), never once per firm."""
    keys = due.select("tier", "jurisdiction", "review_on").unique().drop_nulls()
    keys = keys.with_columns(bucket=pl.Series(breakpoints.search_sorted(keys["review_on"], side="right"),
                                              dtype=pl.Int64))
    calls = keys.group_by("tier", "jurisdiction", "bucket").agg(pl.col("review_on").min().alias("first"))
    found: dict[str, Policy] = {}
    ids: list[str | None] = []
    for tier, jurisdiction, _bucket, on in calls.iter_rows():
        try:
            p = policy_in_force(tier, jurisdiction, on, purpose)
        except UserError:  # no rule set for that tier then: nothing to judge against
            ids.append(None)
            continue
        found[p.id] = p
        ids.append(p.id)
    calls = calls.with_columns(policy=pl.Series(ids, dtype=pl.String)).drop("first")
    keyed = keys.join(calls, on=["tier", "jurisdiction", "bucket"], how="left").drop("bucket")
    return due.join(keyed, on=["tier", "jurisdiction", "review_on"], how="left"), found


def criteria_of(policy: Policy, indicator: str, ops: tuple[str, ...]) -> list[Leaf]:
    """The policy's leaves comparing `indicator` with one of `ops` on a number or a band table."""
    return [leaf for leaf in policy.leaves() if leaf.indicator == indicator and leaf.op in ops
            and (isinstance(leaf.threshold, (int, float, BandTable)))]


def _leaf_threshold(leaf: Leaf) -> pl.Expr | None:
    """The leaf's threshold per firm: its number, or the band of the firm's last-year figure (`band_<metric>`
    column). None when the band is by something this module does not read."""
    t = leaf.threshold
    if isinstance(t, (int, float)):
        return pl.lit(float(t))
    assert isinstance(t, BandTable)  # criteria_of keeps the leaves on a number or a band table only
    if t.band_by.indicator not in BAND_METRICS:
        return None
    v = pl.col(f"band_{t.band_by.indicator}")
    expr = pl.lit(None, pl.Float64)
    for band in reversed(t.bands):
        expr = pl.when(_band_condition(v, band)).then(pl.lit(band.threshold, pl.Float64)).otherwise(expr)
    return expr


def _standard_thresholds(firms: pl.DataFrame, policies: dict[str, Policy], indicator: str,
                         ops: tuple[str, ...], lenient: str) -> pl.DataFrame:
    """firms (with `policy` and band_* columns) + threshold, criterion, criterion_label_zh/en, source: the most
    lenient threshold among the policy's criteria on `indicator` (`lenient` = "min" for a floor, "max" for a
    ceiling), so a warning means the firm misses every route the standard offers on that figure."""
    parts = []
    for pid, policy in policies.items():
        subset = firms.filter(pl.col("policy") == pid)
        if subset.is_empty():
            continue
        for leaf in criteria_of(policy, indicator, ops):
            thr = _leaf_threshold(leaf)
            if thr is None:
                continue
            parts.append(subset.with_columns(
                threshold=thr, criterion=pl.lit(leaf.id), criterion_label_zh=pl.lit(leaf.label_zh),
                criterion_label_en=pl.lit(leaf.label_en), op=pl.lit(leaf.op),
                source=pl.lit(f"{policy.document_no or policy.id} · {leaf.source.cite()}")))
    if not parts:
        return firms.clear().with_columns(threshold=pl.lit(None, pl.Float64), criterion=pl.lit(None, pl.String),
                                          criterion_label_zh=pl.lit(None, pl.String),
                                          criterion_label_en=pl.lit(None, pl.String),
                                          op=pl.lit(None, pl.String), source=pl.lit(None, pl.String))
    stacked = pl.concat(parts, how="vertical_relaxed").filter(pl.col("threshold").is_not_null())
    order = pl.col("threshold") if lenient == "min" else -pl.col("threshold")
    return stacked.sort(order).group_by("uscc", "id", maintain_order=True).first()


# ------------------------------------------------------------------------------------------------------------
# Quarterly revenue
# ------------------------------------------------------------------------------------------------------------

def quarterly_revenue(reports: pl.DataFrame) -> pl.DataFrame:
    """uscc, quarter (e.g. 2025Q3), q_index (year × 4 + quarter − 1), revenue of that quarter alone.

    In this order of preference: the quarterly 当期 report; the quarterly 本年累计 report minus the previous
    quarter's (Q1 is its own); the three monthly 当期 reports summed (all three needed)."""
    r = reports.select("uscc", "period", "period_type", pl.col("basis").fill_null("period"), "revenue") \
        .filter(pl.col("revenue").is_not_null(), pl.col("period_type").is_in(["quarterly", "monthly"]))
    quarterly = r.filter(pl.col("period_type") == "quarterly").with_columns(
        q_index=pl.col("period").str.slice(0, 4).cast(pl.Int32) * 4 + pl.col("period").str.slice(5, 1).cast(pl.Int32) - 1)
    direct = quarterly.filter(pl.col("basis") == "period").select("uscc", "q_index", "revenue", prio=pl.lit(0))
    ytd = quarterly.filter(pl.col("basis") == "ytd").sort("uscc", "q_index")
    ytd = ytd.join(ytd.select("uscc", q_index=pl.col("q_index") + 1, prev_ytd="revenue"),
                   on=["uscc", "q_index"], how="left")
    from_ytd = ytd.filter((pl.col("q_index") % 4 == 0) | pl.col("prev_ytd").is_not_null()).select(
        "uscc", "q_index",
        revenue=pl.when(pl.col("q_index") % 4 == 0).then(pl.col("revenue"))
        .otherwise(pl.col("revenue") - pl.col("prev_ytd")), prio=pl.lit(1))
    monthly = (r.filter(pl.col("period_type") == "monthly", pl.col("basis") == "period")
               .unique(["uscc", "period"], keep="last")
               .with_columns(q_index=pl.col("period").str.slice(0, 4).cast(pl.Int32) * 4
                             + (pl.col("period").str.slice(5, 2).cast(pl.Int32) - 1) // 3)
               .group_by("uscc", "q_index").agg(pl.col("revenue").sum(), n=pl.len())
               .filter(pl.col("n") == 3).select("uscc", "q_index", "revenue", prio=pl.lit(2)))
    stacked = pl.concat([direct, from_ytd, monthly], how="vertical_relaxed")
    return (stacked.sort("prio").group_by("uscc", "q_index", maintain_order=True).agg(pl.col("revenue").first())
            .with_columns(quarter=pl.format("{}Q{}", pl.col("q_index") // 4, pl.col("q_index") % 4 + 1)))


def _quarter_index(d: date) -> int:
    return d.year * 4 + (d.month - 1) // 3


# ------------------------------------------------------------------------------------------------------------
# Evaluating the rules
# ------------------------------------------------------------------------------------------------------------

# One row per hit: the recognition, the rule, the part of the flag key that names the occurrence, the due date
# and the evidence JSON (text_zh / text_en: the evidence in words).
HIT_SCHEMA = pl.Schema({"uscc": pl.String, "id": pl.Int64, "tier": pl.String, "jurisdiction": pl.String,
                        "batch": pl.String, "rule_id": pl.String, "occurrence": pl.String, "severity": pl.String,
                        "due_on": pl.Date, "evidence": pl.String})


def _hits(frame: pl.DataFrame, rule: WarningRule, occurrence: pl.Expr, due_on: pl.Expr,
          text_zh: pl.Expr, text_en: pl.Expr, evidence: dict[str, pl.Expr]) -> pl.DataFrame:
    if frame.is_empty():
        return pl.DataFrame(schema=HIT_SCHEMA)
    fields = {"rule": pl.lit(rule.id), "label_zh": pl.lit(rule.label_zh), "label_en": pl.lit(rule.label_en),
              "text_zh": text_zh, "text_en": text_en, **evidence}
    return frame.select(
        "uscc", pl.col("id").cast(pl.Int64), "tier", "jurisdiction", pl.col("batch").cast(pl.String),
        rule_id=pl.lit(rule.id), occurrence=occurrence, severity=pl.lit(rule.severity),
        due_on=due_on.cast(pl.Date),
        evidence=pl.struct([value.alias(name) for name, value in fields.items()]).struct.json_encode(),
    ).cast(HIT_SCHEMA)


def _revenue_decline(cur: pl.DataFrame, reports: pl.DataFrame, as_of: date, rule: WarningRule) -> pl.DataFrame:
    n, pct = rule.consecutive_quarters, rule.decline_pct
    assert n is not None and pct is not None  # WarningRule requires both of a revenue_decline rule
    q = quarterly_revenue(reports.filter(pl.col("uscc").is_in(cur["uscc"].unique().implode())))
    # Quarters that ended before as_of, each with the same quarter a year earlier.
    yoy = (q.filter(pl.col("q_index") < _quarter_index(as_of))
           .join(q.select("uscc", q_index=pl.col("q_index") + 4, prev_revenue="revenue"), on=["uscc", "q_index"])
           .filter(pl.col("prev_revenue") > 0)
           .with_columns(change_pct=((pl.col("revenue") - pl.col("prev_revenue")) / pl.col("prev_revenue") * 100)
                         .round(4)))
    latest = yoy.group_by("uscc").agg(pl.col("q_index").max().alias("last_q"))
    window = yoy.join(latest, on="uscc").filter(pl.col("q_index") > pl.col("last_q") - n).sort("uscc", "q_index")
    down = window.group_by("uscc").agg(
        quarters=pl.col("quarter"), changes=pl.col("change_pct"), last_quarter=pl.col("quarter").last(),
        last_q=pl.col("last_q").first(),
        hit=(pl.len() == n) & (pl.col("change_pct") <= -pct).all())
    hits = cur.join(down.filter("hit"), on="uscc", how="inner")
    quarters_text = pl.col("quarters").list.join("、")
    changes_text = pl.col("changes").list.eval(pl.element().round(1).cast(pl.String) + "%").list.join("、")
    quarter_end = pl.date(pl.col("last_q") // 4, (pl.col("last_q") % 4) * 3 + 3, 1).dt.month_end()
    return _hits(hits, rule, pl.concat_str(pl.lit(rule.id), pl.col("last_quarter"), separator=":"), quarter_end,
                 pl.format("{}营业收入同比分别变动{}，连续{}个季度下降{}%以上", quarters_text, changes_text, pl.lit(n),
                           pl.lit(f"{pct:g}")),
                 pl.format("revenue year on year in {}: {}; down {}% or more in {} consecutive quarters",
                           pl.col("quarters").list.join(", "), pl.col("changes").list.eval(
                               pl.element().round(1).cast(pl.String) + "%").list.join(", "),
                           pl.lit(f"{pct:g}"), pl.lit(n)),
                 {"quarters": pl.col("quarters"), "change_pct": pl.col("changes"), "threshold_pct": pl.lit(-pct),
                  "consecutive_quarters": pl.lit(n)})


def _standard_rule(due: pl.DataFrame, policies: dict[str, Policy], annual: pl.DataFrame, as_of: date,
                   rule: WarningRule) -> pl.DataFrame:
    """R&D intensity below / debt ratio above the standard of the firm's next 复核."""
    year = as_of.year - 1
    if rule.kind == "rd_below_standard":
        indicator, ops, lenient, num, den = "rd_ratio", (">=", ">"), "min", "rd_expense", "revenue"
    else:
        indicator, ops, lenient, num, den = "debt_ratio", ("<=", "<"), "max", "total_liabilities", "total_assets"
    figures = annual.filter(pl.col("year") == year).select(
        "uscc", actual=(pl.col(num) / pl.col(den) * 100).round(4), **{f"band_{m}": pl.col(m) for m in BAND_METRICS})
    firms = due.join(figures.filter(pl.col("actual").is_finite()), on="uscc", how="inner")
    judged = _standard_thresholds(firms, policies, indicator, ops, lenient)
    op = pl.col("op")
    missed = (pl.when(op == ">=").then(pl.col("actual") < pl.col("threshold"))
              .when(op == ">").then(pl.col("actual") <= pl.col("threshold"))
              .when(op == "<=").then(pl.col("actual") > pl.col("threshold"))
              .otherwise(pl.col("actual") >= pl.col("threshold")))
    hits = judged.filter(missed)
    what_zh, what_en = ("研发费用占营业收入比重", "R&D intensity") if indicator == "rd_ratio" else ("资产负债率", "debt ratio")
    side_zh, side_en = ("低于门槛", "below the threshold") if lenient == "min" else ("高于上限", "above the ceiling")
    return _hits(hits, rule, pl.concat_str(pl.lit(rule.id), pl.lit(str(year)), separator=":"), pl.col("review_on"),
                 pl.format("{}年{}为{}%，{}{}%（{}复核适用{}：{}）", pl.lit(year), pl.lit(what_zh),
                           pl.col("actual").round(2), pl.lit(side_zh), pl.col("threshold"), pl.col("review_on"),
                           pl.col("policy"), pl.col("criterion_label_zh")),
                 pl.format("{} {} was {}%, {} of {}% (standard for the review on {}: {}, {})", pl.lit(what_en),
                           pl.lit(year), pl.col("actual").round(2), pl.lit(side_en), pl.col("threshold"),
                           pl.col("review_on"), pl.col("policy"), pl.col("criterion_label_en")),
                 {"year": pl.lit(year), "actual_pct": pl.col("actual").round(2), "threshold_pct": pl.col("threshold"),
                  "op": pl.col("op"), "review_on": pl.col("review_on"), "policy": pl.col("policy"),
                  "criterion": pl.col("criterion"), "source": pl.col("source")})


def _reports_missing(cur: pl.DataFrame, missing: pl.DataFrame, rule: WarningRule) -> pl.DataFrame:
    counted = missing.group_by("recognition_id").agg(
        n_missing=pl.len(), periods=pl.col("period").sort(), latest=pl.col("report_due_on").max())
    hits = cur.join(counted.rename({"recognition_id": "id"}), on="id", how="inner") \
        .filter(pl.col("n_missing") >= rule.min_missing)
    return _hits(hits, rule, pl.concat_str(pl.lit(rule.id), pl.col("latest").cast(pl.String), separator=":"),
                 pl.col("latest"),
                 pl.format("{}期报表逾期未报送（{}），达到预警线{}期", pl.col("n_missing"),
                           pl.col("periods").list.join("、"), pl.lit(rule.min_missing)),
                 pl.format("{} reports past their due date not filed ({}); warning from {}", pl.col("n_missing"),
                           pl.col("periods").list.join(", "), pl.lit(rule.min_missing)),
                 {"missing": pl.col("n_missing"), "periods": pl.col("periods"), "min_missing": pl.lit(rule.min_missing)})


def warning_hits(in_force: pl.DataFrame, bundle: Bundle, as_of: date, missing: pl.DataFrame, breakpoints: pl.Series,
                 rules: list[WarningRule] | None = None) -> pl.DataFrame:
    """Every rule over the recognitions in force (`in_force`: lifecycle rows with `review_on`, the next 复核
    date). `missing` is lifecycle's missing-report frame of the same run. Columns HIT_SCHEMA."""
    rules = rules if rules is not None else load_warning_rules()
    parts = []
    standard_rules = [r for r in rules if r.kind in ("rd_below_standard", "debt_above_standard")]
    if standard_rules:
        due = in_force.filter(pl.col("review_on").is_not_null())
        due, policies = review_policies(due, breakpoints)
        annual = bundle_annual(bundle, [as_of.year - 1],
                               ["revenue", "rd_expense", "total_assets", "total_liabilities", "employees"])
        parts += [_standard_rule(due.filter(pl.col("policy").is_not_null()), policies, annual, as_of, r)
                  for r in standard_rules]
    for r in rules:
        if r.kind == "revenue_decline":
            parts.append(_revenue_decline(in_force, bundle.reports, as_of, r))
        elif r.kind == "reports_missing":
            parts.append(_reports_missing(in_force, missing, r))
    return pl.concat([p for p in parts if not p.is_empty()] or [pl.DataFrame(schema=HIT_SCHEMA)])

