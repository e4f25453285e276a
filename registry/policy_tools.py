"""What the 政策规则 Policies page does with a policy: its criteria as a table with the cited text, the differences
between two versions, and what-if evaluation (one firm of the registry, or an uploaded application list screened
exactly as `zjtx screen` does, with the same verdict workbook)."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Engine

from registry.access import Principal
from registry.errors import UserError
from registry.lifecycle import firm_jurisdiction, firm_rule
from registry.policy import Policy, evaluate, evaluation_records
from registry.policy.bundle import load_bundle
from registry.policy.citations import cited_text
from registry.policy.describe import criteria_rows
from registry.policy.engine import check_as_of
from registry.policy.export import xlsx_bytes
from registry.policy.schema import iter_nodes
from registry.queries import firm_profile
from registry.screening import read_files
from registry.selection import E, R, firm_conditions, held_on, read_frame

CRITERIA_SCHEMA = {
    "id": pl.String, "depth": pl.Int64, "type": pl.String, "class": pl.String, "label": pl.String,
    "rule": pl.String, "source": pl.String, "quote": pl.String, "source_text": pl.String, "waivers": pl.String,
    "confidence": pl.String,  # A/B/C/U of the wording (rules after 2021); null when the policy states none
}
DIFF_FIELDS = ("label", "rule", "source", "waivers")


def criteria_table(policy: Policy, lang: str = "zh", compilation: Path | None = None) -> pl.DataFrame:
    """One row per criterion node in display order (CRITERIA_SCHEMA); `label` is indented by depth and
    `source_text` holds the cited compilation lines (null when the compilation is not available)."""
    nodes = {node.id: node for node in iter_nodes(policy.criteria)}
    rows = []
    for row in criteria_rows(policy, lang):
        node = nodes.get(row["id"])
        rows.append({**{k: row.get(k) for k in CRITERIA_SCHEMA if k in row},
                     "label": "　" * row["depth"] + row["label"],
                     "source_text": cited_text(node.source if node is not None else None, compilation)})
    return pl.DataFrame(rows, schema=CRITERIA_SCHEMA)


def lifecycle_tables(policy: Policy, lang: str = "zh", compilation: Path | None = None
                     ) -> tuple[dict[str, object], pl.DataFrame, pl.DataFrame]:
    """The policy's lifecycle: (facts, exit rules, reporting duties). Facts are empty without a lifecycle."""
    lc = policy.lifecycle
    if lc is None:
        return {}, pl.DataFrame(), pl.DataFrame()
    facts: dict[str, object] = {"validity_years": lc.validity_years, "expiry": lc.expiry, "review_at_years": lc.review_at_years,
             "lapse_without_review": lc.lapse_without_review, "source": lc.source.cite() if lc.source else None}
    exits = pl.DataFrame([{
        "id": r.id, "label": r.label_en if lang == "en" else r.label_zh, "kind": r.kind, "event": r.event,
        "ban_years": r.ban_years, "severity": r.severity, "source": r.source.cite(),
        "source_text": cited_text(r.source, compilation)} for r in lc.exit_rules],
        schema={"id": pl.String, "label": pl.String, "kind": pl.String, "event": pl.String,
                "ban_years": pl.Int64, "severity": pl.String, "source": pl.String, "source_text": pl.String})
    duties = pl.DataFrame([{
        "frequency": o.frequency, "due_day": o.due_day, "due_month": o.due_month, "what": o.what,
        "source": o.source.cite(), "source_text": cited_text(o.source, compilation)} for o in lc.reporting],
        schema={"frequency": pl.String, "due_day": pl.Int64, "due_month": pl.Int64, "what": pl.String,
                "source": pl.String, "source_text": pl.String})
    return facts, exits, duties


