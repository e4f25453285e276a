"""Labels of the 复核-risk section (review page, overview) and the early-warning flags, merged into the one catalogue
by dashboard/i18n.py."""

from __future__ import annotations

RISK_LABELS: dict[str, tuple[str, str]] = {
    "risk.title": ("复核风险", "复核 risk"),
    "risk.help": ("未来 {months} 个月内到复核日的认定，用企业最新数据按复核日适用的标准评估；另列按新申请标准评估的结果。"
                  "差距 = 实际数 − 门槛（负数为差多少）。",
                  "Recognitions due for 复核 in the next {months} months, their latest figures judged by the standard "
                  "that applies on the 复核 date; and the same firms under the new-application standard. "
                  "Gap = actual − threshold (negative: short by that much)."),
    "risk.summary": ("到期复核 {due} 项；按复核标准预计不通过 {review} 项，按新申请标准不通过 {new} 项",
                     "{due} due for 复核; {review} on course to fail it, {new} would fail a new application"),
    "risk.standard": ("评估标准", "Standard"),
    "risk.none": ("没有预计不通过的认定", "No recognition on course to fail"),
    "risk.export": ("导出复核风险名单（Excel）", "Export the 复核-risk list (Excel)"),
    "firm.peers": ("同行对比", "Peers"),
    "firm.peers_help": ("同行 = 辖区内{year}年持有同一称号（{tier}）、同一行业大类、同一省份的企业；少于 {min} 家时扩大到同门类、"
                        "再到全国（“同行范围”列写明）。百分位 = 同行中数值不高于本企业的比例（100 为最高）；比率按两项均报送的企业"
                        "计算。变动 = 与上一年相比（%），同行变动取中位数。",
                        "Peers = firms of your jurisdiction holding the same tier ({tier}) in the same industry division "
                        "and province, on {year} figures; below {min} firms the group widens to the section, then "
                        "nationally (see the group column). Percentile = share of peers at or below the firm (100 = "
                        "highest); ratios on firms reporting both parts. Change = on the year before (%), peers' median."),
    "overview.review_risk": ("复核风险（{months} 个月内，预计不通过）", "复核 risk (next {months} months, on course to fail)"),
}

RISK_COLUMNS: dict[str, tuple[str, str]] = {
    "review_on": ("复核日", "复核 date"),
    "gap": ("差距", "Gap"),
    "standard": ("评估标准", "Standard"),
    "percentile": ("同行百分位", "Percentile among peers"),
    "peer_median": ("同行中位数", "Peers' median"),
    "peer_q1": ("同行下四分位", "Peers' lower quartile"),
    "peer_q3": ("同行上四分位", "Peers' upper quartile"),
    "peers": ("同行企业数", "Peers"),
    "group": ("同行范围", "Peer group"),
    "change_pct": ("较上年变动 (%)", "Change on the year before (%)"),
    "peer_median_change_pct": ("同行变动中位数 (%)", "Peers' median change (%)"),
}

RISK_CODES: dict[str, dict[str, tuple[str, str]]] = {
    "peer_group": {
        "division_province": ("同省·同行业大类", "same province and division"),
        "section_province": ("同省·同行业门类", "same province and section"),
        "division_national": ("全国·同行业大类", "national, same division"),
        "section_national": ("全国·同行业门类", "national, same section"),
        "tier_national": ("全国·同称号", "national, same tier"),
    },
    "peer_metric": {
        "revenue": ("营业收入（万元）", "Revenue (万元)"),
        "main_revenue": ("主营业务收入（万元）", "Main-business revenue (万元)"),
        "net_profit": ("净利润（万元）", "Net profit (万元)"),
        "rd_expense": ("研发费用（万元）", "R&D spending (万元)"),
        "rd_ratio": ("研发强度 (%)", "R&D intensity (%)"),
        "employees": ("从业人数（人）", "Employees"),
        "export_value": ("出口额（万元）", "Exports (万元)"),
        "taxes_paid": ("上缴税金（万元）", "Taxes paid (万元)"),
        "debt_ratio": ("资产负债率 (%)", "Debt ratio (%)"),
        "invention_patents": ("有效发明专利（件）", "Invention patents"),
    },
    "risk_standard": {
        "review": ("复核标准", "复核 standard"),
        "new_application": ("新申请标准", "new-application standard"),
    },
}
