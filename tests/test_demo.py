"""The demo registry as a user gets it: built into real SQLite and PostgreSQL databases, read back with SQL.

Small registries (1,200 firms) keep each build to about a second. Expectations come from the brief and the
policies (shares, 3-year validity, 复核 chains, reporting duties, 目标表, cited targets), never from a run.
"""

from __future__ import annotations

import os
import re
import subprocess
import unicodedata
from datetime import date

import polars as pl
import pytest
import sqlalchemy as sa
from policy_citations import compilation_lines
from sqlmodel import SQLModel
from zjtx_command import ZJTX

import registry.models  # noqa: F401 - the tables on SQLModel.metadata
from registry.db import DatabaseError, make_engine, upgrade
from registry.demo import (
    FIRM_TARGET_INDICATORS,
    MONTHLY_PROVINCES,
    REGIONAL_TARGETS,
    build_demo,
    generate_demo,
)
from registry.errors import UserError
from registry.identity import uscc_valid_expr
from registry.reference import regions
from registry.settings import PROJECT_ROOT

AS_OF = date(2026, 3, 15)
FIRMS = 1200
TABLES = ("enterprise", "recognition", "report", "attribute", "event", "firm_target", "regional_target")
# Load timestamps say when the rows were written, so they differ between two builds by design.
LOAD_TIMESTAMPS = {"created_at", "updated_at"}


def read(engine: sa.Engine, sql: str) -> pl.DataFrame:
    with engine.connect() as conn:
        result = conn.exec_driver_sql(sql)
        return pl.DataFrame([tuple(r) for r in result], schema=list(result.keys()), orient="row",
                            infer_schema_length=None)


def table(engine: sa.Engine, name: str) -> pl.DataFrame:
    """Every row of a table, typed through the models' column types (dates are dates on SQLite too)."""
    t = SQLModel.metadata.tables[name]
    cols = [c for c in t.c if c.name not in LOAD_TIMESTAMPS]
    with engine.connect() as conn:
        rows = conn.execute(sa.select(*cols).order_by(t.c.id)).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=[c.name for c in cols], orient="row",
                        infer_schema_length=None)


def counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.exec_driver_sql(f"SELECT COUNT(*) FROM {t}").scalar_one() for t in TABLES}


def schema(engine: sa.Engine) -> dict:
    """Indexes, unique constraints and foreign keys of the demo's tables, as the database reports them."""
    inspector = sa.inspect(engine)
    key = repr
    return {t: (sorted(map(key, inspector.get_indexes(t))), sorted(map(key, inspector.get_unique_constraints(t))),
                sorted(map(key, inspector.get_foreign_keys(t))), key(inspector.get_pk_constraint(t)))
            for t in TABLES}


@pytest.fixture
def other_engine(engine, tmp_path):
    """A second empty, migrated database on the same engine as `engine`."""
    if engine.dialect.name == "sqlite":
        url = f"sqlite:///{tmp_path / 'other.db'}"
        eng = make_engine(url)
        upgrade(eng)
        yield eng
        eng.dispose()
        return
    from conftest import create_pg_database, drop_pg_database

    url = create_pg_database()
    eng = make_engine(url)
    upgrade(eng)
    yield eng
    eng.dispose()
    drop_pg_database(url)


@pytest.fixture
def demo(engine):
    summary = build_demo(engine, firms=FIRMS, seed=7, as_of=AS_OF)
    return engine, summary


# ------------------------------------------------------------------------------------------ reproducibility


def test_same_seed_and_date_give_identical_rows(engine, other_engine):
    build_demo(engine, firms=FIRMS, seed=7, as_of=AS_OF)
    build_demo(other_engine, firms=FIRMS, seed=7, as_of=AS_OF)
    for name in ("enterprise", "recognition", "report", "attribute", "event", "firm_target"):
        first, second = table(engine, name), table(other_engine, name)
        assert first.height > 0, name
        assert first.equals(second, null_equal=True), f"{name} differs between two builds with seed 7"


def test_loading_leaves_the_schema_as_migrated(engine):
    # The loader builds indexes and constraints after the rows when the tables are empty: they must come back
    # exactly as Alembic created them, and hold.
    before = schema(engine)
    assert any(indexes for indexes, *_ in before.values())
    build_demo(engine, firms=FIRMS, seed=7, as_of=AS_OF)
    assert schema(engine) == before
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO report (enterprise_id, period, period_type, year, period_end, basis) "
                             "SELECT enterprise_id, period, period_type, year, period_end, basis FROM report LIMIT 1")


