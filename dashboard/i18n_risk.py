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
    "overview.review_risk": ("复核风险（{months} 个月内，预计不通过）", "复核 risk (next {months} months, on course to fail)"),
}

RISK_COLUMNS: dict[str, tuple[str, str]] = {
    "review_on": ("复核日", "复核 date"),
    "gap": ("差距", "Gap"),
    "standard": ("评估标准", "Standard"),
}

RISK_CODES: dict[str, dict[str, tuple[str, str]]] = {
    "risk_standard": {
        "review": ("复核标准", "复核 standard"),
        "new_application": ("新申请标准", "new-application standard"),
    },
}
