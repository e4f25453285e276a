"""Validate a data file's rows, whole columns at a time (polars expressions, no Python loop per row).

`validate(kind, raw)` takes the file's cells as text (columns already renamed to the contract's English names,
plus `row`, the 1-based data row) and returns the rows that pass, typed, and one rejection per failing cell:
(row, column, reason). A row with any failing cell is rejected whole: loading half a row would record a
"not reported" that the firm did report. Loops below run over the *distinct* values of a column (a handful of
tier or attribute spellings), never over rows.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import polars as pl
import sqlalchemy as sa
from sqlmodel import SQLModel

from registry import models
from registry.identity import InvalidUSCC, uscc_normalise_expr, uscc_valid_expr, validate_uscc
from registry.ingest import vocab
from registry.ingest.headers import CATALOGUE, ColumnSpec
from registry.policy.loader import declared_tiers
from registry.policy.resolve import lifecycle_for
from registry.reference import industries, jurisdictions, regions
from registry.settings import get_settings

# Keys that identify "the same record" inside one file; an earlier row with the same key is rejected in favour
# of the later one (the later file wins across files, the later row wins inside one).
KEYS = {
    "enterprises": ("uscc",),
    "recognitions": ("uscc", "tier", "jurisdiction", "recognized_on"),
    "reports": ("uscc", "period", "basis"),
    "attributes": ("uscc", "attribute", "value", "effective_on"),
    "events": ("uscc", "event", "occurred_on", "detail"),
    "firm_targets": ("uscc", "indicator", "start_period"),
    "regional_targets": ("jurisdiction", "tier", "year"),
}

EARLIEST_DATE = date(1900, 1, 1)
# Dates ahead (valid_until, expires_on) may lie in the future, not centuries away: 2204 is a typo for 2024.
LATEST_DATE = date(2100, 12, 31)
# Dates of things that have already happened; a future one is a typo (2204 for 2024).
PAST_DATES = {"founded_on", "recognized_on", "occurred_on", "notified_on"}

# The table each kind loads into: its String(n) columns bound the text a cell may hold, so that PostgreSQL
# (which enforces the length) and SQLite (which does not) reject the same rows, here, with a reason.
TABLES: dict[str, type[SQLModel]] = {
    "enterprises": models.Enterprise, "recognitions": models.Recognition, "reports": models.Report,
    "attributes": models.Attribute, "events": models.Event, "firm_targets": models.FirmTarget,
    "regional_targets": models.RegionalTarget,
}


def column_lengths(kind: str) -> dict[str, int]:
    """Longest text per column of `kind`, as the schema declares it (models, the one source of truth)."""
    names = {spec.name for spec in CATALOGUE[kind]}
    lengths = {}
    table = models.table_of(TABLES[kind])
    for column in table.columns:
        # SQLModel's AutoString wraps a String: the length is on the type it decorates.
        text_type = column.type.impl if isinstance(column.type, sa.TypeDecorator) else column.type
        if isinstance(text_type, sa.String) and text_type.length and column.name in names:
            lengths[column.name] = text_type.length
    return lengths


# Characters no data cell may hold: C0/C1 control characters (NUL included: PostgreSQL cannot store it) and the
# bidirectional overrides and isolates that make a name display differently from what it is (U+202E ...).
INVISIBLE = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL = f"[{INVISIBLE}]"
_CONTROL_OR_BREAK = f"[{INVISIBLE}\t\n\r]"
# Free text may run over several lines (a cell with line breaks); every other cell is one line.
MULTILINE_TEXT = {"main_product", "detail", "source", "evidence"}
# "1,234,567": commas only between groups of three digits; "1,2,3" is not a number.
_GROUPED = r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?\s*%?$"

_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
_QUOTES = "\"'“”‘’「」『』"
_NUMBER_TYPES = {"money", "count", "ratio", "rank"}


def _lazy(frame: pl.DataFrame, plan: Callable[[pl.LazyFrame], pl.LazyFrame]) -> pl.DataFrame:
    """Run `plan` through the lazy engine: its common-subexpression elimination evaluates a cleaned or parsed
    cell once even where many checks use it (eager evaluation would redo it for every use)."""
    return plan(frame.lazy()).collect()


def _v(name: str) -> str:
    return f"__v_{name}"


def _text(name: str) -> pl.Expr:
    return pl.col(name)


def _key(expr: pl.Expr) -> pl.Expr:
    """Lookup key for a controlled value: lower case, no quotes or spaces (text is already NFKC + trimmed)."""
    return expr.str.to_lowercase().str.replace_all(f"[{_QUOTES}\\s]", "")


def _lookup(expr: pl.Expr, mapping: dict[str, str]) -> pl.Expr:
    keyed = {re.sub(f"[{_QUOTES}\\s]", "", k.lower()): v for k, v in mapping.items()}
    return _key(expr).replace_strict(keyed, default=None, return_dtype=pl.String)


_BLANK_TOKENS = [v for t in vocab.BLANK_TOKENS for v in {t, t.upper(), t.capitalize()}]


def _blank_tokens(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr.is_in(_BLANK_TOKENS)).then(None).otherwise(expr)


def _number_text(name: str, percent: bool = False) -> pl.Expr:
    # "1,234.5" (thousands separators) and, for ratios, "3.5%" are how spreadsheets show numbers.
    t = _blank_tokens(_text(name)).str.replace_all(",", "", literal=True)
    if percent:
        t = t.str.strip_suffix("%").str.strip_chars()
    return t


def _misplaced_separator(name: str) -> Check:
    text = _blank_tokens(_text(name))
    return _reason(text.str.contains(",", literal=True) & ~text.str.contains(_GROUPED),
                   "千分位分隔符位置不对（应为 1,234,567）", "misplaced thousands separator (expected 1,234,567)",
                   _text(name))


def _beyond_bound(name: str, value: pl.Expr) -> Check:
    """|value| beyond the column's plausible bound (ingest.bounds in config)."""
    bound = get_settings().ingest.bound(name)
    return _reason(value.abs() > bound, f"超出合理范围（绝对值不超过 {bound:g}，见 ingest.bounds）",
                   f"beyond the plausible bound (|value| at most {bound:g}, ingest.bounds)", _text(name))


