"""Benchmark: every dashboard page on the 200,000-firm demo registry (three years of reports), timed as Streamlit's
AppTest runs the script — cold and warm — next to an empty page in the same process (the framework's floor), and
the peak memory of a process that visits every page.

    /work/venv/bin/python benchmarks/bench_dashboard.py [--db sqlite:////tmp/zjtx-bench-dashboard.db]
                                                       [--firms 200000] [--seed 2021] [--rounds 3]
                                                       [--pages overview,monitoring,pipeline,targets,firm]

The database is built with registry.demo.build_demo when it holds no firm (minutes for 200,000 firms), and kept
for the next run. The timings run in a child process (so building the registry does not count in its memory):
- cold: Streamlit's data cache cleared and a new session, then one run of app.py + the page (what the first
  visitor after new data waits for; Python imports are already paid by the floor run);
- warm: the same session run again (cache hot: what every later click waits for); the median of --rounds.
Budgets (issue 5): warm ≤ 2 s, cold ≤ 5 s, the firm page warm ≤ 1 s, peak memory ≤ 2 GB; the 运行监测 page warm
≤ 1 s (issue 17). The 1-minute load average is recorded with every page. Exit status 1 when a
budget is missed. Prints the machine and a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboard" / "app.py"
BENCH_USER = "bench_admin"
WARM_BUDGET, COLD_BUDGET, FIRM_WARM_BUDGET, MEMORY_BUDGET_MB = 2.0, 5.0, 1.0, 2048
ONE_SECOND_PAGES = ("firm", "monitoring")  # warm ≤ FIRM_WARM_BUDGET (issues 5 and 17)
EMPTY_PAGE = 'import streamlit as st\nst.title("empty")\n'


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{cpu}, {os.cpu_count()} cores, {mem_kb / 1024 / 1024:.1f} GB RAM, load average {load}, "
            f"Python {platform.python_version()}")


def prepare(url: str, firms: int, seed: int) -> dict:
    """Build the demo registry when the database is empty; make sure the benchmark's admin account exists."""
    import sqlalchemy as sa

    from registry.db import make_engine, upgrade
    from registry.demo import build_demo

    engine = make_engine(url)
    upgrade(engine)
    with engine.connect() as conn:
        present = conn.execute(sa.text("SELECT COUNT(*) FROM enterprise")).scalar_one()
    built = None
    if present == 0:
        started = time.monotonic()
        build_demo(engine, firms=firms, seed=seed, progress=sys.stderr.isatty())
        built = time.monotonic() - started
    with engine.begin() as conn:
        if conn.execute(sa.text("SELECT 1 FROM app_user WHERE username = :u"), {"u": BENCH_USER}).first() is None:
            conn.execute(sa.text("INSERT INTO app_user (username, role, jurisdiction, active, failed_logins, "
                                 "created_at) VALUES (:u, 'admin', 'cn', :t, 0, :c)"),
                         {"u": BENCH_USER, "t": True, "c": datetime.now(UTC)})
        counts = {table: conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
                  for table in ("enterprise", "recognition", "report", "firm_target")}
        # The firm page is timed on a 重点小巨人 with a 目标表: the heaviest firm page there is.
        firm = conn.execute(sa.text("SELECT e.uscc FROM enterprise e JOIN firm_target t ON t.enterprise_id = e.id "
                                    "ORDER BY e.id LIMIT 1")).scalar_one()
    engine.dispose()
    return {"counts": counts, "firm": firm, "built_seconds": built}


# ---------------------------------------------------------------- the child process: visits and timings


def _new_session(uscc: str):
    from streamlit.testing.v1 import AppTest

    from registry.access import Principal

    at = AppTest.from_file(str(APP), default_timeout=600)
    principal = Principal(BENCH_USER, "admin", "cn")
    try:
        from dashboard import login
    except ModuleNotFoundError:  # before sign-in existed, the session key was the principal itself
        at.session_state["principal"] = principal
    else:
        at.session_state[login.AUTH_KEY] = login.start_session(principal)
    at.query_params["uscc"] = uscc
    return at


def _timed(run) -> float:
    started = time.perf_counter()
    at = run()
    elapsed = time.perf_counter() - started
    if at.exception:
        raise RuntimeError(f"page raised: {at.exception[0].value}")
    return elapsed


