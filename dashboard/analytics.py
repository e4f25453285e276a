"""What the analytics pages share: the filter widgets (region province → city → county, industry section)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard.cache import cached
from dashboard.components import current_lang, current_principal, tr
from registry import pipeline, queries


def _any(label_of):
    return lambda value: tr("filter.all") if value is None else label_of(value)


def region_filter(key: str, columns: list | None = None) -> str | None:
    """Province → city → county selectboxes; returns the region-code prefix chosen (2, 4 or 6 digits) or None.

    A new province gives a new city box (its key carries the province), so a stale city never survives."""
    lang = current_lang()
    principal = current_principal()
    columns = columns or st.columns(3)
    name = "name_en" if lang == "en" else "name_zh"
    prefixes = queries.scope_prefixes(principal)
    provinces = queries.province_names()
    if prefixes is not None:
        provinces = provinces.filter(pl.col("province_code").is_in([p[:2] for p in prefixes]))
    province_names = dict(zip(provinces["province_code"], provinces[name], strict=True))
    province = columns[0].selectbox(tr("filter.province"), [None, *province_names], key=f"{key}_province",
                                    format_func=_any(province_names.get))
    if province is None:
        return None
    cities = pipeline.cities_in(principal, province)
    city_names = dict(zip(cities["area_code"], cities[name], strict=True))
    city = columns[1].selectbox(tr("filter.city"), [None, *city_names], key=f"{key}_city_{province}",
                                format_func=_any(city_names.get))
    if city is None:
        return province
    counties = cached(pipeline.counties_in, city=city)
    county_names = {
        code: f"{label}{tr('filter.city_level')}" if code.endswith("00") else (label if label != code else code)
        for code, label in zip(counties["area_code"], counties[name], strict=True)
    }
    county = columns[2].selectbox(tr("filter.county"), [None, *county_names], key=f"{key}_county_{city}",
                                  format_func=_any(lambda c: f"{county_names[c]} · {c}" if county_names[c] != c else c))
    return county or city


def industry_filter(key: str, column=None) -> str | None:
    """GB/T 4754 section (门类) letter or None."""
    sections = queries.industry_sections()
    names = dict(zip(sections["section"], sections["name"], strict=True))
    return (column or st).selectbox(tr("filter.industry"), [None, *names], key=key,
                                    format_func=_any(lambda s: f"{s} {names[s]}"))