def _date_value(name: str) -> pl.Expr:
    t = _blank_tokens(_text(name))
    t = (
        t.str.replace(r"[ T]00:00(:00(\.0+)?)?$", "")  # Excel date cells read as text carry a midnight time
        .str.replace_all(r"[年月/.]", "-")
        .str.replace(r"日$", "")
        .str.replace(r"^(\d{4})(\d{2})(\d{2})$", "$1-$2-$3")
    )
    return t.str.to_date("%Y-%m-%d", strict=False)


_QUARTER_RE = r"^(\d{4})年?[-/]?(?:Q([1-4])|第?([1-4一二三四])季度?)$"
_MONTH_RE = r"^(\d{4})(?:[-/.]|年)(\d{1,2})月?$|^(\d{4})(\d{2})$"
_YEAR_RE = r"^(\d{4})(?:年|年度)?$"
_CN_DIGITS = {"一": "1", "二": "2", "三": "3", "四": "4"}


def period_parts(name: str) -> dict[str, pl.Expr]:
    """Canonical period (2024 | 2024Q3 | 2024-07) and its type, year and end date, from free spellings
    (2024年, 2024-Q3, 2024年第三季度, 2024-7, 202407, 2024年7月)."""
    t = _text(name).str.to_uppercase().str.replace_all(r"\s", "")
    year_a = t.str.extract(_YEAR_RE, 1)
    q = t.str.extract_groups(_QUARTER_RE)
    quarter = pl.coalesce(q.struct.field("2"), q.struct.field("3").replace(_CN_DIGITS)).cast(pl.Int32)
    year_q = q.struct.field("1")
    m = t.str.extract_groups(_MONTH_RE)
    year_m = pl.coalesce(m.struct.field("1"), m.struct.field("3"))
    month = pl.coalesce(m.struct.field("2"), m.struct.field("4")).cast(pl.Int32, strict=False)
    month = pl.when(month.is_between(1, 12)).then(month)
    year_m = pl.when(month.is_not_null()).then(year_m)
    year = pl.coalesce(year_a, year_q, year_m).cast(pl.Int32, strict=False)
    period_type = (
        pl.when(year_a.is_not_null()).then(pl.lit("annual"))
        .when(year_q.is_not_null()).then(pl.lit("quarterly"))
        .when(year_m.is_not_null()).then(pl.lit("monthly"))
    )
    end_month = (
        pl.when(period_type == "annual").then(12)
        .when(period_type == "quarterly").then(quarter * 3)
        .otherwise(month)
    )
    canonical = (
        pl.when(period_type == "annual").then(year.cast(pl.String))
        .when(period_type == "quarterly").then(pl.format("{}Q{}", year, quarter))
        .when(period_type == "monthly").then(pl.format("{}-{}", year, month.cast(pl.String).str.zfill(2)))
    )
    start_month = (
        pl.when(period_type == "annual").then(1)
        .when(period_type == "quarterly").then(quarter * 3 - 2)
        .otherwise(month)
    )
    return {
        "period": canonical,
        "period_type": period_type,
        "year": year,
        "period_end": pl.date(year, end_month, 1).dt.month_end(),
        "period_start": pl.date(year, start_month, 1),
    }