def test_another_seed_gives_another_registry():
    a, b = generate_demo(FIRMS, seed=7, as_of=AS_OF), generate_demo(FIRMS, seed=8, as_of=AS_OF)
    assert set(a.enterprise["uscc"]).isdisjoint(set(b.enterprise["uscc"]))
    assert not a.recognition.select("enterprise_id", "tier", "recognized_on").equals(
        b.recognition.select("enterprise_id", "tier", "recognized_on"))
    assert not a.report["revenue"].equals(b.report["revenue"])


def test_dates_follow_as_of():
    later = generate_demo(FIRMS, seed=7, as_of=date(2027, 3, 15))
    annual = later.report.filter(pl.col("period_type") == "annual")
    assert sorted(annual["year"].unique()) == [2024, 2025, 2026]
    assert later.recognition["recognized_on"].max() <= date(2027, 3, 15)


# ------------------------------------------------------------------------------------------------- firms


def test_firms_cover_every_province_with_real_region_codes_and_valid_usccs(demo):
    engine, summary = demo
    ent = table(engine, "enterprise")
    assert summary["firms"] == ent.height == FIRMS
    ref = regions()
    mainland_provinces = set(ref.filter(pl.col("mainland") & (pl.col("level") == "province"))["code"].str.slice(0, 2))
    assert len(mainland_provinces) == 31
    assert set(ent["province_code"]) == mainland_provinces
    assert (ent["province_code"] == ent["region_code"].str.slice(0, 2)).all()
    assert ent.filter(pl.col("region_code").str.starts_with("6590")).height > 0, "no 兵团 firms"
    # The prefecture (first 4 digits) of every code is a real one; 兵团 firms carry a real 6590xx code.
    known4 = set(ref["code"].str.slice(0, 4))
    assert set(ent["region_code"].str.slice(0, 4)) <= known4
    assert set(ent.filter(pl.col("region_code").str.starts_with("6590"))["region_code"]) <= set(ref["code"])
    assert ent.select(uscc_valid_expr("uscc").all()).item()
    assert ent["uscc"].n_unique() == FIRMS
    assert (ent["uscc"].str.slice(2, 6) == ent["region_code"]).all(), "USCC positions 3-8 are the region code"
    # Leaders lead: Zhejiang, Guangdong, Jiangsu have more firms than Tibet, Qinghai, Ningxia together.
    per = dict(ent.group_by("province_code").len().iter_rows())
    assert min(per["33"], per["44"], per["32"]) > per["54"] + per["63"] + per["64"]
    assert ent.filter(pl.col("industry_code").str.starts_with("C")).height > 0.75 * FIRMS
    assert {"I", "M"} <= set(ent["industry_code"].str.slice(0, 1))
    assert ent.filter(pl.col("name").str.contains("（")).height > 0, "no names with full-width brackets"
    assert ent["name"].n_unique() == FIRMS


# ---------------------------------------------------------------------------------------------- recognitions


def test_all_five_tiers_in_realistic_proportions(demo):
    engine, summary = demo
    holders = dict(read(engine, "SELECT tier, COUNT(DISTINCT enterprise_id) AS n FROM recognition GROUP BY tier")
                   .iter_rows())
    assert set(holders) == {"innovative_sme", "zjtx_sme", "little_giant", "key_little_giant", "single_champion"}
    assert holders == summary["firms_by_tier"]
    assert holders["innovative_sme"] > FIRMS / 2
    assert 0.30 * FIRMS <= holders["zjtx_sme"] <= 0.40 * FIRMS
    assert 0.06 * FIRMS <= holders["little_giant"] <= 0.10 * FIRMS
    assert 0.01 * FIRMS <= holders["key_little_giant"] <= 0.02 * FIRMS
    assert 1 <= holders["single_champion"] <= 0.01 * FIRMS


