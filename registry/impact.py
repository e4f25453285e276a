"""The impact of a rule change: the same firms judged by an old and a new rule set side by side.

Officials plan their 2026–2027 recommendations with it (issue 11 item 6): how many of today's holders and
candidates would pass the 2026 rules (工信部企业〔2026〕2号) against the 2022 ones (63号), which gates cost the most
firms, and who passes today's 复核 standard but would fail a new application.

Definitions (docs/dashboard.md and docs/operations.md state them to users):
- **firms evaluated** — the *holders* and *candidates* of the `to` policy's tier in the jurisdiction, on the as-of
  date: firms with a recognition in force that day (registry.selection.held_on) of the `to` policy's tier
  (holders) or of the tier below it on the ladder (candidates: registry.lifecycle.promotion_targets, e.g.
  专精特新中小企业 below 小巨人). A firm holding both counts once, as a holder. The firms are those of the asking
  principal's jurisdiction (registry.access), narrowed to `jurisdiction` when one is given.
- **both rule sets on the same day** — each policy judges the firms' data as of the same date, whatever its own
  effective dates say: the question is "what would this rule set say about these firms today".
- **comparison** — `both` eligible under both; `old_only` eligible under `from` and not under `to` (ineligible or
  insufficient data); `new_only` the reverse; `neither` eligible under neither.
- **gate cost** of a criterion of the `to` policy — the firms eligible under `from` for which this criterion
  fails and decides (no enclosing any-of group passed anyway: a failed alternative of a met either-or costs
  nothing). `missing_data` counts the same with the data missing.
- **passes review, fails a new application** — eligible under `from` and `ineligible` under `to` (the firms the
  switch would cost for sure; `old_only` also counts those whose data is insufficient under `to`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Engine

from registry import result_store
from registry.access import NATIONAL, SYSTEM, PermissionDenied, Principal, region_prefixes
from registry.errors import UserError
from registry.lifecycle import promotion_targets
from registry.policy import Bundle, Policy, get_policy, load_bundle, load_policies
from registry.policy.engine import VERDICTS, evaluate_indicators, required_refs
from registry.policy.indicators import derive_indicators, with_annual_figures
from registry.policy.schema import Node, children_of, iter_nodes
from registry.queries import evaluated_data_version
from registry.selection import E, R, firm_conditions, held_on, read_frame

# The comparison officials ask for first: the 2022 小巨人 standard (still the 2026 复核 standard, 117号) against
# the 2026 one for new applications. While a policy file is missing, the two latest versions of the family.
DEFAULT_PAIR = ("cn/little-giant/2022", "cn/little-giant/2026")
DEFAULT_FAMILY = "cn/little-giant"

COMPARISONS = ("both", "old_only", "new_only", "neither")

FIRM_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "uscc": pl.String, "name": pl.String, "region_code": pl.String, "held_tier": pl.String, "impact_role": pl.String,
    "verdict_from": pl.String, "score_from": pl.Float64, "verdict_to": pl.String, "score_to": pl.Float64,
    "comparison": pl.String, "failed_to": pl.String, "missing_to": pl.String,
}
GATE_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {"criterion": pl.String, "label_zh": pl.String, "label_en": pl.String, "firms_failing": pl.Int64,
               "missing_data": pl.Int64, "source": pl.String, "confidence": pl.String}


def default_pair(policies: dict[str, Policy] | None = None) -> tuple[str, str]:
    """DEFAULT_PAIR, each side falling back to what exists of the family (newest as `to`, the one before it as
    `from`; a single version is compared with itself) while a policy file is missing."""
    policies = policies if policies is not None else load_policies()
    family = [p.id for p in sorted((p for p in policies.values() if p.id.rsplit("/", 1)[0] == DEFAULT_FAMILY),
                                   key=lambda p: p.effective_from)]
    if not family:
        raise UserError(f"没有 {DEFAULT_FAMILY} 政策，请用 --from / --to 指定 / no {DEFAULT_FAMILY} policy: "
                        "give --from and --to")
    to_id = DEFAULT_PAIR[1] if DEFAULT_PAIR[1] in policies else family[-1]
    if DEFAULT_PAIR[0] in policies and DEFAULT_PAIR[0] != to_id:
        return DEFAULT_PAIR[0], to_id
    older = [p for p in family if p != to_id]
    return (older[-1] if older else to_id), to_id


@dataclass(frozen=True)
class RuleImpact:
    from_policy: Policy
    to_policy: Policy
    as_of: date
    jurisdiction: str
    tiers: tuple[str, ...]  # the `to` tier first, then the tiers below it whose holders are candidates
    firms: pl.DataFrame  # FIRM_SCHEMA, one row per firm evaluated
    gate_costs: pl.DataFrame  # GATE_SCHEMA, one row per leaf criterion of `to`, most costly first

    def counts(self) -> pl.DataFrame:
        """rule_set (from | to), policy, then eligible / ineligible / insufficient_data counts."""
        rows = []
        for side, policy in (("from", self.from_policy), ("to", self.to_policy)):
            found = dict(self.firms.group_by(f"verdict_{side}").len().iter_rows())
            rows.append({"rule_set": side, "policy": policy.id, **{v: found.get(v, 0) for v in VERDICTS}})
        return pl.DataFrame(rows, schema={"rule_set": pl.String, "policy": pl.String,
                                          **dict.fromkeys(VERDICTS, pl.Int64)})

    def comparisons(self) -> dict[str, int]:
        found = dict(self.firms.group_by("comparison").len().iter_rows())
        return {o: found.get(o, 0) for o in COMPARISONS}

    def crosstab(self) -> pl.DataFrame:
        """verdict_from × verdict_to (all nine pairs, 0 where none)."""
        grid = pl.DataFrame({"verdict_from": [a for a in VERDICTS for _ in VERDICTS],
                             "verdict_to": [b for _ in VERDICTS for b in VERDICTS]})
        found = self.firms.group_by("verdict_from", "verdict_to").agg(firms=pl.len().cast(pl.Int64))
        return grid.join(found, on=["verdict_from", "verdict_to"], how="left", maintain_order="left") \
            .with_columns(pl.col("firms").fill_null(0))

    def review_pass_new_fail(self) -> pl.DataFrame:
        """Eligible under `from`, ineligible under `to`."""
        return self.firms.filter(pl.col("verdict_from") == "eligible", pl.col("verdict_to") == "ineligible")

    def to_json(self) -> dict[str, Any]:
        counts = {r["rule_set"]: {v: r[v] for v in VERDICTS} for r in self.counts().iter_rows(named=True)}
        side = {name: {"policy": p.id, "title_zh": p.title_zh, "title_en": p.title_en,
                       "document_no": p.document_no, "confidence": p.lowest_confidence(), **counts[name]}
                for name, p in (("from", self.from_policy), ("to", self.to_policy))}
        return {
            "as_of": self.as_of.isoformat(), "jurisdiction": self.jurisdiction, "tiers": list(self.tiers),
            "firms_evaluated": self.firms.height, **side, "comparisons": self.comparisons(),
            "crosstab": self.crosstab().to_dicts(), "gate_costs": self.gate_costs.to_dicts(),
            "review_pass_new_fail": _firm_records(self.review_pass_new_fail()),
            "firms": _firm_records(self.firms),
        }


def _firm_records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [{**r, "failed_to": (r["failed_to"] or "").split(",") if r["failed_to"] else [],
             "missing_to": (r["missing_to"] or "").split(",") if r["missing_to"] else []}
            for r in frame.iter_rows(named=True)]


# ---------------------------------------------------------------- which firms


def narrowed_jurisdiction(principal: Principal, jurisdiction: str | None, to_policy: Policy) -> str:
    """The jurisdiction to evaluate: the one asked for (which must lie inside the principal's), else the `to`
    policy's when it lies inside the principal's, else the principal's own."""
    own = region_prefixes(principal.jurisdiction)

    def inside(j: str) -> bool:
        wanted = region_prefixes(j)
        if own is None:
            return True
        return wanted is not None and all(any(w.startswith(o) for o in own) for w in wanted)

    if jurisdiction:
        jurisdiction = jurisdiction.strip()
        if not inside(jurisdiction):
            raise PermissionDenied(f"权限不足：{jurisdiction} 不在辖区 {principal.jurisdiction} 内 / permission denied: "
                                   f"{jurisdiction!r} is outside jurisdiction {principal.jurisdiction!r}")
        return jurisdiction
    return to_policy.jurisdiction if inside(to_policy.jurisdiction) else principal.jurisdiction


def ladder_tiers(to_tier: str | None) -> tuple[str, ...]:
    """The `to` tier and the tiers whose next rung it is (the candidates)."""
    if to_tier is None:
        raise UserError("该政策没有称号，无法确定持有企业 / the policy names no tier: no holders to evaluate")
    below = promotion_targets().filter(pl.col("target_tier") == to_tier)["tier"].to_list()
    return (to_tier, *below)


def _holders(engine: Engine, principal: Principal, jurisdiction: str, tiers: tuple[str, ...],
             as_of: date) -> pl.DataFrame:
    """uscc, name, region_code, held_tier, impact_role: one row per firm, the highest tier it holds."""
    conditions = firm_conditions(principal)
    prefixes = region_prefixes(jurisdiction)
    if prefixes is not None:
        conditions.append(sa.or_(*(E.c.region_code.startswith(p, autoescape=True) for p in prefixes))
                          if prefixes else sa.false())
    stmt = (sa.select(E.c.uscc, E.c.name, E.c.region_code, R.c.tier)
            .select_from(R.join(E, E.c.id == R.c.enterprise_id))
            .where(*conditions, held_on(as_of), R.c.tier.in_(tiers)).distinct())
    held = read_frame(engine, stmt, {"uscc": pl.String, "name": pl.String, "region_code": pl.String,
                                     "tier": pl.String})
    rank = {t: i for i, t in enumerate(tiers)}
    return (held.with_columns(rank=pl.col("tier").replace_strict(rank, return_dtype=pl.Int32))
            .sort("uscc", "rank").group_by("uscc", maintain_order=True).first()
            .select("uscc", "name", "region_code", held_tier=pl.col("tier"),
                    impact_role=pl.when(pl.col("rank") == 0).then(pl.lit("holder")).otherwise(pl.lit("candidate"))))


# ---------------------------------------------------------------- the two evaluations


def _judge(policy: Policy, bundle: Bundle, as_of: date) -> pl.DataFrame:
    """The engine's verdicts without its effective-date check (see the module docstring)."""
    indicators = derive_indicators(bundle, required_refs(policy), as_of)
    return evaluate_indicators(policy, indicators, as_of, detail=True)


def _leaf_ancestors(policy: Policy) -> pl.DataFrame:
    """leaf, ancestor: every leaf criterion with each group above it (the root excluded: it is the verdict)."""
    rows: list[tuple[str, str]] = []

    def walk(node: Node, above: list[str]) -> None:
        kids = children_of(node)
        if not kids:
            rows.extend((node.id, a) for a in above)
            rows.append((node.id, node.id))
            return
        for kid in kids:
            walk(kid, above + ([node.id] if node is not policy.criteria else []))

    walk(policy.criteria, [])
    return pl.DataFrame(rows, schema={"leaf": pl.String, "ancestor": pl.String}, orient="row")


def _decisive(result: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """uscc, criterion, result ∈ {fail, missing}: leaf criteria with that result that decide — no group above
    them passed (or was waived) anyway."""
    long = (result.select("uscc", "criteria").explode("criteria").drop_nulls("criteria").unnest("criteria")
            .select("uscc", pl.col("id").cast(pl.String), pl.col("result").cast(pl.String)))
    pairs = _leaf_ancestors(policy)
    rescued = (pairs.filter(pl.col("leaf") != pl.col("ancestor"))
               .join(long.filter(pl.col("result").is_in(["pass", "waived"])), left_on="ancestor", right_on="id")
               .select("uscc", "leaf").unique())
    leaves = pairs.select("leaf").unique()
    return (long.join(leaves, left_on="id", right_on="leaf", how="semi")
            .filter(pl.col("result").is_in(["fail", "missing"]))
            .join(rescued, left_on=["uscc", "id"], right_on=["uscc", "leaf"], how="anti")
            .rename({"id": "criterion"}))


def _decisive_of(firms: pl.DataFrame) -> pl.DataFrame:
    """uscc, criterion, result: the decisive failures and missing data the firm rows list (failed_to,
    missing_to), one row each — what _decisive found, read back from the rows (so a narrowed set of rows gives
    its own gate costs)."""
    parts = [firms.select("uscc", criterion=pl.col(column).str.split(","))
             .explode("criterion").drop_nulls("criterion").with_columns(result=pl.lit(result))
             for column, result in (("failed_to", "fail"), ("missing_to", "missing"))]
    return pl.concat(parts).filter(pl.col("criterion") != "")


def _gate_costs(firms: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    passed_old = firms.filter(pl.col("verdict_from") == "eligible").select("uscc")
    counted = (_decisive_of(firms).join(passed_old, on="uscc", how="semi")
               .group_by("criterion").agg(firms_failing=(pl.col("result") == "fail").sum().cast(pl.Int64),
                                          missing_data=(pl.col("result") == "missing").sum().cast(pl.Int64)))
    leaves = [n for n in iter_nodes(policy.criteria) if not children_of(n) and n is not policy.criteria]
    confidence = policy.criterion_confidence()  # A/B/C/U: how sure the criterion's wording is (the rules brief)
    labels = pl.DataFrame({
        "criterion": [n.id for n in leaves], "label_zh": [n.label_zh for n in leaves],
        "label_en": [n.label_en for n in leaves],
        "source": [n.source.cite() if n.source else None for n in leaves],
        "confidence": [confidence.get(n.id) for n in leaves],
    }, schema={"criterion": pl.String, "label_zh": pl.String, "label_en": pl.String, "source": pl.String,
               "confidence": pl.String})
    return (labels.join(counted, on="criterion", how="left", maintain_order="left")
            .with_columns(pl.col("firms_failing", "missing_data").fill_null(0))
            .with_row_index("_order").sort(["firms_failing", "missing_data", "_order"], descending=[True, True, False])
            .select(list(GATE_SCHEMA)))


KIND = "rule_impact"  # registry.result_store


def rule_impact(engine: Engine, principal: Principal, from_id: str, to_id: str, as_of: date,
                jurisdiction: str | None = None, *, policies: dict[str, Policy] | None = None) -> RuleImpact:
    """The holders and candidates of the `to` policy's tier in the jurisdiction, judged by both rule sets on
    `as_of` (definitions in the module docstring). `policies` (default: data/policies) lets a caller compare
    policies that are not files. Read from the national result the flags job stored when it is still current
    (registry.result_store), else computed here."""
    from_policy = (policies or {}).get(from_id) or get_policy(from_id)
    to_policy = (policies or {}).get(to_id) or get_policy(to_id)
    scope = narrowed_jurisdiction(principal, jurisdiction, to_policy)
    tiers = ladder_tiers(to_policy.tier)
    if policies is None:  # stored results are of policy files only
        stored = stored_rule_impact(engine, principal, from_policy, to_policy, as_of, scope, tiers)
        if stored is not None:
            return stored
    return _compute(engine, principal, from_policy, to_policy, as_of, scope, tiers)


def _stored_params(from_id: str, to_id: str, as_of: date) -> dict[str, Any]:
    return {"from": from_id, "to": to_id, "as_of": as_of, "scope": NATIONAL}


def stored_rule_impact(engine: Engine, principal: Principal, from_policy: Policy, to_policy: Policy, as_of: date,
                       scope: str, tiers: tuple[str, ...]) -> RuleImpact | None:
    """The stored national result narrowed to the firms the live path would evaluate (_holders of the principal
    in `scope`), its gate costs counted again from those firms' rows; None when there is no current one."""
    found = result_store.get(engine, KIND, _stored_params(from_policy.id, to_policy.id, as_of), evaluated_data_version(engine))
    if found is None:
        return None
    firms = found.frames["firms"]
    if firm_conditions(principal) or region_prefixes(scope) is not None:
        holders = _holders(engine, principal, scope, tiers, as_of).select("uscc")
        firms = firms.join(holders, on="uscc", how="semi")
        if firms.height != holders.height:  # cannot happen for the same data version; live is always right
            return None
    firms = firms.cast(pl.Schema(FIRM_SCHEMA))
    return RuleImpact(from_policy, to_policy, as_of, scope, tiers, firms, _gate_costs(firms, to_policy))


def store_national_rule_impact(engine: Engine, as_of: date, version: str) -> dict[str, Any]:
    """Compute the default pair's impact on the whole registry and store it under `version` (read by the caller
    before this computation started: see registry.result_store). Returns counts for the job's record."""
    from_id, to_id = default_pair()
    from_policy, to_policy = get_policy(from_id), get_policy(to_id)
    scope = narrowed_jurisdiction(SYSTEM, None, to_policy)
    if region_prefixes(scope) is not None:  # a regional `to` policy: nothing national to store
        return {"skipped": f"{to_id} is not national"}
    fingerprint = result_store.policy_fingerprint()
    started = time.monotonic()
    result = _compute(engine, SYSTEM, from_policy, to_policy, as_of, scope, ladder_tiers(to_policy.tier))
    seconds = time.monotonic() - started
    result_store.put(engine, KIND, _stored_params(from_id, to_id, as_of), version, fingerprint,
                     {"firms": result.firms}, {}, seconds)
    return {"from": from_id, "to": to_id, "firms": result.firms.height, "seconds": round(seconds, 1)}


def _compute(engine: Engine, principal: Principal, from_policy: Policy, to_policy: Policy, as_of: date,
             scope: str, tiers: tuple[str, ...]) -> RuleImpact:
    """The live computation."""
    firms = _holders(engine, principal, scope, tiers, as_of)
    if firms.is_empty():
        empty = pl.DataFrame(schema=FIRM_SCHEMA)
        return RuleImpact(from_policy, to_policy, as_of, scope, tiers, empty, _gate_costs(empty, to_policy))
    bundle = with_annual_figures(load_bundle(engine, firms["uscc"].to_list()))
    old = _judge(from_policy, bundle, as_of)
    new = _judge(to_policy, bundle, as_of)
    decisive = _decisive(new, to_policy)
    listed = (decisive.sort("criterion").group_by("uscc", "result")
              .agg(pl.col("criterion").str.join(","))
              .pivot(on="result", index="uscc", values="criterion"))
    for column in ("fail", "missing"):
        if column not in listed.columns:
            listed = listed.with_columns(pl.lit(None, pl.String).alias(column))
    eligible_old = pl.col("verdict_from") == "eligible"
    eligible_new = pl.col("verdict_to") == "eligible"
    frame = (firms
             .join(old.select("uscc", verdict_from="verdict", score_from="score"), on="uscc", how="left")
             .join(new.select("uscc", verdict_to="verdict", score_to="score"), on="uscc", how="left")
             .join(listed.select("uscc", failed_to="fail", missing_to="missing"), on="uscc", how="left")
             .with_columns(comparison=pl.when(eligible_old & eligible_new).then(pl.lit("both"))
                           .when(eligible_old).then(pl.lit("old_only"))
                           .when(eligible_new).then(pl.lit("new_only"))
                           .otherwise(pl.lit("neither")))
             # As a pl.Schema: cast() types a dict's keys as name | selector | dtype, which dict[str, ...] is not.
             .select(list(FIRM_SCHEMA)).cast(pl.Schema(FIRM_SCHEMA)).sort("uscc"))
    return RuleImpact(from_policy, to_policy, as_of, scope, tiers, frame, _gate_costs(frame, to_policy))