@dataclass(frozen=True)
class Check:
    """`bad` marks failing cells (evaluated on every row); `message` is only built for the failing rows."""

    bad: pl.Expr
    message: pl.Expr


def _reason(when: pl.Expr, zh: str, en: str, value: pl.Expr | None = None) -> Check:
    """A bilingual reason, with the offending cell value when given."""
    if value is None:
        return Check(when, pl.lit(f"{zh} / {en}"))
    return Check(when, pl.format(f"{zh}：{{}} / {en}: {{}}", value, value))


def _first_reason(checks: list[Check]) -> pl.Expr:
    return pl.coalesce([pl.when(c.bad.fill_null(False)).then(c.message) for c in checks])


def _choices(mapping: dict[str, str]) -> str:
    return ", ".join(sorted(set(mapping.values())))


# --------------------------------------------------------------------------------------------------------------
# Column parsers: spec → (value expression, checks). A check may use the cell text (`pl.col(name)`) and the parsed
# value (`pl.col(_v(name))`); cross-column checks (_cross_checks) run once every value exists.
# --------------------------------------------------------------------------------------------------------------

Parsed = tuple[pl.Expr, list[Check]]


def _parse_uscc(spec: ColumnSpec, frame: pl.DataFrame) -> Parsed:
    name = spec.name
    text = _text(name)
    # The check-character test runs once per distinct code; the exact reason is then looked up per invalid code.
    bad_values = (
        _lazy(frame, lambda lf: lf.with_columns(uscc_valid_expr(name).alias("__ok"))
              .filter(text.is_not_null() & ~pl.col("__ok"))).get_column(name).unique().to_list()
    )
    reasons: dict[str, str] = {}
    for value in bad_values:  # distinct invalid codes only
        try:
            validate_uscc(value)
        except InvalidUSCC as exc:
            reasons[value] = str(exc)
    check = Check(text.is_in(bad_values),
                  text.replace_strict(reasons, default="统一社会信用代码无效 / invalid USCC", return_dtype=pl.String))
    return uscc_normalise_expr(name), [check]


def _parse_text(spec: ColumnSpec, frame: pl.DataFrame) -> Parsed:
    return _text(spec.name), []


def _parse_number(spec: ColumnSpec, frame: pl.DataFrame) -> Parsed:
    name = spec.name
    t = _number_text(name, percent=spec.type == "ratio")
    # Unparsable text becomes NaN, so that one cheap test on the value finds it (NaN rows are rejected).
    value = pl.when(t.is_null()).then(None).otherwise(t.cast(pl.Float64, strict=False).fill_null(float("nan")))
    vc = pl.col(_v(name))
    checks = [_misplaced_separator(name), _reason(~vc.is_finite(), "不是数字", "not a number", _text(name))]
    if spec.minimum is not None:
        if spec.minimum == 0:
            checks.append(_reason(vc < 0, "不能为负数", "must not be negative", _text(name)))
        else:
            checks.append(_reason(vc < spec.minimum, f"不能小于{spec.minimum:g}", f"must be at least {spec.minimum:g}",
                                  _text(name)))
    if spec.type in {"count", "rank"}:
        checks.append(_reason(vc.is_finite() & (vc != vc.floor()), "应为整数", "must be a whole number", _text(name)))
    if spec.type == "ratio":
        checks.append(_reason(vc > 100, "百分比应在0到100之间", "percentage must be within 0-100", _text(name)))
    checks.append(_beyond_bound(name, vc))  # last: the specific reasons above say more
    return value, checks


def _parse_target(spec: ColumnSpec, frame: pl.DataFrame) -> Parsed:
    # Target tables mix numbers with yes/no indicators and listing stages (stored as numbers, see vocab).
    name = spec.name
    t = _number_text(name, percent=True)
    word = _lookup(t, vocab.TARGET_WORDS)
    value = pl.coalesce(t.cast(pl.Float64, strict=False), word.cast(pl.Float64))
    check = _reason(t.is_not_null() & (value.is_null() | ~value.is_finite()),
                    "不是数字或是/否", "not a number or yes/no", _text(name))
    return value, [_misplaced_separator(name), check, _beyond_bound(name, value)]


