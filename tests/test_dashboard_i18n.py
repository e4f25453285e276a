"""The label catalogue is complete in both languages, and money reads as officials write it."""

from __future__ import annotations

import re

from dashboard.formatting import fmt_count, fmt_money, fmt_pct
from dashboard.i18n import CODES, COLUMNS, LABELS, code_label, column_label, t
from dashboard.pages import PAGES, pages_for
from registry.models import FLAG_KINDS, RECOGNITION_STATUSES, REPORT_METRICS, TIERS


def test_every_label_has_chinese_and_english():
    for catalogue in (LABELS, COLUMNS, *CODES.values()):
        for key, (zh, en) in catalogue.items():
            assert zh.strip() and en.strip(), key
            # Placeholders must match, or one language would fail to format.
            assert set(re.findall(r"{(\w+)}", zh)) == set(re.findall(r"{(\w+)}", en)), key


def test_every_code_the_schema_knows_has_a_name():
    assert set(CODES["tier"]) >= set(TIERS)
    assert set(CODES["status"]) >= set(RECOGNITION_STATUSES)
    assert set(CODES["flag"]) >= set(FLAG_KINDS)
    assert set(COLUMNS) >= set(REPORT_METRICS)
    for page in PAGES:
        assert f"page.{page.key}" in LABELS and page.path.is_file()


def test_lookups_fall_back_to_the_key():
    assert t("page.overview", "zh") == "总览" and t("page.overview", "en") == "Overview"
    assert t("registry.total", "zh", total="1,234") == "共 1,234 家企业"
    assert t("no.such.key", "en") == "no.such.key"
    assert code_label("tier", "little_giant", "zh") == "专精特新“小巨人”"
    assert code_label("tier", "gx_seed", "zh") == "gx_seed"
    assert column_label("revenue", "zh") == "营业收入（万元）"


def test_pages_by_role():
    """Every role reads every data page; only admins see the audit trail (registry.access: audit.view)."""
    shown = {role: [p.key for p in pages_for(role)] for role in ("admin", "official", "analyst", "manager")}
    for role, keys in shown.items():
        assert {"overview", "registry", "firm", "review", "intake", "policies", "briefing"} <= set(keys), role
        assert ("audit" in keys) == (role == "admin"), role
    assert shown["admin"] == [p.key for p in PAGES]


def test_money_in_wan_and_yi():
    assert fmt_money(3456.7) == "3,456.7 万元"
    assert fmt_money(123456.0) == "12.35 亿元"
    assert fmt_money(-20000.0) == "-2.00 亿元"
    assert fmt_money(None) == "—"
    assert fmt_money(3456.7, "en") == "CNY 34.6 m"
    assert fmt_money(50.0, "en") == "CNY 500 k"
    assert fmt_count(1234567) == "1,234,567"
    assert fmt_pct(3.0) == "3.0%" and fmt_pct(None) == "—"
