"""简报 Briefing: the monthly 运行监测简报 of a jurisdiction in scope — headline counts, targets vs actual, the tier
ladder against a year earlier, operating-data trends of the recognised firms, review and exit status — downloadable
as an Excel workbook with charts and as a PDF. The same briefing is written monthly by the `briefing` job."""

from __future__ import annotations

from datetime import date, timedelta

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboard.cache import cached
from dashboard.components import current_lang, current_principal, table, today, tr
from dashboard.exports import export_button, may_export
from dashboard.i18n import code_label
from registry.access import NATIONAL, jurisdictions_in_scope
from registry.briefing import briefing_for, briefing_pdf, briefing_xlsx, cjk_font
from registry.errors import UserError

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

lang = current_lang()
principal = current_principal()
st.title(tr("page.briefing"))

# Own jurisdiction and those below it (a provincial official briefs on their province, not on the nation).
visible = jurisdictions_in_scope(principal).filter(
    (pl.col("id") == principal.jurisdiction) | (principal.jurisdiction == NATIONAL)
    | pl.col("id").str.starts_with(principal.jurisdiction + "-"))
names = dict(zip(visible["id"], visible["name_en" if lang == "en" else "name_zh"], strict=True))
choices = sorted(names, key=lambda j: (j != principal.jurisdiction, j.count("-"), j))
months = []
first = today().replace(day=1)
for _ in range(24):
    first = (first - timedelta(days=1)).replace(day=1)
    months.append(first)
months.insert(0, today().replace(day=1))

left, right = st.columns(2)
jurisdiction = left.selectbox(tr("briefing.jurisdiction"), choices, key="briefing_jurisdiction",
                              format_func=lambda j: f"{names[j]} ({j})")
month: date = right.selectbox(tr("briefing.month"), months, index=1, key="briefing_month",
                              format_func=lambda m: f"{m:%Y-%m}")
b = cached(briefing_for, jurisdiction=jurisdiction, month=month)
st.subheader(b.title)
st.caption(f"{b.name_en if lang == 'en' else b.name_zh} · {tr('overview.as_of')} {b.as_of.isoformat()}")

downloads = st.container(horizontal=True, gap="small")
briefing_rows = sum(frame.height for frame in (b.headline, b.targets, b.pipeline, b.trends, b.review))
if may_export("briefing"):
    export_button(tr("briefing.excel"), lambda: (briefing_xlsx(b), briefing_rows), what="briefing",
                  file_name=f"简报_{jurisdiction}_{b.month}.xlsx", mime=XLSX_MIME, key="briefing_xlsx",
                  icon=":material/table:", container=downloads)
    try:
        font = cjk_font()
    except UserError as exc:  # no Chinese font configured on this machine: say so, keep the Excel download
        st.warning(str(exc))
    else:
        # Built when asked for, like the workbook: embedding the CJK font took ≈ 2 s of every run of this page.
        export_button(tr("briefing.pdf"), lambda: (briefing_pdf(b, font), briefing_rows), what="briefing",
                      file_name=f"简报_{jurisdiction}_{b.month}.pdf", mime="application/pdf", key="briefing_pdf",
                      icon=":material/picture_as_pdf:", container=downloads)

item = "item_en" if lang == "en" else "item"
st.markdown(f"**{tr('briefing.headline')}**")
cells = st.columns(4)
for index, (label, value) in enumerate(b.headline.select(item, "value").iter_rows()):
    cells[index % 4].metric(label, f"{value:,}")

pipeline_column, trend_column = st.columns(2)
with pipeline_column:
    st.markdown(f"**{tr('briefing.pipeline')}**")
    labels = [code_label("tier", tier, lang) for tier in b.pipeline["tier"].to_list()]
    figure = go.Figure([go.Bar(name=tr("chart.actual"), x=labels, y=b.pipeline["firms"].to_list()),
                        go.Bar(name=str(b.as_of.year - 1), x=labels, y=b.pipeline["firms_year_before"].to_list())])
    figure.update_layout(barmode="group", height=320, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    st.plotly_chart(figure, key="briefing_pipeline_chart")
with trend_column:
    st.markdown(f"**{tr('briefing.trends')}**")
    if b.trends.is_empty():
        st.caption(tr("ops.none"))
    else:
        years = [str(y) for y in b.trends["year"].to_list()]
        figure = go.Figure([go.Scatter(name=tr("firm.revenue_trend"), x=years, y=b.trends["revenue"].to_list()),
                            go.Scatter(name=tr("briefing.rd_trend"), x=years, y=b.trends["rd_expense"].to_list())])
        figure.update_layout(height=320, margin={"l": 10, "r": 10, "t": 10, "b": 10})
        figure.update_xaxes(type="category")  # years, not numbers: no "2,023.5" between them
        st.plotly_chart(figure, key="briefing_trend_chart")
        table(b.trends, key="briefing_trends")

st.markdown(f"**{tr('briefing.targets')}**")
if b.targets.is_empty():
    st.caption(tr("overview.no_targets"))
else:
    # The region by its name (the code column reads as the jurisdiction's name too); no internal parent ids.
    name = "name_en" if lang == "en" else "name_zh"
    table(b.targets.drop("parent_id", "name_zh", "name_en", strict=False)
          .with_columns(b.targets[name].alias("jurisdiction")),
          codes={"tier": "tier", "state": "regional_state", "level": "level"}, key="briefing_targets")
st.markdown(f"**{tr('briefing.review')}**")
table(b.review.select(item, "value").rename({item: "metric"}), key="briefing_review")