def _parse_date(spec: ColumnSpec, frame: pl.DataFrame) -> Parsed:
    name = spec.name
    value = _date_value(name)
    vc = pl.col(_v(name))
    checks = [
        _reason(_blank_tokens(_text(name)).is_not_null() & value.is_null(),
                "不是有效日期（应为 YYYY-MM-DD）", "not a real date (expected YYYY-MM-DD)", _text(name)),
        _reason(vc < EARLIEST_DATE, "日期过早", "date before 1900", _text(name)),
    ]
    if name in PAST_DATES:
        checks.append(_reason(vc > date.today(), "日期在未来", "date is in the future", _text(name)))
    checks.append(_reason(vc > LATEST_DATE, "日期过晚", "date after 2100", _text(name)))
    return value, checks


def _parse_period(spec: ColumnSpec, frame: pl.DataFrame) -> Parsed:
    parts = period_parts(spec.name)
    checks = [
        _reason(_text(spec.name).is_not_null() & parts["period"].is_null(),
                "报告期格式应为 2024、2024Q3 或 2024-07", "period must look like 2024, 2024Q3 or 2024-07",
                _text(spec.name)),
        _reason(parts["year"] < EARLIEST_DATE.year, "报告期年份早于1900年", "the period's year is before 1900",
                _text(spec.name)),
        _reason(parts["period_start"] > date.today(), "报告期尚未开始", "the period has not begun yet", _text(spec.name)),
    ]
    return parts["period"], checks


def _parse_year(spec: ColumnSpec, frame: pl.DataFrame) -> Parsed:
    t = _text(spec.name).str.replace(r"(年|年度|\.0+)$", "")
    value = t.cast(pl.Int32, strict=False)
    check = _reason(_text(spec.name).is_not_null() & (value.is_null() | ~value.is_between(2000, 2100)),
                    "年份应为2000至2100之间的四位数", "year must be a 4-digit year 2000-2100", _text(spec.name))
    return value, [check]


def _parse_enum(spec: ColumnSpec, frame: pl.DataFrame) -> Parsed:
    mapping = vocab.VOCABULARIES[spec.type.split(":", 1)[1]]
    value = _lookup(_text(spec.name), mapping)
    check = _reason(_text(spec.name).is_not_null() & value.is_null(),
                    f"取值无效（可选：{_choices(mapping)}）", f"not an allowed value ({_choices(mapping)})",
                    _text(spec.name))
    return value, [check]


def _parse_basis(spec: ColumnSpec, frame: pl.DataFrame) -> Parsed:
    value = _lookup(_text(spec.name), vocab.BASIS)
    check = _reason(_text(spec.name).is_not_null() & value.is_null(),
                    "口径应为 period（当期）或 ytd（本年累计）", "basis must be period or ytd", _text(spec.name))
    return value.fill_null("period"), [check]


def _parse_batch(spec: ColumnSpec, frame: pl.DataFrame) -> Parsed:
    # Excel stores batch "3" as the number 3.0.
    return _text(spec.name).str.replace(r"^(\d+)\.0+$", "$1"), []


def _parse_region(spec: ColumnSpec, frame: pl.DataFrame) -> Parsed:
    name = spec.name
    t = _text(name).str.replace(r"\.0+$", "")
    known = set(regions()["code"].to_list())
    six = t.str.contains(r"^\d{6}$")
    province_known = (t.str.slice(0, 2) + "0000").is_in(known)
    checks = [
        _reason(t.is_not_null() & ~six, "行政区划代码应为6位数字", "region code must be 6 digits", _text(name)),
        _reason(six & ~province_known, "未知的行政区划代码", "unknown region code (GB/T 2260)", _text(name)),
    ]
    return t, checks


def _parse_industry(spec: ColumnSpec, frame: pl.DataFrame) -> Parsed:
    name = spec.name
    t = _text(name).str.to_uppercase().str.replace_all(r"\s", "")
    shape_ok = t.str.contains(r"^[A-T](\d{2,4})?$")
    divisions = industries().filter(pl.col("level") == "division")
    section_of = dict(zip(divisions["code"].to_list(), divisions["section"].to_list(), strict=True))
    division = t.str.slice(1, 2)
    expected_section = division.replace_strict(section_of, default=None, return_dtype=pl.String)
    checks = [
        _reason(t.is_not_null() & ~shape_ok, "行业代码应为门类字母加2至4位数字（如 C35、C3562）",
                "industry code must look like C35 or C3562 (GB/T 4754-2017)", _text(name)),
        _reason(shape_ok & (t.str.len_chars() > 1) & (expected_section.is_null() | (expected_section != t.str.slice(0, 1))),
                "行业大类与门类不符或不存在", "unknown division for this section (GB/T 4754-2017)", _text(name)),
    ]
    return t, checks


