"""Labels of the analytics pages (梯度培育 pipeline, 目标达成 KPI targets, and what they add to the overview and firm
pages), merged into the one catalogue by dashboard/i18n.py. Kept in their own file so that several pages can grow
without editing the same lines. Indicator names come from registry.targets.TARGET_INDICATORS (one source)."""

from __future__ import annotations

from registry.labels import NATIONAL_TIERS
from registry.targets import TARGET_INDICATORS

ANALYTICS_LABELS: dict[str, tuple[str, str]] = {
    "page.pipeline": ("梯度培育", "Pipeline"),
    "page.targets": ("目标达成", "KPI targets"),
    # filters
    "filter.province": ("省份", "Province"),
    "filter.city": ("地市", "City"),
    "filter.county": ("区县", "County"),
    "filter.industry": ("行业门类", "Industry section"),
    "filter.tier": ("称号（流动与批次）", "Tier (flows and cohorts)"),
    "filter.as_of": ("统计日期", "As of"),
    "filter.all": ("全部", "All"),
    "filter.all_tiers": ("全部称号", "All tiers"),
    "filter.city_level": ("（市本级）", " (city level)"),
    # pipeline
    "pipeline.funnel": ("梯度漏斗：持有有效认定的企业", "The ladder: firms holding each tier"),
    "pipeline.funnel_help": ("统计日期当天持有该称号有效认定的企业数（同时持有两级的企业两级都计）；比例 = 本级 ÷ 下一级",
                             "Firms holding a valid recognition of the tier on the as-of date (a firm holding two "
                             "tiers counts in both); ratio = this tier ÷ the tier below"),
    "pipeline.of_below": ("为下一级的", "of the tier below"),
    "pipeline.by_area": ("按地区", "By area"),
    "pipeline.by_area_help": ("所选地区（未选则为本辖区）的下一级：全国→省→市→区县",
                              "One level below the chosen region (your own area when none is chosen): country → "
                              "province → city → county"),
    "pipeline.flows": ("各年度梯度流动", "Flows between tiers, by year"),
    "pipeline.flows_help": ("新认定 = 非复核的认定；晋级 = 持有较低称号时首次获得该称号；复核续期 = 替代旧认定的新认定；"
                            "撤销按终止日期计年；到期 = 有效期满未续期",
                            "New = a recognition that renews nothing; promotion = first recognition at a tier while "
                            "holding a lower one; renewal = a 复核 row superseding the old one; revocations by their end "
                            "date; expiry = validity ended without renewal"),
    "pipeline.undated": ("另有 {n} 条撤销或到期记录未注明日期，未计入年度图表",
                         "{n} more revocations or expiries carry no date and are not placed in a year"),
    "pipeline.cohorts": ("认定年度批次的复核结果", "Cohorts by year of recognition: 复核 outcome"),
    "pipeline.cohorts_help": ("按首次（或失效后重新）认定的年度分组，统计日期当天的结果：已续期 / 已撤销 / 已到期 / 待复核",
                              "Grouped by the year of the first recognition (or re-entry after a lapse); outcome on "
                              "the as-of date: renewed / revoked / expired / pending"),
    "pipeline.cohort_tier": ("批次称号", "Cohort tier"),
    "pipeline.candidates": ("晋级候选企业", "Promotion candidates"),
    "pipeline.candidates_from_flags": ("来自预警任务（{when}）未关闭的“可晋级”提示：按上一级称号现行政策评估为符合",
                                       "Open promotion flags from the flags job ({when}): eligible under the next "
                                       "tier's policy in force"),
    "pipeline.candidates_no_flags": ("预警任务尚未运行，暂无“可晋级”提示。可立即按上一级称号的现行政策评估（需读取企业全部数据，较慢）",
                                     "The flags job has not run: no promotion flags yet. Evaluate against the next "
                                     "tier's policies in force now (reads every holder's records; slow)"),
    "pipeline.evaluate": ("立即评估", "Evaluate now"),
    "pipeline.evaluated": ("已按 {as_of} 评估 {n} 家持有企业", "{n} holders evaluated as of {as_of}"),
    "pipeline.no_data": ("所选范围内暂无数据", "No data in the selected scope"),
    # targets
    "targets.firm_level": ("企业目标表（重点“小巨人”）", "Firm 目标表 (key little giants)"),
    "targets.firm_help": ("实际值取自企业年度数据与资质（考核年度12月31日有效）；完成率 = (实际 − 初始) ÷ (目标 − 初始)，"
                          "100% 即达到目标；方向“越低越好”的指标按反方向判断",
                          "Actuals come from the firm's annual figures and attributes in force on 31 December of the "
                          "assessed year; attainment = (actual − baseline) ÷ (target − baseline), 100% = target "
                          "reached; lower-is-better indicators are judged the other way"),
    "targets.rules": ("判定规则（依次匹配）", "Status rules (first match)"),
    "targets.indicator": ("指标", "Indicator"),
    "targets.status_by_indicator": ("各指标达成情况（企业数）", "Status by indicator (firms)"),
    "targets.distribution": ("完成率分布", "Attainment distribution"),
    "targets.distribution_help": ("仅含有实际值的已考核指标", "Assessed indicators with an actual value only"),
    "targets.by_area": ("各下级地区达标情况", "Targets met, one level down by area"),
    "targets.by_area_help": ("所选地区（未选则为本辖区）的下一级：省→市→区县；达标 = 已达成或进度正常，占已考核指标的比例",
                             "The level below the chosen region (your own area when none is chosen): province → "
                             "city → county; met = achieved or on track, as a share of the indicators assessed"),
    "targets.laggards": ("落后企业", "Laggards"),
    "targets.laggards_help": ("按未达标指标数从多到少、完成率中位数从低到高排列，显示前 {n} 家",
                              "Most indicators behind first, then lowest median attainment; the first {n} firms"),
    "targets.detail": ("明细（企业 × 指标）", "Detail (firm × indicator)"),
    "targets.none": ("尚未导入企业目标表（targets 文件）", "No firm targets loaded (targets file)"),
    "targets.region_level": ("地区培育目标", "Regional cultivation targets"),
    "targets.region_help": ("实际数 = 在该地区注册、统计日期（目标年度已过则为目标年度末）持有该称号的企业数；"
                            "进度正常 = 近12个月净增 ≥ 每年尚需",
                            "Actual = firms registered in the region holding the tier on the as-of date (on 31 "
                            "December of the target year once it is over); on track = net change over the last "
                            "12 months ≥ what is still needed per year"),
    "targets.region": ("地区", "Region"),
    "targets.children": ("含下级地区", "With the regions below it"),
    "targets.trajectory": ("目标轨迹", "Trajectory to the target"),
    "targets.pick": ("目标", "Target"),
    "targets.no_regional": ("该地区尚无培育目标", "No cultivation targets for this region"),
    "targets.county_note": ("区县级目标需在参考数据中有对应辖区后方可导入", "County targets need a jurisdiction in the "
                            "reference data before they can be loaded"),
    # overview and firm additions
    "overview.flag_firms": ("有未关闭预警的企业（按类型）", "Firms with open flags, by kind"),
    "overview.flag_metric": ("预警：{kind}", "Flag: {kind}"),
    "overview.no_flags": ("暂无未关闭的预警（预警任务尚未运行或已全部处理）",
                          "No open flags (the flags job has not run, or everything is resolved)"),
    "overview.target_state_help": ("进度正常 = 近12个月净增 ≥ 每年尚需；目标年度已过则按年度末数量判定",
                                   "On track = net change over the last 12 months ≥ what is still needed per year; "
                                   "a past target is judged on its year-end count"),
    "firm.targets": ("目标表完成情况", "目标表: targets vs actual"),
    "firm.targets_chart": ("各指标完成率 (%)", "Attainment by indicator (%)"),
    "firm.open_flags": ("未关闭的预警", "Open flags"),
    "firm.resolved_flags": ("已关闭的预警", "Resolved flags"),
    "chart.path": ("达成所需路径", "Path to the target"),
    "chart.recognitions": ("认定数", "Recognitions"),
    "chart.share": ("占比 (%)", "Share (%)"),
    "chart.firm_indicators": ("企业指标数", "Firm indicators"),
}

