"""The monthly briefing (运行监测简报) on SQLite and PostgreSQL: its numbers against SQL on a seeded registry, the
Excel workbook read back (sheets, native charts), the PDF read back (Chinese text extracted), scope, and the
monthly job writing every jurisdiction's files into the outbox."""

from __future__ import annotations

import io
from datetime import date, timedelta

import openpyxl
import pytest
import sqlalchemy as sa
from dashboard_seed import seed_registry
from ops_seed import seed_operations
from pypdf import PdfReader

from registry.briefing import briefing_pdf, briefing_xlsx, build_briefing, month_end, write_briefings
from registry.errors import UserError
from registry.settings import Settings

TODAY = date(2024, 6, 20)
MONTH = date(2024, 5, 1)


def pdf_text(data: bytes) -> str:
    """The PDF's text without whitespace (pypdf puts NULs between CID glyphs; the glyphs map to the right text)."""
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return "".join(text.replace("\x00", "").split())


@pytest.fixture
def seeded(engine):
    info = seed_registry(engine, firms=150, seed=21, today=TODAY)
    seed_operations(engine, TODAY)
    return engine, info


def count(engine, statement: str, **params) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(statement), params).scalar_one())


def test_briefing_numbers_match_the_database(seeded):
    engine, _ = seeded
    b = build_briefing("cn", MONTH, engine=engine)
    as_of = date(2024, 5, 31)
    assert b.as_of == as_of and b.month == "2024-05"
    assert b.title == "全国专精特新企业运行监测简报（2024年5月）"
    # In force on the day, from the history: a row revoked or renewed later still counts for an earlier date.
    valid = """SELECT COUNT(DISTINCT enterprise_id) FROM recognition WHERE tier = :t AND status != 'withdrawn'
               AND recognized_on <= :d AND (valid_until IS NULL OR valid_until >= :d)
               AND (ended_on IS NULL OR ended_on > :d) AND NOT (status IN ('revoked', 'expired') AND ended_on IS NULL)"""
    pipeline = {r["tier"]: r for r in b.pipeline.iter_rows(named=True)}
    for tier in ("innovative_sme", "zjtx_sme", "little_giant", "single_champion"):
        assert pipeline[tier]["firms"] == count(engine, valid, t=tier, d=as_of)
        assert pipeline[tier]["firms_year_before"] == count(engine, valid, t=tier, d=date(2023, 5, 31))
    headline = dict(b.headline.select("item_en", "value").iter_rows())
    assert headline["recognitions granted this month"] == count(
        engine, "SELECT COUNT(*) FROM recognition WHERE recognized_on BETWEEN :a AND :b AND status != 'withdrawn'",
        a=date(2024, 5, 1), b=as_of)
    # Operating data: the featured firm's annual reports (revenue 8000 + 1500k for 2020..2023).
    trends = {r["year"]: r for r in b.trends.iter_rows(named=True)}
    assert sorted(trends) == [2021, 2022, 2023]
    expected_2023 = count(engine, """SELECT COALESCE(SUM(p.revenue), 0) FROM report p WHERE p.period_type = 'annual'
        AND p.year = 2023 AND EXISTS (SELECT 1 FROM recognition r WHERE r.enterprise_id = p.enterprise_id
        AND r.status != 'withdrawn' AND r.recognized_on <= :d AND (r.valid_until IS NULL OR r.valid_until >= :d)
        AND (r.ended_on IS NULL OR r.ended_on > :d) AND NOT (r.status IN ('revoked', 'expired') AND r.ended_on IS NULL))""",
                          d=as_of)
    assert trends[2023]["revenue"] == pytest.approx(expected_2023)
    review = dict(b.review.select("item_en", "value").iter_rows())
    # The flags open at the end of May (ops_seed: review_due opened 85 days before 20 June; the exit flag only on
    # 1 June and the expired ones on 6 June — not yet open then).
    assert review["open flags: review due (firms)"] == 1
    assert "open flags: exit condition (firms)" not in review and "open flags: expired (firms)" not in review
    assert review["decisions this month: renew"] == 0
    assert set(b.targets["jurisdiction"]) == {"cn", "cn-gd"}


