"""The dashboard's text catalogue (dashboard/strings.toml via dashboard/i18n.py) is complete in both languages, has
no clashing texts, holds every key the code asks for and none it does not, and names no code a second time (code
names live in registry/labels.py); money reads as officials write it."""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from pathlib import Path

import pytest

from dashboard.formatting import fmt_count, fmt_money, fmt_pct
from dashboard.i18n import CODES, COLUMNS, LABELS, STRINGS, code_label, column_label, t
from dashboard.pages import PAGES, pages_for
from registry.access import ACTIONS
from registry.labels import catalogue as registry_catalogue
from registry.models import FLAG_KINDS, RECOGNITION_STATUSES, REPORT_METRICS, TIERS

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
           for path in sorted((ROOT / "dashboard").rglob("*.py"))}
FILE = tomllib.loads(STRINGS.read_text(encoding="utf-8"))

# t("overview.as_of", lang), tr("overview.as_of"), t(f"monitor.metric.{metric}", lang): the key, or the fixed start
# of a key built at run time.
CALL = re.compile(r"\b(?:t|tr)\(\s*(f?)[\"']([a-z_]+\.[a-z0-9_.]*)")
# Any quoted "section.key" (keys held in a variable first, e.g. the sign-in page's notices).
QUOTED = re.compile(r"[\"']([a-z_]+\.[a-z0-9_.]+)[\"']")


def _asked(text: str) -> tuple[set[str], set[str]]:
    """(literal keys, starts of built keys) of the t()/tr() calls in one source file."""
    keys, starts = set(), set()
    for built, key in CALL.findall(text):
        (starts if built else keys).add(key)
    return keys, starts


def test_every_label_has_chinese_and_english():
    for section, entries in FILE["ui"].items():
        for key, entry in entries.items():
            assert set(entry) == {"zh", "en"}, f"[ui.{section}] {key}"
    for key, entry in FILE["columns"].items():
        assert set(entry) == {"zh", "en"}, f"[columns] {key}"
    for catalogue in (LABELS, COLUMNS, *CODES.values()):
        for key, (zh, en) in catalogue.items():
            assert zh.strip() and en.strip(), key
            # Placeholders must match, or one language would fail to format.
            assert set(re.findall(r"{(\w+)}", zh)) == set(re.findall(r"{(\w+)}", en)), key


# Column keys that name the same thing and may therefore share a header (no table shows two of one group).
# A new pair with one text must be either renamed or, after checking that no table carries both, listed here.
INTENDED_SYNONYMS: list[set[str]] = [
    {"status", "state", "report_status"}, {"region", "region_name", "area"}, {"detail", "link"},
    {"criterion", "condition"}, {"points", "score"}, {"file_name", "file"}, {"class", "impact_role"},
    {"depth", "level"}, {"metric", "indicator"}, {"name", "label"}, {"kind", "flag"},
    {"due_on", "report_due_on"}, {"target_count", "target_value"}, {"actual", "actual_value"},
    {"source", "obligation_source"}, {"evidence", "evidence_text"},
]


@pytest.mark.parametrize("language", [0, 1], ids=["zh", "en"])
def test_no_two_column_headers_read_the_same(language):
    """A table with two equal headers crashes (polars refuses duplicate column names: the English 目标达成 page did)."""
    by_text: dict[str, list[str]] = defaultdict(list)
    for key, pair in COLUMNS.items():
        by_text[pair[language]].append(key)
    clashes = {text: keys for text, keys in by_text.items()
               if len(keys) > 1 and not any(set(keys) <= group for group in INTENDED_SYNONYMS)}
    assert not clashes, clashes


# Texts one module shows twice on purpose: a page title and its button; a download's file name and the page title;
# a selectbox label and a chart legend.
SAME_TEXT_ON_PURPOSE = [{"login.title", "login.submit"}, {"page.impact", "impact.download"},
                        {"targets.pick", "chart.target"}]


