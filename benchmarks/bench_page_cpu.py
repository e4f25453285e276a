"""Benchmark: the CPU time of a warm page run (issue 13 item 4: ≤ 0.1 s for the overview, pipeline, targets and firm
pages), next to an empty page's warm run in the same process (the framework's floor), with the load average.

    PYTHONPATH=$PWD /work/main/.venv/bin/python benchmarks/bench_page_cpu.py [--db sqlite:////tmp/pagecpu/registry.db]
        [--firms 20000] [--rounds 9] [--pages overview,pipeline,targets,firm | --pages all]

CPU time, not wall time: the machine is shared, and what a page costs the server is the CPU its run takes (wall
time on a busy machine mostly measures the other processes). `time.process_time` counts every thread of the
process, so the script thread AppTest runs the page in is included.

The registry is built with registry.demo.build_demo when the database holds no firm, and kept for the next run
(bench_dashboard.prepare, which also adds the signed-in admin). The timings run in a child process, as in
bench_dashboard.py:
- cold: Streamlit's data and resource caches cleared, a new session opens the default page, then the page (the
  first visitor after new data);
- warm: the same session runs the page again, --rounds times (the median is reported): every later click.
The floor is an empty script's warm rerun, measured before and after the pages (the median of both). The scripts
are compiled once, as a server does (AppTest alone would compile app.py and the page on every run: ≈ 0.01 s).
Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_dashboard import APP, EMPTY_PAGE, ROOT, _new_session, machine, prepare

BUDGET = 0.1  # CPU seconds of a warm run above the floor (issue 13 item 4)
DEFAULT_PAGES = ("overview", "pipeline", "targets", "firm")


def _timed(run) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one run; a page that raised is an error, not a timing."""
    cpu, wall = time.process_time(), time.perf_counter()
    at = run()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if at.exception:
        raise RuntimeError(f"page raised: {at.exception[0].value}")
    return cpu, wall


def _floor(script: Path, rounds: int) -> list[float]:
    from streamlit.testing.v1 import AppTest

    session = AppTest.from_file(str(script))
    session.run()
    return [_timed(session.run)[0] for _ in range(rounds)]


def _share_script_cache() -> None:
    """AppTest compiles app.py and the page afresh on every run (a new ScriptCache each time); a server compiles
    them once. One cache for every run, so that the timings are the server's and not AppTest's."""
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test

    shared = ScriptCache()
    app_test.ScriptCache = lambda: shared  # type: ignore[attr-defined]


def child(uscc: str, rounds: int, pages: list[str]) -> dict:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from dashboard.pages import PAGES

    _share_script_cache()

    specs = [spec for spec in PAGES if spec.key in pages]
    with tempfile.TemporaryDirectory() as folder:
        empty = Path(folder) / "empty.py"
        empty.write_text(EMPTY_PAGE, encoding="utf-8")
        AppTest.from_file(str(empty)).run()  # imports paid once
        floor = _floor(empty, rounds)
        results = []
        for spec in specs:
            st.cache_data.clear()
            st.cache_resource.clear()
            at = _new_session(uscc)
            if spec.default:
                cold_cpu, cold_wall = _timed(at.run)
            else:
                at.run()  # the default page first, as a visitor arrives
                st.cache_data.clear()
                st.cache_resource.clear()
                cold_cpu, cold_wall = _timed(
                    lambda at=at, spec=spec: at.switch_page(str(spec.path.relative_to(APP.parent))).run())
            warm = [_timed(at.run) for _ in range(rounds)]
            results.append({"page": spec.key, "cold_cpu": cold_cpu, "cold_wall": cold_wall,
                            "warm_cpu": statistics.median(c for c, _ in warm),
                            "warm_wall": statistics.median(w for _, w in warm)})
        floor += _floor(empty, rounds)
    return {"floor": statistics.median(floor), "pages": results}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite:////tmp/pagecpu/registry.db")
    parser.add_argument("--firms", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--pages", default=",".join(DEFAULT_PAGES), help="comma-separated page keys, or 'all'")
    parser.add_argument("--child", metavar="USCC", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pages == "all":
        from dashboard.pages import PAGES
        pages = [spec.key for spec in PAGES]
    else:
        pages = args.pages.split(",")
    if args.child:
        print(json.dumps(child(args.child, args.rounds, pages)))
        return 0

    if args.db.startswith("sqlite:///"):
        Path(args.db.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    info = prepare(args.db, args.firms, args.seed)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "config.toml"
        config.write_text(f'[database]\nurl = "{args.db}"\n[demo]\nfirms = 0\n', encoding="utf-8")
        env = {**os.environ, "ZJTX_CONFIG": str(config), "PYTHONPATH": str(ROOT)}
        env.pop("ZJTX_DATABASE_URL", None)
        done = subprocess.run([sys.executable, __file__, "--child", info["firm"], "--rounds", str(args.rounds),
                               "--pages", ",".join(pages)],
                              env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return 2
    result = json.loads(done.stdout.strip().splitlines()[-1])
    load_after = os.getloadavg()

    print(f"Machine: {machine()}")
    print(f"Load average (1, 5, 15 min) before: {', '.join(f'{x:.1f}' for x in load_before)}; "
          f"after: {', '.join(f'{x:.1f}' for x in load_after)}")
    counts = info["counts"]
    print(f"Registry: {counts['enterprise']:,} firms, {counts['report']:,} reports ({args.db}); "
          f"warm = median of {args.rounds} reruns")
    print()
    print("| page | warm CPU (s) | warm CPU − floor (s) | warm wall (s) | cold CPU (s) | cold wall (s) | "
          f"≤ {BUDGET:g} s above floor |")
    print("|---|---|---|---|---|---|---|")
    floor = result["floor"]
    print(f"| empty page (floor) | {floor:.3f} | — | — | — | — | — |")
    for row in result["pages"]:
        above = row["warm_cpu"] - floor
        print(f"| {row['page']} | {row['warm_cpu']:.3f} | {above:.3f} | {row['warm_wall']:.3f} | "
              f"{row['cold_cpu']:.2f} | {row['cold_wall']:.2f} | {'yes' if above <= BUDGET else 'no'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
