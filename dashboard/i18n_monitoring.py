"""Labels of the 运行监测 page, merged into the one catalogue by dashboard/i18n.py (kept in their own file so that
this page and the others can grow without editing the same lines)."""

from __future__ import annotations

MONITORING_LABELS: dict[str, tuple[str, str]] = {
    "page.monitoring": ("运行监测", "Performance monitoring"),
    "monitor.tiers": ("称号（可多选）", "Tiers (one or more)"),
    "monitor.grain": ("统计周期", "Period grain"),
    "monitor.basis": ("口径", "Basis"),
    "monitor.metric": ("指标", "Metric"),
    "monitor.period": ("报告期", "Reporting period"),
    "monitor.breakdown_by": ("分组方式", "Break down by"),
    "monitor.no_tiers": ("请至少选择一个称号。", "Choose at least one tier."),
    "monitor.no_periods": ("该口径下暂无经营数据。", "No operating data for this grain and basis yet."),
    "monitor.no_data": ("所选范围内没有企业。", "No firms in the chosen cohort."),
    "monitor.cohort": (
        "监测对象：报告期末持有所选称号有效认定的企业（同时持有两个所选称号的企业在合计中只计一次）；同比为与上年同期（按当时的监测对象）比较。",
        "Cohort: firms holding a recognition of a chosen tier in force on the last day of the period (a firm holding "
        "two chosen tiers counts once in the whole); year on year compares with the same period a year before (with "
        "that period's cohort)."),
    "monitor.ratio_note": (
        "比率指标仅计算两项数据均已填报（且分母大于 0）的企业；合计为这些企业的汇总比率（分子之和 ÷ 分母之和）。",
        "A ratio is computed only for firms that reported both parts (the denominator above zero); the total is the "
        "pooled ratio of those firms (sum of numerators ÷ sum of denominators)."),
    "monitor.annual_note": (
        "年度数据与政策评估同一口径：优先年报，其次年末本年累计，再次12个月或4个季度当期数据之和。",
        "Annual figures are those the policy checks use: the annual report, else the year-end year-to-date report, "
        "else the sum of 12 monthly or 4 quarterly reports."),
    "monitor.total": ("合计", "Total"),
    "monitor.pooled_ratio": ("汇总比率", "Pooled ratio"),
    "monitor.median": ("中位数", "Median"),
    "monitor.firms": ("监测企业数", "Firms in cohort"),
    "monitor.reporting": ("已填报企业", "Firms reporting"),
    "monitor.coverage": ("填报率 {pct}", "Reported: {pct}"),
    "monitor.yoy": ("同比（{period}）", "YoY (vs {period})"),
    "monitor.trend": ("趋势", "Trend"),
    "monitor.trend_title": ("{metric}中位数走势（{unit}，按称号）", "{metric}: median by tier over time ({unit})"),
    "monitor.distribution": ("分布", "Distribution"),
    "monitor.box_title": ("{period} {metric}企业分布（{unit}，四分位）", "{metric} across firms, {period} ({unit}, quartiles)"),
    "monitor.breakdown": ("分组明细", "Breakdown"),
    "monitor.breakdown_help": (
        "选中一行即可查看该组企业名单；名单中的企业可打开其详情页。",
        "Select a row to list its firms; open a firm's page from the list."),
    "monitor.cell_firms": ("{group} · {tier} 的企业", "Firms of {group} · {tier}"),
    "monitor.open_firm": ("打开企业", "Open firm"),
    "monitor.pick_cell": ("查看企业名单的分组", "Cell whose firms to list"),
    "monitor.trend_table": ("趋势数据", "Trend data"),
    "monitor.quartiles_table": ("四分位数据", "Quartile data"),
    "monitor.unit.wan_yuan": ("万元", "CNY 10k"),
    "monitor.unit.persons": ("人", "persons"),
    "monitor.unit.items": ("件", "items"),
    "monitor.unit.percent": ("%", "%"),
    "monitor.grain.year": ("年度", "Year"),
    "monitor.grain.quarter": ("季度", "Quarter"),
    "monitor.grain.month": ("月度", "Month"),
    "monitor.basis.period": ("当期", "This period"),
    "monitor.basis.ytd": ("本年累计", "Year to date"),
    "monitor.by.area": ("地区 × 称号", "Area × tier"),
    "monitor.by.industry": ("行业 × 称号", "Industry × tier"),
    "monitor.metric.revenue": ("营业收入", "Revenue"),
    "monitor.metric.main_revenue": ("主营业务收入", "Main business revenue"),
    "monitor.metric.net_profit": ("净利润", "Net profit"),
    "monitor.metric.rd_expense": ("研发费用", "R&D expense"),
    "monitor.metric.rd_intensity": ("研发强度（研发费用/营业收入）", "R&D intensity (R&D expense / revenue)"),
    "monitor.metric.employees": ("从业人数", "Employees"),
    "monitor.metric.export_value": ("出口额", "Export value"),
    "monitor.metric.taxes_paid": ("上缴税金", "Taxes paid"),
    "monitor.metric.debt_ratio": ("资产负债率（负债/资产）", "Debt ratio (liabilities / assets)"),
    "monitor.metric.invention_patents": ("有效发明专利", "Valid invention patents"),
}

MONITORING_COLUMNS: dict[str, tuple[str, str]] = {
    "group": ("分组", "Group"),
    "industry": ("行业", "Industry"),
    "rd_intensity": ("研发强度 (%)", "R&D intensity (%)"),
    "reporting": ("已填报", "Reporting"),
    "coverage_pct": ("填报率 (%)", "Coverage (%)"),
    "total": ("合计", "Total"),
    "min": ("最小值", "Min"),
    "q1": ("下四分位", "Q1"),
    "median": ("中位数", "Median"),
    "q3": ("上四分位", "Q3"),
    "max": ("最大值", "Max"),
}

MONITORING_CODES: dict[str, dict[str, tuple[str, str]]] = {}
