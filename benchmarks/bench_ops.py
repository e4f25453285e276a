"""Benchmark: the operations pages on the 200,000-firm demo registry.

    /work/venv/bin/python benchmarks/bench_ops.py [--db sqlite:////tmp/zjtx-bench-ops.db] [--rows 100000]

1. The registry: registry.demo.build_demo when the database holds no firm (kept for the next run), then the
   lifecycle flags stored once by the flags job's own code (registry.flag_store.store_flags), so the review queue holds
   what a live system shows.
2. Pages, as Streamlit's AppTest runs app.py + the page script, signed in as an admin: the 复核与退出 queue and each
   tab of 数据接入 — cold (data cache cleared, new session) and warm (the same session again, median of 3).
   Budget (issue 7): warm ≤ 2 s.
3. Upload: a file of --rows report rows for existing firms, loaded once with `zjtx ingest FILE` (a subprocess, as a
   user runs it) and once through the page (AppTest: file uploader + "校验并导入", the page's whole run including
   its re-render), each with its own period so both insert new rows. Budget: page ≤ 2 × CLI. The bytes' trip from
   a browser to the server is not in the page time (a local network moves 10 MB in well under a second).
Prints a Markdown table for docs/benchmarks.md; exit status 1 when a budget is missed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench_dashboard import APP, BENCH_USER, machine, prepare

WARM_BUDGET, UPLOAD_RATIO_BUDGET = 2.0, 2.0
TABS = ("导入记录", "报送完整性", "定时任务")


def store_flags_once(url: str) -> tuple[int, float | None]:
    """Open flags in the database, computing them (the flags job's code) when there are none."""
    import sqlalchemy as sa

    from registry.db import make_engine
    from registry.flag_store import store_flags
    from registry.settings import Settings

    engine = make_engine(url)
    with engine.connect() as conn:
        present = conn.execute(sa.text("SELECT COUNT(*) FROM flag WHERE resolved_on IS NULL")).scalar_one()
    took = None
    if present == 0:
        started = time.monotonic()
        store_flags(engine, datetime.now(ZoneInfo("Asia/Shanghai")).date(), Settings())
        took = time.monotonic() - started
        with engine.connect() as conn:
            present = conn.execute(sa.text("SELECT COUNT(*) FROM flag WHERE resolved_on IS NULL")).scalar_one()
    engine.dispose()
    return present, took


def reports_file(url: str, rows: int, period: str, folder: Path) -> Path:
    """`rows` monthly reports (revenue, employees) of the first `rows` firms, for `period`, as UTF-8 CSV."""
    import polars as pl
    import sqlalchemy as sa

    from registry.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        usccs = [r[0] for r in conn.execute(sa.text("SELECT uscc FROM enterprise ORDER BY id LIMIT :n"), {"n": rows})]
    engine.dispose()
    frame = pl.DataFrame({"uscc": usccs}).with_columns(
        period=pl.lit(period), revenue=(pl.int_range(pl.len()) % 997 + 100).cast(pl.Float64),
        employees=(pl.int_range(pl.len()) % 300 + 20).cast(pl.Float64))
    path = folder / f"运行数据_{period}.csv"
    frame.write_csv(path)
    return path


def timed_run(run) -> float:
    started = time.perf_counter()
    at = run()
    elapsed = time.perf_counter() - started
    if at.exception:
        raise RuntimeError(f"page raised: {at.exception[0].value}")
    return elapsed


def session(tab: str | None = None):
    from streamlit.testing.v1 import AppTest

    from dashboard import login
    from registry.access import Principal

    at = AppTest.from_file(str(APP), default_timeout=900)
    at.session_state[login.AUTH_KEY] = login.start_session(Principal(BENCH_USER, "admin", "cn"))
    at.run()
    return at


def page_timings(rounds: int) -> list[dict]:
    import streamlit as st

    out = []
    for page, tab in (("review", None), *(("intake", t) for t in TABS)):
        at = session()
        st.cache_data.clear()

        def first(at=at, page=page, tab=tab):
            if tab is not None:
                at.session_state["intake_tab"] = tab
            return at.switch_page(f"views/{page}.py").run()

        cold = timed_run(first)
        warm = statistics.median(timed_run(at.run) for _ in range(rounds))
        out.append({"page": page if tab is None else f"{page} · {tab}", "cold": cold, "warm": warm})
    return out


def upload_timings(url: str, config: Path, rows: int) -> dict:
    import os

    with tempfile.TemporaryDirectory(prefix="zjtx-bench-ops-") as tmp:
        folder = Path(tmp)
        cli_file = reports_file(url, rows, "2015-01", folder)
        page_file = reports_file(url, rows, "2015-02", folder)
        env = {**os.environ, "ZJTX_CONFIG": str(config)}
        env.pop("ZJTX_DATABASE_URL", None)
        started = time.perf_counter()
        done = subprocess.run([str(Path(sys.executable).with_name("zjtx")), "ingest", str(cli_file), "--format",
                               "json"], env=env, capture_output=True, text=True, check=False)
        cli = time.perf_counter() - started
        if done.returncode != 0 or '"loaded"' not in done.stdout:
            raise RuntimeError(f"zjtx ingest failed: {done.stderr or done.stdout}")
        at = session()
        at.switch_page("views/intake.py").run()
        at.file_uploader(key="intake_files").set_value((page_file.name, page_file.read_bytes(), "text/csv"))
        at.run()
        page = timed_run(lambda: at.button(key="intake_load").click().run())
        if not any(df.value.shape[0] for df in at.dataframe):
            raise RuntimeError("the page showed no result")
        return {"rows": rows, "bytes": page_file.stat().st_size, "cli": cli, "page": page}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite:////tmp/zjtx-bench-ops.db")
    parser.add_argument("--firms", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import os

    print(f"machine: {machine()}")
    info = prepare(args.db, args.firms, args.seed)
    print(f"registry: {info['counts']}" + (f" (built in {info['built_seconds']:.0f} s)" if info["built_seconds"]
                                            else ""))
    flags, took = store_flags_once(args.db)
    print(f"open flags: {flags:,}" + (f" (stored in {took:.0f} s)" if took else ""))
    with tempfile.TemporaryDirectory(prefix="zjtx-bench-ops-cfg-") as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text(f'[database]\nurl = "{args.db}"\n[paths]\ninbox = "inbox"\narchive = "archive"\n'
                          'quarantine = "quarantine"\noutbox = "outbox"\n[demo]\nfirms = 0\n', encoding="utf-8")
        os.environ["ZJTX_CONFIG"] = str(config)
        os.environ.pop("ZJTX_DATABASE_URL", None)
        from registry.settings import get_settings

        get_settings.cache_clear()
        pages = page_timings(args.rounds)
        upload = upload_timings(args.db, config, args.rows)

    failed = False
    print(f"\nmeasured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    print("| page | cold (s) | warm (s) | budget (warm ≤ 2 s) |\n|---|---:|---:|---|")
    for p in pages:
        ok = p["warm"] <= WARM_BUDGET
        failed |= not ok
        print(f"| {p['page']} | {p['cold']:.2f} | {p['warm']:.2f} | {'ok' if ok else '**over**'} |")
    ratio = upload["page"] / upload["cli"]
    failed |= ratio > UPLOAD_RATIO_BUDGET
    print(f"\n| {upload['rows']:,} report rows ({upload['bytes'] / 1e6:.1f} MB) | seconds |\n|---|---:|")
    print(f"| `zjtx ingest FILE` | {upload['cli']:.1f} |\n| upload + load through the 数据接入 page | "
          f"{upload['page']:.1f} |\n| ratio (budget ≤ {UPLOAD_RATIO_BUDGET:g}×) | {ratio:.2f}× |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
