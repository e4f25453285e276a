"""The one home of the tests' firms, recognitions and reports.

Policy evaluation (no database): `Firm` is one hand-built firm; `bundle` turns firms into the frames the engine
evaluates, `write_files` into the contract's CSV files; `grown` writes a run of annual reports from ratios.
Figures are in the contract's units (万元, persons, counts); `years` maps a year to that year's annual
report. USCCs are valid GB 32100 codes (make_uscc) so the same firms can be written to files and ingested.

A real database: `enterprise_row`, `recognition_row` and `report_row` are rows as the ingestion stores them
(name_norm, province_code and a report's period_type / year / period_end follow from the other columns);
`insert_rows` writes them, `fix_sequences` moves PostgreSQL's ids past explicit ones, `store_firms` writes
`Firm`s. The seed modules (dashboard_seed, ops_seed, impact_seed, scope_seed, analytics_registry) are scenarios
built from these rows.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from registry.identity import make_uscc, normalize_name
from registry.models import Attribute, Enterprise, Recognition, Report
from registry.policy.bundle import Bundle
from registry.policy.engine import evaluate
from registry.policy.loader import get_policy


def uscc_for(n: int, region_code: str = "110108") -> str:
    return make_uscc(random.Random(n), region_code)


@dataclass
class Firm:
    uscc: str
    region_code: str = "110108"
    industry_code: str = "C3562"
    founded_on: date = date(2012, 3, 1)
    name: str = "测试企业"
    listing_board: str | None = None
    years: dict[int, dict[str, float | None]] = field(default_factory=dict)
    reports: list[dict] = field(default_factory=list)  # extra report rows (sub-annual), with `period`
    attributes: dict[str, str] = field(default_factory=dict)
    # Dated rows (name, value, effective_on, expires_on): awards, lists and honours — several of one name at once.
    attribute_rows: list[tuple[str, str, date, date | None]] = field(default_factory=list)
    recognitions: list[tuple[str, str, date]] = field(default_factory=list)  # (tier, jurisdiction, recognized_on)
    events: list[tuple[str, date]] = field(default_factory=list)

    def but(self, **changes) -> Firm:
        """A copy with some fields replaced (whole: years given here replace all the years)."""
        clone = copy.deepcopy(self)
        for key, value in changes.items():
            setattr(clone, key, value)
        return clone

    def with_year(self, year: int, **metrics) -> Firm:
        clone = copy.deepcopy(self)
        clone.years[year] = {**clone.years.get(year, {}), **metrics}
        return clone

    def with_attr(self, **attrs) -> Firm:
        clone = copy.deepcopy(self)
        clone.attributes.update(attrs)
        return clone

    def with_rows(self, *rows: tuple) -> Firm:
        """A copy with more dated attribute rows: (name, value, effective_on[, expires_on])."""
        clone = copy.deepcopy(self)
        clone.attribute_rows += [(r[0], r[1], r[2], r[3] if len(r) > 3 else None) for r in rows]
        return clone

    def without_attr(self, *names) -> Firm:
        clone = copy.deepcopy(self)
        for n in names:
            clone.attributes.pop(n, None)
        return clone

    def with_event(self, event: str, on: date) -> Firm:
        clone = copy.deepcopy(self)
        clone.events.append((event, on))
        return clone


# The same edits as functions, for case tables that read better as with_year(firm, 2020, revenue=...).
with_year = Firm.with_year
with_attr = Firm.with_attr
with_event = Firm.with_event


def with_years(firm: Firm, years: dict[int, dict[str, float | None]]) -> Firm:
    return firm.but(years=years)


def bundle(*firms: Firm) -> Bundle:
    ent = pl.DataFrame([{"uscc": f.uscc, "name": f.name, "region_code": f.region_code,
                         "industry_code": f.industry_code, "founded_on": f.founded_on,
                         "listing_board": f.listing_board} for f in firms],
                       schema={"uscc": pl.String, "name": pl.String, "region_code": pl.String,
                               "industry_code": pl.String, "founded_on": pl.Date, "listing_board": pl.String})
    report_rows = [{"uscc": f.uscc, "period": str(y), "basis": "period", **m}
                   for f in firms for y, m in sorted(f.years.items())]
    report_rows += [{"uscc": f.uscc, "basis": "period", **r} for f in firms for r in f.reports]
    reports = pl.DataFrame(report_rows, infer_schema_length=None) if report_rows else None
    attrs = pl.DataFrame([{"uscc": f.uscc, "attribute": k, "value": v, "effective_on": date(2000, 1, 1),
                           "expires_on": None}
                          for f in firms for k, v in f.attributes.items()]
                         + [{"uscc": f.uscc, "attribute": k, "value": v, "effective_on": on, "expires_on": until}
                            for f in firms for k, v, on, until in f.attribute_rows],
                         schema={"uscc": pl.String, "attribute": pl.String, "value": pl.String,
                                 "effective_on": pl.Date, "expires_on": pl.Date})
    # Numbered like database rows: the lifecycle tells a firm's recognitions apart by id.
    recs = pl.DataFrame([{"id": i, "uscc": uscc, "tier": t, "jurisdiction": j, "recognized_on": d, "status": "active"}
                         for i, (uscc, t, j, d) in enumerate(((f.uscc, *r) for f in firms for r in f.recognitions),
                                                             start=1)],
                        schema={"id": pl.Int64, "uscc": pl.String, "tier": pl.String, "jurisdiction": pl.String,
                                "recognized_on": pl.Date, "status": pl.String})
    events = pl.DataFrame([{"uscc": f.uscc, "event": e, "occurred_on": d} for f in firms for e, d in f.events],
                          schema={"uscc": pl.String, "event": pl.String, "occurred_on": pl.Date})
    return Bundle.of(enterprises=ent, reports=reports, attributes=attrs, recognitions=recs, events=events)


def result_of(policy_id: str, as_of: date, firm: Firm) -> tuple[str, dict[str, str], str | None, float | None]:
    """Verdict, {criterion id: result}, class and score of one firm under the policy."""
    row = evaluate(get_policy(policy_id), bundle(firm), as_of).row(0, named=True)
    nodes = row["criteria"].values() if isinstance(row["criteria"], dict) else row["criteria"]
    return row["verdict"], {c["id"]: c["result"] for c in nodes}, row["class"], row["score"]


def check_case(policy_id: str, as_of: date, firm: Firm, variants: list[tuple[str, Firm, str]]) -> None:
    """A boundary case: the firm is eligible, and each (name, variant, criterion) is ineligible with that criterion
    failing — so the case proves that threshold, not merely that something failed."""
    verdict, results, _, _ = result_of(policy_id, as_of, firm)
    assert verdict == "eligible", {k: v for k, v in results.items() if v != "pass"}
    for name, variant, criterion in variants:
        verdict, results, _, _ = result_of(policy_id, as_of, variant)
        assert (verdict, results[criterion]) == ("ineligible", "fail"), (name, results)


def grown(last_year: int, revenue: float, growth: float = 12.0, n: int = 4, tax: float | None = None,
          **ratios: float) -> dict[int, dict[str, float | None]]:
    """Annual figures for `n` years ending `last_year`, revenue growing `growth`% a year up to `revenue`.

    Every other metric follows from a ratio in percent, so a case can sit a threshold exactly: rd (R&D /
    revenue), main (main business / revenue), product (lead product / revenue), profit (net profit / revenue),
    debt (liabilities / assets), assets (assets / revenue), rd_staff (R&D staff / employees), tax (taxes paid /
    revenue; no taxes_paid figure unless given); counts as given: employees, invention, utility, design,
    software (patent stocks), rank (province rank), equity (new equity financing per year).
    """
    r = {"rd": 5.0, "main": 90.0, "product": 80.0, "profit": 10.0, "debt": 50.0, "assets": 100.0,
         "rd_staff": 20.0, "employees": 200.0, "invention": 3.0, "utility": 6.0, "design": 0.0,
         "software": 0.0, "rank": 1.0, "equity": 0.0}
    r.update(ratios)
    out: dict[int, dict[str, float | None]] = {}
    for k in range(n):
        rev = revenue / (1 + growth / 100) ** k
        assets = rev * r["assets"] / 100
        out[last_year - k] = {
            "revenue": rev, "main_revenue": rev * r["main"] / 100, "main_product_revenue": rev * r["product"] / 100,
            "net_profit": rev * r["profit"] / 100, "total_assets": assets,
            "total_liabilities": assets * r["debt"] / 100, "rd_expense": rev * r["rd"] / 100,
            "employees": r["employees"], "rd_staff": r["employees"] * r["rd_staff"] / 100,
            "invention_patents": r["invention"], "utility_patents": r["utility"], "design_patents": r["design"],
            "software_copyrights": r["software"], "province_rank": r["rank"], "equity_financing": r["equity"],
        }
        if tax is not None:
            out[last_year - k]["taxes_paid"] = rev * tax / 100
    return out


def write_files(folder: Path, *firms: Firm) -> list[Path]:
    """The firms as the four contract files (enterprises, reports, attributes, events), UTF-8 CSV."""
    b = bundle(*firms)
    paths = []
    ent = b.enterprises.select("uscc", "name", "region_code", "industry_code", "founded_on")
    rep = b.reports.drop("period_type", "year")
    rep = rep.select([c for c in rep.columns if rep[c].null_count() < len(rep)])
    for name, frame in (("enterprises", ent), ("reports", rep),
                        ("attributes", b.attributes.select("uscc", "attribute", "value", "effective_on")),
                        ("events", b.events.select("uscc", "event", "occurred_on"))):
        if frame.is_empty():
            continue
        path = folder / f"{name}.csv"
        frame.write_csv(path, quote_style="necessary")
        paths.append(path)
    return paths


def little_giant_2020(n: int = 1) -> Firm:
    """A firm meeting every criterion of cn/little-giant/2021 as of 2021-05-01, in class a, each figure
    with a margin (boundary tests move one figure onto or across its threshold)."""
    years = {
        2018: {"revenue": 10000.0, "main_revenue": 8000.0, "net_profit": 800.0},
        2019: {"revenue": 11000.0, "main_revenue": 8800.0, "net_profit": 900.0, "rd_expense": 440.0},
        2020: {"revenue": 12000.0, "main_revenue": 9600.0, "net_profit": 1000.0, "rd_expense": 480.0,
               "total_assets": 20000.0, "total_liabilities": 10000.0, "employees": 250.0, "rd_staff": 40.0,
               "invention_patents": 4.0, "utility_patents": 3.0, "design_patents": 0.0,
               "software_copyrights": 1.0, "province_rank": 2.0, "equity_financing": 0.0},
    }
    years[2019]["equity_financing"] = 0.0
    return Firm(
        uscc=uscc_for(n), years=years,
        attributes={"niche_since_year": "2012", "rd_institution": "provincial", "info_system": "true",
                    "own_brand": "true", "quality_cert": "true", "product_standard": "national",
                    "foreign_cert": "false"},
    )


# --- Rows for a real database ---------------------------------------------------------------------------------


def month_end(year: int, month: int) -> date:
    return date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)


def plus_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def enterprise_row(uscc: str, name: str, region_code: str, *, industry_code: str | None = None,
                   founded_on: date | None = None, **columns: Any) -> dict[str, Any]:
    """An enterprise row (pass id= for an explicit id); name_norm and province_code as the ingestion derives them."""
    return {"uscc": uscc, "name": name, "name_norm": normalize_name(name), "region_code": region_code,
            "province_code": region_code[:2], "industry_code": industry_code, "founded_on": founded_on, **columns}


def recognition_row(enterprise_id: int, tier: str, jurisdiction: str, recognized_on: date, valid_until: date | None,
                    status: str = "active", **columns: Any) -> dict[str, Any]:
    """A recognition row: batch, document_no, superseded_by, ended_on … as `columns`."""
    return {"enterprise_id": enterprise_id, "tier": tier, "jurisdiction": jurisdiction,
            "recognized_on": recognized_on, "valid_until": valid_until, "status": status, **columns}


def report_row(enterprise_id: int, period: str, basis: str = "period", **columns: Any) -> dict[str, Any]:
    """A report row of period "2024", "2024Q3" or "2024-07": period_type, year and period_end follow from it."""
    year = int(period[:4])
    if "Q" in period:
        kind, end = "quarterly", month_end(year, 3 * int(period[-1]))
    elif "-" in period:
        kind, end = "monthly", month_end(year, int(period[5:7]))
    else:
        kind, end = "annual", date(year, 12, 31)
    return {"enterprise_id": enterprise_id, "period": period, "period_type": kind, "year": year,
            "period_end": end, "basis": basis, **columns}


def insert_rows(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Rows into `table` in one statement; a key some rows lack is NULL in them (one statement has one set of
    columns). A recognition's superseded_by is set after every row is in: it points at a row of the same batch."""
    if not rows:
        return
    columns = list(dict.fromkeys(c for r in rows for c in r))
    rows = [{c: r.get(c) for c in columns} for r in rows]
    if "superseded_by" not in columns:
        conn.execute(sa.insert(table), rows)
        return
    conn.execute(sa.insert(table), [{**r, "superseded_by": None} for r in rows])
    for r in rows:
        if r["superseded_by"]:
            conn.execute(sa.update(table).where(table.c.id == r["id"]).values(superseded_by=r["superseded_by"]))