ANALYTICS_CODES: dict[str, dict[str, tuple[str, str]]] = {
    "flow": {
        "new": ("新认定", "new"),
        "promotion": ("晋级", "promotion"),
        "renewal": ("复核续期", "renewal"),
        "revocation": ("撤销", "revocation"),
        "expiry": ("到期", "expiry"),
    },
    "outcome": {
        "renewed": ("已续期", "renewed"),
        "revoked": ("已撤销", "revoked"),
        "expired": ("已到期", "expired"),
        "pending": ("待复核", "pending"),
    },
    "target_status": {
        "not_due": ("未到考核期", "not due"),
        "no_data": ("无数据", "no data"),
        "achieved": ("已达成", "achieved"),
        "on_track": ("进度正常", "on track"),
        "behind": ("落后", "behind"),
    },
    "regional_state": {
        "achieved": ("已完成", "achieved"),
        "on_track": ("进度正常", "on track"),
        "behind": ("进度落后", "behind"),
        "missed": ("未完成", "missed"),
    },
    "direction": {
        "higher": ("越高越好", "higher is better"),
        "lower": ("越低越好", "lower is better"),
    },
    "level": {
        "national": ("全国", "national"),
        "province": ("省级", "province"),
        "city": ("市级", "city"),
    },
    "target_indicator": {key: (spec.label_zh, spec.label_en) for key, spec in TARGET_INDICATORS.items()},
}