def test_recognition_histories(demo):
    engine, _ = demo
    rec = table(engine, "recognition")
    statuses = set(rec["status"])
    assert {"active", "superseded", "revoked", "expired"} <= statuses
    assert rec["recognized_on"].max() <= AS_OF
    # valid_until is the last valid day under the policy lifecycle (the day before the third anniversary),
    # the same date ingestion derives for a recognitions file that leaves it blank.
    from registry.policy.schema import Lifecycle

    expected = [Lifecycle().last_valid_day(d) for d in rec["recognized_on"].to_list()]
    assert rec["valid_until"].to_list() == expected
    # A superseded row points at a later row of the same firm, tier and jurisdiction.
    chain = rec.filter(pl.col("status") == "superseded").join(
        rec.with_columns(pl.col("id").alias("id_new")), left_on="superseded_by", right_on="id", suffix="_new",
        how="left")
    assert chain.height > 0 and chain["id_new"].null_count() == 0
    assert (chain["enterprise_id"] == chain["enterprise_id_new"]).all()
    assert (chain["tier"] == chain["tier_new"]).all()
    assert (chain["jurisdiction"] == chain["jurisdiction_new"]).all()
    assert (chain["recognized_on_new"] > chain["recognized_on"]).all()
    assert rec.filter((pl.col("status") != "superseded") & pl.col("superseded_by").is_not_null()).height == 0
    # Ended rows say when and why; active ones do not.
    ended = rec.filter(pl.col("status").is_in(["superseded", "revoked", "expired"]))
    assert ended["ended_on"].null_count() == 0 and ended["end_reason"].null_count() == 0
    assert rec.filter(pl.col("status") == "active")["ended_on"].null_count() == rec.filter(
        pl.col("status") == "active").height
    expired = rec.filter(pl.col("status") == "expired")
    assert (expired["ended_on"] == expired["valid_until"]).all()
    # Some revocations happened mid-term, after an event the authority acted on.
    events = table(engine, "event")
    mid_term = rec.filter((pl.col("status") == "revoked") & (pl.col("ended_on") < pl.col("valid_until"))
                          & ~pl.col("end_reason").str.contains("复核"))
    assert mid_term.height > 0
    assert set(mid_term["enterprise_id"]) <= set(events["enterprise_id"])


def test_little_giant_batches_reviews_and_prerequisites(demo):
    engine, _ = demo
    rec = table(engine, "recognition")
    lg = rec.filter(pl.col("tier") == "little_giant")
    # Batch n is the list of year 2018 + n (first rows only; renewals keep their batch).
    first = lg.sort("recognized_on").group_by("enterprise_id", maintain_order=True).first()
    assert (first["recognized_on"].dt.year() == first["batch"].cast(pl.Int64) + 2018).all()
    # Every 小巨人 held a provincial recognition before.
    provincial = rec.filter(pl.col("tier") == "zjtx_sme").group_by("enterprise_id").agg(
        pl.col("recognized_on").min().alias("provincial_on"))
    joined = first.join(provincial, on="enterprise_id", how="left")
    assert joined["provincial_on"].null_count() == 0
    assert (joined["provincial_on"] < joined["recognized_on"]).all()
    # 复核 of batch 3 (2021) happened with batch 6 (2024); most passed.
    b3 = lg.filter((pl.col("batch") == "3") & (pl.col("recognized_on").dt.year() == 2021)
                   & pl.col("status").is_in(["superseded", "revoked"]))
    rate = b3.filter(pl.col("status") == "superseded").height / b3.height
    assert 0.65 <= rate <= 0.95
    # 重点小巨人 hold a 小巨人 recognised before them.
    key = rec.filter(pl.col("tier") == "key_little_giant")
    key_lg = key.join(first.select("enterprise_id", pl.col("recognized_on").alias("lg_on")), on="enterprise_id",
                      how="left")
    assert key.height > 0 and key_lg["lg_on"].null_count() == 0
    assert (key_lg["lg_on"] < key_lg["recognized_on"]).all()


def test_key_little_giants_have_the_thirteen_target_indicators(demo):
    engine, _ = demo
    targets = table(engine, "firm_target")
    key_firms = set(read(engine, "SELECT DISTINCT enterprise_id FROM recognition WHERE tier = 'key_little_giant'")
                    ["enterprise_id"])
    assert set(targets["enterprise_id"]) == key_firms
    per_firm = targets.group_by("enterprise_id").agg(pl.col("indicator").sort())
    expected = sorted(i for i, _ in FIRM_TARGET_INDICATORS)
    assert len(expected) == 13
    assert all(list(v) == expected for v in per_firm["indicator"])
    assert targets.filter(pl.col("target_year2") < pl.col("target_year1")).height == 0
    assert targets.filter(pl.col("target_year1") < pl.col("baseline")).height == 0
    assert set(targets["direction"]) == {"higher"}
    assert targets["baseline"].null_count() == 0


