"""The review page's 复核 risk section (dashboard/views/review.py), per data version, language and standard.

At provincial scale the risk list is tens of MB (every failing firm × criterion): a pickled copy of it on every
page run was most of the page's warm CPU. Here the counts and the shown rows are built once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dashboard.cache import cached
from dashboard.components import Table, firm_link_expr, labelled
from registry.review_risk import ReviewRisk, review_risk


@dataclass(frozen=True)
class Risk:
    result: ReviewRisk  # the whole list, for the workbook built when its button is pressed
    due: int
    review: int
    new_application: int


def risk(as_of: date, months: int) -> Risk:
    result = cached(review_risk, as_of=as_of, months=months)
    return Risk(result, result.due, result.count("review"), result.count("new_application"))


def risk_table(as_of: date, months: int, standard: str, shown: int, lang: str) -> tuple[Table, dict[str, str]] | None:
    """The first `shown` firms at risk under `standard` with a link to each, and the workbook's column names;
    None when no firm is at risk."""
    at_risk = cached(review_risk, as_of=as_of, months=months).of(standard).drop("standard")
    if at_risk.is_empty():
        return None
    frame = labelled(at_risk.head(shown).with_columns(link=firm_link_expr("uscc", lang)), {"tier": "tier"}, lang)
    names = dict(zip(at_risk.columns, labelled(at_risk.head(0), lang=lang).columns, strict=True))
    return Table(frame, {}), names
