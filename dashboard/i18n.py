"""The dashboard's one label catalogue, Chinese first with English alongside.

`t(key, lang)` for interface text, `code_label(kind, code, lang)` for the codes the data carries (tiers, statuses,
flags, boards ...), `column_label(name, lang)` for table headers (the contract's Chinese names). An unknown key is
shown as the key itself, never as an error: a missing label must not break a page.
"""

from __future__ import annotations

from typing import Literal

from registry.labels import FIXED
from registry.labels import catalogue as registry_catalogue

Lang = Literal["zh", "en"]
LANGUAGES: dict[str, str] = {"zh": "中文", "en": "English"}

LABELS: dict[str, tuple[str, str]] = {
    "app.title": ("专精特新企业梯度培育登记与监测", "SME cultivation registry & monitoring"),
    "app.language": ("语言 / Language", "语言 / Language"),
    "app.freshness": ("数据更新", "Data updated"),
    "app.last_ingestion": ("最近导入", "Last ingestion"),
    "app.last_job": ("最近任务", "Last job run"),
    "app.never": ("尚无", "none yet"),
    "app.db_unavailable": ("数据库不可用，请先运行 `zjtx init`", "Database unavailable: run `zjtx init` first"),
    "app.scope": ("辖区", "Jurisdiction"),
    "page.overview": ("总览", "Overview"),
    "page.registry": ("企业名录", "Registry"),
    "page.firm": ("企业详情", "Firm"),
    "page.audit": ("审计日志", "Audit log"),
    # overview
    "overview.as_of": ("统计日期", "As of"),
    "overview.valid_by_tier": ("有效认定企业（按称号）", "Firms with a valid recognition, by tier"),
    "overview.by_province": ("按省份分布", "By province"),
    "overview.by_city": ("按市分布", "By city"),
    "overview.by_county": ("按区县分布", "By county"),
    "overview.drill_province": ("查看省份下各市", "Cities of a province"),
    "overview.drill_city": ("查看市下各区县", "Counties of a city"),
    "overview.drill_pick": ("请选择", "Choose"),
    "overview.tier_filter": ("称号", "Tier"),
    "overview.all_tiers": ("全部称号", "All tiers"),
    "overview.due": ("复核与到期", "Re-review and expiry"),
    "overview.due_help": ("按各认定政策的复核规则：下一个复核日在 {review} 天内为待复核，有效期至在 {expiring} 天内为即将到期，"
                          "已过期且未续期为已到期（与预警、简报一致）",
                          "By each recognition's own policy: due for re-review when its next review date is within "
                          "{review} days; expiring: valid_until within {expiring} days; expired: past valid_until, "
                          "not renewed (the same as the flags and the briefing)"),
    "overview.due_list": ("待复核 / 到期名单", "Recognitions due / expired"),
    "overview.due_list_cap": ("按有效期先后显示前 {shown} 条；下载可获取全部", "The first {shown} by valid_until; "
                              "download for all"),
    "overview.flags": ("未关闭的预警", "Open flags"),
    "overview.targets": ("培育目标完成情况", "Cultivation targets"),
    "overview.national_targets": ("全国“百十万千”目标", "National 百十万千 targets"),
    "overview.region_targets": ("地区目标", "Regional targets"),
    "overview.region": ("地区", "Region"),
    "overview.no_targets": ("尚未导入该地区的目标（targets 文件）", "No targets loaded for this region (targets file)"),
    "overview.no_data": ("暂无数据", "No data yet"),
    "metric.review_due": ("待复核", "Due for review"),
    "metric.expiring": ("即将到期", "Expiring"),
    "metric.expired": ("已到期未续期", "Expired, not renewed"),
    "metric.firms": ("家", "firms"),
    # registry list
    "registry.name": ("企业名称（包含）", "Name contains"),
    "registry.uscc": ("统一社会信用代码", "USCC"),
    "registry.province": ("省份", "Province"),
    "registry.industry": ("行业门类", "Industry section"),
    "registry.tier": ("称号", "Tier"),
    "registry.status": ("认定状态", "Recognition status"),
    "registry.any": ("全部", "Any"),
    "registry.total": ("共 {total} 家企业", "{total} firms"),
    "registry.open": ("查看详情", "Open"),
    "registry.open_firm": ("打开企业详情", "Open a firm"),
    "registry.page_size": ("每页", "Per page"),
    "registry.large_download": ("共 {rows} 行：生成 Excel 需要较长时间，CSV 可立即下载",
                                "{rows} rows: the Excel file takes a while to build, CSV is immediate"),
    "registry.select_hint": ("点选一行即可打开企业详情", "Select a row to open the firm"),
    # firm
    "firm.search": ("企业名称或信用代码", "Firm name or USCC"),
    "firm.matches": ("匹配的企业", "Matching firms"),
    "firm.none_found": ("未找到匹配的企业", "No matching firm"),
    "firm.not_found": ("未找到该企业，或不在您的辖区内：{uscc}", "Firm not found or outside your jurisdiction: {uscc}"),
    "firm.prompt": ("请输入企业名称或统一社会信用代码", "Enter a firm name or USCC"),
    "firm.profile": ("基本信息", "Profile"),
    "firm.recognitions": ("认定记录", "Recognitions"),
    "firm.timeline": ("认定有效期", "Recognition validity"),
    "firm.reports": ("运行数据", "Operating data"),
    "firm.annual": ("年度数据", "Annual figures"),
    "firm.monthly_revenue": ("月度营业收入", "Monthly revenue"),
    "firm.rd_ratio": ("研发费用占营业收入比重 (%)", "R&D expense / revenue (%)"),
    "firm.debt_ratio": ("资产负债率 (%)", "Debt ratio (%)"),
    "firm.revenue_trend": ("营业收入（万元）", "Revenue (万元)"),
    "firm.attributes": ("企业资质", "Attributes"),
    "firm.events": ("事件", "Events"),
    "firm.flags": ("生命周期预警", "Lifecycle flags"),
    "firm.evaluation": ("政策评估", "Policy evaluation"),
    "firm.policy": ("政策", "Policy"),
    "firm.purpose": ("用途", "Purpose"),
    "firm.purpose_new_application": ("申报下一层级", "Application for the next tier"),
    "firm.purpose_review": ("复核（现有称号）", "复核 (review) of the tier held"),
    "firm.default_rule": ("今日适用的规则：{policy}（与晋级提示、`zjtx evaluate --tier` 的判定一致）",
                          "Rule in force today: {policy} (as the promotion flags and `zjtx evaluate --tier` choose)"),
    "firm.policy_pick": ("选择适用于该企业的政策", "Choose a policy that applies to this firm"),
    "firm.verdict": ("结论", "Verdict"),
    "firm.class": ("类别", "Class"),
    "firm.capital": ("注册资本", "Registered capital"),
    "firm.score": ("得分", "Score"),
    "firm.none": ("无", "None"),
    "firm.superseded_note": ("斜线填充 = 已被复核续期的新认定替代", "Hatched = superseded by a re-review"),
    "firm.superseded_by": ("已被认定记录 #{id} 替代", "superseded by recognition #{id}"),
    # downloads
    "download.excel": ("下载 Excel", "Download Excel"),
    "download.csv": ("下载 CSV", "Download CSV"),
    # chart titles and axes
    "chart.firms": ("企业数", "Firms"),
    "chart.tier": ("称号", "Tier"),
    "chart.province": ("省份", "Province"),
    "chart.year": ("年度", "Year"),
    "chart.month": ("月份", "Month"),
    "chart.attainment": ("完成率 (%)", "Attainment (%)"),
    "chart.target": ("目标", "Target"),
    "chart.actual": ("实际", "Actual"),
    "chart.flags": ("预警数", "Flags"),
}

