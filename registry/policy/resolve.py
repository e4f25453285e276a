"""Which rule set applies: the one function that picks the policy in force for a tier, jurisdiction, date and
purpose (CONTRACT §3b). `zjtx evaluate --tier`, and every reader that must judge "under the rules of the day",
ask here instead of choosing a policy id themselves.

The choice, in order:
1. Candidates: policies of the tier that serve the purpose on that day (`Policy.serves`: `purposes` windows,
   else `purpose` over effective_from–effective_to). For 复核 (re_review) with no rule set stating that it
   serves 复核, the rule set for new applications in force is used: a 复核 checks the recognition standard of the
   day unless a notice says otherwise (117号 does, for the 2026 小巨人 复核 — the 2022 file states it).
2. Supersession: a candidate replaced (`supersedes`) by another candidate is dropped, whatever their
   jurisdictions (a national rule set replaces provincial ones).
3. Jurisdiction: the firm's own jurisdiction first, then each enclosing one up to `cn`
   (cn-zj-ningbo → cn-zj → cn): a province's own rule set where it exists and is in force, else the national one.
4. Among several left in that jurisdiction: the latest effective_from (then the id, for a fixed answer).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from registry.errors import UserError
from registry.policy.loader import DEFAULT_LIFECYCLE, POLICY_DIR, load_policies
from registry.policy.schema import Lifecycle, Policy

# What users type (CLI, pages) → the schema's purpose codes.
PURPOSE_ALIASES = {"new_application": "new_application", "new": "new_application", "认定": "new_application",
                   "申报": "new_application", "review": "re_review", "re_review": "re_review", "复核": "re_review",
                   # Support programmes (重点“小巨人”): their rule sets serve `support` (registry.lifecycle.PROMOTION).
                   "support": "support", "支持": "support"}


def normalise_purpose(purpose: str) -> str:
    try:
        return PURPOSE_ALIASES[purpose.strip().lower()]
    except KeyError:
        raise UserError(f"--purpose {purpose!r}: 只支持 / expected new_application | review | support") from None


def enclosing_jurisdictions(jurisdiction: str) -> list[str]:
    """The jurisdiction and each one enclosing it, nearest first: cn-zj-ningbo → [cn-zj-ningbo, cn-zj, cn]."""
    parts = jurisdiction.split("-")
    return ["-".join(parts[:k]) for k in range(len(parts), 0, -1)]


def _purpose_used(policies: list[Policy], purpose: str, on: date) -> str:
    """re_review falls back to new_application when no rule set of the tier states that it serves 复核 that day."""
    if purpose == "re_review" and not any(p.serves("re_review", on) for p in policies):
        return "new_application"
    return purpose


def policies_in_force(tier: str, jurisdiction: str, as_of: date, purpose: str = "new_application",
                      policies: dict[str, Policy] | None = None) -> list[Policy]:
    """Every candidate after supersession, nearest jurisdiction first, latest first within one."""
    purpose = normalise_purpose(purpose)
    policies = policies if policies is not None else load_policies()
    chain = enclosing_jurisdictions(jurisdiction)
    of_tier = [p for p in policies.values()
               if p.tier == tier and p.purpose not in ("classification", "precheck") and p.jurisdiction in chain]
    used = _purpose_used(of_tier, purpose, as_of)
    serving = [p for p in of_tier if p.serves(used, as_of)]
    # Whoever replaces a rule set counts, also a rule set of another tier code or jurisdiction serving that day.
    replaced = {old for p in policies.values() if p.serves(used, as_of) for old in p.superseded_ids()}
    left = [p for p in serving if p.id not in replaced]
    return sorted(left, key=lambda p: (chain.index(p.jurisdiction), -p.effective_from.toordinal(), p.id))


def policy_in_force(tier: str, jurisdiction: str = "cn", as_of: date | None = None,
                    purpose: str = "new_application", policies: dict[str, Policy] | None = None,
                    root: Path = POLICY_DIR) -> Policy:
    """The rule set that judges `tier` in `jurisdiction` on `as_of` for `purpose` (see the module docstring).
    A clear error when there is none."""
    if as_of is None:
        raise UserError("需要评估日期 / an as-of date is needed")
    if policies is None:
        policies = load_policies(root)
    found = policies_in_force(tier, jurisdiction, as_of, purpose, policies)
    if not found:
        known = sorted({p.tier for p in policies.values() if p.tier})
        if tier not in known:
            raise UserError(f"未知的称号 / unknown tier {tier!r} (known: {', '.join(known)})")
        raise UserError(f"{as_of} 没有适用于 {tier}（{jurisdiction}，{purpose}）的政策 / no policy for {tier} in "
                        f"{jurisdiction} is in force on {as_of} for {purpose}")
    return found[0]


def lifecycle_for(tier: str, jurisdiction: str, on: date, root: Path = POLICY_DIR) -> Lifecycle:
    """The lifecycle of a recognition at `tier` by `jurisdiction` granted on `on`.

    The rule set for new applications in force on the recognition date (registry.policy.resolve: supersession,
    the jurisdiction then the enclosing ones) gives validity, 复核, the yearly information update and its exit
    rules — a 专精特新 recognised by a province in 2023 is a 63号 recognition (3 years). Provinces issue their
    实施细则 on top of the national rules: when the recognising jurisdiction has a lifecycle of its own for the
    tier (the one in force, else its latest), that one stands (validity, 复核, reporting, exit rules) and the
    national rules add what it lacks — the yearly information update, and national exit rules of other ids.
    Without a rule set in force on that day: the jurisdiction's own lifecycle, else the national (cn) one, else
    the default 3-year anniversary rule.
    """
    own = _own_lifecycle(tier, jurisdiction, on, root)
    for policy in policies_in_force(tier, jurisdiction, on, "new_application", load_policies(root)):
        if policy.lifecycle is None:
            continue
        base = policy.lifecycle
        if own is None or policy.jurisdiction == jurisdiction or own is base:
            return base
        local_ids = {r.id for r in own.exit_rules}
        return own.model_copy(update={
            "exit_rules": [*own.exit_rules, *(r for r in base.exit_rules if r.id not in local_ids)],
            "reporting": [*own.reporting, *base.reporting],
            "info_update": own.info_update or base.info_update})
    return own or _own_lifecycle(tier, "cn", on, root) or DEFAULT_LIFECYCLE


def _own_lifecycle(tier: str, jurisdiction: str, on: date, root: Path) -> Lifecycle | None:
    """The lifecycle a jurisdiction's own files give a recognition of `on`: the policy in force (latest
    effective_from), else — granted before the first file we hold — the earliest, else the latest."""
    candidates = [p for p in load_policies(root).values()
                  if p.tier == tier and p.lifecycle is not None and p.purpose != "classification"
                  and p.jurisdiction == jurisdiction]
    if not candidates:
        return None
    in_force = [p for p in candidates if p.in_force(on)]
    if in_force:
        return max(in_force, key=lambda p: p.effective_from).lifecycle
    earlier = [p for p in candidates if on < p.effective_from]
    if earlier:
        return min(earlier, key=lambda p: p.effective_from).lifecycle
    return max(candidates, key=lambda p: p.effective_from).lifecycle
