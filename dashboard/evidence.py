"""A flag's evidence as a sentence an official reads ("2024年营业收入 3,025.0 万元，比2023年下降 35.2%，降幅超过 30%"),
not as JSON with English keys; and rule sources without the project's internal references (file paths, module
names). Names of codes come from the label catalogue (registry/labels.py), amounts from dashboard/formatting.py."""

from __future__ import annotations

import json
import re
from typing import Any

from dashboard.formatting import fmt_money
from registry.labels import label

# "(data/sources/notes-national.md:261, :481)", "(registry.policy DEFAULT_LIFECYCLE)": where a fact was checked in
# this repository — useful to developers, noise to officials.
_INTERNAL = re.compile(r"\s*[（(](?:data/sources/|registry\.|lifecycle\.)[^)）]*[)）]")


def plain_source(text: str | None) -> str:
    """A rule source with the repository's internal references removed; "—" when there is none."""
    if not text:
        return "—"
    return _INTERNAL.sub("", str(text)).strip() or "—"


def _pct(value: Any) -> str:
    return f"{abs(float(value)):.1f}%"


def _has(ev: dict[str, Any], *keys: str) -> bool:
    """Older flags carry fewer facts: a sentence is used only when all of its facts are there (never "None")."""
    return all(ev.get(k) is not None for k in keys)


def _zh(flag: str, ev: dict[str, Any]) -> str:
    reason = ev.get("reason")
    if flag == "review_due" and _has(ev, "review_at_years", "review_on", "days_to_review", "valid_until"):
        return (f"认定满 {ev.get('review_at_years')} 年，应于 {ev.get('review_on')} 前复核（还有 "
                f"{ev.get('days_to_review')} 天）；有效期至 {ev.get('valid_until')}")
    if flag in ("expiring", "review_due") and _has(ev, "valid_until", "days_left"):
        return f"有效期至 {ev.get('valid_until')}，还剩 {ev.get('days_left')} 天"
    if flag == "expired" and _has(ev, "valid_until", "days_overdue"):
        return f"有效期已于 {ev.get('valid_until')} 届满，未复核续期，已逾期 {ev.get('days_overdue')} 天"
    if flag == "promotion":
        return f"符合{label('tier', ev.get('target_tier'))}的条件（{ev.get('policy_title') or ev.get('policy')}）"
    if flag == "missing_report" and ev.get("frequency"):
        return (f"{ev.get('period')} {label('frequency', ev.get('frequency'))}未按时报送"
                f"（截止 {ev.get('due_on')}）：{ev.get('what') or ''}").rstrip("：")
    if reason == "revenue_drop" and _has(ev, "year", "revenue", "previous_year", "previous_revenue", "change_pct"):
        return (f"{ev.get('year')}年营业收入 {fmt_money(ev.get('revenue'))}，比{ev.get('previous_year')}年的 "
                f"{fmt_money(ev.get('previous_revenue'))} 下降 {_pct(ev.get('change_pct'))}，降幅超过 "
                f"{_pct(ev.get('threshold_pct'))}")
    if reason == "rd_below_threshold" and _has(ev, "year", "rd_ratio_pct", "threshold_pct", "previous_rd_ratio_pct"):
        return (f"{ev.get('year')}年研发费用占营业收入 {_pct(ev.get('rd_ratio_pct'))}，低于称号门槛 "
                f"{_pct(ev.get('threshold_pct'))}（上年 {_pct(ev.get('previous_rd_ratio_pct'))}）")
    head = ev.get("label_zh") or str(ev.get("rule") or "")
    facts = []
    if ev.get("event"):
        facts.append(f"事件：{label('event', ev['event'])}")
    if ev.get("occurred_on"):
        facts.append(f"发生于 {ev['occurred_on']}")
    if ev.get("deadline"):
        facts.append(f"报告期限 {ev['deadline']}")
    if ev.get("missed"):
        facts.append(f"累计 {ev['missed']} 次")
    if ev.get("ban_years"):
        facts.append(f"{ev['ban_years']} 年内不得再申报")
    return head + (f"（{'，'.join(facts)}）" if facts else "")


def _en(flag: str, ev: dict[str, Any]) -> str:
    reason = ev.get("reason")
    if flag == "review_due" and _has(ev, "review_at_years", "review_on", "days_to_review", "valid_until"):
        return (f"{ev.get('review_at_years')} years since recognition: review by {ev.get('review_on')} "
                f"({ev.get('days_to_review')} days left); valid until {ev.get('valid_until')}")
    if flag in ("expiring", "review_due") and _has(ev, "valid_until", "days_left"):
        return f"valid until {ev.get('valid_until')}, {ev.get('days_left')} days left"
    if flag == "expired" and _has(ev, "valid_until", "days_overdue"):
        return f"expired on {ev.get('valid_until')} without renewal, {ev.get('days_overdue')} days ago"
    if flag == "promotion":
        return f"meets the conditions of {label('tier', ev.get('target_tier'), 'en')} ({ev.get('policy')})"
    if flag == "missing_report" and ev.get("frequency"):
        return (f"{label('frequency', ev.get('frequency'), 'en')} report {ev.get('period')} not filed "
                f"(due {ev.get('due_on')})")
    if reason == "revenue_drop" and _has(ev, "year", "revenue", "previous_year", "previous_revenue", "change_pct"):
        return (f"revenue {ev.get('year')}: {fmt_money(ev.get('revenue'), 'en')}, down "
                f"{_pct(ev.get('change_pct'))} from {fmt_money(ev.get('previous_revenue'), 'en')} in "
                f"{ev.get('previous_year')} (more than {_pct(ev.get('threshold_pct'))})")
    if reason == "rd_below_threshold" and _has(ev, "year", "rd_ratio_pct", "threshold_pct", "previous_rd_ratio_pct"):
        return (f"R&D {_pct(ev.get('rd_ratio_pct'))} of revenue in {ev.get('year')}, below the tier's "
                f"{_pct(ev.get('threshold_pct'))} (previous year {_pct(ev.get('previous_rd_ratio_pct'))})")
    head = ev.get("label_en") or str(ev.get("rule") or "")
    facts = [f"{k.replace('_', ' ')} {ev[k]}" for k in ("event", "occurred_on", "deadline", "missed", "ban_years")
             if ev.get(k)]
    return head + (f" ({', '.join(facts)})" if facts else "")


def evidence_sentence(flag: str, evidence: str | dict | None, lang: str = "zh") -> str:
    """One sentence for a flag's evidence (JSON text or a dict), in `lang`."""
    ev = json.loads(evidence) if isinstance(evidence, str) else (evidence or {})
    text = _en(flag, ev) if lang == "en" else _zh(flag, ev)
    return text or "—"
