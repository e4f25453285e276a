"""Benchmark: build the demo registry (default 200,000 firms) on SQLite and PostgreSQL, next to the floor.

The floor is a bare bulk insert of the very same rows, by the same method (executemany on SQLite, COPY on
PostgreSQL), into tables with the same columns but no primary key, index, foreign key or NOT NULL. The ratio
floor rows/s ÷ build rows/s says what generation, indexes and constraints cost (goal: ≤ 3×). The machine is shared,
so each step also records this process's CPU time: on SQLite (in-process) the CPU ratio is the steadier figure.

    /work/venv/bin/python benchmarks/bench_demo.py [--firms 200000] [--seed 2021] [--engines sqlite,postgresql]

PostgreSQL: a database is created for the run and dropped afterwards (admin URL: --pg-admin-url or
ZJTX_TEST_PG_ADMIN_URL, default postgres@127.0.0.1:5432). Prints the machine and a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import SQLModel

import registry.models  # noqa: F401 - registers the tables on SQLModel.metadata
from registry.db import make_engine, upgrade
from registry.demo import DemoFrames, build_demo, generate_demo, with_database_ids
from registry.ingest.bulk import insert_frame

PG_ADMIN_URL = os.environ.get("ZJTX_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return f"{os.cpu_count()} CPUs (nproc), {mem_kb / 1024 / 1024:.1f} GiB RAM, {cpu}, Python {platform.python_version()}"


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="zjtx_bench_") as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    name = f"zjtx_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def bare_tables(frames: DemoFrames) -> sa.MetaData:
    """floor_<table>: the same column names and types, nothing else (no key, index, constraint)."""
    meta = sa.MetaData()
    for name, frame in frames.tables():
        source = SQLModel.metadata.tables[name]
        sa.Table(f"floor_{name}", meta,
                 *(sa.Column(c, source.c[c].type, nullable=True) for c in frame.columns))
    return meta


class Clock:
    """Wall and CPU (this process) seconds of a block."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def floor_insert(engine: sa.Engine, frames: DemoFrames) -> Clock:
    meta = bare_tables(frames)
    meta.create_all(engine)
    try:
        with Clock() as clock, engine.begin() as conn:
            for name, frame in frames.tables():
                insert_frame(conn, f"floor_{name}", frame)
        return clock
    finally:
        meta.drop_all(engine)


def run(kind: str, firms: int, seed: int, as_of: date) -> dict:
    with database(kind) as url:
        engine = make_engine(url)
        upgrade(engine)
        with Clock() as generate:
            frames = generate_demo(firms, seed, as_of)
        with Clock() as build:
            summary = build_demo(engine, firms=firms, seed=seed, as_of=as_of)
        # The same rows as the build wrote (ids from 1, the database was empty), timestamps included.
        rows = with_database_ids(frames, {name: 0 for name, _ in frames.tables()}, datetime.now(UTC))
        n_rows = sum(df.height for _, df in rows.tables())
        floor = floor_insert(engine, rows)
        engine.dispose()
    return {"engine": kind, "rows": n_rows, "generate": generate, "build": build, "floor": floor,
            "summary": summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date.today())
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"machine: {machine()}", flush=True)
    print(f"demo: {args.firms} firms, seed {args.seed}, as_of {args.as_of}", flush=True)
    results = []
    for kind in args.engines.split(","):
        r = run(kind, args.firms, args.seed, args.as_of)
        results.append(r)
        print(f"{kind}: generate {r['generate'].wall:.1f} s (cpu {r['generate'].cpu:.1f}), build "
              f"{r['build'].wall:.1f} s (cpu {r['build'].cpu:.1f}), floor {r['floor'].wall:.1f} s "
              f"(cpu {r['floor'].cpu:.1f}); {r['summary']}", flush=True)
    print()
    print("| engine | rows | generate s | build s | build rows/s | floor s | floor rows/s | ratio | "
          "ratio without generation | CPU ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        g, b, f = r["generate"], r["build"], r["floor"]
        cpu = f"{b.cpu / f.cpu:.2f}×" if r["engine"] == "sqlite" else "n/a (server-side work)"
        print(f"| {r['engine']} | {r['rows']:,} | {g.wall:.1f} | {b.wall:.1f} | {r['rows'] / b.wall:,.0f} | "
              f"{f.wall:.1f} | {r['rows'] / f.wall:,.0f} | {b.wall / f.wall:.2f}× | "
              f"{(b.wall - g.wall) / f.wall:.2f}× | {cpu} |")


if __name__ == "__main__":
    main()
