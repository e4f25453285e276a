"""A flag's evidence reads as a sentence with units; sources lose the repository's internal references."""

from __future__ import annotations

import json

from dashboard.evidence import evidence_sentence, plain_source


def test_revenue_drop_in_wan_with_the_unit():
    evidence = {"reason": "revenue_drop", "year": 2024, "revenue": 3025.0, "previous_year": 2023,
                "previous_revenue": 5000.0, "change_pct": -39.5, "threshold_pct": -30.0}
    # 3,025 / 5,000 = 60.5 % of the year before: down 39.5 %, more than 30 %.
    assert evidence_sentence("anomaly", json.dumps(evidence)) == (
        "2024年营业收入 3,025.0 万元，比2023年的 5,000.0 万元 下降 39.5%，降幅超过 30.0%")
    big = {**evidence, "revenue": 30260.0, "previous_revenue": 50000.0}  # 30,260 万元 = 3.026 亿元
    assert "3.03 亿元" in evidence_sentence("anomaly", big) and "5.00 亿元" in evidence_sentence("anomaly", big)
    assert "CNY 30.2 m" in evidence_sentence("anomaly", evidence, "en")


def test_date_flags_and_exit_rules():
    assert evidence_sentence("expired", {"valid_until": "2024-06-21", "days_overdue": 10}) == (
        "有效期已于 2024-06-21 届满，未复核续期，已逾期 10 天")
    assert evidence_sentence("review_due", {"review_at_years": 3, "review_on": "2024-07-31", "days_to_review": 30,
                                            "valid_until": "2024-07-31", "days_left": 30}) == (
        "认定满 3 年，应于 2024-07-31 前复核（还有 30 天）；有效期至 2024-07-31")
    # An older flag without the review date still reads as a sentence, never with "None".
    older = evidence_sentence("review_due", {"valid_until": "2024-07-31", "days_left": 95})
    assert older == "有效期至 2024-07-31，还剩 95 天" and "None" not in older
    exit_text = evidence_sentence("exit", {"reason": "false_declaration", "label_zh": "虚假申报",
                                           "event": "false_declaration", "occurred_on": "2024-05-01", "ban_years": 3})
    assert exit_text == "虚假申报（事件：虚假申报，发生于 2024-05-01，3 年内不得再申报）"
    assert evidence_sentence("promotion", {"target_tier": "little_giant", "policy": "cn/little-giant/2021",
                                           "policy_title": "专精特新“小巨人”企业培育条件"}) == (
        "符合专精特新“小巨人”的条件（专精特新“小巨人”企业培育条件）")


def test_sources_without_internal_references():
    assert plain_source("工信部联政法〔2021〕70号 L1577-1580 (data/sources/notes-national.md:261, :481): 力争") == (
        "工信部联政法〔2021〕70号 L1577-1580: 力争")
    assert plain_source("默认规则：有效期3年 (registry.policy DEFAULT_LIFECYCLE)") == "默认规则：有效期3年"
    assert plain_source(None) == "—"