def fix_sequences(engine: sa.Engine, tables: list[str]) -> None:
    """Explicit ids do not advance PostgreSQL sequences: move them past the rows written."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        for table in tables:
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")


def store_firms(engine: sa.Engine, *firms: Firm) -> None:
    """Firms into the database: enterprise, annual reports, attributes, recognitions (batch 1, valid 3 years)."""
    with engine.begin() as conn:
        for firm in firms:
            (firm_id,) = conn.execute(sa.insert(Enterprise.__table__).values(
                enterprise_row(firm.uscc, firm.name, firm.region_code, industry_code=firm.industry_code,
                               founded_on=firm.founded_on),
            ).returning(Enterprise.__table__.c.id)).one()
            insert_rows(conn, Report.__table__, [report_row(firm_id, str(y), **metrics)
                                                 for y, metrics in firm.years.items()])
            rows = [(k, v, date(2000, 1, 1), None) for k, v in firm.attributes.items()] + list(firm.attribute_rows)
            insert_rows(conn, Attribute.__table__, [
                {"enterprise_id": firm_id, "attribute": k, "value": v, "effective_on": on, "expires_on": until}
                for k, v, on, until in rows])
            insert_rows(conn, Recognition.__table__, [
                recognition_row(firm_id, tier, j, on, plus_years(on, 3) - timedelta(days=1), batch="1")
                for tier, j, on in firm.recognitions])
