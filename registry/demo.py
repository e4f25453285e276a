"""The demo registry: a reproducible synthetic 专精特新 registry, from 1,000 to 200,000 firms.

`generate_demo(firms, seed, as_of)` draws every row as polars frames (no database); `build_demo(engine, ...)`
writes them into an already-migrated database in one transaction, so a failure leaves the database as it was.
Same seed and as_of → the same rows; every date is relative to as_of (default: today).

What the data looks like, and why (DOMAIN.md):
- firms in the 31 mainland provinces weighted like the real 小巨人 distribution, plus 兵团 firms (6590xx); region
  codes are real prefecture codes from registry.reference (municipal districts and a few big cities' districts);
  mostly manufacturing (GB/T 4754 C), some software (I) and R&D services (M); valid USCCs carrying the region code;
- tiers: most firms 创新型 only, ~35% hold a provincial 专精特新, ~8% 小巨人 (each with an earlier provincial
  recognition), ~1.5% 重点小巨人 (a subset of 小巨人, with a 13-indicator 目标表), ~0.5% 单项冠军;
- 3-year validity with 复核: a pass is a new row superseding the old one; fails are revoked, some lapse (expired);
  小巨人 pass rates follow the real ones (batch 1 142/248 ≈ 57%, batch 2 ≈ 62%, batch 3 ≈ 83%);
- operating data: annual reports for the three years before as_of, monthly (上海, 湖北, 海南, 辽宁) or quarterly
  sub-annual reports for provincially recognised firms, ~3% of expected reports missing, a few blank cells;
- dated attributes consistent with the tier (most, not all, 小巨人 meet the national criteria) and a few events,
  some already acted on (revocation) and some not yet (what the lifecycle flags must find);
- regional cultivation targets quoted from the policy compilation (REGIONAL_TARGETS, with line numbers), each sized
  to the demo (what it holds on the day the target is judged, × 0.8–1.3 from its own random stream, so some are met
  and some not; the document's own figure stays in the source).

Regional tiers used by the targets besides the contract's five are the codes the regional policy files declare
(CONTRACT §3): `tj_seed`, `he_zjtx_pool`, `bj_little_giant`, `yn_little_giant`, `yn_growth`, `zj_hidden_champion`;
`chain_leader` 产业链领航企业 has no policy file (the compilation states no criteria for it).
Recognitions end the day before the third anniversary (有效期3年), as the policy lifecycle reads it.
Document numbers, names and dates of batches are synthetic look-alikes, not real documents.
"""

from __future__ import annotations

import sqlite3
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import numpy as np
import polars as pl
import psycopg
import sqlalchemy as sa
from sqlalchemy import Engine

from registry.db import DatabaseError
from registry.errors import UserError
from registry.identity import USCC_ALPHABET, USCC_WEIGHTS, normalize_name_expr
from registry.ingest.bulk import insert_frame
from registry.reference import jurisdiction_expr, jurisdictions, regions

# ---------------------------------------------------------------------------------------------- shape constants

# Relative weight of each province (2-digit code; "6590" = 兵团) ≈ national 小巨人 counts after batch 6.
PROVINCE_WEIGHTS: dict[str, float] = {
    "33": 1600, "44": 1530, "32": 1500, "37": 1040, "31": 720, "11": 830, "34": 600, "42": 680, "43": 510,
    "41": 400, "35": 400, "51": 380, "13": 540, "21": 390, "50": 280, "12": 260, "36": 310, "61": 240,
    "14": 140, "22": 140, "23": 110, "45": 120, "53": 100, "52": 110, "15": 70, "62": 60, "65": 55,
    "64": 40, "46": 35, "63": 20, "54": 8, "6590": 15,
}
# Short names used in firm names and provincial document numbers.
PROVINCE_SHORT: dict[str, tuple[str, str]] = {
    "11": ("北京", "京"), "12": ("天津", "津"), "13": ("河北", "冀"), "14": ("山西", "晋"), "15": ("内蒙古", "蒙"),
    "21": ("辽宁", "辽"), "22": ("吉林", "吉"), "23": ("黑龙江", "黑"), "31": ("上海", "沪"), "32": ("江苏", "苏"),
    "33": ("浙江", "浙"), "34": ("安徽", "皖"), "35": ("福建", "闽"), "36": ("江西", "赣"), "37": ("山东", "鲁"),
    "41": ("河南", "豫"), "42": ("湖北", "鄂"), "43": ("湖南", "湘"), "44": ("广东", "粤"), "45": ("广西", "桂"),
    "46": ("海南", "琼"), "50": ("重庆", "渝"), "51": ("四川", "川"), "52": ("贵州", "黔"), "53": ("云南", "滇"),
    "54": ("西藏", "藏"), "61": ("陕西", "陕"), "62": ("甘肃", "甘"), "63": ("青海", "青"), "64": ("宁夏", "宁"),
    "65": ("新疆", "新"), "6590": ("新疆", "兵"),
}
CITY_DOC_ABBR = {"cn-ln-dalian": "大连", "cn-zj-ningbo": "甬", "cn-fj-xiamen": "厦", "cn-sd-qingdao": "青岛",
                 "cn-gd-shenzhen": "深"}
# Provinces whose recognised firms report monthly (DOMAIN §4); the others report quarterly.
MONTHLY_PROVINCES = ("31", "42", "46", "21")
# Prefectures that weigh more than their province's average (capitals weigh 4 as well).
BIG_CITIES = {"330200": 4, "320500": 4, "440300": 5, "370200": 3, "350200": 2, "210200": 2, "320200": 3,
              "440600": 3, "441900": 3, "330300": 2, "320100": 3, "420100": 3}
# Real district codes, used for municipalities always and for these cities half of the time.
DISTRICTS: dict[str, tuple[str, ...]] = {
    "110100": ("110101", "110102", "110105", "110106", "110107", "110108", "110109", "110111", "110112",
               "110113", "110114", "110115", "110116", "110117", "110118", "110119"),
    "120100": ("120101", "120102", "120103", "120104", "120105", "120106", "120110", "120111", "120112",
               "120113", "120114", "120115", "120116", "120117", "120118", "120119"),
    "310100": ("310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112", "310113",
               "310114", "310115", "310116", "310117", "310118", "310120", "310151"),
    "500100": ("500101", "500103", "500104", "500105", "500106", "500107", "500108", "500109", "500110",
               "500112", "500113", "500115", "500117", "500118", "500120"),
    "440300": ("440303", "440304", "440305", "440306", "440307", "440309", "440310", "440311"),
    "330100": ("330102", "330105", "330106", "330108", "330109", "330110", "330111", "330112", "330113"),
    "330200": ("330203", "330205", "330206", "330211", "330212", "330213"),
    "320500": ("320505", "320506", "320507", "320508", "320509"),
    "440100": ("440103", "440104", "440105", "440106", "440111", "440112", "440113", "440114", "440115"),
}

SECTION_WEIGHTS = {"C": 0.85, "I": 0.09, "M": 0.06}
DIVISION_WEIGHTS: dict[str, dict[str, float]] = {
    "C": {"34": 14, "35": 14, "38": 11, "39": 10, "26": 7, "36": 6, "29": 5, "30": 4, "33": 5, "40": 4,
          "27": 4, "37": 2, "32": 2, "31": 1, "13": 0.6, "14": 0.6, "15": 0.4, "17": 0.8, "18": 0.4,
          "19": 0.3, "20": 0.3, "21": 0.5, "22": 0.5, "23": 0.4, "24": 0.4, "25": 0.3, "28": 0.4, "41": 0.4,
          "42": 0.4, "43": 0.3},
    "I": {"65": 80, "64": 15, "63": 5},
    "M": {"73": 40, "74": 30, "75": 30},
}
# (行业词 for names, 主导产品 choices) per division.
DIVISION_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "13": (("食品",), ("植物蛋白", "饲料添加剂")), "14": (("食品科技",), ("功能性食品", "食品配料")),
    "15": (("饮品",), ("茶饮料", "特色果酒")), "17": (("纺织",), ("功能性面料", "产业用纺织品")),
    "18": (("服饰",), ("专业防护服",)), "19": (("鞋业",), ("安全鞋",)), "20": (("木业",), ("竹木复合材料",)),
    "21": (("家居",), ("智能办公家具",)), "22": (("纸业",), ("特种纸",)), "23": (("印务",), ("防伪包装印刷",)),
    "24": (("文体用品",), ("体育器材",)), "25": (("能源科技",), ("特种润滑油",)),
    "26": (("化工", "新材料"), ("电子化学品", "高性能涂料", "特种树脂", "催化剂", "锂电电解液")),
    "27": (("生物医药", "药业"), ("化学原料药", "生物试剂", "医用敷料")), "28": (("化纤",), ("高性能纤维",)),
    "29": (("塑胶", "橡塑"), ("密封件", "工程塑料制品", "橡胶减震件")),
    "30": (("新材料", "陶瓷"), ("特种玻璃", "先进陶瓷", "碳化硅材料")),
    "31": (("特钢",), ("高温合金",)), "32": (("有色金属", "新材料"), ("高纯铜材", "铝合金型材")),
    "33": (("精密制造", "五金"), ("精密紧固件", "金属结构件", "精密模具")),
    "34": (("机械", "精工", "传动"), ("精密轴承", "液压泵", "齿轮减速机", "工业阀门", "数控刀具", "真空泵")),
    "35": (("装备", "智能装备", "医疗器械"), ("半导体专用设备", "锂电池生产设备", "医疗影像设备", "包装机械",
                                          "注塑机", "环保设备")),
    "36": (("汽车部件", "汽配"), ("汽车电子", "制动系统", "汽车轮毂", "车用传感器")),
    "37": (("航空科技", "船舶设备"), ("无人机", "船用设备", "轨道交通零部件")),
    "38": (("电气", "电机", "新能源"), ("伺服电机", "光伏逆变器", "电力电缆", "储能电池", "变压器")),
    "39": (("电子", "微电子", "光电"), ("印制电路板", "MEMS传感器", "光模块", "功率半导体器件", "射频芯片")),
    "40": (("仪器", "测控"), ("工业仪表", "光谱分析仪", "流量计")), "41": (("制造",), ("专用零部件",)),
    "42": (("再生资源",), ("再生金属",)), "43": (("设备维修",), ("工业设备再制造",)),
    "63": (("通信",), ("卫星通信终端",)), "64": (("网络科技",), ("工业互联网平台",)),
    "65": (("软件", "信息技术", "数据科技"), ("工业软件", "MES系统", "数据库软件", "信息安全软件")),
    "73": (("技术研究",), ("新材料研发服务", "生物技术研发")), "74": (("检测", "工程技术"), ("检验检测服务", "工程设计服务")),
    "75": (("科技",), ("技术推广服务",)),
}
TRADE_CHARS = ("华恒瑞达盛鑫宏泰晨博创科新远宇辰智联信德安康正元通海天力精锐赛微芯光图灵思越腾飞凯捷迈诺阳星峰源川林"
               "中金利丰隆昌兴嘉和合美佳乐永长荣汇富泽润沃沛明亮锦绣英杰豪群众邦维尚研睿哲航舟汉唐宋秦云霖雨雪")

# Top tier per firm as a share of all firms (重点小巨人 is a subset of 小巨人, champions stand alone).
TOP_TIER_SHARES = {"single_champion": 0.005, "little_giant": 0.08, "zjtx_sme": 0.27}
KEY_LITTLE_GIANT_SHARE = 0.015
ZJTX_ALSO_INNOVATIVE = 0.3

# Publication dates of the national lists by batch year (synthetic, plausible); later years: mid-July / December.
LITTLE_GIANT_DATES = {2019: date(2019, 6, 28), 2020: date(2020, 11, 13), 2021: date(2021, 7, 19),
                      2022: date(2022, 8, 5), 2023: date(2023, 7, 14), 2024: date(2024, 8, 23),
                      2025: date(2025, 7, 18)}
LITTLE_GIANT_YEAR_WEIGHTS = {2019: 248, 2020: 1584, 2021: 2930, 2022: 4357, 2023: 3654, 2024: 3012, 2025: 3482}
KEY_LITTLE_GIANT_DATES = {2021: date(2021, 9, 15), 2022: date(2022, 9, 16), 2023: date(2023, 9, 15)}
CHAMPION_DATES = {2019: date(2019, 11, 20), 2020: date(2020, 12, 4), 2021: date(2021, 11, 30),
                  2022: date(2022, 12, 9), 2023: date(2023, 12, 8), 2024: date(2024, 12, 13),
                  2025: date(2025, 12, 12)}
FIRST_BATCH_YEAR, LAST_BATCH_YEAR = 2019, 2025
FIRST_INNOVATIVE_YEAR = 2022  # 创新型中小企业 exists since the 2022 梯度培育管理暂行办法
# 复核 pass rates of 小巨人 by batch year (first review); later reviews and batches: 85%.
LITTLE_GIANT_PASS = {2019: 142 / 248, 2020: 0.62, 2021: 0.83}

