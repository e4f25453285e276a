"""Labels of the rule-impact page (影响评估), merged into the one catalogue by dashboard/i18n.py. Kept in their own
file so that this page and the others can grow without editing the same lines."""

from __future__ import annotations

IMPACT_LABELS: dict[str, tuple[str, str]] = {
    "page.impact": ("影响评估", "Rule impact"),
    "impact.from": ("旧标准（复核）", "Old rule set (review)"),
    "impact.to": ("新标准（新申请）", "New rule set (new applications)"),
    "impact.jurisdiction": ("辖区", "Jurisdiction"),
    "impact.definition": (
        "评估对象：统计日期当天持有「{tier}」有效认定的企业（持有企业），以及持有其下一级称号（{below}）有效认定的企业"
        "（候选企业）；同时持有两级的企业只计一次（按持有企业）。两套标准均按统计日期的数据评估，不受各自生效日期限制。",
        "Firms evaluated: those holding a recognition of “{tier}” in force on the as-of date (holders) and those holding "
        "the tier below it ({below}) (candidates); a firm holding both counts once, as a holder. Both rule sets judge "
        "the data as of the same date, whatever their own effective dates."),
    "impact.no_below": ("无", "none"),
    "impact.evaluated": ("评估企业数", "Firms evaluated"),
    "impact.counts": ("两套标准的结论", "Verdicts under each rule set"),
    "impact.cross": ("新旧对比", "Old against new"),
    "impact.cross_help": (
        "“仅符合旧标准”含新标准下不符合与数据不足两类；交叉表列出全部组合。",
        "“Old only” includes both ineligible and insufficient data under the new rules; the cross-table lists every "
        "pair."),
    "impact.gates": ("各条件淘汰的企业", "Which gates cost the most firms"),
    "impact.gates_help": (
        "新标准的每个条件：在旧标准下符合、而因该条件不满足（且没有其他可替代条件满足）的企业数；缺数据列为因缺少该项数据而无法判断的企业数。",
        "Per criterion of the new rule set: firms eligible under the old rules that fail it where it decides (no "
        "alternative in an either-or met it anyway); “missing data” counts those whose data for it is missing."),
    "impact.lost": ("复核可过、新申请不过的企业", "Pass today's review standard, fail a new application"),
    "impact.lost_help": ("旧标准下符合、新标准下不符合的企业（新标准下数据不足的不在此列）。",
                         "Eligible under the old rules and ineligible under the new ones (insufficient data under "
                         "the new rules is not listed here)."),
    "impact.firms": ("全部评估企业", "Every firm evaluated"),
    "impact.none": ("该辖区在统计日期没有持有企业或候选企业", "No holders or candidates in this jurisdiction on the "
                    "as-of date"),
    "impact.confidence": ("可信度（最低）：旧标准 {old}，新标准 {new}。B、C 表示条文尚未与官方附件核对，结论仅供规划参考"
                          "（各条件的可信度见下表与政策规则页）。",
                          "Confidence (lowest): old rules {old}, new rules {new}. B and C mean the wording is not yet "
                          "checked against the official attachment: use the verdicts for planning (per criterion in "
                          "the table below and on the Policies page)."),
    "impact.same": ("新旧标准为同一政策", "Both sides are the same policy"),
    "impact.chart_title": ("各条件淘汰的企业数（旧标准符合者）", "Firms lost per gate (eligible under the old rules)"),
    "impact.download": ("影响评估", "rule_impact"),
}

IMPACT_CODES: dict[str, dict[str, tuple[str, str]]] = {
    "comparison": {
        "both": ("新旧均符合", "pass both"),
        "old_only": ("仅符合旧标准", "pass old only"),
        "new_only": ("仅符合新标准", "pass new only"),
        "neither": ("均不符合", "pass neither"),
    },
    "impact_role": {
        "holder": ("持有企业", "holder"),
        "candidate": ("候选企业", "candidate"),
    },
    "rule_set": {
        "from": ("旧标准", "old rules"),
        "to": ("新标准", "new rules"),
    },
}

IMPACT_COLUMNS: dict[str, tuple[str, str]] = {
    "held_tier": ("持有称号", "Tier held"),
    "impact_role": ("类别", "Role"),
    "verdict_from": ("旧标准结论", "Old verdict"),
    "score_from": ("旧标准得分", "Old score"),
    "verdict_to": ("新标准结论", "New verdict"),
    "score_to": ("新标准得分", "New score"),
    "comparison": ("对比", "Comparison"),
    "failed_to": ("新标准未满足的条件", "New criteria failed"),
    "missing_to": ("新标准缺数据的条件", "New criteria missing data"),
    "label_zh": ("条件名称", "Criterion (Chinese)"),
    "label_en": ("条件名称（英文）", "Criterion (English)"),
    "firms_failing": ("淘汰企业数", "Firms failing"),
    "missing_data": ("缺数据企业数", "Firms missing data"),
    "rule_set": ("标准", "Rule set"),
    "policy": ("政策编号", "Policy"),
    "eligible": ("符合", "Eligible"),
    "ineligible": ("不符合", "Ineligible"),
    "insufficient_data": ("数据不足", "Insufficient data"),
    "verdict_pair": ("旧 → 新", "Old → new"),
    "confidence": ("可信度", "Confidence"),
}
