"""Province → city → county: the firms with a valid recognition one level down, within the user's own area.

A national user picks a province, then a city; a provincial user starts in their province (one bar per city); a
city user starts in their city (one bar per county). Names are GB/T 2260 (data/reference regions + counties).
"""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from dashboard.cache import cached, cached_view
from dashboard.components import current_principal, tr
from dashboard.sections import overview as sections
from registry.access import region_prefixes
from registry.queries import counts_by_area


def area_drilldown(by_province: pl.DataFrame, as_of: date, tier: str | None, lang: str, key: str) -> None:
    """Below a by-province chart (columns province_code, name_zh, name_en, firms): the chosen province by city,
    and the chosen city by county."""
    own = region_prefixes(current_principal().jurisdiction) or ()
    if len(own) == 1 and len(own[0]) == 4:  # a city's user: its counties straight away
        _level(own[0], as_of, tier, lang, f"{key}_county")
        return
    names = dict(zip(by_province["province_code"], by_province[f"name_{'en' if lang == 'en' else 'zh'}"],
                     strict=True))
    if not names:
        return
    provinces = list(names)
    province = st.selectbox(tr("overview.drill_province"), provinces, key=f"{key}_province",
                            index=0 if len(provinces) == 1 else None, format_func=names.get,
                            placeholder=tr("overview.drill_pick"))
    if province is None:
        return
    by_city = _level(province, as_of, tier, lang, f"{key}_city")
    if by_city is None:
        return
    city_names = dict(zip(by_city["code"], by_city[f"name_{'en' if lang == 'en' else 'zh'}"], strict=True))
    city = st.selectbox(tr("overview.drill_city"), list(city_names), key=f"{key}_city_pick", index=None,
                        format_func=city_names.get, placeholder=tr("overview.drill_pick"))
    if city is not None:
        _level(city, as_of, tier, lang, f"{key}_county")


def _level(within: str, as_of: date, tier: str | None, lang: str, key: str) -> pl.DataFrame | None:
    counts = cached(counts_by_area, as_of=as_of, within=within, tier=tier)
    if counts.is_empty():
        st.info(tr("overview.no_data"))
        return None
    title = tr("overview.by_city" if len(within) == 2 else "overview.by_county")
    st.plotly_chart(cached_view(sections.area_chart, within, as_of, tier, lang, title), key=f"{key}_chart")
    return counts