def _jurisdiction_map() -> dict[str, str]:
    j = jurisdictions()
    ids = j["id"].to_list()
    return {**{i: i for i in ids}, **dict(zip(j["name_zh"].to_list(), ids, strict=True)),
            "全国": "cn", "国家": "cn", "工业和信息化部": "cn", "工信部": "cn"}


def _parse_jurisdiction(spec: ColumnSpec, frame: pl.DataFrame) -> Parsed:
    value = _lookup(_text(spec.name), _jurisdiction_map())
    check = _reason(_text(spec.name).is_not_null() & value.is_null(),
                    "未知的辖区代码（如 cn、cn-gd、cn-gd-shenzhen）",
                    "unknown jurisdiction id (e.g. cn, cn-gd, cn-gd-shenzhen)", _text(spec.name))
    return value, [check]


def _close_match(key: str, known: tuple[str, ...]) -> str | None:
    hits = difflib.get_close_matches(key, known, n=1, cutoff=0.8)
    return hits[0] if hits else None


def _mapped_with_suggestions(
    spec: ColumnSpec, frame: pl.DataFrame, aliases: dict[str, str], known: tuple[str, ...], what_zh: str, what_en: str,
) -> Parsed:
    """Controlled names with an open end: known spellings map to their code; other snake_case ids are accepted as
    regional/extra names unless they look like a misspelling of a known code (then rejected, with the suggestion)."""
    name = spec.name
    keyed_aliases = {re.sub(f"[{_QUOTES}\\s]", "", k.lower()): v for k, v in aliases.items()}
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    distinct = frame.select(_key(_text(name)).alias("k")).get_column("k").drop_nulls().unique().to_list()
    for key in distinct:  # distinct spellings only
        if key in keyed_aliases:
            values[key] = keyed_aliases[key]
        elif not _SNAKE.match(key):
            errors[key] = (f"不是有效的{what_zh}代码（应为小写字母、数字和下划线，如 {known[0]}） / "
                           f"not a valid {what_en} id (lower-case snake_case, e.g. {known[0]})")
        elif (near := _close_match(key, known)) is not None:
            errors[key] = f"疑似拼写错误，是否为 {near}？ / looks like a misspelling of {near}"
        else:
            values[key] = key
    value = _key(_text(name)).replace_strict(values, default=None, return_dtype=pl.String)
    check = Check(_text(name).is_not_null() & value.is_null(),
                  _key(_text(name)).replace_strict(errors, default=None, return_dtype=pl.String))
    return value, [check]


def _parse_tier(spec: ColumnSpec, frame: pl.DataFrame) -> Parsed:
    # Regional tiers are declared by policy files: accept their codes and Chinese names exactly, so that a
    # declared code like hb_little_giant is not mistaken for a misspelling of little_giant.
    regional = {alias: code for code, name in declared_tiers().items() for alias in (code, name)}
    aliases = {**regional, **vocab.TIER_ALIASES}
    return _mapped_with_suggestions(spec, frame, aliases, vocab.NATIONAL_TIERS, "称号", "tier")


def _parse_attribute(spec: ColumnSpec, frame: pl.DataFrame) -> Parsed:
    return _mapped_with_suggestions(spec, frame, vocab.ATTRIBUTE_ALIASES, tuple(vocab.ATTRIBUTES), "属性", "attribute")


def _parse_event(spec: ColumnSpec, frame: pl.DataFrame) -> Parsed:
    value = _lookup(_text(spec.name), vocab.EVENTS)
    check = _reason(_text(spec.name).is_not_null() & value.is_null(),
                    f"未知的事件类型（可选：{_choices(vocab.EVENTS)}）", f"unknown event ({_choices(vocab.EVENTS)})",
                    _text(spec.name))
    return value, [check]