# Names of the registry's codes (tiers incl. regional ones, jurisdictions, flags, statuses, decisions, roles,
# attribute values, criteria results …) come from the one catalogue in registry/labels.py; the dashboard adds
# only its own states.
CODES: dict[str, dict[str, tuple[str, str]]] = {
    **registry_catalogue(),
    "target_state": {
        "achieved": ("已完成", "achieved"),
        "on_course": ("进行中", "in progress"),
        "missed": ("未完成", "missed"),
    },
}

# Table headers: the contract's Chinese column names, plus the dashboard's derived columns.
COLUMNS: dict[str, tuple[str, str]] = {
    "id": ("编号", "No."),
    "uscc": ("统一社会信用代码", "USCC"),
    "name": ("企业名称", "Name"),
    "region_code": ("行政区划代码", "Region code"),
    "province_code": ("省份代码", "Province code"),
    "province": ("省份", "Province"),
    "industry_code": ("行业代码", "Industry code"),
    "founded_on": ("成立日期", "Founded"),
    "registered_capital": ("注册资本（万元）", "Registered capital (万元)"),
    "ownership": ("企业类型", "Ownership"),
    "listing_board": ("上市板块", "Listing board"),
    "main_product": ("主导产品", "Main product"),
    "tiers": ("现有称号", "Tiers held"),
    "tier": ("称号", "Tier"),
    "jurisdiction": ("认定机关辖区", "Jurisdiction"),
    "batch": ("批次", "Batch"),
    "recognized_on": ("认定日期", "Recognised on"),
    "valid_until": ("有效期至", "Valid until"),
    "status": ("状态", "Status"),
    "document_no": ("文号", "Document no."),
    "superseded_by": ("被替代为", "Superseded by"),
    "ended_on": ("终止日期", "Ended on"),
    "end_reason": ("终止原因", "End reason"),
    "days_left": ("剩余天数", "Days left"),
    "state": ("状态", "State"),
    "firms": ("企业数", "Firms"),
    "flags": ("预警数", "Flags"),
    "kind": ("提示类别", "Kind of flag"),
    "severity": ("严重程度", "Severity"),
    "due_on": ("到期日", "Due on"),
    "opened_on": ("开启日期", "Opened on"),
    "resolved_on": ("关闭日期", "Resolved on"),
    # Count columns named after the state (label catalogue), capitalised as headers.
    **{state: (zh, en[:1].upper() + en[1:]) for state, (zh, en) in FIXED["due_state"].items()},
    "region": ("地区", "Region"),
    "year": ("年度", "Year"),
    "target_count": ("目标数", "Target"),
    "actual": ("实际数", "Actual"),
    "attainment_pct": ("完成率 (%)", "Attainment (%)"),
    "source": ("来源", "Source"),
    "period": ("报告期", "Period"),
    "basis": ("口径", "Basis"),
    "revenue": ("营业收入（万元）", "Revenue (万元)"),
    "main_revenue": ("主营业务收入（万元）", "Main business revenue (万元)"),
    "net_profit": ("净利润（万元）", "Net profit (万元)"),
    "total_assets": ("资产总额（万元）", "Total assets (万元)"),
    "total_liabilities": ("负债总额（万元）", "Total liabilities (万元)"),
    "taxes_paid": ("上缴税金（万元）", "Taxes paid (万元)"),
    "rd_expense": ("研发费用（万元）", "R&D expense (万元)"),
    "employees": ("从业人数", "Employees"),
    "rd_staff": ("研发人员数", "R&D staff"),
    "export_value": ("出口额", "Export value"),
    "main_product_revenue": ("主导产品销售收入（万元）", "Main product revenue (万元)"),
    "equity_financing": ("新增股权融资（万元）", "New equity financing (万元)"),
    "invention_patents": ("有效发明专利", "Invention patents"),
    "utility_patents": ("实用新型专利", "Utility patents"),
    "design_patents": ("外观设计专利", "Design patents"),
    "software_copyrights": ("软件著作权", "Software copyrights"),
    "market_share": ("主导产品市场占有率 (%)", "Market share (%)"),
    "province_rank": ("主导产品本省排名", "Rank in province"),
    "class1_ip": ("Ⅰ类知识产权", "Class I IP"),
    "class1_ip_high_value": ("Ⅰ类高价值知识产权", "High-value class I IP"),
    "class1_ip_own": ("自主研发Ⅰ类知识产权", "Self-developed class I IP"),
    "class2_ip": ("Ⅱ类知识产权", "Class II IP"),
    "tech_staff": ("科技人员数", "S&T staff"),
    "total_cost": ("成本费用支出总额（万元）", "Total costs and expenses (万元)"),
    "intl_market_share": ("主导产品国际细分市场占有率 (%)", "International niche market share (%)"),
    "national_rank": ("主导产品国内细分市场排名", "Rank in the national niche market"),
    "rd_ratio": ("研发费用占比 (%)", "R&D ratio (%)"),
    "debt_ratio": ("资产负债率 (%)", "Debt ratio (%)"),
    "attribute": ("资质", "Attribute"),
    "value": ("取值", "Value"),
    "effective_on": ("生效日期", "Effective on"),
    "expires_on": ("失效日期", "Expires on"),
    "evidence": ("证明材料", "Evidence"),
    "event": ("事件", "Event"),
    "occurred_on": ("发生日期", "Occurred on"),
    "notified_on": ("报告日期", "Notified on"),
    "detail": ("详情", "Detail"),
    "link": ("详情", "Details"),
    "criterion": ("条件", "Criterion"),
    "result": ("结果", "Result"),
    "expected": ("要求", "Expected"),
    "actual_value": ("实际值", "Actual"),
    "points": ("得分", "Points"),
    "confidence": ("可信度", "Confidence"),
    "note": ("说明", "Note"),
}