TIER_ORDER = ("innovative_sme", "zjtx_sme", "little_giant", "key_little_giant", "single_champion")

# 目标表 of 重点小巨人 (财建〔2021〕2号 附4, data/sources/notes-national.md §2.6): id, unit, yearly uplift of the target.
FIRM_TARGET_INDICATORS: tuple[tuple[str, str], ...] = (
    ("main_revenue_share", "%"), ("export_share", "%"), ("foreign_certs", "个"), ("rd_ratio", "%"),
    ("invention_patents", "个"), ("rd_institutions", "个"), ("standards", "个"), ("rd_projects", "项"),
    ("quality_certs", "项"), ("product_standard", "是/否"), ("digital_cloud", "是/否"),
    ("listing_plan", "阶段"), ("main_revenue_growth", "%"),
)
LISTING_PLAN_STAGES = ("none", "reform", "tutoring", "applied")  # 目标表 stage = index in this tuple

# (jurisdiction, tier, year, count, source). Source = document, compilation lines, notes line, quoted text.
REGIONAL_TARGETS: tuple[tuple[str, str, int, int, str], ...] = (
    ("cn", "innovative_sme", 2025, 1_000_000,
     "工信部联规〔2021〕200号《“十四五”促进中小企业发展规划》 L2590-2593 (data/sources/notes-national.md:387): "
     "推动形成一百万家创新型中小企业、十万家“专精特新”中小企业、一万家专精特新“小巨人”企业"),
    ("cn", "zjtx_sme", 2025, 100_000,
     "工信部联规〔2021〕200号 L2590-2593 (data/sources/notes-national.md:398): 推动形成…十万家“专精特新”中小企业"),
    ("cn", "little_giant", 2025, 10_000,
     "工信部联政法〔2021〕70号 L1577-1580 (data/sources/notes-national.md:261, :481): 力争到2025年…发展形成万家“小巨人”企业"),
    ("cn", "single_champion", 2025, 1_000,
     "工信部联政法〔2021〕70号 L1577-1580 (data/sources/notes-national.md:549): 力争到2025年…千家单项冠军企业"),
    ("cn-sd", "zjtx_sme", 2025, 1_500,
     "山东 L19908-19914 (data/sources/notes-provinces-c.md:194): 力争到2025年，新培育省级以上制造业“专精特新”企业1500家"),
    ("cn-sd", "little_giant", 2025, 600,
     "山东 L19908-19914 (data/sources/notes-provinces-c.md:194): 力争到2025年，新培育…小巨人企业600家"),
    ("cn-sd", "single_champion", 2025, 400,
     "山东 L19908-19914 (data/sources/notes-provinces-c.md:194): 力争到2025年，新培育…单项冠军企业400家"),
    ("cn-sd", "chain_leader", 2025, 150,
     "山东 L19908-19914 (data/sources/notes-provinces-c.md:194): 力争到2025年，新培育…领航企业150家左右"),
    ("cn-tj", "tj_seed", 2025, 3_000,
     "津工信中小企服〔2021〕1号 L8673-8677 (data/sources/notes-provinces-a.md:79-83): 种子企业库…计划到2025年底在库企业数达到3000家"),
    ("cn-tj", "zjtx_sme", 2025, 1_000,
     "津工信中小企服〔2021〕1号 L8679-8685 (data/sources/notes-provinces-a.md:79-83): 天津市“专精特新”中小企业库…"
     "计划到2025年底在库企业数达到1000家"),
    ("cn-tj", "little_giant", 2025, 150,
     "津工信中小企服〔2021〕1号 L8687-8691 (data/sources/notes-provinces-a.md:79-83): 国家专精特新“小巨人”企业库…"
     "计划到2025年底在库企业数达到150家"),
    ("cn-he", "he_zjtx_pool", 2021, 800,
     "河北 L10390-10392 (data/sources/notes-provinces-a.md:292): 提出今年全省入库培育800家的要求"),
    ("cn-he", "key_little_giant", 2021, 50,
     "河北 L11576-11578 (data/sources/notes-provinces-a.md:716): 2021年底前，积极争取中央财政资金1.32亿元，"
     "重点支持50家专精特新“小巨人”企业"),
    ("cn-he", "zjtx_sme", 2025, 4_500,
     "河北 L11266-11269 (data/sources/notes-provinces-a.md:376): 十四五末，培育省级“专精特新”中小企业4500家"),
    ("cn-he", "little_giant", 2025, 500,
     "河北 L11266-11269 (data/sources/notes-provinces-a.md:376): 十四五末…打造500家国家级专精特新“小巨人”企业"),
    ("cn-bj", "little_giant", 2025, 500,
     "北京 L8155-8159 (data/sources/notes-beijing.md:573): 力争到“十四五”末，国家级专精特新“小巨人”企业达到500家"),
    ("cn-bj", "bj_little_giant", 2025, 1_000,
     "北京 L8155-8159 (data/sources/notes-beijing.md:573): 市级专精特新“小巨人”企业达到1000家"),
    ("cn-bj", "zjtx_sme", 2025, 5_000,
     "北京 L8155-8159 (data/sources/notes-beijing.md:573): 市级“专精特新”中小企业达到5000家"),
    ("cn-hi", "zjtx_sme", 2025, 300,
     "海南 L24453-24455 (data/sources/notes-provinces-c.md:677): 到2025年，滚动培育300家以上省级“专精特新”中小企业"),
    ("cn-hi", "little_giant", 2025, 30,
     "海南 L24453-24455 (data/sources/notes-provinces-c.md:677): 到2025年…30家以上国家“专精特新’小巨人’”企业"),
    ("cn-yn", "little_giant", 2025, 100,
     "云南 L27103-27105 (data/sources/notes-provinces-d.md:355-356): 力争在“十四五”期间，培优培精100户左右国家级专精特新“小巨人”企业"),
    ("cn-yn", "yn_little_giant", 2025, 300,
     "云南 L27103-27105 (data/sources/notes-provinces-d.md:356): 力争在“十四五”期间…300户以上省级专精特新“小巨人”企业"),
    ("cn-yn", "yn_growth", 2025, 2_000,
     "云南 L27103-27107 (data/sources/notes-provinces-d.md:356): 力争在“十四五”期间…2000户左右省级专精特新“成长”企业"),
    ("cn-jl", "zjtx_sme", 2025, 1_000,
     "吉林 L14766-14769 (data/sources/notes-provinces-b.md:169): 计划到2025年底，培育省级“专精特新”中小企业1000家"),
    *(("cn-jl", "zjtx_sme", year, 200 * (year - 2020),
       f"吉林 L14840-14842 (data/sources/notes-provinces-b.md:169): 2021--2025年，全省计划认定省级“专精特新”中小企业1000户，"
       f"原则上年度认定200户 (累计至{year}年 / cumulative to {year})") for year in range(2021, 2025)),
    ("cn-zj", "zjtx_sme", 2021, 2_000,
     "浙江 L16968-16970 (data/sources/notes-provinces-b.md:373): 2021年度拟确定浙江省专精特新中小企业2000家左右"),
    ("cn-zj", "zj_hidden_champion", 2021, 50,
     "浙江 L16968-16970 (data/sources/notes-provinces-b.md:373): 2021年度拟确定…浙江省隐形冠军企业50家左右"),
    ("cn-zj", "zjtx_sme", 2025, 10_000,
     "浙江 L17037-17039 (data/sources/notes-provinces-b.md:374): 我省拟在“十四五”期间培育专精特新中小企业10000家左右"),
)

MIN_AS_OF = date(2023, 1, 1)  # every tier has at least one batch by then


# ------------------------------------------------------------------------------------------------ the frames


@dataclass(frozen=True)
class DemoFrames:
    """The demo registry as frames with the database's column names; ids are local (1..n per table)."""

    enterprise: pl.DataFrame
    recognition: pl.DataFrame
    report: pl.DataFrame
    attribute: pl.DataFrame
    event: pl.DataFrame
    firm_target: pl.DataFrame
    regional_target: pl.DataFrame

    def tables(self) -> Iterator[tuple[str, pl.DataFrame]]:
        """(table name, frame) in foreign-key order."""
        for f in fields(self):
            yield f.name, getattr(self, f.name)


def _rng(seed: int, stream: str) -> np.random.Generator:
    # One independent stream per part: changing how reports are drawn does not move the firms.
    return np.random.default_rng([seed % 2**63, zlib.crc32(stream.encode())])


# --------------------------------------------------------------------------------------------- date helpers

def _d64(d: date) -> np.datetime64:
    return np.datetime64(d, "D")


def _year_start(years: np.ndarray) -> np.ndarray:
    return (years.astype(np.int64) - 1970).astype("datetime64[Y]").astype("datetime64[D]")


