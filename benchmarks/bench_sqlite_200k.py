"""Benchmark: the embedded default (SQLite) at provincial scale — the whole-registry CLI paths, end to end.

    .venv/bin/python benchmarks/bench_sqlite_200k.py [--db sqlite:////tmp/bench200k/zjtx.db] [--firms 200000]
                                                    [--seed 2021] [--rounds 2]

Each command runs as a user runs it — a new `python -m cli.main ...` process on the database (imports, reading,
evaluating, writing its output) — and is timed wall and CPU (the child's user + system time). Next to it, in the same
run, the **floor**: Python's own sqlite3 reading every row of the tables these commands read (enterprise,
recognition, report, attribute, event) in a fresh process, `SELECT *` fetched to Python tuples — the least any
command that looks at the whole registry must pay on this engine. The ratio to the floor is what holds on a shared
machine; the load average is printed with every line.

The database is built with registry.demo.build_demo when it holds no firm (about 100 s for 200,000 firms).
Budgets (issue 13): evaluate of a full policy ≤ 10 s, flags ≤ 10 s end to end. Exit status 1 when one is missed.
Prints the machine and a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_SECONDS = 10.0
FLOOR_TABLES = ("enterprise", "recognition", "report", "attribute", "event")

FLOOR_SCRIPT = """
import sqlite3, sys
path, tables = sys.argv[1], sys.argv[2:]
conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
for table in tables:
    conn.execute(f"SELECT * FROM {table}").fetchall()
"""


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one child process."""
    before = os.times()
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - started
    after = os.times()
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def prepare(url: str, firms: int, seed: int) -> dict[str, int]:
    import sqlalchemy as sa

    from registry.db import make_engine, upgrade
    from registry.demo import build_demo

    engine = make_engine(url)
    upgrade(engine)
    with engine.connect() as conn:
        present = conn.execute(sa.text("SELECT COUNT(*) FROM enterprise")).scalar_one()
    if present == 0:
        started = time.monotonic()
        build_demo(engine, firms=firms, seed=seed, progress=sys.stderr.isatty())
        print(f"built the demo registry in {time.monotonic() - started:.0f} s", file=sys.stderr)
    with engine.connect() as conn:
        found = {table: conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
                 for table in ("enterprise", "recognition", "report")}
    engine.dispose()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--db", default="sqlite:////tmp/bench200k/zjtx.db")
    parser.add_argument("--firms", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    if not args.db.startswith("sqlite:///"):
        parser.error("--db must be a SQLite URL: this benchmark measures the embedded default")
    rows_found = prepare(args.db, args.firms, args.seed)
    path = args.db.removeprefix("sqlite:///")
    env = {**os.environ, "ZJTX_DATABASE_URL": args.db, "PYTHONPATH": str(ROOT), "COLUMNS": "120"}
    cli = [sys.executable, "-m", "cli.main"]
    out = Path(tempfile.mkdtemp(prefix="zjtx-bench-"))
    commands = {
        "evaluate --tier little_giant": [*cli, "evaluate", "--tier", "little_giant"],
        "evaluate --policy cn/zjtx-sme/2022": [*cli, "evaluate", "--policy", "cn/zjtx-sme/2022"],
        "evaluate --policy cn/zjtx-sme/2022 --format csv --output F": [
            *cli, "evaluate", "--policy", "cn/zjtx-sme/2022", "--format", "csv", "--output", str(out / "e.csv")],
        "evaluate --policy cn/zjtx-sme/2022 --format json --output F": [
            *cli, "evaluate", "--policy", "cn/zjtx-sme/2022", "--format", "json", "--output", str(out / "e.json")],
        "flags": [*cli, "flags"],
        "run-job flags": [*cli, "run-job", "flags"],
        "review-risk": [*cli, "review-risk"],
    }
    print(f"machine: {machine()}")
    print(f"rows: {rows_found}")
    lines = []
    missed = []
    for name, command in commands.items():
        walls, cpus, floors, loads = [], [], [], []
        for _ in range(args.rounds):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", FLOOR_SCRIPT, path, *FLOOR_TABLES], check=True)
            floors.append(time.perf_counter() - started)
            loads.append(f"{os.getloadavg()[0]:.1f}")
            wall, cpu = timed(command, env)
            walls.append(wall)
            cpus.append(cpu)
        wall, cpu, floor = statistics.median(walls), statistics.median(cpus), statistics.median(floors)
        goal = "—"
        if "--format" not in name and name != "review-risk":
            goal = "met" if wall <= BUDGET_SECONDS else "**missed**"
            if wall > BUDGET_SECONDS:
                missed.append(name)
        lines.append(f"| `zjtx {name}` | {wall:.1f} s | {cpu:.1f} s | {floor:.1f} s | {wall / floor:.2f}× | {goal} "
                     f"| {', '.join(loads)} |")
        print(f"{name}: wall {wall:.1f} s, CPU {cpu:.1f} s, floor {floor:.1f} s", file=sys.stderr, flush=True)
    print()
    print("| command (SQLite) | wall | CPU | floor: sqlite3 reads the tables | × floor | goal ≤ 10 s | load |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(lines))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
