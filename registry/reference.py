"""Reference tables shipped in data/reference/ (regions, jurisdictions, industries, SME size standard, 小巨人 batches).

Each loader reads its CSV once (cached) with explicit dtypes, so codes such as "01" or "110000" stay strings.
The returned DataFrames are shared: derive new frames from them, never mutate them in place.
Each CSV has a sibling <name>.source.md saying where it comes from and how to read it.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import polars as pl

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "reference"

_S, _I, _B = pl.String, pl.Int64, pl.Boolean


def _read(name: str, schema: dict[str, type[pl.DataType]]) -> pl.DataFrame:
    df = pl.read_csv(DATA_DIR / f"{name}.csv", schema_overrides=schema, encoding="utf8")
    # Empty cells mean "none" in these tables (no parent, measure not used); keep strings as "" so that
    # split(";") and prefix tests work without null checks, numbers stay null.
    return df.with_columns(pl.col(c).fill_null("") for c, t in schema.items() if t is _S)


@cache
def regions() -> pl.DataFrame:
    """GB/T 2260 province- and prefecture-level codes (+ 省直辖县级 units): code, name, level, parent_code,
    province_code, mainland."""
    return _read(
        "regions",
        {"code": _S, "name": _S, "level": _S, "parent_code": _S, "province_code": _S, "mainland": _B},
    )


@cache
def counties() -> pl.DataFrame:
    """GB/T 2260 county-level codes (区/县/县级市/旗 ...): code, name, prefecture_code, province_code."""
    return _read("counties", {"code": _S, "name": _S, "prefecture_code": _S, "province_code": _S})


@cache
def area_names(level: str) -> pl.DataFrame:
    """Names of every area of one level, keyed by the prefix of a firm's 6-digit region code: `prefix`, `name`.

    level: province (2 digits) | city (4: prefecture-level units, the municipalities' 市辖区/县 and the
    省直辖县级 groups) | county (6)."""
    width = {"province": 2, "city": 4, "county": 6}[level]
    if level == "county":
        table = counties().select("code", "name")
    else:
        table = regions().filter(pl.col("level") == ("province" if level == "province" else "prefecture"))
        table = table.select("code", "name")
    return table.select(pl.col("code").str.slice(0, width).alias("prefix"), "name").unique("prefix", keep="first")


@cache
def jurisdictions() -> pl.DataFrame:
    """Recognising jurisdictions: id, name_zh, name_en, level (national/province/city), region_codes, parent_id."""
    return _read(
        "jurisdictions",
        {"id": _S, "name_zh": _S, "name_en": _S, "level": _S, "region_codes": _S, "parent_id": _S},
    )


@cache
def industries() -> pl.DataFrame:
    """GB/T 4754-2017 门类 (level `section`, code A–T) and 大类 (level `division`, code 01–97)."""
    return _read("industries", {"code": _S, "name": _S, "level": _S, "section": _S})


@cache
def sme_size_standard() -> pl.DataFrame:
    """工信部联企业〔2011〕300号: 16 industry rows with thresholds in 人 / 万元 (null = measure not used)."""
    text = ["industry_key", "name_zh", "gbt4754_sections", "gbt4754_divisions", "measures", "rule"]
    header = pl.read_csv(DATA_DIR / "sme_size_standard.csv", n_rows=0).columns
    return _read("sme_size_standard", {c: (_S if c in text else _I) for c in header})


@cache
def little_giant_batches() -> pl.DataFrame:
    """Public 小巨人 batch counts: batch, year, stage (公示/公布/复核), count, approximate, source, scope."""
    return _read(
        "little_giant_batches",
        {"batch": _I, "year": _I, "stage": _S, "count": _I, "approximate": _B, "source": _S, "scope": _S},
    )


_REGION_RE = re.compile(r"\d{6}")
_LEVEL_ORDER = {"national": 0, "province": 1, "city": 2}


def _check_region(region_code: str) -> str:
    if not isinstance(region_code, str) or not _REGION_RE.fullmatch(region_code):
        raise ValueError(f"行政区划代码应为6位数字 / region code must be 6 digits, got {region_code!r}")
    return region_code


@cache
def _prefixes() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    # (id, level, prefixes) in national → province → city order; `cn` has no prefixes and covers every code.
    rows = jurisdictions().sort(
        pl.col("level").replace_strict(_LEVEL_ORDER, return_dtype=pl.Int8), maintain_order=True
    )
    return tuple(
        (r["id"], r["level"], tuple(p for p in r["region_codes"].split(";") if p))
        for r in rows.iter_rows(named=True)
    )


def jurisdiction_of_region(region_code: str) -> list[str]:
    """Every jurisdiction a firm registered at `region_code` belongs to, national first, then province, then city.

    e.g. "330212" → ["cn", "cn-zj", "cn-zj-ningbo"]; "659001" (石河子) → ["cn", "cn-bingtuan"] (not cn-xj).
    """
    code = _check_region(region_code)
    return [jid for jid, level, pre in _prefixes() if level == "national" or code.startswith(pre)]


def jurisdiction_expr(col: str | pl.Expr, *, most_specific: bool = False) -> pl.Expr:
    """Column of region codes → its province-level jurisdiction id (cn-xx, or cn-bingtuan for 6590xx); null when
    none matches. With most_specific=True a city with its own policies (cn-gd-shenzhen …) wins over its province.

    Longest prefix wins, checked longest first with one vectorised lookup per prefix length.
    """
    c = pl.col(col) if isinstance(col, str) else col
    levels = {"province", "city"} if most_specific else {"province"}
    by_len: dict[int, dict[str, str]] = {}
    for jid, level, pre in _prefixes():
        if level in levels:
            for p in pre:
                if by_len.setdefault(len(p), {}).setdefault(p, jid) != jid:
                    raise ValueError(f"region prefix {p} claimed by two jurisdictions")
    lookups = [
        c.str.slice(0, n).replace_strict(m, default=None, return_dtype=pl.String)
        for n, m in sorted(by_len.items(), reverse=True)
    ]
    return pl.coalesce(lookups)


def province_of(region_code: str) -> str:
    """The 6-digit province code of a region code ("659001" → "650000": 兵团 firms roll up to Xinjiang)."""
    province = _check_region(region_code)[:2] + "0000"
    if province not in _province_codes():
        raise ValueError(f"未知省级行政区划 / unknown province in region code {region_code!r}")
    return province


def province_code_expr(col: str | pl.Expr) -> pl.Expr:
    """Column form of province_of (no existence check: join to regions() for that)."""
    c = pl.col(col) if isinstance(col, str) else col
    return c.str.slice(0, 2) + pl.lit("0000")


@cache
def _province_codes() -> frozenset[str]:
    return frozenset(regions().filter(pl.col("level") == "province")["code"])


_INDUSTRY_RE = re.compile(r"([A-T])(\d{2,4})?")


def parse_industry_code(code: str) -> tuple[str, str]:
    """Split a GB/T 4754-2017 code as the project writes it ("C", "C35", "C356", "C3562") into (section, digits).

    The 大类 (division) is the first 2 digits after the letter; the letter must be the division's own section.
    """
    m = _INDUSTRY_RE.fullmatch(code.strip().upper()) if isinstance(code, str) else None
    if not m:
        raise ValueError(
            f"行业代码格式应为门类字母+2至4位数字 / industry code must look like C or C3562, got {code!r}"
        )
    section, digits = m.group(1), m.group(2) or ""
    if digits:
        row = industries().filter((pl.col("level") == "division") & (pl.col("code") == digits[:2]))
        if row.is_empty() or row["section"][0] != section:
            raise ValueError(
                f"行业大类 {digits[:2]} 不属于门类 {section} / division {digits[:2]} is not in section {section}"
            )
    return section, digits


def sme_industry_key(industry_code: str) -> str | None:
    """Which 300号 size-standard row applies to an industry code; None when the standard does not cover it
    (金融业 J, S, T, 铁路运输 53, 房地产租赁经营 7040, or K70 without its 4-digit class).

    The row whose listed prefix is the longest match wins; a listed section counts as the shortest prefix
    (so G591 装卸搬运 → transport although G59 → warehousing). See sme_size_standard.source.md.
    """
    section, digits = parse_industry_code(industry_code)
    best: tuple[int, str] | None = None
    for r in sme_size_standard().iter_rows(named=True):
        hits = [0] if section in r["gbt4754_sections"].split(";") else []
        hits += [len(p) for p in r["gbt4754_divisions"].split(";") if p and digits.startswith(p)]
        if hits and (best is None or max(hits) > best[0]):
            best = (max(hits), r["industry_key"])
    return best[1] if best else None