# -------------------------------------------------------------------------------------------------- reports


def test_reports_cover_three_years_and_follow_reporting_duties(demo):
    engine, _ = demo
    rep = read(engine, "SELECT r.*, e.province_code FROM report r JOIN enterprise e ON e.id = r.enterprise_id")
    assert set(rep["period_type"]) == {"annual", "quarterly", "monthly"}
    annual = rep.filter(pl.col("period_type") == "annual")
    assert sorted(annual["year"].unique()) == [2023, 2024, 2025]
    # ~3% of expected annual reports are missing: non-reporting is in the data.
    assert 0.93 * 3 * FIRMS <= annual.height < 0.995 * 3 * FIRMS
    # Monthly duties only where the province has them; sub-annual reports reach into the current year.
    monthly = rep.filter(pl.col("period_type") == "monthly")
    assert set(monthly["province_code"]) <= set(MONTHLY_PROVINCES)
    assert rep.filter(pl.col("period_type") == "quarterly")["province_code"].is_in(MONTHLY_PROVINCES).sum() == 0
    assert monthly.filter(pl.col("period") == "2026-01").height > 0
    assert monthly.filter(pl.col("period") == "2026-03").height == 0, "March 2026 is not over on 15 March"
    assert set(rep.filter(pl.col("period_type") != "annual")["basis"]) == {"period", "ytd"}
    assert annual.filter(pl.col("revenue").is_null()).height == 0
    assert rep["rd_staff"].null_count() > 0, "no blank cells"
    # Only firms recognised at provincial level or above report sub-annually.
    sub = set(rep.filter(pl.col("period_type") != "annual")["enterprise_id"])
    innovative_only = set(read(engine, """
        SELECT enterprise_id FROM recognition GROUP BY enterprise_id
        HAVING MAX(CASE WHEN tier = 'innovative_sme' THEN 0 ELSE 1 END) = 0""")["enterprise_id"])
    assert sub and sub.isdisjoint(innovative_only)
    # ... and only from the period in which that recognition began.
    duty = table(engine, "recognition").filter(pl.col("tier") != "innovative_sme").group_by("enterprise_id").agg(
        pl.col("recognized_on").min().alias("since"))
    early = table(engine, "report").filter(pl.col("period_type") != "annual").join(duty, on="enterprise_id").filter(
        pl.col("period_end") < pl.col("since"))
    assert early.height == 0


def test_quarterly_flows_add_up_to_the_annual_report(demo):
    engine, _ = demo
    rep = table(engine, "report")
    quarters = (rep.filter((pl.col("period_type") == "quarterly") & (pl.col("basis") == "period")
                           & (pl.col("year") == 2024))
                .group_by("enterprise_id").agg(pl.len().alias("n"), pl.col("revenue").sum().alias("q_revenue"),
                                              pl.col("rd_expense").sum().alias("q_rd")))
    annual = rep.filter((pl.col("period_type") == "annual") & (pl.col("year") == 2024)).select(
        "enterprise_id", "revenue", "rd_expense")
    both = quarters.filter(pl.col("n") == 4).join(annual, on="enterprise_id").drop_nulls()
    assert both.height > 20
    assert ((both["q_revenue"] - both["revenue"]).abs() <= 0.05).all()
    assert ((both["q_rd"] - both["rd_expense"]).abs() <= 0.05).all()


def test_ratios_are_plausible(demo):
    engine, _ = demo
    rep = read(engine, """
        SELECT r.revenue, r.main_revenue, r.rd_expense, r.total_assets, r.total_liabilities, c.tier
        FROM report r JOIN recognition c ON c.enterprise_id = r.enterprise_id
        WHERE r.period_type = 'annual' AND r.year = 2025 AND c.tier = 'little_giant' AND c.status = 'active'""")
    assert rep.height > 20
    assert 0.7 <= (rep["main_revenue"] / rep["revenue"]).median() <= 0.98
    assert 10_000 <= rep["revenue"].median() <= 100_000  # 小巨人: mostly 1–10亿 (万元)
    assert 3.0 <= (rep["rd_expense"] / rep["revenue"] * 100).median() <= 10.0
    assert 30 <= (rep["total_liabilities"] / rep["total_assets"] * 100).median() <= 65


