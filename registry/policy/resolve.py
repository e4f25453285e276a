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
from registry.policy.loader import POLICY_DIR, load_policies
from registry.policy.schema import Policy

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
