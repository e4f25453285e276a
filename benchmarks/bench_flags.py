"""Benchmark: lifecycle flags for a large registry (target: 200,000 firms in ≤ 10 s).

Builds a synthetic Bundle in memory (vectorised, seeded), then times `compute_flags` as `zjtx flags` runs it:
every recognition's date windows, the exit rules and reporting duties of the real policies, anomalies and the
promotion evaluation of the next tier's policy. Prints one line per phase; exit status 1 if over the budget.

    /work/venv/bin/python benchmarks/bench_flags.py [--firms 200000] [--budget 10]
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=200_000)
    parser.add_argument("--budget", type=float, default=10.0, help="seconds allowed for compute_flags")
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
    return 0 if t2 - t1 <= args.budget else 1


if __name__ == "__main__":
    sys.exit(main())
