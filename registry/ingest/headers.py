"""The header catalogue (CONTRACT §2): for each kind of data file, its columns with English and Chinese names.

A header matches a column when, after normalisation (NFKC folds full-width to half-width, surrounding and inner
spaces dropped, case ignored, a template's leading/trailing `*` required-marker dropped), it equals the column's
English name or one of its Chinese names. A unit in brackets is accepted only when it is the unit the contract
uses for that column ("营业收入(万元)" is revenue; "出口额(万美元)" is not, because export_value is in 万元).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from registry.label_codes import FILE_KINDS
from registry.models import REPORT_METRICS

# What the validator does with a column's text (see validate.py).
ColumnType = str  # uscc | text | date | money | count | ratio | rank | period | basis | year | region | industry
#                   | tier | jurisdiction | batch | enum:<vocabulary> | attribute | attribute_value | event | target


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    zh: tuple[str, ...]
    type: ColumnType
    required: bool = False
    units: tuple[str, ...] = ()
    # Lower bound for numbers (None: any sign, e.g. net profit).
    minimum: float | None = None
    aliases: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        return f"{self.name} {self.zh[0]}"


MONEY = ("万元",)
PEOPLE = ("人",)
ITEMS = ("件", "项", "个")

KIND_LABELS = FILE_KINDS  # in load order (registry/label_codes.py)
KINDS = tuple(KIND_LABELS)

_USCC = ColumnSpec("uscc", ("统一社会信用代码", "社会信用代码", "信用代码"), "uscc", required=True)

_METRIC_ZH: dict[str, tuple[tuple[str, ...], ColumnType, tuple[str, ...], float | None]] = {
    # name: (Chinese names, type, accepted units, minimum)
    "revenue": (("营业收入",), "money", MONEY, 0),
    "main_revenue": (("主营业务收入",), "money", MONEY, 0),
    "net_profit": (("净利润",), "money", MONEY, None),
    "total_assets": (("资产总额", "总资产"), "money", MONEY, 0),
    "total_liabilities": (("负债总额", "总负债"), "money", MONEY, 0),
    # Net refunds can make taxes paid negative in a period.
    "taxes_paid": (("上缴税金", "纳税总额"), "money", MONEY, None),
    "rd_expense": (("研发费用", "研发经费支出"), "money", MONEY, 0),
    "employees": (("从业人数", "从业人员数", "职工人数"), "count", PEOPLE, 0),
    "rd_staff": (("研发人员数", "研发人员"), "count", PEOPLE, 0),
    "export_value": (("出口额", "出口总额"), "money", MONEY, 0),
    "main_product_revenue": (("主导产品销售收入", "主导产品收入"), "money", MONEY, 0),
    "equity_financing": (("新增股权融资", "新增股权融资额"), "money", MONEY, 0),
    "invention_patents": (("有效发明专利", "有效发明专利数"), "count", ITEMS, 0),
    "utility_patents": (("实用新型专利", "实用新型专利数"), "count", ITEMS, 0),
    "design_patents": (("外观设计专利", "外观设计专利数"), "count", ITEMS, 0),
    "software_copyrights": (("软件著作权", "软件著作权数"), "count", ITEMS, 0),
    "market_share": (("主导产品市场占有率", "市场占有率"), "ratio", ("%",), 0),
    "province_rank": (("主导产品本省排名", "本省排名"), "rank", ("名", "位"), 1),
    # The 2022 / 2026 national rules (CONTRACT §3b). Headers are NFKC-folded, so "I类" matches "Ⅰ类" as well.
    "class1_ip": (("Ⅰ类知识产权数", "Ⅰ类知识产权"), "count", ITEMS, 0),
    "class1_ip_high_value": (("Ⅰ类高价值知识产权数", "Ⅰ类高价值知识产权"),
                             "count", ITEMS, 0),
    "class1_ip_own": (("自主研发Ⅰ类知识产权数", "自主研发Ⅰ类知识产权"),
                      "count", ITEMS, 0),
    "class2_ip": (("Ⅱ类知识产权数", "Ⅱ类知识产权"), "count", ITEMS, 0),
    "tech_staff": (("科技人员数", "科技人员"), "count", PEOPLE, 0),
    "total_cost": (("成本费用支出总额", "成本费用总额", "成本费用"), "money", MONEY, 0),
    "intl_market_share": (("主导产品国际细分市场占有率", "国际市场占有率"), "ratio", ("%",), 0),
    "national_rank": (("主导产品国内细分市场排名", "国内细分市场排名", "全国排名"), "rank", ("名", "位"), 1),
}
assert tuple(_METRIC_ZH) == REPORT_METRICS, "the report catalogue must list the schema's metrics in order"

CATALOGUE: dict[str, tuple[ColumnSpec, ...]] = {
    "enterprises": (
        _USCC,
        ColumnSpec("name", ("企业名称", "名称", "单位名称"), "text", required=True),
        ColumnSpec("region_code", ("行政区划代码", "区划代码", "所在地区代码"), "region", required=True),
        ColumnSpec("industry_code", ("行业代码", "国民经济行业代码", "所属行业代码"), "industry", required=True),
        ColumnSpec("founded_on", ("成立日期", "成立时间", "注册日期"), "date", required=True),
        ColumnSpec("registered_capital", ("注册资本",), "money", units=MONEY, minimum=0),
        ColumnSpec("ownership", ("企业类型", "企业性质", "所有制"), "enum:ownership"),
        ColumnSpec("listing_board", ("上市板块", "上市情况"), "enum:listing_board"),
        ColumnSpec("main_product", ("主导产品",), "text"),
    ),
    "recognitions": (
        _USCC,
        ColumnSpec("tier", ("称号", "认定称号", "层级"), "tier", required=True),
        ColumnSpec("jurisdiction", ("认定机关辖区", "辖区", "认定辖区"), "jurisdiction", required=True),
        ColumnSpec("batch", ("批次", "认定批次"), "batch", required=True),
        ColumnSpec("recognized_on", ("认定日期", "认定时间"), "date", required=True),
        ColumnSpec("valid_until", ("有效期至", "有效期截止日期"), "date"),
        ColumnSpec("document_no", ("文号", "认定文号"), "text"),
        ColumnSpec("status", ("状态",), "enum:recognition_status"),
    ),
    "reports": (
        _USCC,
        ColumnSpec("period", ("报告期", "所属期"), "period", required=True),
        ColumnSpec("basis", ("口径", "统计口径"), "basis"),
        *(ColumnSpec(m, zh, t, units=u, minimum=lo) for m, (zh, t, u, lo) in _METRIC_ZH.items()),
    ),
    "attributes": (
        _USCC,
        ColumnSpec("attribute", ("属性", "属性名", "资质"), "attribute", required=True),
        ColumnSpec("value", ("值", "属性值"), "attribute_value", required=True),
        ColumnSpec("effective_on", ("生效日期", "起始日期"), "date", required=True),
        ColumnSpec("expires_on", ("失效日期", "到期日期"), "date"),
        ColumnSpec("evidence", ("证明材料", "依据"), "text"),
    ),
    "events": (
        _USCC,
        ColumnSpec("event", ("事件", "事件类型"), "event", required=True),
        ColumnSpec("occurred_on", ("发生日期", "发生时间"), "date", required=True),
        ColumnSpec("notified_on", ("报告日期", "告知日期"), "date"),
        ColumnSpec("detail", ("详情", "说明"), "text"),
        ColumnSpec("source", ("来源", "信息来源"), "text"),
    ),
    "firm_targets": (
        _USCC,
        ColumnSpec("indicator", ("指标", "指标名称"), "text", required=True),
        ColumnSpec("baseline", ("初始值", "基期值"), "target", required=True),
        ColumnSpec("target_year1", ("一年目标", "第一年目标"), "target", required=True),
        ColumnSpec("target_year2", ("两年目标", "第二年目标"), "target", required=True),
        ColumnSpec("start_period", ("起始期", "起始年度"), "period", required=True),
        ColumnSpec("direction", ("方向", "指标方向"), "enum:direction"),
        ColumnSpec("unit", ("单位", "计量单位"), "text"),
    ),
    "regional_targets": (
        ColumnSpec("jurisdiction", ("辖区", "地区"), "jurisdiction", required=True),
        ColumnSpec("tier", ("称号", "层级"), "tier", required=True),
        ColumnSpec("year", ("年度", "年份"), "year", required=True),
        ColumnSpec("target_count", ("目标数", "目标数量", "目标企业数"), "count", required=True, minimum=0),
        ColumnSpec("parent_jurisdiction", ("上级辖区",), "jurisdiction"),
        ColumnSpec("source", ("来源", "依据"), "text"),
    ),
}

# `--kind` accepts the kind ids, their Chinese names, and `targets` (firm or regional, told apart by headers).
KIND_ALIASES = {**{k: k for k in KINDS}, **{v: k for k, v in KIND_LABELS.items()}, "targets": "targets", "目标": "targets"}

_UNIT_RE = re.compile(r"^(?P<base>.+?)[(\[](?P<unit>[^()\[\]]*)[)\]]$")
_WS_RE = re.compile(r"\s+")


def normalize_header(header: str) -> str:
    """Fold a header for matching: NFKC, no whitespace, lower case, no required-marker asterisks."""
    text = unicodedata.normalize("NFKC", header or "")
    text = _WS_RE.sub("", text).strip("*").lower()
    # Chinese quotes around 小巨人 and similar carry no meaning in a header.
    return text.replace('"', "").replace("“", "").replace("”", "")


def _split_unit(folded: str) -> tuple[str, str | None]:
    m = _UNIT_RE.match(folded)
    if not m:
        return folded, None
    return m.group("base"), m.group("unit")


@dataclass(frozen=True)
class HeaderMatch:
    """How one kind reads a file's headers."""

    kind: str
    columns: dict[str, str]  # original header → column name
    unknown: list[str]  # headers that are no column of this kind
    unit_mismatch: dict[str, str]  # header → reason (known column but the wrong unit)
    duplicates: dict[str, list[str]]  # column name → the several headers that map to it
    missing: list[ColumnSpec]  # required columns not found

    @property
    def matched_required(self) -> int:
        return sum(1 for c in CATALOGUE[self.kind] if c.required and c.name in self.columns.values())