def child(uscc: str, rounds: int, pages: list[str] | None = None) -> dict:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from dashboard.pages import PAGES

    with tempfile.TemporaryDirectory() as folder:
        empty = Path(folder) / "empty.py"
        empty.write_text(EMPTY_PAGE, encoding="utf-8")
        AppTest.from_file(str(empty)).run()  # imports paid once
        # Like the pages: cold = a new session's first run, warm = the same session run again.
        floor_cold = statistics.median(_timed(lambda: AppTest.from_file(str(empty)).run()) for _ in range(rounds))
        session = AppTest.from_file(str(empty))
        session.run()
        floor = statistics.median(_timed(session.run) for _ in range(rounds))
    results = []
    for spec in PAGES:
        if pages and spec.key not in pages:
            continue
        st.cache_data.clear()
        at = _new_session(uscc)
        if spec.default:
            cold = _timed(at.run)
        else:
            at.run()  # the default page first, as a visitor arrives; its run warms the shared parts
            st.cache_data.clear()
            cold = _timed(lambda at=at, spec=spec: at.switch_page(str(spec.path.relative_to(APP.parent))).run())
        warm = statistics.median(_timed(at.run) for _ in range(rounds))
        results.append({"page": spec.key, "cold": cold, "warm": warm, "load": os.getloadavg()[0]})
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"floor": floor, "floor_cold": floor_cold, "pages": results, "peak_mb": peak_mb}


# ---------------------------------------------------------------- report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite:////tmp/zjtx-bench-dashboard.db")
    parser.add_argument("--firms", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pages", help="comma-separated page keys to time (default: every page)")
    parser.add_argument("--child", metavar="USCC", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.rounds, args.pages.split(",") if args.pages else None)))
        return 0

    info = prepare(args.db, args.firms, args.seed)
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "config.toml"
        config.write_text(f'[database]\nurl = "{args.db}"\n[demo]\nfirms = 0\n', encoding="utf-8")
        env = {**os.environ, "ZJTX_CONFIG": str(config)}
        env.pop("ZJTX_DATABASE_URL", None)
        pages = ["--pages", args.pages] if args.pages else []
        done = subprocess.run([sys.executable, __file__, "--child", info["firm"], "--rounds", str(args.rounds), *pages],
                              env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return 2
    result = json.loads(done.stdout.strip().splitlines()[-1])

    print(f"Machine: {machine()}")
    counts = info["counts"]
    print(f"Registry: {counts['enterprise']:,} firms, {counts['recognition']:,} recognitions, "
          f"{counts['report']:,} reports, {counts['firm_target']:,} 目标表 rows ({args.db})")
    if info["built_seconds"] is not None:
        print(f"Built the demo registry in {info['built_seconds']:.0f} s")
    print()
    print("| page | cold (s) | warm (s) | warm − empty page (s) | budget | load |")
    print("|---|---|---|---|---|---|")
    print(f"| empty page (floor) | {result['floor_cold']:.2f} | {result['floor']:.2f} | — | — | — |")
    missed = []
    for row in result["pages"]:
        warm_budget = FIRM_WARM_BUDGET if row["page"] in ONE_SECOND_PAGES else WARM_BUDGET
        ok = row["warm"] <= warm_budget and row["cold"] <= COLD_BUDGET
        if not ok:
            missed.append(row["page"])
        print(f"| {row['page']} | {row['cold']:.2f} | {row['warm']:.2f} | {row['warm'] - result['floor']:.2f} | "
              f"{'ok' if ok else 'MISSED'} (warm ≤ {warm_budget:g}, cold ≤ {COLD_BUDGET:g}) | {row['load']:.1f} |")
    memory_ok = result["peak_mb"] <= MEMORY_BUDGET_MB
    print(f"\nPeak memory of the process that visited every page: {result['peak_mb']:,.0f} MB "
          f"({'ok' if memory_ok else 'MISSED'}, budget {MEMORY_BUDGET_MB:,} MB)")
    if missed or not memory_ok:
        print(f"Over budget: {', '.join(missed + ([] if memory_ok else ['memory']))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