@pytest.mark.parametrize("language", [0, 1], ids=["zh", "en"])
def test_no_two_labels_of_one_screen_read_the_same(language):
    """Two widgets with one label and no key are one widget to Streamlit (DuplicateWidgetID), and two texts reading
    the same on one screen leave the user guessing: per source file, the labels it asks for differ."""
    clashes = []
    for where, text in SOURCES.items():
        keys, starts = _asked(text)
        keys |= {key for key in LABELS if key.startswith(tuple(starts))}
        by_text: dict[str, set[str]] = defaultdict(set)
        for key in keys & set(LABELS):
            by_text[LABELS[key][language]].add(key)
        clashes += [(where, same) for same in by_text.values() if len(same) > 1 and same not in SAME_TEXT_ON_PURPOSE]
    assert not clashes, clashes


def test_every_key_the_dashboard_asks_for_is_in_the_catalogue():
    """Literal keys passed to t()/tr(), and quoted "section.key" strings (a missing key shows as the raw key); the
    access actions (registry.access: "review.decide") are names of another kind."""
    sections = {key.split(".", 1)[0] for key in LABELS}
    asked = set()
    for where, text in SOURCES.items():
        keys, starts = _asked(text)
        quoted = {key for key in QUOTED.findall(text) if key.split(".", 1)[0] in sections and key not in ACTIONS}
        asked |= {(key, where) for key in keys | quoted}
        # A built key's fixed start must lead somewhere.
        asked |= {(start + "…", where) for start in starts if not any(key.startswith(start) for key in LABELS)}
    assert len(asked) > 300, "the patterns no longer find the calls"
    missing = sorted((key, where) for key, where in asked if key not in LABELS)
    assert not missing, missing


def test_every_label_in_the_catalogue_is_used():
    """Each label is asked for by name somewhere in dashboard/, or is one of a family built at run time
    (t(f"monitor.metric.{metric}", …)): the catalogue keeps no dead text for translators to maintain."""
    named, starts = set(), set()
    for text in SOURCES.values():
        keys, built = _asked(text)
        named |= keys | set(QUOTED.findall(text))
        starts |= built
    unused = sorted(key for key in LABELS if key not in named and not key.startswith(tuple(starts)))
    assert not unused, unused


def test_every_column_header_names_a_column_the_code_knows():
    """A header whose column name appears nowhere in dashboard/ or registry/ (as a quoted name) is dead."""
    words = set()
    for folder in ("dashboard", "registry"):
        for path in (ROOT / folder).rglob("*.py"):
            words |= set(re.findall(r"[\"']([a-z][a-z0-9_]*)[\"']", path.read_text(encoding="utf-8")))
    assert sorted(set(COLUMNS) - words) == []


# strings.toml entries keyed like a registry code that are another thing: "none" shown for an empty list is not the
# attribute value 无 (the firm has none).
NOT_A_CODE = {"firm.none"}


def test_no_code_is_named_a_second_time_in_the_dashboard():
    """Names of codes come from registry/labels.py only: the dashboard's code names are the registry's (plus the peers
    table's metrics, named by their column headers), and no entry of strings.toml repeats a code's name under the
    code's own key."""
    registry = registry_catalogue()
    assert {kind: names for kind, names in CODES.items() if kind != "peer_metric"} == registry
    assert all(CODES["peer_metric"][metric] == COLUMNS[metric] for metric in CODES["peer_metric"])
    entries = [(f"{section}.{key}", entry) for section, part in FILE["ui"].items() for key, entry in part.items()]
    entries += [(key, entry) for key, entry in FILE["columns"].items()]
    repeated = [(key, kind) for key, entry in entries if key not in NOT_A_CODE
                for kind, names in registry.items()
                if names.get(key.rsplit(".", 1)[-1], ("",))[0] == entry["zh"]]
    assert not repeated, repeated


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


def test_headers_and_metrics_named_after_a_code_read_as_the_code():
    """The overview's due-state metrics, the count columns per due state, tier, verdict and reporting status carry
    the registry's names (English capitalised as a heading)."""
    assert t("metric.expired", "zh") == code_label("due_state", "expired", "zh") == "已到期未续期"
    assert t("metric.expired", "en") == "Expired, not renewed"
    assert column_label("little_giant", "zh") == code_label("tier", "little_giant", "zh")
    assert column_label("insufficient_data", "en") == "Insufficient data"
    assert column_label("late", "zh") == code_label("report_status", "late", "zh") == "逾期报送"


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
