"""The fixed part of the label catalogue (registry/labels.py): code → (中文, English) for the codes that no data file
declares — national tiers, flags, severities, statuses, decisions, roles, attribute names and values, results —
and for the codes the registry's analyses put in their results (pipeline flows, target states, rule-impact
comparisons, run statuses, peer groups ...).

Kept apart from registry.labels (which also reads the policy files and the reference data for regional tiers and
jurisdictions) so that the access rules below the policy layer can name roles: imports run one way
(docs/architecture.md).
"""

from __future__ import annotations

Pair = tuple[str, str]

# The kinds of data file (CONTRACT §2) with their Chinese names, in load order: firms first, so that the other
# kinds in the same call can refer to them. Here rather than in registry.ingest so that naming them (the help of
# `zjtx ingest --kind`) does not load the ingestion stack.
FILE_KINDS: dict[str, str] = {
    "enterprises": "企业名录",
    "recognitions": "认定记录",
    "reports": "运行数据",
    "attributes": "企业资质",
    "events": "事件",
    "firm_targets": "企业目标",
    "regional_targets": "区域培育目标",
}

NATIONAL_TIERS: dict[str, Pair] = {
    "tech_sme": ("科技型中小企业", "Tech-based SME"),
    "innovative_sme": ("创新型中小企业", "Innovative SME"),
    "zjtx_sme": ("专精特新中小企业", "Provincial ZJTX SME"),
    "little_giant": ("专精特新“小巨人”", "Little giant"),
    "key_little_giant": ("重点“小巨人”", "Key little giant"),
    "single_champion": ("制造业单项冠军", "Single champion"),
}

# Regional tiers that cultivation targets name but no policy file declares (the compilation states no criteria
# for them); the demo's targets use them (registry/demo.py).
UNDECLARED_REGIONAL_TIERS: dict[str, Pair] = {
    "chain_leader": ("产业链领航企业", "Chain leader"),
    "zjtx_seed": ("专精特新种子企业", "ZJTX seed firm"),
    "zjtx_pool": ("专精特新培育库入库企业", "ZJTX cultivation pool"),
    "provincial_little_giant": ("省/市级专精特新“小巨人”", "Provincial little giant"),
    "zjtx_growth": ("专精特新“成长”企业", "ZJTX growth firm"),
    "hidden_champion": ("隐形冠军", "Hidden champion"),
}