def _parse_attribute_value(spec: ColumnSpec, frame: pl.DataFrame) -> Parsed:
    """The value's vocabulary depends on the row's attribute (rd_institution: none/self/...; info_system: true/false)."""
    name = spec.name
    attribute = pl.col(_v("attribute"))
    text = _text(name)
    value: pl.Expr = text
    checks: list[Check] = []
    for attr, (_, kind) in vocab.ATTRIBUTES.items():
        is_attr = attribute == attr
        if isinstance(kind, dict):
            mapped = _lookup(text, kind)
            value = pl.when(is_attr).then(mapped).otherwise(value)
            checks.append(_reason(is_attr & text.is_not_null() & mapped.is_null(),
                                  f"{attr} 的取值无效（可选：{_choices(kind)}）",
                                  f"not an allowed value for {attr} ({_choices(kind)})", text))
        elif kind == "score":  # a platform score 0-100, decimals allowed
            number = text.str.replace(r"分$", "").cast(pl.Float64, strict=False)
            value = pl.when(is_attr).then(number.cast(pl.String)).otherwise(value)
            checks.append(_reason(is_attr & text.is_not_null() & (number.is_null() | ~number.is_between(0, 100)),
                                  f"{attr} 应为0至100之间的分数", f"{attr} must be a score from 0 to 100", text))
        else:  # year | count | rank
            number = text.str.replace(r"(年|名|位|\.0+)$", "").cast(pl.Int64, strict=False)
            ok = (number.is_between(1900, date.today().year) if kind == "year"
                  else number >= 1 if kind == "rank" else number >= 0)
            value = pl.when(is_attr).then(number.cast(pl.String)).otherwise(value)
            zh, en = {"year": ("应为1900年至今的年份", "must be a year from 1900 to now"),
                      "rank": ("应为不小于1的整数", "must be a whole number of at least 1")}.get(
                kind, ("应为非负整数", "must be a whole number, not negative"))
            checks.append(_reason(is_attr & text.is_not_null() & (number.is_null() | ~ok), f"{attr} {zh}",
                                  f"{attr} {en}", text))
    return value, checks


PARSERS: dict[str, Callable[[ColumnSpec, pl.DataFrame], Parsed]] = {
    "uscc": _parse_uscc, "text": _parse_text, "date": _parse_date, "period": _parse_period, "basis": _parse_basis,
    "year": _parse_year, "region": _parse_region, "industry": _parse_industry, "tier": _parse_tier,
    "jurisdiction": _parse_jurisdiction, "batch": _parse_batch, "attribute": _parse_attribute,
    "attribute_value": _parse_attribute_value, "event": _parse_event, "target": _parse_target,
    **{t: _parse_number for t in _NUMBER_TYPES},
}


def _parser(spec: ColumnSpec) -> Callable[[ColumnSpec, pl.DataFrame], Parsed]:
    return _parse_enum if spec.type.startswith("enum:") else PARSERS[spec.type]


def _cross_checks(kind: str) -> list[tuple[str, Check]]:
    """Checks between columns of one row: (column to blame, reason expression)."""
    def v(n: str) -> pl.Expr:
        return pl.col(_v(n))

    if kind == "recognitions":
        return [("valid_until", _reason(v("valid_until") <= v("recognized_on"), "有效期至应晚于认定日期",
                                        "valid_until must be after recognized_on"))]
    if kind == "attributes":
        return [("expires_on", _reason(v("expires_on") < v("effective_on"), "失效日期早于生效日期",
                                       "expires_on is before effective_on"))]
    if kind == "events":
        board = _lookup(pl.col("detail"), vocab.LISTING_BOARDS)
        return [
            ("notified_on", _reason(v("notified_on") < v("occurred_on"), "报告日期早于发生日期",
                                    "notified_on is before occurred_on")),
            ("detail", _reason((v("event") == "listing") & board.is_null(),
                               f"上市事件的详情应为上市板块（{_choices(vocab.LISTING_BOARDS)}）",
                               f"a listing event needs the board in detail ({_choices(vocab.LISTING_BOARDS)})")),
        ]
    return []


def _invisible_check(spec: ColumnSpec) -> Check:
    pattern = _CONTROL if spec.name in MULTILINE_TEXT else _CONTROL_OR_BREAK
    return _reason(_text(spec.name).str.contains(pattern),
                   "含有控制字符、换行或方向控制符（如 NUL、U+202E），请删除",
                   "contains a control character, line break or direction override (NUL, U+202E ...); remove it")


def _length_checks(kind: str, typed: pl.DataFrame) -> list[tuple[str, Check]]:
    """The stored value longer than its database column allows (PostgreSQL would refuse the whole file)."""
    checks = []
    for name, length in column_lengths(kind).items():
        if typed.schema.get(_v(name)) != pl.String:
            continue
        value = pl.col(_v(name))
        checks.append((name, Check(value.str.len_chars() > length, pl.format(
            f"过长（{{}}个字符，最多{length}个） / too long ({{}} characters; at most {length})",
            value.str.len_chars(), value.str.len_chars()))))
    return checks