def criteria_diff(before: Policy, after: Policy, lang: str = "zh") -> pl.DataFrame:
    """Criteria added, removed or changed (label, rule, source or waivers) from `before` to `after`, matched by
    criterion id: id, change (added | removed | changed), field, before, after."""
    old = {r["id"]: r for r in criteria_rows(before, lang)}
    new = {r["id"]: r for r in criteria_rows(after, lang)}
    rows = []
    for cid in [*old, *(i for i in new if i not in old)]:
        if cid not in new:
            rows.append({"id": cid, "change": "removed", "field": "label", "before": old[cid]["label"],
                         "after": None})
        elif cid not in old:
            rows.append({"id": cid, "change": "added", "field": "label", "before": None,
                         "after": new[cid]["label"]})
        else:
            rows += [{"id": cid, "change": "changed", "field": f, "before": old[cid][f], "after": new[cid][f]}
                     for f in DIFF_FIELDS if old[cid][f] != new[cid][f]]
    return pl.DataFrame(rows, schema={"id": pl.String, "change": pl.String, "field": pl.String,
                                      "before": pl.String, "after": pl.String})


def evaluate_firm(principal: Principal, policy: Policy, uscc: str, as_of: date, lang: str = "zh", *,
                  engine: Engine | None = None) -> dict[str, Any]:
    """The CONTRACT §4 evaluation record of one registry firm in the principal's scope (UserError otherwise)."""
    check_as_of(policy, as_of)
    code = uscc.strip().upper()
    if firm_profile(principal, code, engine=engine) is None:
        raise UserError(f"未找到该企业，或不在您的辖区内 / firm not found or outside your jurisdiction: {code}")
    from registry.db import engine_or_default

    bundle = load_bundle(engine_or_default(engine), [code])
    [record] = evaluation_records(evaluate(policy, bundle, as_of, lang=lang))
    return record


def firm_default_rule(principal: Principal, uscc: str, as_of: date, purpose: str = "new_application", *,
                      engine: Engine | None = None) -> Policy | None:
    """The rule set the firm page opens with (registry.lifecycle.firm_rule): for a new application the next rung
    above the highest tier the firm holds on `as_of` — the rule its promotion flag is judged on —, for 复核 the rule
    of its highest tier held; resolved for the firm's jurisdiction chain by policy_in_force, like `zjtx evaluate
    --tier`. None when the firm is out of scope or no rule applies."""
    from registry.db import get_engine

    profile = firm_profile(principal, uscc, engine=engine)
    if profile is None:
        return None
    held = read_frame(engine or get_engine(), sa.select(R.c.tier).select_from(R.join(E, E.c.id == R.c.enterprise_id))
                      .where(*firm_conditions(principal), E.c.uscc == profile["uscc"], held_on(as_of)).distinct(),
                      {"tier": pl.String})
    jurisdiction = pl.select(firm_jurisdiction(pl.lit(profile["region_code"], pl.String))).item()
    return firm_rule(held["tier"].to_list(), jurisdiction, as_of, purpose)


@dataclass
class Screening:
    result: pl.DataFrame  # evaluate()'s frame
    names: pl.DataFrame  # uscc, name
    skipped: list[tuple[str, int]]  # (file, rows left out by validation)
    workbook: bytes  # the `zjtx screen --format xlsx` workbook

    def counts(self) -> dict[str, int]:
        counted = dict(self.result.group_by("verdict").len().iter_rows())
        return {v: int(counted.get(v, 0)) for v in ("eligible", "ineligible", "insufficient_data")}


def screen_uploads(policy: Policy, files: Sequence[tuple[str, bytes]], as_of: date, lang: str = "zh") -> Screening:
    """初核 pre-screening of uploaded application files, as `zjtx screen FILE... --format xlsx` (nothing stored)."""
    check_as_of(policy, as_of)
    with tempfile.TemporaryDirectory(prefix="zjtx-screen-") as folder:
        paths = []
        for index, (name, data) in enumerate(files):
            target = Path(folder) / str(index) / Path(name).name
            target.parent.mkdir()
            target.write_bytes(data)
            paths.append(target)
        bundle, parsed = read_files(paths)
    if not any(p.kind == "enterprises" for p in parsed):
        raise UserError("初核需要企业名录文件 / screening needs an enterprises file (uscc, name, region_code, "
                        "industry_code, founded_on)")
    result = evaluate(policy, bundle, as_of, lang=lang)
    names = bundle.enterprises.select("uscc", "name")
    skipped = [(Path(p.path).name, len({r.row for r in p.rejections if r.row is not None}))
               for p in parsed if any(r.row is not None for r in p.rejections)]
    return Screening(result, names, skipped, xlsx_bytes(result, policy, names, lang))