def test_inputs_of_the_2022_and_2026_rules_are_plausible(demo):
    """CONTRACT §3b inputs: Ⅰ类 ⊂ invention patents, self-developed and high-value ⊂ Ⅰ类, 科技人员 ≥ 研发人员, costs =
    revenue − profit, an international share only for exporters; 小巨人 hold several Ⅰ类 rights."""
    engine, _ = demo
    rep = read(engine, """
        SELECT r.invention_patents, r.class1_ip, r.class1_ip_own, r.class1_ip_high_value, r.class2_ip, r.rd_staff,
               r.tech_staff, r.revenue, r.net_profit, r.total_cost, r.export_value, r.intl_market_share,
               r.national_rank, c.tier
        FROM report r JOIN recognition c ON c.enterprise_id = r.enterprise_id
        WHERE r.period_type = 'annual' AND r.year = 2025 AND c.status = 'active'""")
    assert rep.height > 100
    assert (rep["class1_ip"] <= rep["invention_patents"]).all()
    assert ((rep["class1_ip_own"] <= rep["class1_ip"]) & (rep["class1_ip_high_value"] <= rep["class1_ip"])).all()
    staffed = rep.filter(pl.col("rd_staff").is_not_null())
    assert (staffed["tech_staff"] >= staffed["rd_staff"]).all()
    assert ((rep["total_cost"] - (rep["revenue"] - rep["net_profit"]).clip(lower_bound=0)).abs() < 0.02).all()
    no_export = rep.filter(pl.col("export_value") == 0)
    assert no_export["intl_market_share"].null_count() == no_export.height > 0
    lg = rep.filter(pl.col("tier") == "little_giant")
    assert 5 <= lg["class1_ip"].median() <= 30 and lg["national_rank"].max() <= 5
    attrs = table(engine, "attribute")
    assert {"chain_role", "strategic_emerging", "digital_level", "quality_award", "quality_score", "science_award",
            "maker_china", "innovation_honour"} <= set(attrs["attribute"])
    scores = attrs.filter(pl.col("attribute") == "quality_score")["value"].cast(pl.Float64)
    assert scores.min() >= 0 and scores.max() <= 100
    ranks = attrs.filter(pl.col("attribute") == "science_award_rank")
    awards = attrs.filter((pl.col("attribute") == "science_award") & (pl.col("value") != "none"))
    assert ranks.height == awards.height > 0


# -------------------------------------------------------------------------------------- attributes, events


def test_attributes_and_events(demo):
    engine, _ = demo
    attrs = table(engine, "attribute")
    assert {"niche_since_year", "rd_institution", "info_system", "own_brand", "quality_cert", "product_standard",
            "high_tech_enterprise", "listing_plan", "industry_orientation", "standards_led"} <= set(attrs["attribute"])
    lg_firms = set(read(engine, "SELECT enterprise_id FROM recognition WHERE tier = 'little_giant'")["enterprise_id"])
    info = attrs.filter((pl.col("attribute") == "info_system") & pl.col("enterprise_id").is_in(lg_firms))
    share_true = (info["value"] == "true").mean()
    assert 0.8 <= share_true < 1.0, "小巨人 mostly, not all, have core information systems"
    assert attrs.filter(pl.col("attribute") == "high_tech_enterprise")["expires_on"].null_count() == 0
    events = table(engine, "event")
    assert {"major_accident", "tax_violation", "rename", "listing", "deregistration",
            "abnormal_operation"} <= set(events["event"])
    assert (events["occurred_on"] <= AS_OF).all()
    renames = events.filter(pl.col("event") == "rename")
    late = renames.filter(pl.col("notified_on").is_null()
                          | ((pl.col("notified_on") - pl.col("occurred_on")).dt.total_days() > 30))
    assert 0 < late.height < renames.height, "renames both notified in time and not"
    listings = events.filter(pl.col("event") == "listing").join(
        table(engine, "enterprise").select(pl.col("id").alias("enterprise_id"), "listing_board"), on="enterprise_id")
    assert (listings["detail"] == listings["listing_board"]).all()
    gone = events.filter(pl.col("event") == "deregistration").select("enterprise_id", "occurred_on")
    after = table(engine, "report").join(gone, on="enterprise_id").filter(pl.col("period_end") > pl.col("occurred_on"))
    assert after.height == 0, "a deregistered firm does not report after it ceased"