def _required_checks(specs: tuple[ColumnSpec, ...]) -> list[tuple[str, Check]]:
    return [(s.name, _reason(_text(s.name).is_null(), "必填项为空", "required value missing"))
            for s in specs if s.required]


def _clean(raw: pl.DataFrame, specs: tuple[ColumnSpec, ...]) -> pl.DataFrame:
    """Trim every cell (blank = not given); NFKC-fold coded cells, where full-width digits and letters typed in a
    Chinese input method mean the same code. Free text (names, 文号, details) is kept as written."""
    def cleaned(spec: ColumnSpec) -> pl.Expr:
        c = pl.col(spec.name).cast(pl.String)
        # NFKC is costly on a million cells and a no-op on ASCII, which most numeric columns are.
        if spec.type != "text" and raw.get_column(spec.name).str.contains(r"[^\x00-\x7F]").any():
            c = c.str.normalize("NFKC")
        return c.str.strip_chars().replace("", None).alias(spec.name)

    return _lazy(raw, lambda lf: lf.with_columns(cleaned(s) for s in specs))


# Column types parsed once per distinct cell value (a million report rows hold a few thousand firms and a dozen
# periods), then joined back; numbers are cheap to parse directly, and an attribute's value depends on its row.
_DIRECT_TYPES = {*_NUMBER_TYPES, "text", "target", "attribute_value"}


def _e(name: str) -> str:
    return f"__e_{name}"


def _parse_distinct(spec: ColumnSpec, kind: str, work: pl.DataFrame) -> pl.DataFrame:
    """Value (and reason) of each distinct cell of one column, as a small frame keyed by the cell text."""
    name = spec.name
    distinct = work.select(pl.col(name)).unique()
    value, checks = _parser(spec)(spec, distinct)
    computed = _lazy(distinct, lambda lf: lf.with_columns(value.alias(_v(name))))
    if kind == "reports" and spec.type == "period":
        parts = period_parts(name)
        computed = _lazy(computed, lambda lf: lf.with_columns(
            parts["period_type"].alias("__period_type"), parts["year"].alias("__year"),
            parts["period_end"].alias("__period_end")))
    reason = _first_reason(checks) if checks else pl.lit(None, dtype=pl.String)
    return _lazy(computed, lambda lf: lf.with_columns(reason.alias(_e(name))))


