"""Benchmark: lifecycle flags for a large registry (target: 200,000 firms in ≤ 10 s).

Builds a synthetic Bundle in memory (vectorised, seeded), then times `compute_flags` as `zjtx flags` runs it:
every recognition's date windows, the exit rules and reporting duties of the real policies, anomalies and the
promotion evaluation of the next tier's policy. Prints one line per phase; exit status 1 if over the budget.

    /work/venv/bin/python benchmarks/bench_flags.py [--firms 200000] [--budget 10] [--db sqlite:////tmp/b.db]

With --db the synthetic registry is written once into that (migrated, empty) database and the whole `zjtx
flags` path is timed too: load_bundle from the database, then compute_flags.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date

import numpy as np
import polars as pl

from registry.lifecycle import compute_flags
from registry.policy.bundle import Bundle

AS_OF = date(2024, 6, 30)
REGIONS = ["110108", "130102", "310115", "330212", "440305", "460105", "510107", "650102", "659001"]
JURISDICTION_OF = {"11": "cn-bj", "13": "cn-he", "31": "cn-sh", "33": "cn-zj", "44": "cn-gd", "46": "cn-hi",
                   "51": "cn-sc", "65": "cn-xj"}
TIERS = ["innovative_sme", "zjtx_sme", "little_giant", "key_little_giant"]


def synthetic_bundle(firms: int, seed: int = 2021) -> Bundle:
    rng = np.random.default_rng(seed)
    # USCC-shaped unique ids: the flags never validate check characters, so a counter is enough here.
    uscc = pl.Series("uscc", [f"91{i:016d}" for i in range(firms)])
    region = pl.Series(rng.choice(REGIONS, firms))
    enterprises = pl.DataFrame({
        "uscc": uscc, "name": "企业" + uscc, "region_code": region,
        "industry_code": pl.Series(rng.choice(["C35", "C3562", "C39", "I65"], firms)),
        "founded_on": pl.Series([date(2010, 1, 1)] * firms),
        "listing_board": pl.Series(rng.choice(["none", "none", "none", "main"], firms)),
    })
    tier = pl.Series(rng.choice(TIERS, firms, p=[0.45, 0.35, 0.17, 0.03]))
    recognized = pl.Series(pl.date_range(date(2019, 1, 1), date(2024, 6, 1), "1d", eager=True).sample(
        firms, with_replacement=True, seed=seed))
    province_jurisdiction = region.str.slice(0, 2).replace_strict(JURISDICTION_OF, default="cn")
    recognitions = pl.DataFrame({
        "uscc": uscc, "tier": tier,
        # National tiers are recognised by cn, the others by the firm's province.
        "jurisdiction": pl.Series(np.where(np.isin(tier.to_numpy(), ["little_giant", "key_little_giant"]), "cn",
                                           province_jurisdiction.to_numpy())),
        "batch": pl.Series(rng.choice(["1", "2", "3", "4"], firms)),
        "recognized_on": recognized, "valid_until": None, "status": "active",
        "id": pl.int_range(0, firms, eager=True),
    })
    rev0 = rng.lognormal(8.5, 1.0, firms).round(1)
    reports = pl.concat([
        pl.DataFrame({"uscc": uscc, "period": str(y), "revenue": rev0 * g,
                      "rd_expense": rev0 * g * rng.uniform(0.01, 0.08, firms),
                      "employees": rng.integers(20, 1500, firms).astype(float),
                      "total_assets": rev0 * 1.5, "total_liabilities": rev0 * 0.6})
        for y, g in ((2021, 1.0), (2022, rng.uniform(0.6, 1.3, firms)), (2023, rng.uniform(0.6, 1.3, firms)))
    ])
    some = rng.choice(firms, firms // 50, replace=False)
    events = pl.DataFrame({
        "uscc": uscc.gather(some), "event": pl.Series(rng.choice(["major_accident", "rename", "tax_violation"],
                                                                 len(some))),
        "occurred_on": pl.Series([date(2023, 5, 1)] * len(some)),
    })
    return Bundle.of(enterprises=enterprises, recognitions=recognitions, reports=reports, events=events)


def write_to_database(bundle: Bundle, url: str) -> None:
    """Insert the synthetic registry (enterprises, recognitions, annual reports, events) into an empty database."""
    import sqlalchemy as sa

    from registry.db import make_engine, upgrade
    from registry.models import Enterprise, Event, Recognition, Report, utcnow

    engine = make_engine(url)
    upgrade(engine)
    now = utcnow()
    with engine.begin() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(Enterprise.__table__)).scalar_one():
            return  # already written by an earlier run
        ents = bundle.enterprises.with_row_index("id", offset=1).with_columns(
            name_norm=pl.col("name"), province_code=pl.col("region_code").str.slice(0, 2),
            created_at=pl.lit(now), updated_at=pl.lit(now))
        ids = ents.select("uscc", enterprise_id=pl.col("id").cast(pl.Int64))
        conn.execute(sa.insert(Enterprise.__table__), ents.drop("founded_on").to_dicts())
        recs = bundle.recognitions.join(ids, on="uscc").select(
            "enterprise_id", "tier", "jurisdiction", "batch", "recognized_on", "status",
            created_at=pl.lit(now))
        conn.execute(sa.insert(Recognition.__table__), recs.to_dicts())
        reps = bundle.reports.join(ids, on="uscc").select(
            "enterprise_id", "period", "period_type", "year", period_end=pl.date(pl.col("year"), 12, 31),
            basis=pl.lit("period"), revenue="revenue", rd_expense="rd_expense", employees="employees",
            total_assets="total_assets", total_liabilities="total_liabilities", updated_at=pl.lit(now))
        conn.execute(sa.insert(Report.__table__), reps.to_dicts())
        evs = bundle.events.join(ids, on="uscc").select("enterprise_id", "event", "occurred_on")
        conn.execute(sa.insert(Event.__table__), evs.to_dicts())
    engine.dispose()


def time_cli_path(url: str) -> tuple[float, float, int]:
    from registry.db import make_engine
    from registry.policy.bundle import load_bundle

    engine = make_engine(url)
    t0 = time.perf_counter()
    bundle = load_bundle(engine)
    t1 = time.perf_counter()
    flags = compute_flags(bundle, AS_OF)
    t2 = time.perf_counter()
    engine.dispose()
    return t1 - t0, t2 - t1, len(flags)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=200_000)
    parser.add_argument("--budget", type=float, default=10.0, help="seconds allowed for compute_flags")
    parser.add_argument("--db", help="also time the zjtx flags path against this database URL")
    args = parser.parse_args()
    t0 = time.perf_counter()
    bundle = synthetic_bundle(args.firms)
    t1 = time.perf_counter()
    flags = compute_flags(bundle, AS_OF)  # cold: includes reading and validating the policy files
    t2 = time.perf_counter()
    compute_flags(bundle, AS_OF)
    t3 = time.perf_counter()
    compute_flags(bundle, AS_OF, promotions=False)
    t4 = time.perf_counter()
    print(f"build bundle              {t1 - t0:6.2f} s  ({args.firms} firms)")
    print(f"flags, cold (as the CLI)  {t2 - t1:6.2f} s  ({len(flags)} flags)")
    print(f"flags, warm               {t3 - t2:6.2f} s")
    print(f"flags, without promotion  {t4 - t3:6.2f} s")
    print(flags.group_by("flag").len().sort("flag"))
    if args.db:
        t5 = time.perf_counter()
        write_to_database(bundle, args.db)
        print(f"write database            {time.perf_counter() - t5:6.2f} s  (once)")
        load, compute, n = time_cli_path(args.db)
        print(f"zjtx flags path: load_bundle {load:6.2f} s + compute_flags {compute:6.2f} s  ({n} flags)")
    return 0 if t2 - t1 <= args.budget else 1


if __name__ == "__main__":
    sys.exit(main())
