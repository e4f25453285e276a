"""End to end in headless Chromium, the operations pages as officials use them (`zjtx serve` on a seeded registry):
upload a file with bad rows and download the rejected rows; record a renew decision and see the new validity on the
firm page; screen an application list and read the verdict workbook back; download the briefing PDF and read its
text. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from dashboard_seed import seed_registry
from e2e_support import ROOT, TIMEOUT_MS, dashboard_server, settle, shot
from ops_seed import seed_operations
from sqlmodel import Session

from registry.access import SYSTEM
from registry.auth import create_user
from registry.db import make_engine, upgrade
from registry.identity import make_uscc

pytestmark = pytest.mark.e2e
PASSWORD = "Ops-e2e-2025!x"
COMPILATION = ROOT.parent / "shared" / "policy" / "policy-compilation-2021.txt"


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[str, sa.Engine, object, object, Path]]:
    folder = tmp_path_factory.mktemp("e2e_ops")
    url = f"sqlite:///{folder / 'zjtx.db'}"
    engine = make_engine(url)
    upgrade(engine)
    info = seed_registry(engine, firms=150, seed=9)
    ops = seed_operations(engine, info.today)
    with Session(engine) as session:
        create_user(SYSTEM, session, "e2e_admin", PASSWORD, "admin", "cn")
        create_user(SYSTEM, session, "e2e_manager", PASSWORD, "manager", "cn")
        session.commit()
    config = (f'[database]\nurl = "{url}"\n[paths]\ninbox = "inbox"\narchive = "archive"\n'
              f'quarantine = "quarantine"\noutbox = "outbox"\npolicy_compilation = "{COMPILATION}"\n'
              '[demo]\nfirms = 0\n')
    try:
        with dashboard_server(folder, config) as base:
            yield base, engine, info, ops, folder
    finally:
        engine.dispose()


def signed_in(browser, base: str, username: str):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 2400}, accept_downloads=True, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    page.goto(base)
    sign_in(page, username)
    return context, page


def sign_in(page, username: str) -> None:
    """The sign-in form (every new browser session, e.g. after opening a URL, starts there)."""
    from playwright.sync_api import expect

    settle(page)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_test_id("stForm").get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible()
    settle(page)


def open_page(page, label: str) -> None:
    from playwright.sync_api import expect

    page.get_by_test_id("stSidebarNav").get_by_text(label, exact=True).click()
    expect(page.get_by_test_id("stMain").get_by_role("heading", name=label).first).to_be_visible()
    settle(page)


def upload(page, files: list[Path], index: int = 0) -> None:
    page.get_by_test_id("stMain").locator('[data-testid="stFileUploader"] input[type="file"]').nth(index) \
        .set_input_files([str(f) for f in files])
    settle(page)


def test_upload_with_bad_rows_and_download_them(served, browser, tmp_path):
    from playwright.sync_api import expect

    base, engine, *_ = served
    good = make_uscc(random.Random(41), "330212")
    data = tmp_path / "企业名录_上传.csv"
    data.write_bytes(("统一社会信用代码,企业名称,行政区划代码,行业代码,成立日期\n"
                      f"{good},宁波浏览器上传有限公司,330212,C35,2012-03-01\n"
                      "91330200MA2XXXXXXX,浏览器坏代码有限公司,330212,C35,2012-03-01\n"
                      f"{make_uscc(random.Random(42), '330212')},浏览器日期错误有限公司,330212,C35,2012-02-30\n")
                     .encode("gbk"))
    context, page = signed_in(browser, base, "e2e_admin")
    open_page(page, "数据接入")
    main = page.get_by_test_id("stMain")
    upload(page, [data])
    main.get_by_role("button", name="校验并导入").click()
    expect(main.get_by_text("导入完成")).to_be_visible()
    settle(page)
    shot(page, "ops_intake_upload")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM enterprise WHERE uscc = :u"), {"u": good}).scalar_one() == 1
    with page.expect_download() as download_info:
        main.get_by_role("button", name="下载 CSV").first.click()
    saved = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_bytes().decode("utf-8-sig"))))
    assert sorted({r["行号"] for r in rows}) == ["2", "3"]
    assert {r["企业名称"] for r in rows} == {"浏览器坏代码有限公司", "浏览器日期错误有限公司"}
    assert all(r["理由"] for r in rows)
    context.close()


def test_renew_decision_shows_the_new_validity_on_the_firm_page(served, browser):
    from playwright.sync_api import expect

    base, engine, _, ops, _ = served
    context, page = signed_in(browser, base, "e2e_manager")
    open_page(page, "复核与退出")
    main = page.get_by_test_id("stMain")
    picker = main.get_by_test_id("stSelectbox").filter(has=page.get_by_text("选择一条进行处理", exact=True))
    picker.get_by_role("combobox").fill("深圳复核测试")
    page.get_by_role("option").filter(has_text="深圳复核测试精密有限公司").first.click()
    settle(page)
    main.get_by_text("复核通过（续期）", exact=True).click()
    settle(page)
    main.get_by_label("理由（必填）").fill("复核材料齐全，指标达标（浏览器）")
    main.get_by_label("理由（必填）").press("Control+Enter")  # commits the text (a rerun): wait for it
    settle(page)
    main.get_by_role("button", name="记录决定").click()
    expect(main.get_by_text("已记录：复核通过（续期）")).to_be_visible()
    shot(page, "ops_review_decided")
    with engine.connect() as conn:
        new_until = conn.execute(sa.text(
            "SELECT n.valid_until FROM recognition o JOIN recognition n ON n.id = o.superseded_by WHERE o.id = :r"),
            {"r": ops.review_recognition_id}).scalar_one()
    new_until = str(new_until)[:10]
    open_page(page, "企业详情")
    search = main.get_by_label("企业名称或信用代码")
    search.fill(ops.review_uscc)
    search.press("Enter")
    expect(main.get_by_role("heading", name="深圳复核测试精密有限公司")).to_be_visible()
    settle(page)
    expect(main.get_by_text(f"新有效期至 {new_until}")).to_be_visible()
    expect(main.get_by_text("复核材料齐全，指标达标（浏览器）", exact=False).first).to_be_visible()
    shot(page, "ops_firm_after_renewal")
    context.close()


def test_screen_an_application_list_and_read_the_workbook(served, browser, tmp_path):
    from builders import little_giant_2020, write_files
    from playwright.sync_api import expect

    base, *_ = served
    good, indebted = little_giant_2020(1), little_giant_2020(2).with_year(2020, total_liabilities=16000.0)
    files = write_files(tmp_path, good, indebted)
    context, page = signed_in(browser, base, "e2e_manager")
    open_page(page, "政策规则")
    main = page.get_by_test_id("stMain")
    picker = main.get_by_test_id("stSelectbox").filter(has=page.get_by_text("政策", exact=True))
    picker.get_by_role("combobox").fill("cn/little-giant/2021")
    page.get_by_role("option").filter(has_text="cn/little-giant/2021 ·").first.click()
    settle(page)
    main.get_by_role("tab", name="模拟评估").click()
    # The date field is made of year / month / day segments: type into the first, the focus moves on.
    field = main.get_by_test_id("stDateInput")
    field.get_by_role("spinbutton").first.click()
    page.keyboard.type("20210501")
    page.keyboard.press("Tab")
    settle(page)
    expect(field.locator('input[type="date"]')).to_have_value("2021-05-01")
    upload(page, files)
    main.get_by_role("button", name="预筛").click()
    expect(main.get_by_text("2 家：符合 1，不符合 1，数据不足 0")).to_be_visible()
    shot(page, "ops_screening")
    with page.expect_download() as download_info:
        main.get_by_role("button", name="下载结果工作簿").click()
    saved = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    sheet = openpyxl.load_workbook(saved)["结果 results"]
    rows = list(sheet.iter_rows(values_only=True))
    verdicts = {row[0]: row[rows[0].index("verdict")] for row in rows[1:]}
    assert verdicts == {good.uscc: "eligible", indebted.uscc: "ineligible"}
    context.close()


def test_download_the_briefing_pdf_and_read_its_text(served, browser, tmp_path):
    from playwright.sync_api import expect
    from pypdf import PdfReader

    base, *_ = served
    context, page = signed_in(browser, base, "e2e_manager")
    open_page(page, "简报")
    main = page.get_by_test_id("stMain")
    title = main.get_by_test_id("stHeading").filter(has_text="运行监测简报").first.inner_text().strip()
    expect(main.get_by_role("button", name="下载 PDF 简报")).to_be_visible()
    shot(page, "ops_briefing")
    with page.expect_download() as download_info:
        main.get_by_role("button", name="下载 PDF 简报").click()
    saved = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    text = "".join("".join(p.extract_text() for p in PdfReader(saved).pages).replace("\x00", "").split())
    assert "".join(title.split()) in text
    assert "梯度培育" in text and "复核与退出" in text
    context.close()