def _year_of(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[Y]").astype(np.int64) + 1970


def _add_years(days: np.ndarray, n: int) -> np.ndarray:
    # Calendar arithmetic (29 Feb → 28 Feb) is polars'; numpy has no month/year offsets on days.
    return pl.Series(days.astype("datetime64[D]")).dt.offset_by(f"{n}y").to_numpy().astype("datetime64[D]")


def _batch_date(table: dict[int, date], years: np.ndarray, month: int, day: int) -> np.ndarray:
    """List date of each year's national batch; years without a known date fall on month/day."""
    years = years.astype(np.int64)
    if not len(years):
        return np.array([], dtype="datetime64[D]")
    lo, hi = int(years.min()), int(years.max())
    lookup = np.array([table.get(y, date(y, month, day)) for y in range(lo, hi + 1)], dtype="datetime64[D]")
    dates: np.ndarray = lookup[years - lo]
    return dates


def _choice(rng: np.random.Generator, options: Mapping[Any, float], size: int) -> np.ndarray:
    keys = list(options)
    p = np.array([options[k] for k in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=size, p=p / p.sum())]


# ----------------------------------------------------------------------------------------------------- firms


@dataclass
class _Firms:
    """Per-firm draws (numpy arrays, index = firm id - 1) shared by every generator."""

    n: int
    tier: np.ndarray  # top tier
    key: np.ndarray  # bool: 重点小巨人
    region_code: np.ndarray
    province: np.ndarray  # 2-digit code, "6590" for 兵团
    division: np.ndarray
    section: np.ndarray
    jurisdiction: np.ndarray  # most specific recognising jurisdiction (cn-xx or a city with own policies)


def _draw_regions(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    ref = regions()
    mainland = ref.filter(pl.col("mainland"))
    bingtuan = mainland.filter(pl.col("code").str.starts_with("6590") & (pl.col("level") == "county"))
    # Prefecture-level units; the "省直辖县级" groupings (xx9000) are not places a firm registers at.
    prefectures = mainland.filter((pl.col("level") == "prefecture") & ~pl.col("code").str.ends_with("9000"))
    province = _choice(rng, PROVINCE_WEIGHTS, n)
    region = np.empty(n, dtype=object)
    for prov in PROVINCE_WEIGHTS:  # one vectorised draw per province (32), not per firm
        idx = np.flatnonzero(province == prov)
        if not len(idx):
            continue
        if prov == "6590":
            counties = np.array(bingtuan["code"].to_list(), dtype=object)
            region[idx] = counties[rng.integers(len(counties), size=len(idx))]
            continue
        codes = sorted(prefectures.filter(pl.col("code").str.starts_with(prov))["code"].to_list())
        weights = np.array([BIG_CITIES.get(c, 4 if i == 0 else 1) for i, c in enumerate(codes)], dtype=float)
        picked = np.array(codes, dtype=object)[rng.choice(len(codes), size=len(idx), p=weights / weights.sum())]
        region[idx] = picked
    # Municipal firms always carry their district; some big-city firms do, the rest keep the prefecture code.
    for pref, districts in DISTRICTS.items():
        idx = np.flatnonzero(region == pref)
        municipality = pref[2:] == "0100" and pref[:2] in ("11", "12", "31", "50")
        use = idx if municipality else idx[rng.random(len(idx)) < 0.5]
        region[use] = np.array(districts, dtype=object)[rng.integers(len(districts), size=len(use))]
    return region, province


def _draw_firms(n: int, seed: int) -> _Firms:
    rng = _rng(seed, "firms")
    tier = np.full(n, "innovative_sme", dtype=object)
    order = rng.permutation(n)
    start = 0
    for t, share in TOP_TIER_SHARES.items():
        k = max(1, round(share * n))
        tier[order[start:start + k]] = t
        start += k
    lg = np.flatnonzero(tier == "little_giant")
    key = np.zeros(n, dtype=bool)
    key[rng.choice(lg, size=min(len(lg), max(1, round(KEY_LITTLE_GIANT_SHARE * n))), replace=False)] = True
    region, province = _draw_regions(rng, n)
    section = _choice(rng, SECTION_WEIGHTS, n)
    division = np.empty(n, dtype=object)
    for s, weights in DIVISION_WEIGHTS.items():
        idx = np.flatnonzero(section == s)
        division[idx] = _choice(rng, weights, len(idx))
    juris = pl.Series("r", region, dtype=pl.String).to_frame().select(
        jurisdiction_expr("r", most_specific=True))["r"].to_numpy().astype(object)
    return _Firms(n, tier, key, region, province, division, section, juris)


# GB 11714 values of the USCC alphabet for the organisation-code check (digits as such, letters as ord - 55).
_GB11714_VALUE = np.array([int(c) if c.isdigit() else ord(c) - 55 for c in USCC_ALPHABET])


def _uscc_column(rng: np.random.Generator, region_code: np.ndarray) -> np.ndarray:
    """Valid USCCs: 9 (工商) 1 (企业) + region + 8 random + GB 11714 check + GB 32100 check, all vectorised."""
    n = len(region_code)
    org = rng.integers(len(USCC_ALPHABET), size=(n, 8))
    c9 = 11 - (_GB11714_VALUE[org] * np.array([3, 7, 9, 10, 5, 8, 4, 2])).sum(axis=1) % 11
    c9_val = np.where(c9 == 10, USCC_ALPHABET.index("X"), np.where(c9 == 11, 0, c9))  # value = alphabet index
    region_vals = np.asarray(region_code.astype("U6")).view("U1").reshape(n, 6).astype(np.int64)
    body = np.column_stack([np.full(n, 9), np.full(n, 1), region_vals, org, c9_val])
    check = (31 - (body * np.array(USCC_WEIGHTS)).sum(axis=1) % 31) % 31
    chars = np.array(list(USCC_ALPHABET), dtype="U1")[np.column_stack([body, check])]
    return np.ascontiguousarray(chars).view("U18").reshape(n).astype(object)


def _firm_names(rng: np.random.Generator, f: _Firms) -> np.ndarray:
    """「浙江{字号}{行业词}有限公司」, sometimes the city instead of the province, sometimes 「{字号}（宁波）…」."""
    n = f.n
    prefecture = regions().select(pl.col("code").str.slice(0, 4).alias("p4"), pl.col("name").alias("city"))
    # Only plain two-character cities ("宁波市" → "宁波") go into names; 自治州, 地区, 市辖区 ... do not.
    city = (pl.DataFrame({"p4": pl.Series(f.region_code.astype(str)).str.slice(0, 4)})
            .join(prefecture.filter(pl.col("city").str.contains(r"^[^辖]{2}市$")).unique("p4"), on="p4",
                  how="left", maintain_order="left")
            .select(pl.col("city").str.slice(0, 2).fill_null(""))["city"].to_numpy().astype(object))
    province_name = pl.Series(f.province.astype(str)).replace_strict(
        {p: short for p, (short, _) in PROVINCE_SHORT.items()}).to_numpy().astype(object)
    chars = np.array(list(TRADE_CHARS), dtype=object)
    words = np.empty(n, dtype=object)
    for div, (div_words, _) in DIVISION_WORDS.items():
        idx = np.flatnonzero(f.division == div)
        words[idx] = np.array(div_words, dtype=object)[rng.integers(len(div_words), size=len(idx))]
    form_p = np.where(np.isin(f.tier, ["little_giant", "single_champion"]), 0.45, 0.2)
    u = rng.random(n)
    form = np.where(u < form_p, "股份有限公司", np.where(u > 0.97, "集团有限公司", "有限公司")).astype(object)
    style = rng.random(n)
    has_city = city != ""
    bracket = has_city & (style < 0.08)
    prefix = np.where(has_city & (style < 0.35) & ~bracket, city, province_name)
    names = np.empty(n, dtype=object)
    todo = np.arange(n)
    length = 2
    while len(todo):  # rounds, not firms: names that collide get a longer 字号
        trade = chars[rng.integers(len(chars), size=(len(todo), length))].sum(axis=1)
        names[todo] = np.where(bracket[todo], trade + "（" + city[todo] + "）", prefix[todo] + trade) \
            + words[todo] + form[todo]
        s = pl.Series(names.astype(str))
        todo = np.flatnonzero(~s.is_first_distinct().to_numpy())
        length = min(length + 1, 4)
    return names


# ------------------------------------------------------------------------------------------------ recognitions


def _list_dates(rng: np.random.Generator, jurisdictions: np.ndarray, years: np.ndarray, lo: int, hi: int,
                cohort: np.ndarray | None = None) -> np.ndarray:
    """One list date per (jurisdiction, year, cohort), between day-of-year lo and hi: provinces publish their
    lists in batches, so firms of one batch share the date."""
    pairs = pl.DataFrame({"j": jurisdictions.astype(str), "y": years.astype(np.int64),
                          "c": np.zeros(len(years), np.int64) if cohort is None else cohort.astype(np.int64)})
    uniq = pairs.unique().sort("j", "y", "c")
    uniq = uniq.with_columns(pl.Series("d", _year_start(uniq["y"].to_numpy()) + rng.integers(lo, hi, uniq.height)))
    return pairs.join(uniq, on=["j", "y", "c"], how="left", maintain_order="left")["d"].to_numpy()


NATIONAL_DOC_PREFIX = {"little_giant": "工信厅企业函", "key_little_giant": "工信厅联企业函",
                       "single_champion": "工信厅联政法函"}


def _doc_abbreviations() -> dict[str, str]:
    """Jurisdiction id → the short name its documents carry (浙, 粤, 深 ...)."""
    from registry.reference import jurisdictions

    out = dict(CITY_DOC_ABBR)
    for r in jurisdictions().filter(pl.col("level") == "province").iter_rows(named=True):
        code = "6590" if r["id"] == "cn-bingtuan" else r["region_codes"][:2]
        out[r["id"]] = PROVINCE_SHORT[code][1]
    return out


def _doc_numbers(rng: np.random.Generator, rec: pl.DataFrame) -> pl.Series:
    """A synthetic 文号 per (tier, jurisdiction, list date): one document announces a whole list."""
    keys = rec.select("tier", "jurisdiction", "recognized_on")
    uniq = keys.unique().sort("tier", "jurisdiction", "recognized_on")
    uniq = uniq.with_columns(pl.Series("num", rng.integers(12, 260, uniq.height)))
    year = pl.col("recognized_on").dt.year().cast(pl.String)
    body = pl.concat_str(pl.lit("〔"), year, pl.lit("〕"), pl.col("num").cast(pl.String), pl.lit("号"))
    national = pl.col("tier").replace_strict(NATIONAL_DOC_PREFIX, default=None, return_dtype=pl.String)
    provincial = pl.col("jurisdiction").replace_strict(_doc_abbreviations(), default=None,
                                                     return_dtype=pl.String) + "工信中小"
    return (keys.join(uniq, on=["tier", "jurisdiction", "recognized_on"], how="left", maintain_order="left")
            .select(pl.coalesce(national, provincial).add(body).alias("document_no"))["document_no"])


def _initial_recognitions(f: _Firms, seed: int, as_of: date) -> pl.DataFrame:
    """First recognition per firm and tier: fid, tier, jurisdiction, batch, recognized_on."""
    rng = _rng(seed, "recognitions")
    limit = _d64(as_of)
    last_year = min(LAST_BATCH_YEAR, as_of.year)
    parts: list[pl.DataFrame] = []

    def part(fids: np.ndarray, tier: str, juris: np.ndarray, batch: np.ndarray, on: np.ndarray) -> None:
        keep = on <= limit
        parts.append(pl.DataFrame({
            "fid": fids[keep].astype(np.int64), "tier": np.full(int(keep.sum()), tier),
            "jurisdiction": juris[keep].astype(str), "batch": batch[keep].astype(str),
            "recognized_on": on[keep],
        }))

    # 小巨人 by batch year, with the real batch sizes as weights (batch n = year 2018 + n).
    lg_idx = np.flatnonzero(f.tier == "little_giant")
    lg_years_ok = {y: w for y, w in LITTLE_GIANT_YEAR_WEIGHTS.items()
                   if y <= last_year and LITTLE_GIANT_DATES[y] <= as_of}
    lg_year = _choice(rng, lg_years_ok, len(lg_idx)).astype(np.int64)
    # 重点小巨人 come from earlier 小巨人 batches: re-draw their year among batches before the last key batch.
    key_pos = f.key[lg_idx]
    key_years = [y for y in KEY_LITTLE_GIANT_DATES if KEY_LITTLE_GIANT_DATES[y] <= as_of]
    early = {y: w for y, w in lg_years_ok.items() if key_years and y <= max(key_years)}
    lg_year[key_pos] = _choice(rng, early, int(key_pos.sum())).astype(np.int64)
    lg_on = _batch_date(LITTLE_GIANT_DATES, lg_year, 7, 15)
    part(lg_idx + 1, "little_giant", np.full(len(lg_idx), "cn"), lg_year - 2018, lg_on)

    # 重点小巨人: a later (or same-year, later-dated) key batch than the firm's 小巨人 batch.
    k_idx = lg_idx[key_pos]
    if len(k_idx):
        k_lg_year = lg_year[key_pos]
        first_ok = np.maximum(k_lg_year, min(key_years))
        span = max(key_years) - first_ok + 1
        k_year = first_ok + np.floor(rng.random(len(k_idx)) * span).astype(np.int64)
        k_on = _batch_date(KEY_LITTLE_GIANT_DATES, k_year, 9, 15)
        part(k_idx + 1, "key_little_giant", np.full(len(k_idx), "cn"), k_year - 2020, k_on)

    # Provincial 专精特新: every 小巨人 holds one from an earlier list (spring lists, before the summer national one).
    zj_idx = np.flatnonzero(f.tier == "zjtx_sme")
    zj_year = _choice(rng, {y: 1 + 0.3 * (y - FIRST_BATCH_YEAR) for y in range(FIRST_BATCH_YEAR, last_year + 1)},
                      len(zj_idx)).astype(np.int64)
    lg_prov_year = np.maximum(lg_year - _choice(rng, {0: 0.3, 1: 0.4, 2: 0.3}, len(lg_idx)).astype(np.int64),
                              FIRST_BATCH_YEAR)
    p_idx = np.concatenate([zj_idx, lg_idx])
    p_year = np.concatenate([zj_year, lg_prov_year])
    p_on = _list_dates(rng, f.jurisdiction[p_idx], p_year, 45, 170)
    late = p_on > limit  # this year's list is not out yet: the firm is on last year's list
    p_year[late] -= 1
    p_on[late] = _list_dates(rng, f.jurisdiction[p_idx][late], p_year[late], 45, 170)
    part(p_idx + 1, "zjtx_sme", f.jurisdiction[p_idx], p_year, p_on)

    # 创新型: a spring and an autumn list a year from 2022 (autumn only in 2022); some provincial firms were
    # 创新型 the year before their provincial list (then on the autumn list, before next spring's).
    inn_idx = np.flatnonzero(f.tier == "innovative_sme")
    inn_year = _choice(rng, {y: 1 + 0.5 * (y - FIRST_INNOVATIVE_YEAR)
                             for y in range(FIRST_INNOVATIVE_YEAR, last_year + 1)}, len(inn_idx)).astype(np.int64)
    zj_first = (rng.random(len(zj_idx)) < ZJTX_ALSO_INNOVATIVE) & (zj_year > FIRST_INNOVATIVE_YEAR)
    i_idx = np.concatenate([inn_idx, zj_idx[zj_first]])
    i_year = np.concatenate([inn_year, zj_year[zj_first] - 1])
    autumn = (rng.random(len(i_idx)) < 0.5) | (i_year == FIRST_INNOVATIVE_YEAR)
    autumn[len(inn_idx):] = True
    juris_i = f.jurisdiction[i_idx]
    spring_on = _list_dates(rng, juris_i, i_year, 100, 180, cohort=np.zeros(len(i_idx)))
    autumn_on = _list_dates(rng, juris_i, i_year, 250, 340, cohort=np.ones(len(i_idx)))
    i_on = np.where(autumn, autumn_on, spring_on)
    late = i_on > limit  # not out yet: on last year's autumn list
    i_year[late] -= 1
    i_on[late] = _list_dates(rng, juris_i[late], i_year[late], 250, 340, cohort=np.ones(int(late.sum())))
    part(i_idx + 1, "innovative_sme", juris_i, i_year, i_on)

    # 单项冠军: national lists in December (batch n = year 2015 + n).
    c_idx = np.flatnonzero(f.tier == "single_champion")
    c_years_ok = {y: 1.0 for y in range(FIRST_BATCH_YEAR, last_year + 1) if CHAMPION_DATES[y] <= as_of}
    c_year = _choice(rng, c_years_ok, len(c_idx)).astype(np.int64)
    part(c_idx + 1, "single_champion", np.full(len(c_idx), "cn"), c_year - 2015,
         _batch_date(CHAMPION_DATES, c_year, 12, 10))
    return pl.concat(parts)


def _review_outcomes(rng: np.random.Generator, cur: pl.DataFrame, round_no: int) -> tuple[np.ndarray, ...]:
    """(review date, pass prob, fail prob) per row; the rest of the probability is a lapse (not renewed)."""
    tier = cur["tier"].to_numpy()
    on = cur["recognized_on"].to_numpy().astype("datetime64[D]")
    valid_until = cur["valid_until"].to_numpy().astype("datetime64[D]")
    year = _year_of(on)
    n = cur.height
    review = valid_until + rng.integers(-20, 60, size=n)  # provincial 复核 decided around expiry
    p_pass = np.full(n, 0.72)
    p_fail = np.full(n, 0.10)
    lg = tier == "little_giant"
    # National 复核 of batch n is published with batch n+3.
    review[lg] = _batch_date(LITTLE_GIANT_DATES, year[lg] + 3, 7, 15)
    first_review = np.select([year[lg] == y for y in LITTLE_GIANT_PASS], list(LITTLE_GIANT_PASS.values()), 0.85)
    lg_pass = first_review if round_no == 0 else np.full(int(lg.sum()), 0.9)
    p_pass[lg], p_fail[lg] = lg_pass, 1 - lg_pass
    ch = tier == "single_champion"
    review[ch] = _batch_date(CHAMPION_DATES, year[ch] + 3, 12, 10)
    p_pass[ch], p_fail[ch] = 0.88, 0.12
    inn = tier == "innovative_sme"
    p_pass[inn], p_fail[inn] = 0.68, 0.10
    key = tier == "key_little_giant"  # support period: three years, no 复核
    p_pass[key], p_fail[key] = 0.0, 0.0
    return review, p_pass, p_fail


def _recognitions(f: _Firms, seed: int, as_of: date) -> pl.DataFrame:
    """Every recognition row with its history: 复核 passes supersede, fails are revoked, lapses expire.

    One pass per review round (a recognition is reviewed every 3 years), each vectorised over all rows."""
    rng = _rng(seed, "reviews")
    limit = _d64(as_of)
    tier_rank = pl.col("tier").replace_strict({t: i for i, t in enumerate(TIER_ORDER)}, return_dtype=pl.Int64)
    # Ids follow a total order (date, firm, tier, predecessor) so that a seed always numbers rows the same way.
    cur = _initial_recognitions(f, seed, as_of).with_columns(pl.lit(None, dtype=pl.Int64).alias("prev"))
    next_id = 1
    done: list[pl.DataFrame] = []
    round_no = 0
    while cur.height:
        cur = cur.sort(pl.col("recognized_on"), pl.col("fid"), tier_rank, pl.col("prev")).with_columns(
            pl.Series("id", np.arange(next_id, next_id + cur.height, dtype=np.int64)),
            pl.when((pl.col("recognized_on").dt.month() == 2) & (pl.col("recognized_on").dt.day() == 29))
            .then(pl.col("recognized_on").dt.offset_by("3y"))  # Lifecycle.last_valid_day: 29 Feb runs to end of Feb
            .otherwise(pl.col("recognized_on").dt.offset_by("3y") - pl.duration(days=1)).alias("valid_until"),
        )
        next_id += cur.height
        review, p_pass, p_fail = _review_outcomes(rng, cur, round_no)
        u = rng.random(cur.height)
        valid_until = cur["valid_until"].to_numpy().astype("datetime64[D]")
        passed = (u < p_pass) & (review <= limit)
        failed = (u >= p_pass) & (u < p_pass + p_fail) & (review <= limit)
        lapsed = (u >= p_pass + p_fail) & (valid_until <= limit)
        status = np.where(passed, "superseded", np.where(failed, "revoked", np.where(lapsed, "expired", "active")))
        ended = np.where(passed | failed, review, np.where(lapsed, valid_until, np.datetime64("NaT")))
        is_key = cur["tier"].to_numpy() == "key_little_giant"
        reason = np.where(
            passed, "复核通过，由新认定替代 / renewed at re-review",
            np.where(failed, "复核未通过 / failed re-review",
                     np.where(lapsed & is_key, "实施期满 / support period ended",
                              # numpy's stubs reject None, which np.where takes as an object value.
                              np.where(lapsed, "有效期满未申请复核 / not renewed at expiry",  # type: ignore[call-overload]
                                       None))))
        done.append(cur.with_columns(
            pl.Series("status", status), pl.Series("ended_on", ended).cast(pl.Date),
            pl.Series("end_reason", reason.tolist(), dtype=pl.String),
        ))
        # A pass is a new row from the review date, which the old row will point at.
        cur = cur.filter(pl.Series(passed)).select(
            "fid", "tier", "jurisdiction", "batch", pl.col("id").alias("prev"),
        ).with_columns(pl.Series("recognized_on", review[passed]))
        round_no += 1
    out = pl.concat(done, how="diagonal_relaxed")
    successors = out.filter(pl.col("prev").is_not_null()).select(pl.col("prev").alias("id"),
                                                                  pl.col("id").alias("superseded_by"))
    out = out.join(successors, on="id", how="left", maintain_order="left").drop("prev")
    return out.with_columns(_doc_numbers(_rng(seed, "documents"), out))


# ------------------------------------------------------------------------------------------------- enterprises


def _enterprises(f: _Firms, seed: int, as_of: date, rec: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, np.ndarray]]:
    rng = _rng(seed, "enterprises")
    n = f.n
    uscc = _uscc_column(rng, f.region_code)
    while True:  # 31^8 organisation codes: a collision is rare, and redrawn deterministically
        dup = pl.Series(uscc.astype(str)).is_duplicated().to_numpy() & ~pl.Series(
            uscc.astype(str)).is_first_distinct().to_numpy()
        if not dup.any():
            break
        uscc[dup] = _uscc_column(rng, f.region_code[dup])
    names = _firm_names(rng, f)
    # Founded ≥ 3 years (+ a few) before the first recognition: the national criteria ask for 3 years in the niche.
    first = rec.group_by("fid").agg(pl.col("recognized_on").min()).sort("fid")
    first_on = np.full(n, _d64(as_of), dtype="datetime64[D]")
    first_on[first["fid"].to_numpy() - 1] = first["recognized_on"].to_numpy()
    age = {"innovative_sme": (3, 3.5), "zjtx_sme": (4, 4.0), "little_giant": (5, 5.0), "single_champion": (8, 7.0)}
    years_before = np.empty(n)
    for t, (base, scale) in age.items():
        idx = np.flatnonzero(f.tier == t)
        years_before[idx] = base + rng.gamma(2.0, scale, size=len(idx))
    founded = first_on - np.round(years_before * 365.25).astype(np.int64)
    cap_median = {"innovative_sme": 500, "zjtx_sme": 1500, "little_giant": 5000, "single_champion": 20000}
    capital = np.empty(n)
    for t, m in cap_median.items():
        idx = np.flatnonzero(f.tier == t)
        capital[idx] = np.round(rng.lognormal(np.log(m), 0.8, size=len(idx)) / 10) * 10 + 10
    ownership = _choice(rng, {"民营": 85, "国有": 5, "合资": 6, "其他": 4}, n)
    ownership[(f.tier == "single_champion") & (rng.random(n) < 0.2)] = "国有"
    boards = {
        "innovative_sme": {"none": 97, "neeq": 3},
        "zjtx_sme": {"none": 92, "neeq": 6, "bse": 1, "chinext": 1},
        "little_giant": {"none": 80, "neeq": 7, "bse": 4, "star": 4, "chinext": 4, "main": 1},
        "single_champion": {"none": 45, "main": 35, "chinext": 8, "star": 7, "overseas": 5},
    }
    board = np.empty(n, dtype=object)
    for t, weights in boards.items():
        idx = np.flatnonzero(f.tier == t)
        board[idx] = _choice(rng, weights, len(idx))
    product = np.empty(n, dtype=object)
    for div, (_, products) in DIVISION_WORDS.items():
        idx = np.flatnonzero(f.division == div)
        product[idx] = np.array(products, dtype=object)[rng.integers(len(products), size=len(idx))]
    frame = pl.DataFrame({
        "id": np.arange(1, n + 1, dtype=np.int64),
        "uscc": uscc.astype(str),
        "name": names.astype(str),
        "region_code": f.region_code.astype(str),
        "industry_code": (f.section + f.division).astype(str),
        "founded_on": founded,
        "registered_capital": capital,
        "ownership": ownership.astype(str),
        "listing_board": board.astype(str),
        "main_product": product.astype(str),
    }).with_columns(
        normalize_name_expr("name").alias("name_norm"),
        pl.col("region_code").str.slice(0, 2).alias("province_code"),
    )
    return frame, {"founded": founded, "first_on": first_on}


# ----------------------------------------------------------------------------------------------------- reports

# Monthly seasonality of flows (Chinese New Year in Feb, year-end rush in Dec).
MONTH_PROFILE = np.array([0.85, 0.70, 1.00, 1.00, 1.00, 1.05, 1.00, 1.00, 1.05, 1.05, 1.10, 1.20])
SUB_ANNUAL_FLOWS = ("revenue", "main_revenue", "net_profit", "taxes_paid", "rd_expense", "export_value")
SUB_ANNUAL_STOCKS = ("total_assets", "total_liabilities", "employees")
ANNUAL_METRICS = ("revenue", "main_revenue", "net_profit", "total_assets", "total_liabilities", "taxes_paid",
                  "rd_expense", "employees", "rd_staff", "export_value", "main_product_revenue",
                  "equity_financing", "invention_patents", "utility_patents", "design_patents",
                  "software_copyrights", "market_share", "province_rank",
                  # The inputs of the 2022 / 2026 national rules (CONTRACT §3b).
                  "class1_ip", "class1_ip_high_value", "class1_ip_own", "class2_ip", "tech_staff", "total_cost",
                  "intl_market_share", "national_rank")


@dataclass
class _Economics:
    """Per-firm, per-year figures, shape (n, 5) for years as_of.year-4 .. as_of.year."""

    years: np.ndarray
    values: dict[str, np.ndarray]
    params: dict[str, np.ndarray]  # per-firm ratios (n,) reused by attributes and the 目标表


def _economics(f: _Firms, seed: int, as_of: date) -> _Economics:
    rng = _rng(seed, "economics")
    n = f.n
    years = np.arange(as_of.year - 4, as_of.year + 1)
    tier = np.where(f.key, "key_little_giant", f.tier)

    def by_tier(spec: dict[str, tuple[float, float]], draw: Callable[[float, float, int], np.ndarray]) -> np.ndarray:
        out = np.empty(n)
        for t, (a, b) in spec.items():
            idx = np.flatnonzero(tier == t)
            out[idx] = draw(a, b, len(idx))
        return out

    # Revenue (万元) in the base year: 创新型 mostly 500–20,000, 小巨人 mostly 1–10亿.
    rev0 = by_tier({"innovative_sme": (np.log(3000), 0.9), "zjtx_sme": (np.log(9000), 0.8),
                    "little_giant": (np.log(28000), 0.6), "key_little_giant": (np.log(45000), 0.5),
                    "single_champion": (np.log(150000), 0.7)},
                   lambda m, s, k: rng.lognormal(m, s, k))
    growth_mu = rng.normal(0.08, 0.06, n)
    growth = np.clip(growth_mu[:, None] + rng.normal(0, 0.13, (n, len(years))), -0.6, 1.5)
    growth[:, 0] = 0
    revenue = rev0[:, None] * np.cumprod(1 + growth, axis=1)
    main_share = by_tier({"innovative_sme": (0.72, 0.98), "zjtx_sme": (0.75, 0.98), "little_giant": (0.76, 0.98),
                          "key_little_giant": (0.8, 0.98), "single_champion": (0.8, 0.98)},
                         lambda a, b, k: rng.uniform(a, b, k))
    # 小巨人 need main business ≥ 70%: a few do not (not every recognised firm still meets the criteria).
    main_share[rng.random(n) < 0.03] = rng.uniform(0.55, 0.7)
    # 小巨人 R&D intensity ≈ 7% (国新办 2026-01-21: 研发强度 7%, the anchors' band 7–10%).
    rd_ratio = by_tier({"innovative_sme": (3.2, 1.5), "zjtx_sme": (4.2, 1.5), "little_giant": (7.3, 1.8),
                        "key_little_giant": (8.0, 2.0), "single_champion": (5.0, 1.5)},
                       lambda m, s, k: rng.normal(m, s, k))
    rd_ratio = np.clip(rd_ratio, 0.4, 25)
    rd_year = np.clip(rd_ratio[:, None] + rng.normal(0, 0.5, (n, len(years))), 0.2, 30)
    debt_ratio = np.clip(rng.normal(47, 12, n), 8, 92)
    debt_year = np.clip(debt_ratio[:, None] + rng.normal(0, 3, (n, len(years))), 5, 95)
    asset_turn = rng.uniform(0.8, 1.8, n)
    margin = rng.normal(0.08, 0.05, n)[:, None] + rng.normal(0, 0.03, (n, len(years)))
    export_share = np.where(rng.random(n) < 0.4, rng.uniform(1, 40, n), 0.0)
    main_path, export_path = _key_firm_shares(seed, f.key, main_share, export_share, len(years))
    productivity = rng.lognormal(np.log(90), 0.4, n)  # 万元 revenue per employee
    employees = np.maximum(8, np.round(revenue / productivity[:, None]))
    rd_staff_share = rng.uniform(0.08, 0.3, n)
    inv_lambda = {"innovative_sme": 3, "zjtx_sme": 6, "little_giant": 14, "key_little_giant": 20,
                  "single_champion": 40}
    inv0 = by_tier({t: (lam, 0) for t, lam in inv_lambda.items()}, lambda lam, _, k: rng.poisson(lam, k))
    inv = inv0[:, None] + np.cumsum(rng.poisson((inv0 / 6 + 0.5)[:, None], (n, len(years))), axis=1)
    utility = (rng.poisson(4 * inv0 + 5)[:, None]
               + np.cumsum(rng.poisson((inv0 / 3 + 1)[:, None], (n, len(years))), axis=1))
    software = np.where(np.isin(f.section, ["I", "M"]), rng.poisson(25, n), rng.poisson(2, n))
    top = np.isin(tier, ["little_giant", "key_little_giant", "single_champion"])
    market_share = np.where(top, rng.uniform(5, 40, n), rng.uniform(0.5, 15, n))
    province_rank = np.where(top, rng.integers(1, 4, n), rng.integers(1, 21, n)).astype(float)
    values = {
        "revenue": revenue,
        "main_revenue": revenue * main_path,
        "net_profit": revenue * margin,
        "total_assets": revenue * asset_turn[:, None],
        "taxes_paid": revenue * rng.uniform(0.02, 0.06, n)[:, None],
        "rd_expense": revenue * rd_year / 100,
        "employees": employees,
        "rd_staff": np.maximum(1, np.round(employees * rd_staff_share[:, None])),
        "export_value": revenue * export_path / 100,
        "main_product_revenue": revenue * main_path * rng.uniform(0.6, 0.95, n)[:, None],
        "equity_financing": np.where(rng.random((n, len(years))) < 0.08,
                                     np.round(rng.lognormal(np.log(2000), 1.0, (n, len(years)))), 0.0),
        "invention_patents": inv.astype(float),
        "utility_patents": utility.astype(float),
        "design_patents": (rng.poisson(2, n)[:, None] + np.arange(len(years)) // 2).astype(float),
        "software_copyrights": (software[:, None] + np.arange(len(years)) * (software[:, None] // 8)).astype(float),
        "market_share": np.clip(market_share[:, None] + rng.normal(0, 1, (n, len(years))), 0.1, 90),
        "province_rank": np.repeat(province_rank[:, None], len(years), axis=1),
    }
    values["total_liabilities"] = values["total_assets"] * debt_year / 100
    values.update(_rules_2022_inputs(seed, tier, values, export_share))
    params = {"main_share": main_path, "rd_ratio": rd_ratio, "export_share": export_path,
              "growth": growth, "inv": inv}
    return _Economics(years, values, params)


def _key_firm_shares(seed: int, key: np.ndarray, main_share: np.ndarray, export_share: np.ndarray, years: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Main-business share (0–1) and export share (%) per firm and year. A 重点小巨人 works towards its 目标表, so its
    shares drift from year to year (up for most, by about what the targets ask: some meet them, some do not); every
    other firm keeps its own. A stream of its own, so no other firm's figures change."""
    rng = _rng(seed, "key-firm-shares")
    n = len(main_share)
    main_drift = np.where(key[:, None], rng.uniform(-0.002, 0.012, (n, years)), 0.0)
    main_drift[:, 0] = 0
    export_drift = np.where(key[:, None] & (export_share > 0)[:, None], rng.uniform(-0.3, 1.5, (n, years)), 0.0)
    export_drift[:, 0] = 0
    main_path = np.clip(main_share[:, None] + np.cumsum(main_drift, axis=1), 0.0, 0.995)
    export_path = np.clip(export_share[:, None] + np.cumsum(export_drift, axis=1), 0.0, 95.0)
    return main_path, export_path


def _rules_2022_inputs(seed: int, tier: np.ndarray, values: dict[str, np.ndarray], export_share: np.ndarray
                       ) -> dict[str, np.ndarray]:
    """The report metrics of the 2022 / 2026 rules, drawn from a stream of their own (the other figures stay as they
    were): most invention patents relate to the main product (Ⅰ类), most of those self-developed, a few high-value;
    Ⅱ类 = part of the utility patents and software copyrights; 科技人员 ≥ 研发人员; 成本费用 = revenue − net profit;
    an international share only for exporters; national rank near the top for 小巨人 and above."""
    rng = _rng(seed, "rules-2022")
    n: int
    ny: int
    n, ny = values["revenue"].shape
    top = np.isin(tier, ["little_giant", "key_little_giant", "single_champion"])
    inv = values["invention_patents"]
    class1 = np.floor(inv * rng.uniform(0.6, 0.9, n)[:, None])
    own = np.floor(class1 * rng.uniform(0.5, 0.95, n)[:, None])
    high_value = np.floor(class1 * np.where(top, rng.uniform(0.0, 0.2, n), rng.uniform(0.0, 0.08, n))[:, None])
    class2 = np.floor((values["utility_patents"] + values["software_copyrights"]) * rng.uniform(0.3, 0.7, n)[:, None])
    tech_staff = values["rd_staff"] + np.round(values["employees"] * rng.uniform(0.02, 0.08, n)[:, None])
    total_cost = np.maximum(values["revenue"] - values["net_profit"], 0.0)
    intl = np.where((export_share > 0)[:, None],
                    np.clip(np.where(top, rng.uniform(1, 15, n), rng.uniform(0.1, 4, n))[:, None]
                            + rng.normal(0, 0.3, (n, ny)), 0.05, 60), np.nan)
    national_rank = np.where(top, rng.integers(1, 6, n), rng.integers(2, 40, n)).astype(float)
    return {"class1_ip": class1, "class1_ip_own": own, "class1_ip_high_value": high_value, "class2_ip": class2,
            "tech_staff": tech_staff, "total_cost": total_cost, "intl_market_share": intl,
            "national_rank": np.repeat(national_rank[:, None], ny, axis=1)}


def _round_money(a: np.ndarray) -> np.ndarray:
    return np.round(a, 2)


def _annual_reports(f: _Firms, eco: _Economics) -> pl.DataFrame:
    cols = {}
    yrs = eco.years[1:4]  # the three full years before as_of
    n = f.n
    fid = np.repeat(np.arange(1, n + 1), 3)
    for m in ANNUAL_METRICS:
        v = eco.values[m][:, 1:4].reshape(-1)
        counts = ("employees", "rd_staff", "province_rank", "national_rank", "tech_staff")
        cols[m] = v if m in counts or m.endswith(("patents", "copyrights", "_ip", "_ip_own", "_ip_high_value")) \
            else _round_money(v)
    year = np.tile(yrs, n)
    return pl.DataFrame({"enterprise_id": fid, "year": year, "period_end": _year_start(year + 1) - 1, **cols}) \
        .with_columns(pl.col("year").cast(pl.String).alias("period"), pl.lit("annual").alias("period_type"),
                      pl.lit("period").alias("basis"),
                      pl.col("intl_market_share").fill_nan(None))  # not reported by firms that do not export


def _sub_annual_reports(f: _Firms, eco: _Economics, seed: int, as_of: date, monthly: bool,
                        duty_from: np.ndarray) -> pl.DataFrame:
    """Monthly or quarterly reports of provincially recognised firms, from the period their recognition began:
    flows split by season, stocks interpolated between year ends."""
    rng = _rng(seed, "monthly" if monthly else "quarterly")
    reporting = np.isin(f.tier, ["zjtx_sme", "little_giant", "single_champion"])
    in_monthly = np.isin(f.province, MONTHLY_PROVINCES)
    firms = np.flatnonzero(reporting & (in_monthly if monthly else ~in_monthly))
    per_year = 12 if monthly else 4
    k = len(firms)
    if not k:
        return pl.DataFrame()
    profile = MONTH_PROFILE if monthly else MONTH_PROFILE.reshape(4, 3).sum(axis=1)
    years = eco.years[1:]  # three full years + the current one
    ny = len(years)
    weights = profile[None, None, :] * rng.lognormal(0, 0.1, (k, ny, per_year))
    weights /= weights.sum(axis=2, keepdims=True)
    ytd = rng.random(k) < 0.1  # some firms report 本年累计 (ytd), as their provincial form asks
    cols: dict[str, np.ndarray] = {}
    for m in SUB_ANNUAL_FLOWS:
        v = eco.values[m][firms][:, 1:, None] * weights
        v = np.where(ytd[:, None, None], np.cumsum(v, axis=2), v)
        cols[m] = _round_money(v.reshape(-1))
    frac = (np.arange(1, per_year + 1) / per_year)[None, None, :]
    for m in SUB_ANNUAL_STOCKS:
        prev = eco.values[m][firms][:, :-1, None]
        this = eco.values[m][firms][:, 1:, None]
        v = prev + (this - prev) * frac
        cols[m] = np.round(v.reshape(-1)) if m == "employees" else _round_money(v.reshape(-1))
    year = np.broadcast_to(years[None, :, None], (k, ny, per_year)).reshape(-1)
    idx = np.broadcast_to(np.arange(1, per_year + 1)[None, None, :], (k, ny, per_year)).reshape(-1)
    fid = np.broadcast_to((firms + 1)[:, None, None], (k, ny, per_year)).reshape(-1)
    basis = np.broadcast_to(ytd[:, None, None], (k, ny, per_year)).reshape(-1)
    end_month = idx if monthly else idx * 3
    period_end = (_year_start(year).astype("datetime64[M]") + end_month).astype("datetime64[D]") - 1
    # Due on the 10th (monthly) / 15th (quarterly) of the next month; periods not yet due are not expected.
    due = period_end + (10 if monthly else 15)
    keep = (due <= _d64(as_of)) & (period_end >= duty_from[fid - 1])
    frame = pl.DataFrame({"enterprise_id": fid, "year": year, "_i": idx, "period_end": period_end,
                          "_ytd": basis, **cols}).filter(pl.Series(keep))
    label = pl.lit("-") + pl.col("_i").cast(pl.String).str.zfill(2) if monthly else pl.lit("Q") + pl.col("_i").cast(
        pl.String)
    frame = frame.with_columns(
        (pl.col("year").cast(pl.String) + label).alias("period"),
        pl.lit("monthly" if monthly else "quarterly").alias("period_type"),
        pl.when(pl.col("_ytd")).then(pl.lit("ytd")).otherwise(pl.lit("period")).alias("basis"),
    ).drop("_i", "_ytd")
    return frame


def _reports(f: _Firms, eco: _Economics, seed: int, as_of: date, rec: pl.DataFrame) -> pl.DataFrame:
    rng = _rng(seed, "missing")
    # Sub-annual duties start with the firm's first provincial-or-higher recognition.
    first = (rec.filter(pl.col("tier") != "innovative_sme").group_by("fid").agg(pl.col("recognized_on").min())
             .sort("fid"))
    duty_from = np.full(f.n, np.datetime64("NaT"), dtype="datetime64[D]")
    duty_from[first["fid"].to_numpy() - 1] = first["recognized_on"].to_numpy()
    duty_from = np.where(np.isnat(duty_from), _d64(as_of) + 1, duty_from)
    frames = [_annual_reports(f, eco),
              _sub_annual_reports(f, eco, seed, as_of, monthly=True, duty_from=duty_from),
              _sub_annual_reports(f, eco, seed, as_of, monthly=False, duty_from=duty_from)]
    reports = pl.concat([x for x in frames if x.height], how="diagonal_relaxed")
    # Non-reporting is a fact: ~2% of firms are chronic laggards (miss ~40%), plus ~2% of reports at random.
    laggard = rng.random(f.n + 1) < 0.02
    fid = reports["enterprise_id"].to_numpy()
    drop = (laggard[fid] & (rng.random(reports.height) < 0.4)) | (rng.random(reports.height) < 0.02)
    reports = reports.filter(pl.Series(~drop))
    # A few blank cells (not reported ≠ 0).
    blanks = {m: pl.Series(rng.random(reports.height) < 0.01)
              for m in ("rd_staff", "export_value", "main_product_revenue", "taxes_paid", "market_share")}
    reports = reports.with_columns(
        pl.when(blanks[m]).then(None).otherwise(pl.col(m)).alias(m) for m in blanks
    )
    # Firm by firm, period by period (an annual report after the December one): ids in reading order, and
    # index-friendly inserts.
    return reports.sort(pl.col("enterprise_id"), pl.col("period_end"), pl.col("period_type") == "annual")


# -------------------------------------------------------------------------------------------------- attributes


class _AddAttribute(Protocol):
    """_attributes' `add`: rows of `attr` for the firms in `mask` (dates default to the firm's evidence date)."""

    def __call__(self, attr: str, mask: np.ndarray, value: np.ndarray, eff: np.ndarray | None = None,
                 expires: np.ndarray | None = None) -> None: ...


def _attributes(f: _Firms, seed: int, as_of: date, ent_dates: dict[str, np.ndarray]) -> pl.DataFrame:
    """Dated facts matching the tier: most (not all) 小巨人 meet each national criterion."""
    rng = _rng(seed, "attributes")
    n = f.n
    tier = np.where(f.key, "key_little_giant", f.tier)
    high = np.isin(tier, ["little_giant", "key_little_giant", "single_champion"])
    mid = tier == "zjtx_sme"
    founded = ent_dates["founded"]
    first_on = ent_dates["first_on"]
    limit = _d64(as_of)
    # Facts are on file from some time before the firm's first recognition (the application's evidence).
    effective = np.maximum(founded + 30, first_on - rng.integers(30, 400, n))
    rows: list[pl.DataFrame] = []

    def add(attr: str, mask: np.ndarray, value: np.ndarray, eff: np.ndarray | None = None,
            expires: np.ndarray | None = None) -> None:
        idx = np.flatnonzero(mask)
        rows.append(pl.DataFrame({
            "enterprise_id": (idx + 1).astype(np.int64), "attribute": attr, "value": value[idx].astype(str),
            "effective_on": (effective if eff is None else eff)[idx],
            "expires_on": (np.full(n, np.datetime64("NaT"), "datetime64[D]") if expires is None else expires)[idx],
        }))

    def pick(spec_high: Mapping[str, float], spec_mid: Mapping[str, float], spec_low: Mapping[str, float]
             ) -> np.ndarray:
        out = _choice(rng, spec_low, n)
        out[high] = _choice(rng, spec_high, int(high.sum()))
        out[mid] = _choice(rng, spec_mid, int(mid.sum()))
        return out

    everyone = np.ones(n, dtype=bool)
    recognised = high | mid
    founded_year = _year_of(founded)
    niche = founded_year + rng.integers(0, 3, n)
    # 小巨人 need ≥ 3 years in the niche before recognition; a few declared a later start (data says otherwise).
    first_year = _year_of(first_on)
    niche = np.where(high & (rng.random(n) < 0.95), np.minimum(niche, first_year - 3), niche)
    add("niche_since_year", everyone, niche.astype(np.int64))
    add("rd_institution", everyone, pick(
        {"national": 10, "provincial": 42, "joint": 15, "self": 28, "none": 5},
        {"provincial": 20, "joint": 20, "self": 45, "none": 15},
        {"self": 45, "joint": 10, "none": 45}))
    add("info_system", everyone, pick({"true": 92, "false": 8}, {"true": 75, "false": 25}, {"true": 45, "false": 55}))
    add("own_brand", everyone, pick({"true": 95, "false": 5}, {"true": 80, "false": 20}, {"true": 55, "false": 45}))
    add("quality_cert", recognised, pick({"true": 96, "false": 4}, {"true": 85, "false": 15}, {"true": 1}))
    add("product_standard", recognised, pick(
        {"international": 25, "national": 45, "industry": 25, "none": 5},
        {"international": 8, "national": 40, "industry": 37, "none": 15}, {"none": 1}))
    add("foreign_cert", recognised, pick({"true": 45, "false": 55}, {"true": 20, "false": 80}, {"false": 1}))
    add("standards_led", recognised, np.where(high, rng.poisson(1.5, n), rng.poisson(0.3, n)))
    add("standards_participated", recognised, np.where(high, rng.poisson(3, n), rng.poisson(0.8, n)))
    add("key_tech_breakthrough", high, np.where(rng.random(n) < 0.4, "true", "false"))
    add("listing_plan", recognised, pick({"none": 55, "reform": 20, "tutoring": 15, "applied": 10},
                                         {"none": 80, "reform": 12, "tutoring": 6, "applied": 2}, {"none": 1}))
    add("industry_orientation", recognised, pick(
        {"four_bases": 30, "key_industry": 30, "shortboard": 15, "gap_filling": 10, "leader_collaboration": 10,
         "none": 5},
        {"four_bases": 20, "key_industry": 30, "shortboard": 8, "gap_filling": 5, "leader_collaboration": 12,
         "none": 25}, {"none": 1}))
    # 高新技术企业 certificates run three years; some lapsed before as_of and were not renewed.
    hte_p = np.where(high, 0.85, np.where(mid, 0.6, 0.3))
    hte = rng.random(n) < hte_p
    issued = limit - rng.integers(30, 1200, n)  # ~9% issued more than 3 years ago: lapsed
    add("high_tech_enterprise", hte, np.full(n, "true"), eff=issued, expires=_add_years(issued, 3))
    _rules_2022_attributes(seed, as_of, high, mid, effective, hte, issued, add)
    frame = pl.concat(rows, how="vertical_relaxed").with_columns(
        pl.col("effective_on").cast(pl.Date), pl.col("expires_on").cast(pl.Date))
    return frame.sort("enterprise_id", "attribute")


def _rules_2022_attributes(seed: int, as_of: date, high: np.ndarray, mid: np.ndarray, effective: np.ndarray,
                           hte: np.ndarray, issued: np.ndarray, add: _AddAttribute) -> None:
    """The attributes of the 2022 / 2026 rules (CONTRACT §3b), from a stream of their own: chain role, strategic
    emerging field, digital level, quality award, the platform's quality score (given each September from 2025),
    science awards with rank, 创客中国 lists and innovation honours (the high-tech certificates as honours, a `none` row
    for every recognised firm so that "no honour" is known)."""
    rng = _rng(seed, "attributes-2022")
    n = len(high)
    limit = _d64(as_of)
    recognised = high | mid

    def pick(spec_high: Mapping[str, float], spec_mid: Mapping[str, float], spec_low: Mapping[str, float]
             ) -> np.ndarray:
        out = _choice(rng, spec_low, n)
        out[high] = _choice(rng, spec_high, int(high.sum()))
        out[mid] = _choice(rng, spec_mid, int(mid.sum()))
        return out

    everyone = np.ones(n, dtype=bool)
    add("chain_role", recognised, pick({"shortboard": 30, "longboard": 20, "gap_filling": 15, "none": 35},
                                       {"shortboard": 10, "longboard": 8, "gap_filling": 5, "none": 77}, {"none": 1}))
    add("strategic_emerging", everyone, pick({"true": 65, "false": 35}, {"true": 50, "false": 50},
                                             {"true": 35, "false": 65}))
    tested = limit - rng.integers(30, 700, n)
    add("digital_level", everyone, pick({"4": 15, "3": 55, "2": 25, "1": 5}, {"4": 5, "3": 30, "2": 45, "1": 20},
                                        {"3": 10, "2": 40, "1": 50}), eff=tested)
    add("quality_award", recognised, np.where(rng.random(n) < np.where(high, 0.15, 0.05), "true", "false"))
    # 发展质量评价得分: computed by the platform since the 2024 index (工信厅企业〔2024〕75号), given in September.
    mean = np.where(high, 66.0, np.where(mid, 56.0, 45.0))
    for year in range(2025, as_of.year + 1):
        given = _d64(date(year, 9, 1))
        if given <= limit:
            score = np.round(np.clip(rng.normal(mean, 9.0), 0, 100), 1)
            add("quality_score", recognised, score, eff=np.full(n, given))
    # Science awards in the last few years (rank among the winning units, same date); `none` on file for the rest.
    awarded = recognised & (rng.random(n) < np.where(high, 0.10, 0.03))
    award_on = limit - rng.integers(60, 1500, n)
    add("science_award", recognised & ~awarded, np.full(n, "none"))
    add("science_award", awarded, np.where(rng.random(n) < 0.3, "national", "provincial"), eff=award_on)
    add("science_award_rank", awarded, rng.integers(1, 8, n), eff=award_on)
    listed = recognised & (rng.random(n) < 0.03)
    add("maker_china", recognised & ~listed, np.full(n, "none"))
    add("maker_china", listed, np.where(rng.random(n) < 0.15, "top50", "top500"), eff=limit - rng.integers(60, 1400, n))
    add("innovation_honour", hte, np.full(n, "high_tech_enterprise"), eff=issued, expires=_add_years(issued, 3))
    ip_adv = high & (rng.random(n) < 0.12)
    adv_on = limit - rng.integers(60, 1000, n)
    add("innovation_honour", ip_adv, np.full(n, "ip_advantage"), eff=adv_on, expires=_add_years(adv_on, 3))
    add("innovation_honour", recognised, np.full(n, "none"))


# ------------------------------------------------------------------------------------------------------ events

EVENT_SOURCES = {
    "major_accident": "应急管理部门通报 / emergency management bureau",
    "tax_violation": "税务部门公告 / tax bureau notice",
    "serious_dishonesty": "信用中国 / Credit China",
    "abnormal_operation": "市场监管部门经营异常名录 / SAMR abnormal operations list",
    "rename": "企业报告 / firm notification",
    "listing": "交易所公告 / exchange announcement",
    "deregistration": "市场监管部门 / SAMR",
}
EXIT_REASONS = {
    "major_accident": "发生重大安全事故 / major accident",
    "tax_violation": "偷漏税 / tax violation",
    "serious_dishonesty": "严重失信 / serious dishonesty",
    "deregistration": "企业注销 / deregistered",
}


def _events(f: _Firms, seed: int, as_of: date, ent: pl.DataFrame,
            rec: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, np.ndarray]:
    """Events, and their consequences: acted-on exits revoke recognitions; listings set listing_board.

    Returns (events, recognitions, enterprises, deregistered-on per firm or NaT)."""
    rng = _rng(seed, "events")
    n = f.n
    limit = _d64(as_of)
    parts: list[pl.DataFrame] = []
    taken = np.zeros(n, dtype=bool)  # one exit-type event per firm keeps the histories readable

    def add(kind: str, fids: np.ndarray, occurred: np.ndarray, notified: np.ndarray | None = None,
            detail: np.ndarray | None = None) -> None:
        k = len(fids)
        parts.append(pl.DataFrame({
            "enterprise_id": (fids + 1).astype(np.int64), "event": np.full(k, kind),
            "occurred_on": occurred.astype("datetime64[D]"),
            "notified_on": (np.full(k, np.datetime64("NaT"), "datetime64[D]") if notified is None
                            else notified.astype("datetime64[D]")),
            "detail": pl.Series([None] * k if detail is None else detail.astype(str).tolist(), dtype=pl.String),
            "source": np.full(k, EVENT_SOURCES[kind]),
        }))

    def choose(share: float, pool: np.ndarray) -> np.ndarray:
        pool = pool[~taken[pool]]
        k = min(len(pool), max(1, round(share * n)))
        chosen = np.sort(rng.choice(pool, size=k, replace=False)) if k else np.array([], dtype=np.int64)
        taken[chosen] = True
        return chosen

    latest = rec.group_by("fid").agg(
        pl.max_horizontal(pl.col("recognized_on").max(), pl.col("ended_on").max()).alias("last"),
    ).sort("fid")
    last_activity = np.full(n, np.datetime64("2019-01-01"), dtype="datetime64[D]")
    last_activity[latest["fid"].to_numpy() - 1] = latest["last"].to_numpy()
    active = rec.filter(pl.col("status") == "active")
    has_active = np.zeros(n, dtype=bool)
    has_active[active["fid"].to_numpy() - 1] = True
    room = (limit - last_activity).astype(np.int64)  # days since the firm's last recognition change

    revoke_on = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    revoke_reason = np.full(n, None, dtype=object)
    dereg_on = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    # Exits the authority has acted on: the event happened after the last change, the revocation 20–60 days later.
    for kind, share in (("major_accident", 0.0015), ("tax_violation", 0.0015), ("serious_dishonesty", 0.0005),
                        ("deregistration", 0.001)):
        fids = choose(share, np.flatnonzero(has_active & (room > 150)))
        if not len(fids):
            continue
        occurred = last_activity[fids] + 30 + np.floor(rng.random(len(fids)) * (room[fids] - 100)).astype(np.int64)
        revoke_on[fids] = occurred + rng.integers(20, 60, len(fids))
        revoke_reason[fids] = EXIT_REASONS[kind]
        if kind == "deregistration":
            dereg_on[fids] = occurred
        add(kind, fids, occurred)
    # Recent exits not acted on yet: what the `exit` flag is for.
    for kind, share in (("major_accident", 0.001), ("tax_violation", 0.001), ("serious_dishonesty", 0.0005)):
        fids = choose(share, np.flatnonzero(has_active))
        if len(fids):
            add(kind, fids, limit - rng.integers(5, 90, len(fids)))
    fids = choose(0.005, np.arange(n))
    if len(fids):
        add("abnormal_operation", fids, limit - rng.integers(10, 700, len(fids)),
            detail=np.full(len(fids), "未按规定报送年度报告 / annual report not filed"))
    # Renames: most notified within the month, some late, some never (Hebei/Liaoning/Ningxia: within 1 month).
    fids = choose(0.01, np.arange(n))
    if len(fids):
        occurred = limit - rng.integers(20, 1000, len(fids))
        # Exact shares (7 in 10 on time, 2 late, 1 never) so that even a small registry has all three.
        lag = rng.permutation(len(fids)) % 10
        notified = np.where(lag < 7, occurred + rng.integers(3, 28, len(fids)),
                            np.where(lag < 9, occurred + rng.integers(40, 150, len(fids)), np.datetime64("NaT")))
        notified = np.where(notified > limit, np.datetime64("NaT"), notified).astype("datetime64[D]")
        former = ent[fids].select(
            pl.when(pl.col("name").str.contains("实业")).then(pl.col("name") + "（原）")
            .otherwise(pl.col("name").str.replace("有限公司", "实业有限公司", literal=True))
        )["name"]
        add("rename", fids, occurred, notified, detail=("原名称 former name: " + former).to_numpy())
    # Listings during the window (detail = board); the firm's listing_board follows.
    pool = np.flatnonzero(np.isin(f.tier, ["little_giant", "zjtx_sme"]) & (ent["listing_board"].to_numpy() == "none"))
    fids = choose(0.004, pool)
    board = ent["listing_board"].to_numpy().astype(object).copy()
    if len(fids):
        boards = _choice(rng, {"bse": 30, "star": 30, "chinext": 30, "main": 10}, len(fids))
        add("listing", fids, limit - rng.integers(15, 1000, len(fids)), detail=boards)
        board[fids] = boards
    events = pl.concat(parts, how="vertical_relaxed").with_columns(
        pl.col("occurred_on").cast(pl.Date), pl.col("notified_on").cast(pl.Date)
    ).sort("enterprise_id", "occurred_on", "event")

    # Acted-on exits revoke the firm's active recognitions.
    fid_idx = rec["fid"].to_numpy() - 1
    hit = (rec["status"].to_numpy() == "active") & ~np.isnat(revoke_on[fid_idx])
    rec = rec.with_columns(
        pl.when(pl.Series(hit)).then(pl.lit("revoked")).otherwise(pl.col("status")).alias("status"),
        pl.when(pl.Series(hit)).then(pl.Series(revoke_on[fid_idx]).cast(pl.Date))
        .otherwise(pl.col("ended_on")).alias("ended_on"),
        pl.when(pl.Series(hit)).then(pl.Series(revoke_reason[fid_idx].tolist(), dtype=pl.String))
        .otherwise(pl.col("end_reason")).alias("end_reason"),
    )
    ent = ent.with_columns(pl.Series("listing_board", board.astype(str)))
    return events, rec, ent, dereg_on


# ------------------------------------------------------------------------------------------ 目标表 and targets


def _firm_targets(f: _Firms, seed: int, eco: _Economics, rec: pl.DataFrame, attrs: pl.DataFrame) -> pl.DataFrame:
    """13 indicators per 重点小巨人: baseline = year-end before the support period, then year-1 and year-2 targets."""
    rng = _rng(seed, "firm_targets")
    key = rec.filter(pl.col("tier") == "key_little_giant").group_by("fid").agg(
        pl.col("recognized_on").min()).sort("fid")
    if not key.height:
        return pl.DataFrame()
    fid = key["fid"].to_numpy()
    i = fid - 1
    k = len(fid)
    base_year = _year_of(key["recognized_on"].to_numpy()) - 1
    wide = (pl.DataFrame({"enterprise_id": fid.astype(np.int64)})
            .join(attrs.filter(pl.col("attribute").is_in(["listing_plan", "standards_led", "standards_participated",
                                                           "rd_institution", "product_standard"]))
                  .pivot(on="attribute", index="enterprise_id", values="value"),
                  on="enterprise_id", how="left", maintain_order="left"))

    def attr_value(name: str, default: str) -> pl.Series:
        return wide[name].fill_null(default) if name in wide.columns else pl.Series([default] * k)

    stage = attr_value("listing_plan", "none").replace_strict(
        {v: float(i) for i, v in enumerate(LISTING_PLAN_STAGES)}).to_numpy()
    standards = (attr_value("standards_led", "0").cast(pl.Float64)
                 + attr_value("standards_participated", "0").cast(pl.Float64)).to_numpy()
    rd_inst = {"none": 0.0, "self": 1.0, "joint": 1.0, "provincial": 2.0, "national": 3.0}
    # Where the baseline year is inside the generated years, use the firm's own figures; else its base ratios.
    col = np.clip(base_year - eco.years[0], 0, len(eco.years) - 1)
    growth = eco.params["growth"][i, col] * 100
    baseline = {
        "main_revenue_share": eco.params["main_share"][i, col] * 100,
        "export_share": eco.params["export_share"][i, col],
        "foreign_certs": rng.poisson(1.5, k).astype(float),
        "rd_ratio": eco.params["rd_ratio"][i],
        "invention_patents": eco.params["inv"][i, col].astype(float),
        "rd_institutions": attr_value("rd_institution", "none").replace_strict(rd_inst).to_numpy(),
        "standards": standards,
        "rd_projects": rng.poisson(4, k).astype(float),
        "quality_certs": 1 + rng.poisson(1.2, k).astype(float),
        "product_standard": (attr_value("product_standard", "none") != "none").cast(pl.Float64).to_numpy(),
        "digital_cloud": (rng.random(k) < 0.6).astype(float),
        "listing_plan": stage,
        "main_revenue_growth": growth,
    }
    uplift = {"main_revenue_share": (0.5, 1.0), "export_share": (0.5, 1.0), "rd_ratio": (0.2, 0.5),
              "main_revenue_growth": (1.0, 2.0)}
    parts = []
    for ind, unit in FIRM_TARGET_INDICATORS:
        b = baseline[ind]
        if unit == "是/否":
            t1 = np.ones(k)
            t2 = np.ones(k)
        elif ind == "listing_plan":
            t1 = np.minimum(b + (rng.random(k) < 0.5), 3)
            t2 = np.minimum(t1 + (rng.random(k) < 0.5), 3)
        elif unit == "%":
            lo, hi = uplift[ind]
            t1 = b + rng.uniform(lo, hi, k)
            t2 = t1 + rng.uniform(lo, hi, k)
            if ind == "main_revenue_share":
                t1, t2 = np.minimum(t1, 99.0), np.minimum(t2, 99.5)
        else:  # counts grow by whole units
            t1 = b + rng.integers(0, 3, k) + (b == 0)
            t2 = t1 + rng.integers(1, 4, k)
            if ind == "rd_institutions":  # a level (none 0 … national 3), not a count: no target above the top
                t1, t2 = np.minimum(t1, 3), np.minimum(t2, 3)
        parts.append(pl.DataFrame({
            "enterprise_id": fid.astype(np.int64), "indicator": ind,
            "baseline": np.round(b, 2), "target_year1": np.round(t1, 2), "target_year2": np.round(t2, 2),
            "start_period": base_year.astype(str), "direction": "higher", "unit": unit,
        }))
    return pl.concat(parts).sort("enterprise_id", "indicator")


# The 目标表 indicators measured from dated attributes (registry.targets.TARGET_INDICATORS): the attribute that
# carries each, and how an indicator value is written as that attribute's value. `None`: the value itself.
PROGRESS_ATTRIBUTES: dict[str, tuple[str, dict[int, str] | None]] = {
    "foreign_certs": ("foreign_certs", None), "rd_projects": ("rd_projects", None),
    "quality_certs": ("quality_certs", None), "digital_cloud": ("digital_cloud", None),
    "standards": ("standards_participated", None),
    "rd_institutions": ("rd_institution", {0: "none", 1: "self", 2: "provincial", 3: "national"}),
    "product_standard": ("product_standard", {0: "none", 1: "industry"}),
    "listing_plan": ("listing_plan", dict(enumerate(LISTING_PLAN_STAGES))),
}


def _target_progress(targets: pl.DataFrame, attrs: pl.DataFrame, seed: int, as_of: date) -> pl.DataFrame:
    """What a 重点小巨人 achieved against the attribute indicators of its 目标表: a dated attribute row per change,
    in the course of each target year (none after as_of). Each year's value goes from the baseline towards that
    year's target by a random share (0.2–1.5 of the way in year 1, 0.4–1.4 in year 2), so some firms meet their
    targets and some fall short; levels and yes/no indicators stop at their top. The indicators without an
    attribute of their own (certifications, projects, cloud) also get their baseline, on file at the end of the
    baseline year."""
    rng = _rng(seed, "target_progress")
    rows = targets.filter(pl.col("indicator").is_in(list(PROGRESS_ATTRIBUTES)))
    if rows.is_empty():
        return attrs.clear()
    k = rows.height
    b = rows["baseline"].to_numpy()
    top = rows["indicator"].replace_strict({i: float(len(m) - 1) if m else (1.0 if i == "digital_cloud" else np.inf)
                                            for i, (_, m) in PROGRESS_ATTRIBUTES.items()}).to_numpy()
    v1 = np.minimum(np.floor(b + (rows["target_year1"].to_numpy() - b) * rng.uniform(0.2, 1.5, k) + 0.5), top)
    v2 = np.minimum(np.maximum(np.floor(b + (rows["target_year2"].to_numpy() - b) * rng.uniform(0.4, 1.4, k) + 0.5),
                               v1), top)
    base_year = rows["start_period"].cast(pl.Int64).to_numpy()
    day_in_year = rng.integers(90, 330, (k, 2))  # the change is recorded some time in the target year
    # standards = led + participated: the progress goes to `standards_participated`, on top of the firm's own.
    participated = attrs.filter(pl.col("attribute") == "standards_participated").group_by("enterprise_id").agg(
        pl.col("value").last().cast(pl.Float64).alias("participated"))
    own = rows.join(participated, on="enterprise_id", how="left", maintain_order="left")["participated"] \
        .fill_null(0).to_numpy()
    out: list[dict[str, Any]] = []
    for r, (fid, ind) in enumerate(rows.select("enterprise_id", "indicator").iter_rows()):
        attribute, names = PROGRESS_ATTRIBUTES[ind]

        def text(v: float, ind: str = ind, names: dict[int, str] | None = names, r: int = r) -> str:
            if ind == "standards":
                return str(int(own[r] + v - b[r]))
            return names[int(v)] if names else str(int(v))

        if names is None and ind != "standards":
            out.append({"enterprise_id": fid, "attribute": attribute, "value": text(b[r]),
                        "effective_on": date(int(base_year[r]), 12, 1)})
        previous = b[r]
        for step, value in enumerate((v1[r], v2[r])):
            on = date(int(base_year[r]) + 1 + step, 1, 1) + timedelta(days=int(day_in_year[r, step]))
            if value != previous and on <= as_of:
                out.append({"enterprise_id": fid, "attribute": attribute, "value": text(value), "effective_on": on})
                previous = value
    return pl.DataFrame(out, schema={"enterprise_id": pl.Int64, "attribute": pl.String, "value": pl.String,
                                     "effective_on": pl.Date}).with_columns(pl.lit(None, pl.Date).alias("expires_on"))


# A demo of a few thousand firms cannot hold 百万 innovative SMEs: each target is sized to what the demo holds on the
# day it is judged (its deadline, or as_of for an open one), times a factor from its own random stream, so that
# some are met and some not. The document's own figure stays in the source, with the demo's sizing said after it.
DEMO_TARGET_FACTOR = (0.8, 1.3)
DEMO_TARGET_NOTE = " ｜示例目标按示例规模缩放，文件原定 {count:,} / demo target scaled to the demo; the document's: {count:,}"


def _held_on(f: _Firms, rec: pl.DataFrame, jurisdiction: str, tier: str, day: date) -> int:
    """Firms registered in the jurisdiction that hold the tier on `day` (recognised, not yet expired or ended)."""
    valid = rec.filter(pl.col("tier") == tier, pl.col("recognized_on") <= day, pl.col("valid_until") >= day,
                       pl.col("ended_on").is_null() | (pl.col("ended_on") > day))
    fids = valid["fid"].unique().to_numpy()
    if jurisdiction == "cn" or not len(fids):
        return len(fids)
    row = jurisdictions().filter(pl.col("id") == jurisdiction)
    prefixes = tuple(p for p in row["region_codes"][0].split(";") if p) if row.height else ()
    codes = f.region_code[fids - 1]
    return int(sum(1 for code in codes if str(code).startswith(prefixes))) if prefixes else 0


def _regional_targets(f: _Firms, rec: pl.DataFrame, seed: int, as_of: date) -> pl.DataFrame:
    rng = _rng(seed, "regional_targets")
    rows = []
    for j, t, y, c, s in REGIONAL_TARGETS:
        factor = rng.uniform(*DEMO_TARGET_FACTOR)
        held = _held_on(f, rec, j, t, min(date(y, 12, 31), as_of))
        # A tier the demo does not generate (regional tiers): a small target, scaled from the document's.
        sized = round(held * factor) if held else round(c * f.n / 1_000_000 * factor)
        rows.append({"jurisdiction": j, "tier": t, "year": y, "target_count": max(1, sized),
                     "source": s + DEMO_TARGET_NOTE.format(count=c), "parent_jurisdiction": None if j == "cn" else "cn"})
    # Cumulative targets of one jurisdiction and tier (吉林: 200 a year) never shrink from one year to the next.
    return (pl.DataFrame(rows, schema_overrides={"parent_jurisdiction": pl.String}).with_row_index("order")
            .sort("year").with_columns(pl.col("target_count").cum_max().over("jurisdiction", "tier"))
            .sort("order").drop("order"))


# ---------------------------------------------------------------------------------------------------- assembly


def generate_demo(firms: int = 3000, seed: int = 2021, as_of: date | None = None) -> DemoFrames:
    """The whole demo registry as frames (no database). Deterministic for (firms, seed, as_of)."""
    as_of = as_of or date.today()
    if firms < 1:
        raise UserError(f"示例企业数必须至少为1 / --firms must be at least 1, got {firms}")
    if as_of < MIN_AS_OF:
        raise UserError(f"示例数据基准日不得早于 {MIN_AS_OF} / demo as_of must be on or after {MIN_AS_OF}, got {as_of}")
    f = _draw_firms(firms, seed)
    rec = _recognitions(f, seed, as_of)
    ent, ent_dates = _enterprises(f, seed, as_of, rec)
    eco = _economics(f, seed, as_of)
    reports = _reports(f, eco, seed, as_of, rec)
    attrs = _attributes(f, seed, as_of, ent_dates)
    events, rec, ent, dereg_on = _events(f, seed, as_of, ent, rec)
    # A deregistered firm reports nothing for periods that end after it ceased to exist.
    gone = pl.Series(dereg_on[reports["enterprise_id"].to_numpy() - 1]).cast(pl.Date)
    reports = reports.filter(gone.is_null() | (reports["period_end"] <= gone))
    targets = _firm_targets(f, seed, eco, rec, attrs)
    # The 目标表 is drawn from the attributes on file at its start; what the firms did since comes after.
    progress = _target_progress(targets, attrs, seed, as_of)
    attrs = pl.concat([attrs, progress.select(attrs.columns).cast(attrs.schema)]).sort(
        "enterprise_id", "attribute", maintain_order=True)
    regional = _regional_targets(f, rec, seed, as_of)
    rec = (rec.rename({"fid": "enterprise_id"})
           .select("id", "enterprise_id", "tier", "jurisdiction", "batch", "recognized_on", "valid_until", "status",
                   "document_no", "superseded_by", "ended_on", "end_reason")
           .sort("id"))
    n_rep = reports.height
    return DemoFrames(
        enterprise=ent.select("id", "uscc", "name", "name_norm", "region_code", "province_code", "industry_code",
                              "founded_on", "registered_capital", "ownership", "listing_board", "main_product"),
        recognition=rec,
        report=reports.with_columns(pl.Series("id", np.arange(1, n_rep + 1, dtype=np.int64))),
        attribute=attrs.with_columns(pl.Series("id", np.arange(1, attrs.height + 1, dtype=np.int64))),
        event=events.with_columns(pl.Series("id", np.arange(1, events.height + 1, dtype=np.int64))),
        firm_target=targets.with_columns(pl.Series("id", np.arange(1, targets.height + 1, dtype=np.int64))),
        regional_target=regional.with_columns(
            pl.Series("id", np.arange(1, len(REGIONAL_TARGETS) + 1, dtype=np.int64))),
    )


# ------------------------------------------------------------------------------------------------------ writing
# Rows go in through the one bulk writer of the ingestion (registry.ingest.bulk.insert_frame: COPY / executemany).


def with_database_ids(frames: DemoFrames, offsets: dict[str, int], loaded_at: datetime) -> DemoFrames:
    """Local ids → database ids (after what the tables already hold), plus the load timestamps."""
    e, r = offsets["enterprise"], offsets["recognition"]
    firm = pl.col("enterprise_id") + e
    stamp = pl.lit(loaded_at, dtype=pl.Datetime("us", "UTC"))
    return DemoFrames(
        enterprise=frames.enterprise.with_columns(pl.col("id") + e, stamp.alias("created_at"),
                                                  stamp.alias("updated_at")),
        recognition=frames.recognition.with_columns(pl.col("id") + r, firm, pl.col("superseded_by") + r,
                                                    stamp.alias("created_at")),
        report=frames.report.with_columns(pl.col("id") + offsets["report"], firm, stamp.alias("updated_at")),
        attribute=frames.attribute.with_columns(pl.col("id") + offsets["attribute"], firm),
        event=frames.event.with_columns(pl.col("id") + offsets["event"], firm),
        firm_target=frames.firm_target.with_columns(pl.col("id") + offsets["firm_target"], firm),
        regional_target=frames.regional_target.with_columns(pl.col("id") + offsets["regional_target"]),
    )


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[Callable[..., Callable[[int], None]]]:
    """Yields `task(description, total) -> advance(n)`; a no-op without progress."""
    if not enabled:
        yield lambda *_a, **_k: (lambda _n: None)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=False) as bar:
        def task(description: str, total: int | None) -> Callable[[int], None]:
            tid = bar.add_task(description, total=total)
            return lambda n: bar.advance(tid, n)

        yield task


@contextmanager
def _indexes_built_after_load(conn: sa.Connection, tables: list[str]) -> Iterator[None]:
    """Drop the secondary indexes of `tables` (on PostgreSQL also their unique and foreign-key constraints) and
    recreate them, from the catalog's own definitions, after the load: one sorted build per index instead of
    millions of incremental updates. Meant for tables that are empty before the load. It all happens in the
    load's transaction, so a failure restores the definitions with everything else."""
    recreate: list[str] = []
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
        for table in tables:
            constraints = conn.exec_driver_sql(
                "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype IN ('f', 'u') ORDER BY contype DESC, conname",
                (table,)).all()
            indexes = conn.exec_driver_sql(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                "WHERE c.conrelid = i.indrelid AND c.conindid = i.indexrelid) ORDER BY 1", (table,)).all()
            for name, _, _ in constraints:  # foreign keys first ('f' sorts after 'u' descending)
                conn.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for name, _ in indexes:
                conn.exec_driver_sql(f"DROP INDEX {name}")
            recreate += [definition for _, definition in indexes]
            recreate += [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
                         for name, _, definition in reversed(constraints)]  # unique before foreign keys
    else:
        for table in tables:
            # Indexes SQLite made for UNIQUE/PRIMARY KEY (sql IS NULL) belong to the table and stay.
            indexes = conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL "
                "ORDER BY name", (table,)).all()
            for name, _ in indexes:
                conn.exec_driver_sql(f'DROP INDEX "{name}"')
            recreate += [definition for _, definition in indexes]
    yield
    for statement in recreate:
        conn.exec_driver_sql(statement)


TABLE_LABELS = {"enterprise": "企业 firms", "recognition": "认定 recognitions", "report": "运行数据 reports",
                "attribute": "资质 attributes", "event": "事件 events", "firm_target": "目标表 firm targets",
                "regional_target": "培育目标 regional targets"}


def _begin_exclusive(conn: sa.Connection) -> None:
    # Ids are taken as max(id)+1: no other writer may insert into these tables until we commit.
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE " + ", ".join(TABLE_LABELS) + " IN SHARE ROW EXCLUSIVE MODE")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def _big_page_cache(conn: sa.Connection) -> Iterator[None]:
    """SQLite: a 256 MB page cache while loading (index builds sort in memory instead of temp files), then the
    connection's own setting again. PostgreSQL manages its buffers itself."""
    if conn.dialect.name != "sqlite":
        yield
        return
    previous = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    conn.exec_driver_sql("PRAGMA cache_size = -262144")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(previous)}")


def _check_uscc_conflicts(conn: sa.Connection, enterprises: pl.DataFrame) -> None:
    existing = pl.Series("uscc", [r[0] for r in conn.exec_driver_sql("SELECT uscc FROM enterprise")],
                         dtype=pl.String)
    clash = enterprises.filter(pl.col("uscc").is_in(existing.implode()))
    if clash.height:
        raise UserError(
            f"示例数据中有 {clash.height} 家企业的统一社会信用代码已在库中（例如 {clash['uscc'][0]}），"
            f"可能已用同一 seed 载入过，请换一个 --seed / {clash.height} demo USCCs already exist in the database "
            f"(e.g. {clash['uscc'][0]}; the same seed loaded before?): use another --seed"
        )


def build_demo(engine: Engine, firms: int = 3000, seed: int = 2021, as_of: date | None = None,
               progress: bool = False) -> dict[str, Any]:
    """Write a reproducible synthetic registry into an already-migrated database, in one transaction.

    Returns summary counts: rows per table, firms per tier, seed, as_of and seconds taken.
    """
    as_of = as_of or date.today()
    started = time.monotonic()
    try:
        counts, frames = _load(engine, firms, seed, as_of, progress)
    except (sa.exc.DBAPIError, sqlite3.Error, psycopg.Error) as exc:
        # The transaction was rolled back: say so in one line (the CLI prints DatabaseError without a traceback).
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise DatabaseError(f"示例数据载入失败，数据库未改动 / demo load failed, nothing was written: {reason}") from exc
    tiers = frames.recognition.group_by("tier").agg(pl.col("enterprise_id").n_unique()).sort("tier")
    return {
        "firms": counts["enterprise"],
        "recognitions": counts["recognition"],
        "reports": counts["report"],
        "attributes": counts["attribute"],
        "events": counts["event"],
        "firm_targets": counts["firm_target"],
        "regional_targets": counts["regional_target"],
        "firms_by_tier": dict(tiers.iter_rows()),
        "seed": seed,
        "as_of": as_of.isoformat(),
        "seconds": round(time.monotonic() - started, 1),
    }


def _load(engine: Engine, firms: int, seed: int, as_of: date, progress: bool) -> tuple[dict[str, int], DemoFrames]:
    with _progress_bar(progress) as task:
        generating = task("生成 generating", 1)
        frames = generate_demo(firms, seed, as_of)
        generating(1)
        counts: dict[str, int] = {}
        with engine.begin() as conn:
            _begin_exclusive(conn)
            _check_uscc_conflicts(conn, frames.enterprise)
            offsets = {t: conn.exec_driver_sql(f"SELECT COALESCE(MAX(id), 0) FROM {t}").scalar_one()
                       for t in TABLE_LABELS}
            existing = conn.exec_driver_sql("SELECT jurisdiction, tier, year FROM regional_target").all()
            # Cultivation targets are policy facts, not demo firms: keep those already there.
            regional = frames.regional_target.join(
                pl.DataFrame(existing, schema={"jurisdiction": pl.String, "tier": pl.String, "year": pl.Int64},
                             orient="row"),
                on=["jurisdiction", "tier", "year"], how="anti", maintain_order="left",
            ).with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("id"))
            frames = with_database_ids(replace(frames, regional_target=regional), offsets, datetime.now(UTC))
            empty = [t for t in TABLE_LABELS if offsets[t] == 0
                     and conn.exec_driver_sql(f"SELECT COUNT(*) FROM {t}").scalar_one() == 0]
            with _indexes_built_after_load(conn, empty), _big_page_cache(conn):
                for table, frame in frames.tables():
                    if table == "recognition":
                        # A row points at its successor (superseded_by): successors go in first, so that the
                        # foreign key holds row by row (deferring it makes SQLite scan the table per insert).
                        frame = frame.sort("id", descending=True)
                    insert_frame(conn, table, frame, task(TABLE_LABELS[table], frame.height))
                    counts[table] = frame.height
            if conn.dialect.name == "postgresql":
                for table in TABLE_LABELS:  # explicit ids bypass the sequences: move them past what we wrote
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))")
                conn.exec_driver_sql("ANALYZE " + ", ".join(TABLE_LABELS))
    return counts, frames