def validate(kind: str, raw: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows that pass (typed, every catalogue column present, nulls where not given) and the rejections frame
    (row, column, reason), ordered by row."""
    specs = CATALOGUE[kind]
    missing = [pl.lit(None, dtype=pl.String).alias(s.name) for s in specs if s.name not in raw.columns]
    work = _clean(raw.with_columns(missing), specs)

    present = tuple(s for s in specs if s.name in raw.columns)
    # First, so that a cell with a NUL or an override is reported as such (and never echoed into a reason).
    checks: list[tuple[str, Check]] = [(s.name, _invisible_check(s)) for s in present]
    checks += _required_checks(present)
    typed = work
    direct: dict[str, pl.Expr] = {}
    for spec in specs:
        if spec.type in _DIRECT_TYPES:
            value, column_checks = _parser(spec)(spec, work)
            direct[spec.name] = value
            checks.extend((spec.name, c) for c in column_checks)
        else:
            parsed = _parse_distinct(spec, kind, work)
            typed = typed.join(parsed, on=spec.name, how="left", nulls_equal=True, maintain_order="left")
            checks.append((spec.name, Check(pl.col(_e(spec.name)).is_not_null(), pl.col(_e(spec.name)))))
    # Attribute values depend on the parsed attribute name (joined above), so direct values come after the joins.
    typed = _lazy(typed, lambda lf: lf.with_columns(e.alias(_v(n)) for n, e in direct.items()))
    checks.extend(_cross_checks(kind))
    checks.extend(_length_checks(kind, typed))
    if kind == "recognitions":
        typed = typed.with_columns(_derive_valid_until(typed))
        typed = typed.with_columns(pl.col(_v("status")).fill_null("active"))  # CONTRACT §2: active by default
    if kind == "reports":
        typed = _normalise_annual_basis(typed)
    if kind == "events":
        # A listing event's detail is its board; store the code (科创板 → star) so exit rules can match it.
        board = _lookup(pl.col("detail"), vocab.LISTING_BOARDS)
        typed = typed.with_columns(
            pl.when(pl.col(_v("event")) == "listing").then(board).otherwise(pl.col(_v("detail"))).alias(_v("detail"))
        )

    # Failing rows first (booleans over every row), then reasons for those rows only: one per cell (the first
    # check that applies), one column per checked column.
    typed = _lazy(typed, lambda lf: lf.with_columns(
        pl.any_horizontal([c.bad.fill_null(False) for _, c in checks]).alias("__bad")))
    by_column: dict[str, list[Check]] = {}
    for column, check in checks:
        by_column.setdefault(column, []).append(check)
    errors = _lazy(typed.filter(pl.col("__bad")), lambda lf: lf.select(
        pl.col("row"), *(_first_reason(cs).alias(column) for column, cs in by_column.items())
    ))
    rejections = (
        errors.unpivot(index="row", variable_name="column", value_name="reason")
        .drop_nulls("reason")
        .sort("row", maintain_order=True)
    )
    good = typed.filter(~pl.col("__bad"))
    frame = _typed_frame(kind, good)
    frame, duplicates = _reject_duplicates(kind, frame)
    rejections = pl.concat([rejections, duplicates]).sort("row", maintain_order=True)
    return frame, rejections


def _normalise_annual_basis(typed: pl.DataFrame) -> pl.DataFrame:
    # For an annual period 本年累计 and 当期 are the same figure; storing both would double-count the year.
    return typed.with_columns(
        pl.when(pl.col("__period_type") == "annual").then(pl.lit("period"))
        .otherwise(pl.col(_v("basis"))).alias(_v("basis"))
    )


def _derive_valid_until(typed: pl.DataFrame) -> pl.Expr:
    """valid_until when the file leaves it blank: from the lifecycle of the policy in force for the tier and
    jurisdiction on the recognition date (one lookup per distinct tier × jurisdiction × date)."""
    keys = (
        typed.filter(pl.col(_v("valid_until")).is_null())
        .select(pl.col(_v("tier")).alias("tier"), pl.col(_v("jurisdiction")).alias("jurisdiction"),
                pl.col(_v("recognized_on")).alias("on"))
        .drop_nulls()
        .unique()
    )
    derived: dict[str, date] = {}
    for tier, jurisdiction, on in keys.iter_rows():
        derived[f"{tier}|{jurisdiction}|{on.isoformat()}"] = lifecycle_for(tier, jurisdiction, on).last_valid_day(on)
    key = pl.format("{}|{}|{}", pl.col(_v("tier")), pl.col(_v("jurisdiction")),
                    pl.col(_v("recognized_on")).dt.to_string("%Y-%m-%d"))
    return pl.coalesce(
        pl.col(_v("valid_until")), key.replace_strict(derived, default=None, return_dtype=pl.Date)
    ).alias(_v("valid_until"))




def _typed_frame(kind: str, good: pl.DataFrame) -> pl.DataFrame:
    columns: list[pl.Expr] = [pl.col("row").cast(pl.Int64)]
    for spec in CATALOGUE[kind]:
        columns.append(pl.col(_v(spec.name)).alias(spec.name))
        if kind == "reports" and spec.name == "period":
            columns += [pl.col("__period_type").alias("period_type"), pl.col("__year").alias("year"),
                        pl.col("__period_end").alias("period_end")]
    frame = good.select(columns)
    # Every number column is Float64 and every date column Date, even when the file had no such column.
    casts: dict[str, type[pl.DataType]] = {
        s.name: pl.Float64 for s in CATALOGUE[kind] if s.type in {"money", "count", "ratio", "rank", "target"}}
    casts |= {s.name: pl.Date for s in CATALOGUE[kind] if s.type == "date"}
    if kind == "regional_targets":
        casts |= {"target_count": pl.Int64, "year": pl.Int32}
    return frame.with_columns(pl.col(c).cast(t) for c, t in casts.items())


def _reject_duplicates(kind: str, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    keys = list(KEYS[kind])
    with_last = frame.with_columns(pl.col("row").max().over(keys).alias("__last"))
    dup = with_last.filter(pl.col("row") != pl.col("__last"))
    rejections = dup.select(
        pl.col("row"),
        pl.lit(keys[0] if kind != "reports" else "period").alias("column"),
        pl.format("与第{}行重复（{}相同），以后一行为准 / duplicate of row {} (same {}); the later row is used",
                  pl.col("__last"), pl.lit("+".join(keys)), pl.col("__last"), pl.lit("+".join(keys))).alias("reason"),
    )
    return with_last.filter(pl.col("row") == pl.col("__last")).drop("__last"), rejections
