"""Controlled values in data files (CONTRACT §2, §3): each maps the accepted spellings (English code, Chinese
name, common variants) to the code stored. Keys are matched after NFKC, trimming and lower-casing, so
"ＳＴＡＲ", " star " and "科创板" all read as `star`.
"""

from __future__ import annotations

from registry.models import TIERS

NATIONAL_TIERS = TIERS
# Chinese names of the national tiers as officials write them (quotes are stripped before lookup).
TIER_ALIASES = {
    **{t: t for t in NATIONAL_TIERS},
    "科技型中小企业": "tech_sme",
    "科技型": "tech_sme",
    "创新型中小企业": "innovative_sme",
    "专精特新中小企业": "zjtx_sme",
    "省级专精特新中小企业": "zjtx_sme",
    "专精特新": "zjtx_sme",
    "专精特新小巨人": "little_giant",
    "专精特新小巨人企业": "little_giant",
    "国家级专精特新小巨人": "little_giant",
    "国家级专精特新小巨人企业": "little_giant",
    "小巨人": "little_giant",
    "重点小巨人": "key_little_giant",
    "重点小巨人企业": "key_little_giant",
    "制造业单项冠军": "single_champion",
    "制造业单项冠军企业": "single_champion",
    "单项冠军": "single_champion",
}

LISTING_BOARDS = {
    "none": "none", "无": "none", "未上市": "none", "否": "none",
    "neeq": "neeq", "新三板": "neeq", "全国中小企业股份转让系统": "neeq",
    "bse": "bse", "北交所": "bse", "北京证券交易所": "bse",
    "star": "star", "科创板": "star",
    "main": "main", "主板": "main",
    "chinext": "chinext", "创业板": "chinext",
    "overseas": "overseas", "境外": "overseas", "境外上市": "overseas", "海外": "overseas",
}

# Stored in Chinese, as the contract names them.
OWNERSHIP = {
    "国有": "国有", "state": "国有", "soe": "国有",
    "合资": "合资", "中外合资": "合资", "jv": "合资", "joint_venture": "合资",
    "民营": "民营", "私营": "民营", "private": "民营",
    "其他": "其他", "other": "其他",
}

RECOGNITION_STATUS = {
    "active": "active", "有效": "active", "正常": "active",
    "revoked": "revoked", "撤销": "revoked", "已撤销": "revoked",
    "withdrawn": "withdrawn", "撤回": "withdrawn", "退出": "withdrawn", "主动退出": "withdrawn",
}

BASIS = {
    "period": "period", "当期": "period", "本期": "period",
    "ytd": "ytd", "本年累计": "ytd", "累计": "ytd", "年初至今": "ytd",
}

DIRECTION = {"higher": "higher", "越高越好": "higher", "正向": "higher",
             "lower": "lower", "越低越好": "lower", "逆向": "lower"}

EVENTS = {
    "major_accident": "major_accident", "重大安全/质量/环境事故": "major_accident", "重大事故": "major_accident",
    "重大安全事故": "major_accident", "重大质量事故": "major_accident", "重大环境事故": "major_accident",
    "tax_violation": "tax_violation", "偷漏税": "tax_violation", "偷税漏税": "tax_violation",
    "serious_dishonesty": "serious_dishonesty", "严重失信": "serious_dishonesty",
    "abnormal_operation": "abnormal_operation", "经营异常名录": "abnormal_operation", "经营异常": "abnormal_operation",
    "false_declaration": "false_declaration", "虚假申报": "false_declaration",
    "rename": "rename", "更名": "rename",
    "restructure": "restructure", "重组/分立/合并": "restructure", "重组": "restructure", "分立": "restructure",
    "合并": "restructure",
    "relocation": "relocation", "迁出": "relocation",
    "listing": "listing", "上市": "listing",
    "deregistration": "deregistration", "注销": "deregistration",
    "revocation_of_licence": "revocation_of_licence", "吊销营业执照": "revocation_of_licence",
    "吊销": "revocation_of_licence",
    "bankruptcy": "bankruptcy", "破产": "bankruptcy", "宣告破产": "bankruptcy",
    "info_update": "info_update", "年度信息更新": "info_update", "信息更新": "info_update",
}

BOOLEAN = {
    "true": "true", "yes": "true", "y": "true", "1": "true", "是": "true", "有": "true", "√": "true",
    "false": "false", "no": "false", "n": "false", "0": "false", "否": "false", "无": "false", "×": "false",
}