def test_key_little_giants_move_against_their_targets(demo):
    """The 目标表 tells a story (issue 12): what the firms reached after the baseline year is not the baseline
    itself, and some firms meet a year's target while others fall short. Read back from the tables: the attribute
    named like the indicator in force on 31 December of each target year, and main business / revenue of the
    annual report of that year."""
    engine, _ = demo
    targets = table(engine, "firm_target").with_columns(pl.col("start_period").cast(pl.Int64).alias("y0"))
    attributes = table(engine, "attribute")
    reports = read(engine, "SELECT enterprise_id, year, main_revenue, revenue FROM report "
                           "WHERE period_type = 'annual' AND revenue > 0")
    reached = []
    for step, target in ((1, "target_year1"), (2, "target_year2")):
        rows = targets.with_columns((pl.col("y0") + step).alias("year"), pl.col(target).alias("target"))
        # Counted indicators kept as an attribute of the same name: the latest value on file at the year's end.
        counted = (rows.filter(pl.col("indicator").is_in(["foreign_certs", "rd_projects", "quality_certs"]))
                   .join(attributes, left_on=["enterprise_id", "indicator"], right_on=["enterprise_id", "attribute"])
                   .filter(pl.col("effective_on") <= pl.date(pl.col("year"), 12, 31))
                   .sort("effective_on").group_by("enterprise_id", "indicator", "year")
                   .agg(pl.col("baseline").last(), pl.col("target").last(),
                        pl.col("value").last().cast(pl.Float64).alias("actual")))
        # 主营业务收入占比: the annual report of the target year.
        shares = (rows.filter(pl.col("indicator") == "main_revenue_share")
                  .join(reports, on=["enterprise_id", "year"])
                  .select("enterprise_id", "indicator", "year", "baseline", "target",
                          (pl.col("main_revenue") / pl.col("revenue") * 100).alias("actual")))
        reached.append(pl.concat([counted.select(shares.columns), shares]))
    reached = pl.concat(reached)
    assert reached.height > 0
    for indicator, rows in reached.group_by("indicator"):
        moved = rows.filter((pl.col("actual") - pl.col("baseline")).abs() > 0.005).height
        met = rows.filter(pl.col("actual") >= pl.col("target") - 0.005).height
        assert moved / rows.height > 0.5, (indicator, moved, rows.height)  # not simply the baselines
        assert 0 < met < rows.height, (indicator, met, rows.height)  # some met, some not
    # No target above what the indicator can reach: an R&D institution's level tops out at national (3).
    assert targets.filter(pl.col("indicator") == "rd_institutions")["target_year2"].max() <= 3


# ------------------------------------------------------------------------------------------ regional targets


def _squash(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def test_regional_targets_quote_the_compilation(demo):
    engine, _ = demo
    targets = table(engine, "regional_target")
    assert targets.height == len(REGIONAL_TARGETS)
    # The document's own figure is quoted after the demo's sizing note.
    document = {(j, t, y): int(re.search(r"文件原定 ([\d,]+)", s)[1].replace(",", ""))
                for j, t, y, s in targets.select("jurisdiction", "tier", "year", "source").rows()}
    assert document[("cn", "little_giant", 2025)] == 10_000
    assert document[("cn", "zjtx_sme", 2025)] == 100_000
    assert document[("cn", "innovative_sme", 2025)] == 1_000_000
    assert document[("cn-bj", "little_giant", 2025)] == 500
    assert document[("cn-sd", "single_champion", 2025)] == 400
    lines = compilation_lines()
    for source in targets["source"].str.replace(r" ｜示例目标.*$", ""):
        m = re.search(r" L(\d+)-(\d+) \((data/sources/notes-[a-z-]+\.md):[\d-]+(?:, :\d+)?\): (.*)$", source)
        assert m, f"source does not cite compilation lines and a note in data/sources/: {source}"
        assert (PROJECT_ROOT / m[3]).is_file(), m[3]
        cited = _squash("".join(lines[int(m[1]) - 1:int(m[2])]))
        quote = re.sub(r" \(累计.*\)$", "", m[4])
        for piece in quote.split("…"):
            assert _squash(piece) in cited, f"{piece!r} is not on {m[1]}-{m[2]}"


def test_regional_targets_are_sized_to_the_demo_and_some_are_met(demo):
    engine, _ = demo
    targets = table(engine, "regional_target").filter(pl.col("jurisdiction") == "cn")
    met = 0
    for tier, year, target in targets.select("tier", "year", "target_count").rows():
        judged = min(date(year, 12, 31), AS_OF)
        # Firms holding the tier that day, counted here in SQL: recognised, not expired, not ended.
        (held,), = read(engine, f"""SELECT COUNT(DISTINCT enterprise_id) AS n FROM recognition WHERE tier = '{tier}'
            AND recognized_on <= '{judged}' AND valid_until >= '{judged}'
            AND (ended_on IS NULL OR ended_on > '{judged}')""").rows()
        assert held > 0
        assert 0.8 * held - 1 <= target <= 1.3 * held + 1, (tier, year, held, target)  # not 0-4 % attained
        met += held >= target
    assert 0 < met < targets.height or targets.height < 3
    # 吉林's cumulative targets (200 a year in the document) never shrink from one year to the next.
    jl = table(engine, "regional_target").filter(pl.col("jurisdiction") == "cn-jl").sort("year")["target_count"]
    assert jl.to_list() == sorted(jl.to_list())


# ---------------------------------------------------------------------------------------- transactions, CLI


def test_a_failure_leaves_the_database_as_it_was(engine):
    # A real database error half-way (after firms, recognitions and reports are written): events are refused.
    before = schema(engine)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                                 "$$ BEGIN RAISE EXCEPTION 'events refused'; END $$")
            conn.exec_driver_sql("CREATE TRIGGER refuse_events BEFORE INSERT ON event "
                                 "FOR EACH ROW EXECUTE FUNCTION refuse()")
        else:
            conn.exec_driver_sql("CREATE TRIGGER refuse_events BEFORE INSERT ON event "
                                 "BEGIN SELECT RAISE(ABORT, 'events refused'); END")
    with pytest.raises(DatabaseError, match="nothing was written: .*events refused"):
        build_demo(engine, firms=FIRMS, seed=7, as_of=AS_OF)
    assert counts(engine) == dict.fromkeys(TABLES, 0)
    assert schema(engine) == before


