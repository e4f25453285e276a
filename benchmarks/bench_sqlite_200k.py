"""Benchmark: the whole-registry CLI paths end to end — the embedded default (SQLite) at provincial scale, or
PostgreSQL at national scale.

    .venv/bin/python benchmarks/bench_sqlite_200k.py [--db sqlite:////tmp/bench200k/zjtx.db] [--firms 200000]
                                                    [--seed 2021] [--rounds 2] [--only evaluate-tier,evaluate-csv]
    .venv/bin/python benchmarks/bench_sqlite_200k.py --db postgresql+psycopg://postgres@127.0.0.1:5432/zjtx_bench_1m \
                                                    --firms 1000000 --only evaluate-tier,evaluate-csv

Each command runs as a user runs it — a new `python -m cli.main ...` process on the database (imports, reading,
evaluating, writing its output) — and is timed wall and CPU (the child's user + system time). Next to it, in the same
run, the **floor**: the engine's own fastest client reading every row of the tables these commands read (enterprise,
recognition, report, attribute, event) in a fresh process — the least any command that looks at the whole registry
must pay on this engine:
- SQLite: Python's sqlite3, `SELECT *` fetched to Python tuples;
- PostgreSQL: psycopg `COPY <table> TO STDOUT (FORMAT binary)`, the stream received and discarded undecoded (the
  server's fastest output; ADBC, which zjtx reads with, is this same binary COPY plus decoding into Arrow).
The ratio to the floor is what holds on a shared machine; the load average is printed with every line.

The database is built with registry.demo.build_demo when it holds no firm (about 100 s for 200,000 firms on SQLite,
2.5–5 min for 1,000,000 on PostgreSQL; a PostgreSQL database must exist: `createdb`). Budgets: issue 13 — on SQLite
evaluate of a full policy ≤ 10 s and flags ≤ 10 s; on PostgreSQL evaluation at a million firms ≤ 20 s (any format),
flags ≤ 60 s (issue 8). Exit status 1 when one is missed. Prints the machine and a Markdown table for
docs/benchmarks.md.
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
FLOOR_TABLES = ("enterprise", "recognition", "report", "attribute", "event")

SQLITE_FLOOR = """
import sqlite3, sys
path, tables = sys.argv[1], sys.argv[2:]
conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
for table in tables:
    conn.execute(f"SELECT * FROM {table}").fetchall()
"""

POSTGRESQL_FLOOR = """
import psycopg, sys
dsn, tables = sys.argv[1], sys.argv[2:]
with psycopg.connect(dsn) as conn, conn.cursor() as cur:
    for table in tables:
        with cur.copy(f"COPY {table} TO STDOUT (FORMAT binary)") as copy:
            while copy.read():
                pass
"""

# Commands: id (for --only) -> (name shown, arguments after `zjtx`).
COMMANDS = {
    "evaluate-tier": ("evaluate --tier little_giant", ["evaluate", "--tier", "little_giant"]),
    "evaluate-table": ("evaluate --policy cn/zjtx-sme/2022", ["evaluate", "--policy", "cn/zjtx-sme/2022"]),
    "evaluate-csv": ("evaluate --policy cn/zjtx-sme/2022 --format csv --output F",
                     ["evaluate", "--policy", "cn/zjtx-sme/2022", "--format", "csv", "--output", "{out}/e.csv"]),
    "evaluate-json": ("evaluate --policy cn/zjtx-sme/2022 --format json --output F",
                      ["evaluate", "--policy", "cn/zjtx-sme/2022", "--format", "json", "--output", "{out}/e.json"]),
    "flags": ("flags", ["flags"]),
    "run-job-flags": ("run-job flags", ["run-job", "flags"]),
    "review-risk": ("review-risk", ["review-risk"]),
}
# Budgets in seconds per engine (issue 13 items 3 and 5, issue 8); a command without one is reported, not judged.
BUDGETS = {
    "sqlite": {"evaluate-tier": 10.0, "evaluate-table": 10.0, "flags": 10.0, "run-job-flags": 10.0},
    "postgresql": {"evaluate-tier": 20.0, "evaluate-table": 20.0, "evaluate-csv": 20.0, "evaluate-json": 20.0,
                   "flags": 60.0},
}


def machine(url: str) -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    engine = f"SQLite {sqlite3.sqlite_version}"
    if not url.startswith("sqlite"):
        import psycopg

        with psycopg.connect(libpq_dsn(url)) as conn:
            engine = "PostgreSQL " + str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    return (f"{cpu}, {os.cpu_count()} cores, {mem_kb / 1024 / 1024:.1f} GB RAM, Python {platform.python_version()}, "
            f"{engine}")


def libpq_dsn(url: str) -> str:
    """postgresql+psycopg://… → postgresql://… (what psycopg itself accepts)."""
    return "postgresql://" + url.split("://", 1)[1]