def test_a_provincial_briefing_counts_only_its_firms(seeded):
    engine, _ = seeded
    b = build_briefing("cn-gd", MONTH, engine=engine)
    as_of = date(2024, 5, 31)
    firms = count(engine, """SELECT COUNT(DISTINCT r.enterprise_id) FROM recognition r JOIN enterprise e
        ON e.id = r.enterprise_id WHERE r.tier = 'little_giant' AND r.status != 'withdrawn' AND e.region_code LIKE '44%'
        AND r.recognized_on <= :d AND (r.valid_until IS NULL OR r.valid_until >= :d)
        AND (r.ended_on IS NULL OR r.ended_on > :d) AND NOT (r.status IN ('revoked', 'expired') AND r.ended_on IS NULL)""", d=as_of)
    assert dict(b.pipeline.select("tier", "firms").iter_rows())["little_giant"] == firms
    assert b.targets["jurisdiction"].to_list() == ["cn-gd"]
    assert b.name_zh == "广东省"


def test_workbook_has_the_tables_and_native_charts(seeded):
    engine, _ = seeded
    b = build_briefing("cn", MONTH, engine=engine)
    book = openpyxl.load_workbook(io.BytesIO(briefing_xlsx(b)))
    assert book.sheetnames == ["简报 summary", "梯度 pipeline", "目标 targets", "趋势 trends"]
    summary = book["简报 summary"]
    assert summary["A1"].value == b.title
    assert len(summary._charts) == 3  # tiers, targets, trends
    pipeline = list(book["梯度 pipeline"].iter_rows(values_only=True))
    assert pipeline[0] == ("称号", "有效认定企业", "上年同期", "增减")
    assert [row[1] for row in pipeline[1:]] == b.pipeline["firms"].to_list()


def test_pdf_carries_the_chinese_text(seeded):
    engine, _ = seeded
    b = build_briefing("cn", MONTH, engine=engine)
    text = pdf_text(briefing_pdf(b))
    assert "全国专精特新企业运行监测简报（2024年5月）" in text
    assert "专精特新“小巨人”" in text and "复核与退出" in text and "培育目标完成情况" in text
    little = dict(b.pipeline.select("tier", "firms").iter_rows())["little_giant"]
    assert f"有效认定企业：专精特新“小巨人”{little:,}" in text


def test_pdf_without_a_font_is_a_clear_error(seeded, tmp_path):
    engine, _ = seeded
    b = build_briefing("cn", MONTH, engine=engine)
    with pytest.raises(UserError, match="paths.cjk_font"):
        briefing_pdf(b, tmp_path / "missing.ttc")


def test_the_monthly_job_writes_last_months_briefings(seeded, tmp_path):
    engine, _ = seeded
    settings = Settings(paths={"outbox": tmp_path / "outbox"})
    counts = write_briefings(engine, settings, TODAY)
    folder = tmp_path / "outbox" / "briefings" / "2024-05"
    assert counts["month"] == "2024-05" and counts["folder"] == str(folder)
    names = sorted(p.name for p in folder.iterdir())
    assert "简报_cn_2024-05.pdf" in names and "简报_cn-gd_2024-05.xlsx" in names
    assert counts["files"] == len(names) and not any(n.endswith(".part") for n in names)
    assert "广东省专精特新企业运行监测简报（2024年5月）" in pdf_text((folder / "简报_cn-gd_2024-05.pdf").read_bytes())


def test_month_end():
    assert month_end(date(2024, 2, 10)) == date(2024, 2, 29)
    assert month_end(date(2024, 12, 1)) == date(2024, 12, 31)
    assert month_end(date(2024, 12, 1)) + timedelta(days=1) == date(2025, 1, 1)