def test_second_seed_adds_firms_and_same_seed_is_refused(engine):
    build_demo(engine, firms=FIRMS, seed=7, as_of=AS_OF)
    before = counts(engine)
    with pytest.raises(UserError, match="--seed"):
        build_demo(engine, firms=FIRMS, seed=7, as_of=AS_OF)
    assert counts(engine) == before
    summary = build_demo(engine, firms=FIRMS, seed=8, as_of=AS_OF)
    after = counts(engine)
    assert after["enterprise"] == 2 * FIRMS
    assert after["regional_target"] == before["regional_target"], "targets are not duplicated"
    assert summary["regional_targets"] == 0
    # The second registry's references point at its own rows.
    orphans = read(engine, """SELECT COUNT(*) AS n FROM recognition r LEFT JOIN recognition s ON s.id = r.superseded_by
                              WHERE r.superseded_by IS NOT NULL AND s.enterprise_id <> r.enterprise_id""")
    assert orphans["n"][0] == 0
    if engine.dialect.name == "postgresql":  # the id sequences moved past the explicit ids
        with engine.begin() as conn:
            new_id = conn.exec_driver_sql(
                "INSERT INTO regional_target (jurisdiction, tier, year, target_count) "
                "VALUES ('cn-zj', 'little_giant', 2030, 1) RETURNING id").scalar_one()
        assert new_id > after["regional_target"]


def run_zjtx(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*ZJTX, *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=300)


def test_zjtx_init_demo_loads_once_and_then_refuses(config_env, db_url):
    first = run_zjtx("init", "--demo", "--firms", "1000", "--seed", "7")
    assert first.returncode == 0, first.stderr
    # It ends with a sentence in both languages, not a Python dict.
    assert "示例数据已载入：1,000 家企业" in first.stderr and "Demo registry loaded: 1,000 firms" in first.stderr
    assert "{" not in first.stderr and "firms_by_tier" not in first.stderr
    engine = make_engine(db_url)
    assert counts(engine)["enterprise"] == 1000
    second = run_zjtx("init", "--demo")
    assert second.returncode == 1
    last = second.stderr.strip().splitlines()[-1]
    assert last.startswith("zjtx: error:") and "--force" in last
    assert "Traceback" not in second.stderr
    assert counts(engine)["enterprise"] == 1000
    engine.dispose()


def test_bad_arguments_are_user_errors():
    with pytest.raises(UserError, match="as_of"):
        generate_demo(100, seed=1, as_of=date(2020, 1, 1))
    with pytest.raises(UserError, match="--firms"):
        generate_demo(0, seed=1, as_of=AS_OF)
