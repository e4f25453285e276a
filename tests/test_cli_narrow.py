"""The CLI in an 80-column terminal: the codes a user copies (USCCs, policy ids, criterion ids) are printed whole,
names come from the label catalogue, a summary comes first; JSON is indented only for a terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
import yaml
from builders import little_giant_2020, write_files

from registry.db import make_engine, upgrade
from registry.ingest import ingest_files
from registry.models import Enterprise, Recognition
from registry.policy.loader import POLICY_DIR

GOOD = little_giant_2020(1)
INDEBTED = little_giant_2020(2).with_year(2020, total_liabilities=16000.0)  # 80% debt
UNKNOWN_BRAND = little_giant_2020(3).without_attr("own_brand")


def zjtx_80(*args: str) -> subprocess.CompletedProcess:
    """The real command in a subprocess whose terminal is 80 columns wide (rich reads COLUMNS)."""
    env = dict(os.environ, COLUMNS="80", LINES="50")
    res = subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True, text=True,
                         env=env, timeout=300)
    assert res.returncode == 0, res.stderr
    assert all(len(line) <= 80 for line in res.stdout.splitlines()), res.stdout
    return res


def _cell(lines: list[str], row: int, start: int) -> str:
    """The text of a table cell that wraps over several lines: the row's line and the continuation lines below it
    (before the next row), from the cell's start to the next gap."""
    parts = [lines[row][start:].split("  ")[0].strip()]
    for line in lines[row + 1:]:
        if line[:start].strip():  # the next row
            break
        parts.append(line[start:].split("  ")[0].strip())
    return "".join(parts)


@pytest.fixture
def files(tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    return write_files(folder, GOOD, INDEBTED, UNKNOWN_BRAND)


def test_policies_list_prints_every_id_whole():
    ids = [path.relative_to(POLICY_DIR).with_suffix("").as_posix() for path in POLICY_DIR.rglob("*.yaml")]
    out = zjtx_80("policies", "list").stdout
    words = set(out.split())
    assert set(ids) <= words, sorted(set(ids) - words)
    first = out.splitlines()[0]
    assert f"{len(ids)} 项" in first  # the summary comes first


def test_screen_prints_whole_usccs_and_criterion_ids(files):
    out = zjtx_80("screen", "--policy", "cn/little-giant/2021", "--as-of", "2021-05-01", *map(str, files)).stdout
    lines = out.splitlines()
    assert "符合 1, 不符合 1, 数据不足 1" in " ".join(lines[:3])  # summary before the table
    for firm in (GOOD, INDEBTED, UNKNOWN_BRAND):
        assert firm.uscc in out.split()
    indebted = next(ln for ln in lines if INDEBTED.uscc in ln)
    assert "debt_ratio" in indebted.split() and "不符合" in indebted
    unknown = next(ln for ln in lines if UNKNOWN_BRAND.uscc in ln)
    assert "own_brand" in unknown.split() and "数据不足" in unknown


def test_flags_table_names_tiers_and_flags_and_keeps_usccs(config_env, db_url, files):
    engine = make_engine(db_url)
    upgrade(engine)
    assert all(r.status == "loaded" for r in ingest_files(engine, files))
    with engine.begin() as conn:
        ids = dict(conn.execute(sa.select(Enterprise.__table__.c.uscc, Enterprise.__table__.c.id)).all())
        # A Beijing little giant whose recognition ends in 30 days (expiring), another that ended 10 days ago.
        conn.execute(sa.insert(Recognition.__table__), [
            {"enterprise_id": ids[GOOD.uscc], "tier": "bj_little_giant", "jurisdiction": "cn-bj",
             "recognized_on": date(2021, 7, 1), "valid_until": date(2024, 7, 31), "status": "active",
             "created_at": datetime(2021, 7, 1, tzinfo=UTC)},
            {"enterprise_id": ids[INDEBTED.uscc], "tier": "bj_little_giant", "jurisdiction": "cn-bj",
             "recognized_on": date(2021, 6, 1), "valid_until": date(2024, 6, 21), "status": "active",
             "created_at": datetime(2021, 6, 1, tzinfo=UTC)}])
    engine.dispose()
    declared = yaml.safe_load((POLICY_DIR / "cn-bj/little-giant/2021.yaml").read_text(encoding="utf-8"))
    tier_zh = declared["declares_tier"]["name_zh"]

    out = zjtx_80("flags", "--as-of", "2024-07-01").stdout
    lines = out.splitlines()
    assert lines[0].startswith("生命周期提示")  # the summary first
    assert GOOD.uscc in out.split() and INDEBTED.uscc in out.split()
    row = next(i for i, ln in enumerate(lines) if GOOD.uscc in ln)
    assert _cell(lines, row, lines[row].index("北京市")) == f"{tier_zh}（北京市）"  # the names, not the codes
    assert "bj_little_giant" not in out and "cn-bj" not in out
    assert "即将到期" in out and "已到期" in next(ln for ln in lines if INDEBTED.uscc in ln)

    piped = subprocess.run([sys.executable, "-m", "cli.main", "flags", "--as-of", "2024-07-01",
                            "--format", "json"], capture_output=True, text=True, env=dict(os.environ), timeout=300)
    assert piped.returncode == 0 and len(piped.stdout.strip().splitlines()) == 1  # piped: one line, for machines
    assert {r["uscc"] for r in json.loads(piped.stdout)} >= {GOOD.uscc, INDEBTED.uscc}
