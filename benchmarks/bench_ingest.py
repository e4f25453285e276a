"""Benchmark: ingest N monthly report rows (CSV) into SQLite and PostgreSQL, against the floor measured in the
same run (polars read + bare bulk insert into an unconstrained table: SQLite executemany, PostgreSQL COPY).

    /work/venv/bin/python benchmarks/bench_ingest.py --rows 1000000 [--engines sqlite,postgresql]

The timed path is the whole of `ingest_files` for the reports file: hashing, encoding detection, parsing,
vectorised validation, firm lookup, planning, bulk writes, run and archive. The goal is ≤ 2× the floor.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import polars as pl
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from registry.db import make_engine, upgrade  # noqa: E402
from registry.identity import make_uscc  # noqa: E402
from registry.settings import get_settings  # noqa: E402

PG_ADMIN_URL = os.environ.get("ZJTX_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
METRICS = ["revenue", "net_profit", "total_assets", "total_liabilities", "taxes_paid", "rd_expense", "employees",
           "invention_patents"]


def make_files(folder: Path, rows: int, seed: int = 7) -> tuple[Path, Path]:
    """An enterprises file and a reports file of `rows` monthly rows (12 months of 2024 per firm)."""
    firms = -(-rows // 12)
    rng = random.Random(seed)
    usccs = [make_uscc(rng, "330212") for _ in range(firms)]
    enterprises = pl.DataFrame({
        "uscc": usccs, "name": [f"基准测试企业{i}有限公司" for i in range(firms)], "region_code": "330212",
        "industry_code": "C35", "founded_on": "2010-01-01",
    })
    gen = np.random.default_rng(seed)
    firm_index = np.repeat(np.arange(firms), 12)[:rows]
    months = np.tile(np.arange(1, 13), firms)[:rows]
    reports = pl.DataFrame({
        "uscc": pl.Series(usccs)[firm_index],
        "period": [f"2024-{m:02d}" for m in months],
        **{m: np.round(gen.lognormal(6, 1, rows), 2) for m in METRICS if m not in ("employees", "invention_patents")},
        "employees": gen.integers(5, 900, rows), "invention_patents": gen.integers(0, 40, rows),
    })
    e_path, r_path = folder / "enterprises.csv", folder / "reports.csv"
    enterprises.write_csv(e_path)
    reports.write_csv(r_path)
    return e_path, r_path


def floor_seconds(engine: sa.Engine, path: Path) -> float:
    """polars read + bare bulk insert into a table without keys or indexes."""
    started = time.perf_counter()
    frame = pl.read_csv(path)
    columns = ", ".join(f"{c} {'TEXT' if t == pl.String else 'DOUBLE PRECISION'}" for c, t in frame.schema.items())
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS floor_report")
        conn.exec_driver_sql(f"CREATE TABLE floor_report ({columns})")
        raw = conn.connection.dbapi_connection
        if engine.dialect.name == "sqlite":
            marks = ", ".join("?" * frame.width)
            cursor = raw.cursor()
            cursor.executemany(f"INSERT INTO floor_report VALUES ({marks})", frame.iter_rows())
            cursor.close()
        else:
            with raw.cursor() as cursor, cursor.copy("COPY floor_report FROM STDIN (FORMAT csv)") as copy:
                copy.write(frame.write_csv(include_header=False).encode())
    elapsed = time.perf_counter() - started
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE floor_report")
    return elapsed


def run(engine_name: str, rows: int, work: Path, files: tuple[Path, Path]) -> dict:
    from registry.ingest import ingest_files

    if engine_name == "sqlite":
        url, cleanup = f"sqlite:///{work / f'bench-{uuid.uuid4().hex[:6]}.db'}", None
    else:
        name = f"zjtx_bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

        def cleanup() -> None:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()
    engine = make_engine(url)
    try:
        upgrade(engine)
        enterprises, reports = files
        started = time.perf_counter()
        [firms] = ingest_files(engine, [enterprises])
        firms_seconds = time.perf_counter() - started
        assert firms.status == "loaded", firms

        floor = floor_seconds(engine, reports)
        started = time.perf_counter()
        [result] = ingest_files(engine, [reports])
        seconds = time.perf_counter() - started
        assert result.status == "loaded" and result.rows_loaded == rows, result.to_json()

        # A corrected re-send of the same rows (every value changed): updates plus report_revision history.
        resend = work / "reports-corrected.csv"
        pl.read_csv(reports, infer_schema=False).with_columns(
            (pl.col("revenue").cast(pl.Float64) + 1).alias("revenue")).write_csv(resend)
        started = time.perf_counter()
        [again] = ingest_files(engine, [resend])
        resend_seconds = time.perf_counter() - started
        assert again.rows_loaded == rows
        return {"engine": engine_name, "rows": rows, "firms": firms.rows_loaded, "firms_s": firms_seconds,
                "floor_s": floor, "ingest_s": seconds, "ratio": seconds / floor, "rows_per_s": rows / seconds,
                "floor_rows_per_s": rows / floor, "resend_s": resend_seconds}
    finally:
        engine.dispose()
        if cleanup:
            cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # Archive and quarantine go to the scratch folder, not the project's data/.
        config = work / "config.toml"
        config.write_text('[paths]\ninbox = "inbox"\narchive = "archive"\nquarantine = "quarantine"\n'
                          'outbox = "outbox"\n', encoding="utf-8")
        os.environ["ZJTX_CONFIG"] = str(config)
        get_settings.cache_clear()
        started = time.perf_counter()
        files = make_files(work, args.rows)
        print(f"generated {args.rows:,} report rows in {time.perf_counter() - started:.1f}s "
              f"({files[1].stat().st_size / 1e6:.0f} MB)", flush=True)
        results = [run(name, args.rows, work, files) for name in args.engines.split(",")]
    print("\n| engine | rows | floor (read + bare insert) | ingest | ratio | ingest rows/s | floor rows/s | "
          "corrected re-send |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['engine']} | {r['rows']:,} | {r['floor_s']:.1f} s | {r['ingest_s']:.1f} s | {r['ratio']:.2f}× | "
              f"{r['rows_per_s']:,.0f} | {r['floor_rows_per_s']:,.0f} | {r['resend_s']:.1f} s |")


if __name__ == "__main__":
    main()