ANALYTICS_COLUMNS: dict[str, tuple[str, str]] = {
    "area_code": ("地区代码", "Area code"),
    "area": ("地区", "Area"),
    # The tier ladder's columns are tiers: their names come from the label catalogue.
    **{tier: NATIONAL_TIERS[tier] for tier in ("innovative_sme", "zjtx_sme", "little_giant", "single_champion")},
    "ratio_pct": ("本级 ÷ 下一级 (%)", "This tier ÷ tier below (%)"),
    "flow": ("流动类型", "Flow"),
    "cohort": ("认定年度", "Cohort"),
    "outcome": ("复核结果", "Outcome"),
    "recognitions": ("认定数", "Recognitions"),
    "share_pct": ("占比 (%)", "Share (%)"),
    "target_tier": ("晋级目标称号", "Next tier"),
    "evaluated": ("已评估企业数", "Holders evaluated"),
    "indicator": ("指标", "Indicator"),
    "unit": ("单位", "Unit"),
    "direction": ("方向", "Direction"),
    "start_period": ("起始期", "Start period"),
    "baseline": ("初始值", "Baseline"),
    "target_year1": ("一年目标", "Year-1 target"),
    "target_year2": ("两年目标", "Year-2 target"),
    "year1": ("第一年", "Year 1"),
    "year2": ("第二年", "Year 2"),
    "actual_year1": ("第一年实际", "Year-1 actual"),
    "actual_year2": ("第二年实际", "Year-2 actual"),
    "assessed_year": ("考核年度", "Assessed year"),
    "target_value": ("考核目标", "Target"),
    "behind": ("未达标指标数", "Number of indicators behind"),
    "indicators": ("已考核指标数", "Indicators assessed"),
    "met_indicators": ("达标指标数", "Indicators met"),
    "met_pct": ("达标率 (%)", "Share met (%)"),
    "median_attainment_pct": ("完成率中位数 (%)", "Median attainment (%)"),
    "behind_indicators": ("未达标指标", "Indicators behind"),
    "level": ("层级", "Level"),
    "actual_year_ago": ("一年前", "A year ago"),
    "pace_per_year": ("近12个月净增", "Net change, last 12 months"),
    "needed_per_year": ("每年尚需", "Still needed per year"),
    "not_due": ("未到考核期", "Not due"),
    "no_data": ("无数据", "No data"),
    "achieved": ("已达成", "Achieved"),
    "on_track": ("进度正常", "On track"),
    "rule": ("规则", "Rule"),
    "condition": ("条件", "Condition"),
    "on": ("日期", "Date"),
    "series": ("系列", "Series"),
}