def _lookup(kind: str) -> dict[str, ColumnSpec]:
    table: dict[str, ColumnSpec] = {}
    for spec in CATALOGUE[kind]:
        for name in (spec.name, *spec.zh, *spec.aliases):
            table[normalize_header(name)] = spec
    return table


_LOOKUPS = {kind: _lookup(kind) for kind in KINDS}


def match_headers(kind: str, headers: list[str]) -> HeaderMatch:
    lookup = _LOOKUPS[kind]
    columns: dict[str, str] = {}
    unknown: list[str] = []
    unit_mismatch: dict[str, str] = {}
    seen: dict[str, list[str]] = {}
    for header in headers:
        folded = normalize_header(header)
        spec = lookup.get(folded)
        if spec is None:
            base, unit = _split_unit(folded)
            spec = lookup.get(base)
            if spec is not None and unit not in {normalize_header(u) for u in spec.units}:
                expected = "/".join(spec.units) or "无单位 none"
                unit_mismatch[header] = (
                    f"单位“{unit}”与规定单位不符（应为 {expected}），该列未载入 / unit {unit!r} is not the "
                    f"contract's unit for {spec.name} ({expected}); column not loaded"
                )
                continue
        if spec is None:
            unknown.append(header)
            continue
        columns[header] = spec.name
        seen.setdefault(spec.name, []).append(header)
    duplicates = {name: hs for name, hs in seen.items() if len(hs) > 1}
    present = set(columns.values())
    missing = [c for c in CATALOGUE[kind] if c.required and c.name not in present]
    return HeaderMatch(kind, columns, unknown, unit_mismatch, duplicates, missing)


def detect_kind(headers: list[str]) -> tuple[HeaderMatch | None, list[HeaderMatch]]:
    """The kind whose required columns are all present (most matched columns wins); else None and every
    kind's match, best first, so the caller can say what is missing."""
    matches = [match_headers(kind, headers) for kind in KINDS]
    complete = [m for m in matches if not m.missing]
    ranked = sorted(matches, key=lambda m: (-m.matched_required, -len(m.columns), KINDS.index(m.kind)))
    if complete:
        best = max(complete, key=lambda m: (len(m.columns), m.matched_required))
        return best, ranked
    return None, ranked