def floor_command(url: str) -> list[str]:
    if url.startswith("sqlite:///"):
        return [sys.executable, "-c", SQLITE_FLOOR, url.removeprefix("sqlite:///"), *FLOOR_TABLES]
    return [sys.executable, "-c", POSTGRESQL_FLOOR, libpq_dsn(url), *FLOOR_TABLES]


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
    parser.add_argument("--db", default="sqlite:////tmp/bench200k/zjtx.db",
                        help="a SQLite or PostgreSQL (postgresql+psycopg://…) URL")
    parser.add_argument("--firms", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", help=f"comma-separated command ids, of: {', '.join(COMMANDS)}")
    args = parser.parse_args(argv)
    if args.db.startswith("sqlite:///"):
        engine_name = "sqlite"
    elif args.db.startswith("postgresql"):
        engine_name = "postgresql"
    else:
        parser.error("--db must be a SQLite (sqlite:///…) or PostgreSQL (postgresql+psycopg://…) URL")
    chosen = args.only.split(",") if args.only else list(COMMANDS)
    if unknown := [key for key in chosen if key not in COMMANDS]:
        parser.error(f"unknown command id(s) {unknown}; choose from {', '.join(COMMANDS)}")
    rows_found = prepare(args.db, args.firms, args.seed)
    env = {**os.environ, "ZJTX_DATABASE_URL": args.db, "PYTHONPATH": str(ROOT), "COLUMNS": "120"}
    out = Path(tempfile.mkdtemp(prefix="zjtx-bench-"))
    budgets = BUDGETS[engine_name]
    print(f"machine: {machine(args.db)}")
    print(f"rows: {rows_found}")
    lines = []
    missed = []
    for key in chosen:
        name, arguments = COMMANDS[key]
        command = [sys.executable, "-m", "cli.main", *(a.format(out=out) for a in arguments)]
        walls, cpus, floors, loads = [], [], [], []
        for _ in range(args.rounds):
            started = time.perf_counter()
            subprocess.run(floor_command(args.db), check=True)
            floors.append(time.perf_counter() - started)
            loads.append(f"{os.getloadavg()[0]:.1f}")
            wall, cpu = timed(command, env)
            walls.append(wall)
            cpus.append(cpu)
        wall, cpu, floor = statistics.median(walls), statistics.median(cpus), statistics.median(floors)
        goal = "—"
        if key in budgets:
            goal = f"≤ {budgets[key]:.0f} s " + ("met" if wall <= budgets[key] else "**missed**")
            if wall > budgets[key]:
                missed.append(name)
        lines.append(f"| `zjtx {name}` | {wall:.1f} s | {cpu:.1f} s | {floor:.1f} s | {wall / floor:.2f}× | {goal} "
                     f"| {', '.join(loads)} |")
        print(f"{name}: wall {wall:.1f} s ({', '.join(f'{w:.1f}' for w in walls)}), CPU {cpu:.1f} s, "
              f"floor {floor:.1f} s ({', '.join(f'{f:.1f}' for f in floors)}), load {', '.join(loads)}",
              file=sys.stderr, flush=True)
    floor_name = ("sqlite3 reads the tables" if engine_name == "sqlite"
                  else "psycopg binary COPY of the tables")
    print()
    print(f"| command ({engine_name}) | wall | CPU | floor: {floor_name} | × floor | goal | load |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(lines))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
