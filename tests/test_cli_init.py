"""`zjtx init` as a user runs it: a real subprocess, real databases, one-line errors."""

from __future__ import annotations

import os
import subprocess

import sqlalchemy as sa
from zjtx_command import ZJTX

from registry.db import current_revision, head_revision, make_engine


def run_zjtx(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*ZJTX, *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def test_init_creates_then_reports_up_to_date(config_env, db_url):
    first = run_zjtx("init")
    assert first.returncode == 0, first.stderr
    assert "empty →" in first.stderr
    engine = make_engine(db_url)
    assert current_revision(engine) == head_revision()
    assert "recognition" in sa.inspect(engine).get_table_names()
    engine.dispose()
    second = run_zjtx("init")
    assert second.returncode == 0 and "up to date" in second.stderr


def test_database_url_from_environment_wins_over_config(config_env, tmp_path):
    other = tmp_path / "other.db"
    res = run_zjtx("init", env={"ZJTX_DATABASE_URL": f"sqlite:///{other}"})
    assert res.returncode == 0, res.stderr
    assert other.exists()


def test_unreachable_database_is_one_clear_line(config_env):
    res = run_zjtx("init", env={"ZJTX_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    assert res.returncode == 1
    assert res.stderr.startswith("zjtx: error: 数据库不可用 / database unavailable: "
                                 "postgresql+psycopg://nobody@127.0.0.1:1/none: ")
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_broken_config_is_one_clear_line(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[database\n", encoding="utf-8")
    res = run_zjtx("init", env={"ZJTX_CONFIG": str(cfg)})
    assert res.returncode == 1 and "not valid TOML" in res.stderr and "Traceback" not in res.stderr


def test_init_demo_computes_the_flags(config_env, db_url):
    """First start is complete: the review queue has its items without waiting for the 06:30 flags run."""
    res = run_zjtx("init", "--demo", "--firms", "80", "--seed", "7")
    assert res.returncode == 0, res.stderr
    assert "flags computed" in res.stderr
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            open_flags = conn.execute(sa.text("SELECT COUNT(*) FROM flag WHERE resolved_on IS NULL")).scalar_one()
            runs = conn.execute(sa.text("SELECT status FROM job_run WHERE job = 'flags'")).scalars().all()
            firms = conn.execute(sa.text("SELECT COUNT(*) FROM enterprise")).scalar_one()
    finally:
        engine.dispose()
    assert firms == 80
    assert open_flags > 0 and f"flags computed: {open_flags}" in res.stderr
    assert runs == ["success"]  # recorded like a scheduled run: the dashboard shows when the flags were computed