FIXED: dict[str, dict[str, Pair]] = {
    "status": {
        "active": ("有效", "active"),
        "revoked": ("已撤销", "revoked"),
        "withdrawn": ("已撤回", "withdrawn"),
        "superseded": ("已被复核替代", "superseded"),
        "expired": ("已过期", "expired"),
    },
    "due_state": {
        "review_due": ("待复核", "due for review"),
        "expiring": ("即将到期", "expiring"),
        "expired": ("已到期未续期", "expired, not renewed"),
    },
    "flag": {
        "expiring": ("即将到期", "expiring"),
        "review_due": ("待复核", "review due"),
        "expired": ("已到期", "expired"),
        "exit": ("触发退出条件", "exit condition"),
        "promotion": ("可晋级", "promotion candidate"),
        "missing_report": ("未按时报送", "missing report"),
        "anomaly": ("数据异常", "anomaly"),
        "warning": ("经营预警", "early warning"),
    },
    "severity": {
        "info": ("提示", "info"),
        "warning": ("警告", "warning"),
        "critical": ("严重", "critical"),
    },
    "decision": {
        "renew": ("复核通过（续期）", "renew"),
        "revoke": ("撤销", "revoke"),
        "watch": ("保留观察", "keep under watch"),
    },
    "role": {
        "admin": ("系统管理员", "administrator"),
        "manager": ("主管（可作复核决定）", "manager"),
        "official": ("工作人员", "official"),
        "analyst": ("分析人员（只读）", "analyst"),
    },
    "frequency": {
        "monthly": ("月报", "monthly"),
        "quarterly": ("季报", "quarterly"),
        "half_yearly": ("半年报", "half-yearly"),
        "annual": ("年报", "annual"),
        "info_update": ("年度信息更新", "yearly information update"),
    },
    "listing_board": {
        "none": ("未上市", "not listed"),
        "neeq": ("新三板", "NEEQ"),
        "bse": ("北交所", "Beijing SE"),
        "star": ("科创板", "STAR Market"),
        "main": ("主板", "Main board"),
        "chinext": ("创业板", "ChiNext"),
        "overseas": ("境外上市", "Overseas"),
    },
    "event": {
        "major_accident": ("重大安全/质量/环境事故", "major accident"),
        "tax_violation": ("偷漏税", "tax violation"),
        "serious_dishonesty": ("严重失信", "serious dishonesty"),
        "abnormal_operation": ("经营异常名录", "abnormal operation list"),
        "false_declaration": ("虚假申报", "false declaration"),
        "rename": ("更名", "rename"),
        "restructure": ("重组/分立/合并", "restructuring"),
        "relocation": ("迁出", "relocation"),
        "listing": ("上市", "listing"),
        "deregistration": ("注销", "deregistration"),
        "revocation_of_licence": ("吊销营业执照", "business licence revoked"),
        "bankruptcy": ("宣告破产", "declared bankrupt"),
        "info_update": ("年度信息更新", "yearly information update"),
    },
    "attribute": {
        "niche_since_year": ("从事细分市场起始年", "in niche market since"),
        "rd_institution": ("研发机构", "R&D institution"),
        "info_system": ("核心业务信息系统支撑", "core information systems"),
        "own_brand": ("自主品牌", "own brand"),
        "quality_cert": ("管理体系认证", "management system certification"),
        "product_standard": ("产品执行标准", "product standard"),
        "foreign_cert": ("发达国家认证", "developed-country certification"),
        "standards_led": ("主持制修订标准数", "standards led"),
        "standards_participated": ("参与制修订标准数", "standards participated"),
        "key_tech_breakthrough": ("关键技术重大突破", "key technology breakthrough"),
        "listing_plan": ("上市计划", "listing plan"),
        "high_tech_enterprise": ("高新技术企业", "high-tech enterprise"),
        "industry_orientation": ("产业导向", "industry orientation"),
        "chain_role": ("产业链作用", "role in the industrial chain"),
        "strategic_emerging": ("主导产品属于战略性新兴产业", "main product in a strategic emerging industry"),
        "digital_level": ("数字化水平评测等级", "digital maturity level"),
        "quality_award": ("省级以上质量奖", "provincial or higher quality award"),
        "quality_score": ("专精特新发展质量评价得分", "development quality score"),
        "science_award": ("科技奖励", "science and technology award"),
        "science_award_rank": ("获奖单位排名", "rank among award winners"),
        "maker_china": ("创客中国大赛", "Maker China contest"),
        "innovation_honour": ("创新荣誉", "innovation honour"),
        "global_rank": ("主导产品全球细分市场排名", "world rank of the main product"),
    },
    # Values of the attributes (registry/ingest/vocab.py ATTRIBUTES): one name per stored code.
    "attribute_value": {
        "true": ("是", "yes"),
        "false": ("否", "no"),
        "none": ("无", "none"),
        "self": ("自建", "own"),
        "joint": ("合建", "joint"),
        "city": ("市级", "city level"),
        "provincial": ("省级", "provincial"),
        "national": ("国家级", "national"),
        "international": ("国际标准", "international standard"),
        "industry": ("行业标准", "industry standard"),
        "reform": ("股改", "shareholding reform"),
        "tutoring": ("上市辅导", "listing tutoring"),
        "applied": ("已申报", "applied"),
        "four_bases": ("工业四基", "four industrial bases"),
        "key_industry": ("十大重点产业", "ten key industries"),
        "shortboard": ("补短板", "filling a weak link"),
        "gap_filling": ("填空白", "filling a gap"),
        "leader_collaboration": ("与龙头企业协同", "working with a leading firm"),
        "longboard": ("锻长板", "strengthening a strong link"),
        "network_power": ("网络强国领域", "cyber power field"),
        "top50": ("全国50强", "national top 50"),
        "top500": ("全国500强", "national top 500"),
        "high_tech_enterprise": ("高新技术企业", "high-tech enterprise"),
        "tech_innovation_demo": ("国家级技术创新示范企业", "national technology innovation demonstration firm"),
        "ip_advantage": ("知识产权优势企业", "IP advantage firm"),
        "ip_demo": ("知识产权示范企业", "IP demonstration firm"),
    },
    "result": {
        "pass": ("满足", "pass"),
        "fail": ("不满足", "fail"),
        "missing": ("缺少数据", "missing"),
        "waived": ("免于考核", "waived"),
        "not_evaluated": ("不评估（未经证实）", "not evaluated (unconfirmed)"),
        "by_hand": ("人工核查", "checked by hand"),
    },
    "verdict": {
        "eligible": ("符合", "eligible"),
        "ineligible": ("不符合", "ineligible"),
        "insufficient_data": ("数据不足", "insufficient data"),
    },
    # Codes the registry's analyses put in their results (the dashboard, the CLI and the briefing name them here).
    # 梯度培育 pipeline (registry/pipeline.py): flows between tiers and the 复核 outcome of a cohort.
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
    # 目标达成 targets (registry/targets.py): the status of a firm's indicator and of a region's target, an indicator's
    # direction; the level of a region (targets and the reporting-completeness drill-down).
    "target_status": {
        "not_due": ("未到考核期", "Not due"),
        "no_data": ("无数据", "No data"),
        "achieved": ("已达成", "Achieved"),
        "on_track": ("进度正常", "On track"),
        "behind": ("落后", "Behind"),
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
        "prefecture": ("地市级", "prefecture"),
        "city": ("市级", "city"),
    },
    # 影响评估 rule impact (registry/impact.py).
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
    # 数据接入 intake (registry/intake.py): reporting status of a period, status of an ingestion or a job run.
    "report_status": {
        "reported": ("按时报送", "reported on time"),
        "late": ("逾期报送", "reported late"),
        "missing": ("未报送", "missing"),
    },
    "run_status": {
        "running": ("进行中", "running"),
        "loaded": ("已导入", "loaded"),
        "partial": ("部分导入", "partly loaded"),
        "rejected": ("整体拒绝", "rejected"),
        "unchanged": ("内容未变", "unchanged"),
        "failed": ("失败", "failed"),
        "success": ("成功", "success"),
    },
    # 复核风险 and peers (registry/review_risk.py: the standard a recognition is judged by; registry/peers.py: the group
    # a firm is compared with).
    "peer_group": {
        "division_province": ("同省·同行业大类", "same province and division"),
        "section_province": ("同省·同行业门类", "same province and section"),
        "division_national": ("全国·同行业大类", "national, same division"),
        "section_national": ("全国·同行业门类", "national, same section"),
        "tier_national": ("全国·同称号", "national, same tier"),
    },
    "risk_standard": {
        "review": ("复核标准", "review standard"),
        "new_application": ("新申请标准", "new-application standard"),
    },
    # 定时任务 the scheduled jobs (registry/schedule.py JOBS): the scheduler's log, `zjtx run-job`, the sidebar's
    # "last job" and the 数据接入 page name them from here.
    "job": {
        "ingest": ("收件箱导入", "inbox ingestion"),
        "flags": ("生命周期提示", "lifecycle flags"),
        "snapshot": ("每日快照", "daily snapshot"),
        "reminders": ("催报清单", "reporting reminders"),
        "briefing": ("月度简报", "monthly briefing"),
    },
}