def _merge(labels: dict, columns: dict, codes: dict) -> None:
    """Add a page group's catalogue (kept in its own file so that pages can grow without editing the same lines);
    a key defined here wins."""
    for catalogue, extra in ((LABELS, labels), (COLUMNS, columns)):
        for key, pair in extra.items():
            catalogue.setdefault(key, pair)
    for kind, kind_codes in codes.items():
        for code, pair in kind_codes.items():
            CODES.setdefault(kind, {}).setdefault(code, pair)


def _merge_page_labels() -> None:
    """The operations pages (i18n_ops), the analytics pages (i18n_analytics), the rule-impact page (i18n_impact) and the
    运行监测 page (i18n_monitoring)."""
    from dashboard.i18n_analytics import ANALYTICS_CODES, ANALYTICS_COLUMNS, ANALYTICS_LABELS
    from dashboard.i18n_impact import IMPACT_CODES, IMPACT_COLUMNS, IMPACT_LABELS
    from dashboard.i18n_monitoring import MONITORING_CODES, MONITORING_COLUMNS, MONITORING_LABELS
    from dashboard.i18n_ops import OPS_CODES, OPS_COLUMNS, OPS_LABELS
    from dashboard.i18n_risk import RISK_CODES, RISK_COLUMNS, RISK_LABELS

    _merge(OPS_LABELS, OPS_COLUMNS, OPS_CODES)
    _merge(ANALYTICS_LABELS, ANALYTICS_COLUMNS, ANALYTICS_CODES)
    _merge(IMPACT_LABELS, IMPACT_COLUMNS, IMPACT_CODES)
    _merge(RISK_LABELS, RISK_COLUMNS, RISK_CODES)
    _merge(MONITORING_LABELS, MONITORING_COLUMNS, MONITORING_CODES)


_merge_page_labels()


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def t(key: str, lang: str, **values: object) -> str:
    """The label for `key` in `lang`, with {placeholders} filled from `values`."""
    pair = LABELS.get(key)
    text = _pick(pair, lang) if pair else key
    return text.format(**values) if values else text


def code_label(kind: str, code: str | None, lang: str) -> str:
    """The display name of a data code (tier, status, flag ...); the code itself when it has no label."""
    if code is None:
        return ""
    pair = CODES.get(kind, {}).get(code)
    return _pick(pair, lang) if pair else code


def column_label(name: str, lang: str) -> str:
    pair = COLUMNS.get(name)
    return _pick(pair, lang) if pair else name


def column_labels(names: list[str], lang: str) -> dict[str, str]:
    return {n: column_label(n, lang) for n in names}