# Attributes used by the national criteria: name → (Chinese names, value vocabulary or value type).
ATTRIBUTES: dict[str, tuple[tuple[str, ...], dict[str, str] | str]] = {
    "niche_since_year": (("从事细分市场起始年",), "year"),
    "rd_institution": (("研发机构",), {
        "none": "none", "无": "none", "self": "self", "自建": "self",
        "joint": "joint", "合建": "joint", "联合": "joint", "联合建立": "joint",
        "city": "city", "市级": "city",
        "provincial": "provincial", "省级": "provincial", "national": "national", "国家级": "national"}),
    "info_system": (("核心业务信息系统支撑", "信息系统"), BOOLEAN),
    "own_brand": (("自主品牌",), BOOLEAN),
    "quality_cert": (("管理体系认证",), BOOLEAN),
    "product_standard": (("产品执行标准",), {
        "international": "international", "国际标准": "international", "national": "national",
        "国家标准": "national", "industry": "industry", "行业标准": "industry", "none": "none", "无": "none"}),
    "foreign_cert": (("发达国家认证",), BOOLEAN),
    "standards_led": (("主持制修订标准数",), "count"),
    "standards_participated": (("参与制修订标准数",), "count"),
    "key_tech_breakthrough": (("关键技术重大突破",), BOOLEAN),
    "listing_plan": (("上市计划",), {
        "none": "none", "无": "none", "reform": "reform", "股改": "reform", "股份制改造": "reform",
        "tutoring": "tutoring", "辅导": "tutoring", "上市辅导": "tutoring",
        "applied": "applied", "已申报": "applied", "申报": "applied"}),
    "high_tech_enterprise": (("高新技术企业",), BOOLEAN),
    "industry_orientation": (("产业导向",), {
        "four_bases": "four_bases", "工业四基": "four_bases", "key_industry": "key_industry",
        "十大重点产业": "key_industry", "shortboard": "shortboard", "补短板": "shortboard",
        "gap_filling": "gap_filling", "填空白": "gap_filling",
        "leader_collaboration": "leader_collaboration", "与龙头企业协同": "leader_collaboration",
        "longboard": "longboard", "锻长板": "longboard",
        "network_power": "network_power", "网络强国": "network_power", "网络强国领域": "network_power",
        "none": "none", "无": "none"}),
    # The 2022 / 2026 national rules (CONTRACT §3b).
    "chain_role": (("产业链作用",), {
        "shortboard": "shortboard", "补短板": "shortboard", "longboard": "longboard", "锻长板": "longboard",
        "gap_filling": "gap_filling", "填空白": "gap_filling", "none": "none", "无": "none"}),
    "strategic_emerging": (("主导产品属于战略性新兴产业", "战略性新兴产业"), BOOLEAN),
    "digital_level": (("数字化水平评测等级", "数字化水平等级", "数字化水平"), {
        "1": "1", "一级": "1", "2": "2", "二级": "2", "3": "3", "三级": "3", "4": "4", "四级": "4"}),
    "quality_award": (("省级以上质量奖", "质量奖"), BOOLEAN),
    "quality_score": (("专精特新发展质量评价得分", "发展质量评价得分", "质量评价得分"), "score"),
    "science_award": (("科技奖励",), {
        "national": "national", "国家级": "national", "国家级科技奖励": "national",
        "provincial": "provincial", "省级": "provincial", "省部级": "provincial", "省级科技奖励": "provincial",
        "none": "none", "无": "none"}),
    "science_award_rank": (("获奖单位排名", "科技奖励排名"), "rank"),
    "maker_china": (("创客中国大赛", "创客中国"), {
        "top50": "top50", "50强": "top50", "全国50强": "top50", "top500": "top500", "500强": "top500",
        "全国500强": "top500", "none": "none", "无": "none"}),
    "innovation_honour": (("创新荣誉", "荣誉"), {
        "high_tech_enterprise": "high_tech_enterprise", "高新技术企业": "high_tech_enterprise",
        "tech_innovation_demo": "tech_innovation_demo", "国家级技术创新示范企业": "tech_innovation_demo",
        "ip_advantage": "ip_advantage", "知识产权优势企业": "ip_advantage",
        "ip_demo": "ip_demo", "知识产权示范企业": "ip_demo", "none": "none", "无": "none"}),
    # 制造业单项冠军 (工信部政法〔2023〕138号): the lead product's world rank, self-certified with the application.
    "global_rank": (("主导产品全球细分市场排名", "全球市场排名", "全球排名"), "rank"),
}
ATTRIBUTE_ALIASES = {
    **{a: a for a in ATTRIBUTES},
    **{zh: a for a, (names, _) in ATTRIBUTES.items() for zh in names},
}

# Firm-target values that are not numbers: yes/no indicators and the listing stage, stored as numbers so that
# "reached the target" stays a comparison (listing stages in their natural order).
TARGET_WORDS = {
    **{k: ("1" if v == "true" else "0") for k, v in BOOLEAN.items()},
    "none": "0", "reform": "1", "股改": "1", "tutoring": "2", "辅导": "2", "applied": "3", "已申报": "3",
    "listed": "4", "已上市": "4",
}

# Cells that mean "not reported" in numeric and date columns of officials' spreadsheets.
BLANK_TOKENS = ("-", "--", "—", "——", "/", "n/a", "na", "null")

VOCABULARIES = {
    "ownership": OWNERSHIP,
    "listing_board": LISTING_BOARDS,
    "recognition_status": RECOGNITION_STATUS,
    "direction": DIRECTION,
}
