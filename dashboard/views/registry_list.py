"""企业名录 Registry: search and filter the firms in scope, page through them, download, open a firm.

Filtering and paging happen in SQL (registry.queries.search_firms): only one page of rows ever reaches the
browser, however large the registry.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard.cache import cached
from dashboard.components import (
    current_lang,
    current_principal,
    firm_link_expr,
    labelled,
    tr,
)
from dashboard.database import engine
from dashboard.exports import download_buttons
from dashboard.i18n import code_label, column_label
from dashboard.pages import page_spec
from registry import queries
from registry.models import RECOGNITION_STATUSES, TIERS
from registry.queries import search_firms

PAGE_SIZES = (25, 50, 100)
# Above this many rows an Excel file takes tens of seconds to build (xlsxwriter writes cell by cell); CSV is instant.
LARGE_EXCEL_ROWS = 50_000
FIRM_PAGE = page_spec("firm").path

lang = current_lang()
principal = current_principal()

st.title(tr("page.registry"))

prefixes = queries.scope_prefixes(principal)
provinces = queries.province_names()
if prefixes is not None:
    provinces = provinces.filter(pl.col("province_code").is_in([p[:2] for p in prefixes]))
province_names = dict(zip(provinces["province_code"], provinces["name_en" if lang == "en" else "name_zh"],
                          strict=True))
sections = queries.industry_sections()
section_names = dict(zip(sections["section"], sections["name"], strict=True))

row1 = st.columns([3, 2, 1])
text = row1[0].text_input(tr("registry.name"), key="registry_text")
uscc = row1[1].text_input(tr("registry.uscc"), key="registry_uscc", max_chars=18)
page_size = row1[2].selectbox(tr("registry.page_size"), PAGE_SIZES, index=1, key="registry_page_size")
row2 = st.columns(4)


def any_or(label_of):
    return lambda value: tr("registry.any") if value is None else label_of(value)


province = row2[0].selectbox(tr("registry.province"), [None, *province_names], key="registry_province",
                             format_func=any_or(province_names.get))
industry = row2[1].selectbox(tr("registry.industry"), [None, *section_names], key="registry_industry",
                             format_func=any_or(lambda s: f"{s} {section_names[s]}"))
tier = row2[2].selectbox(tr("registry.tier"), [None, *TIERS], key="registry_tier",
                         format_func=any_or(lambda v: code_label("tier", v, lang)))
status = row2[3].selectbox(tr("registry.status"), [None, *RECOGNITION_STATUSES], key="registry_status",
                           format_func=any_or(lambda v: code_label("status", v, lang)))

filters = {"text": text or None, "uscc": uscc or None, "province": province, "industry": industry, "tier": tier,
           "status": status}
# The pager's key carries the filters: new filters get a new pager, which starts at page 1.
page_key = f"registry_page_{abs(hash((tuple(filters.items()), page_size)))}"

_, total = cached(search_firms, limit=0, **filters)
pages = max(1, -(-total // page_size))
page_number = min(st.session_state.get(page_key, 1), pages)
firms, _ = cached(search_firms, offset=(page_number - 1) * page_size, limit=page_size, **filters)

st.caption(tr("registry.total", total=f"{total:,}"))
shown = labelled(firms.with_columns(
    firm_link_expr("uscc", lang).alias("link"),
    pl.col("province_code").replace_strict(province_names, default=pl.col("province_code")).alias("province"),
).select("uscc", "name", "province", "region_code", "industry_code", "tiers", "founded_on", "listing_board",
         "link"), codes={"listing_board": "listing_board"})
link_header = column_label("link", lang)
selection = st.dataframe(
    shown, hide_index=True, placeholder="—", key="registry_table", on_select="rerun", selection_mode="single-row",
    column_config={
        link_header: st.column_config.LinkColumn(link_header, display_text=tr("registry.open")),
        column_label("founded_on", lang): st.column_config.DateColumn(format="YYYY-MM-DD"),
    },
)
if total > page_size:
    st.pagination(pages, key=page_key)
st.caption(tr("registry.select_hint"))

selected_rows = selection.selection.rows if selection is not None else []
if selected_rows:
    st.switch_page(FIRM_PAGE, query_params={"uscc": firms["uscc"][selected_rows[0]], "lang": lang})

if not firms.is_empty():
    options = firms["uscc"].to_list()
    names = dict(zip(firms["uscc"], firms["name"], strict=True))
    pick_column, button_column = st.columns([4, 1], vertical_alignment="bottom")
    picked = pick_column.selectbox(tr("registry.open_firm"), options, key="registry_pick",
                                   format_func=lambda code: f"{names[code]} · {code}")
    if button_column.button(tr("registry.open"), key="registry_open", icon=":material/open_in_new:"):
        st.switch_page(FIRM_PAGE, query_params={"uscc": picked, "lang": lang})

# The download holds every match (not just this page), built only when a button is pressed.
db, codes = engine(), {"listing_board": "listing_board", "tiers": "tier"}


def every_match() -> pl.DataFrame:
    everything = queries.search_firms_all(principal, engine=db, **filters)
    return everything.with_columns(
        pl.col("province_code").replace_strict(province_names, default=pl.col("province_code")).alias("province")
    ).select("uscc", "name", "province", "region_code", "industry_code", "tiers", "founded_on",
             "registered_capital", "ownership", "listing_board", "main_product")


if total:
    download_buttons(lambda: labelled(every_match(), codes, lang), tr("page.registry"), key="dl_registry")
    if total > LARGE_EXCEL_ROWS:
        st.caption(tr("registry.large_download", rows=f"{total:,}"))
