"""Benchmark: the dashboard under concurrent users (issue 8) — N dashboard processes against one database, U
simulated users browsing the main pages at once, next to one user alone in the same run.

    /work/venv/bin/python benchmarks/bench_load.py --db postgresql+psycopg://postgres@127.0.0.1:5432/zjtx_1m \
        [--users 20] [--processes 2] [--duration 120] [--single-rounds 3] [--pages overview,registry,...]

Each simulated user is a real browser session as far as the server can tell: a websocket speaking Streamlit's
protocol (tests/dashboard_ws.py) that signs in through the login form and opens pages one after another, each as
soon as the previous one has finished (no think time: a harsher load than 20 people reading). Users are spread
over the processes like sticky sessions do. Before timing, every page is opened once on every process (warm:
the data caches are filled, as on a server that has been up for a while).

Reported: per page p50/p95 for one user alone (--single-rounds visits of each page), then the same under --users
concurrent users for --duration seconds; page runs per second; failures; the peak memory (VmHWM) of each
dashboard process; the machine and its load average. Goal (issue 8): every page ≤ 3 s warm at p95 with 20 users
on 1,000,000 firms, dashboard process ≤ 2 GB. Exit status 1 when a goal is missed.

The database must already hold the registry (`zjtx init --demo --firms 1000000`); the benchmark adds a sign-in
account `bench_load` if it is missing and changes nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from dashboard_ws import DashboardSession, PageError  # noqa: E402
from serving import free_port, wait_until_healthy  # noqa: E402

USER = "bench_load"
DEFAULT_PAGES = "overview,registry,firm,pipeline,targets,review,intake,policies,briefing"
P95_GOAL, MEMORY_GOAL_MB = 3.0, 2048


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return f"{cpu}, {os.cpu_count()} cores, {mem_kb / 1024 / 1024:.1f} GB RAM, Python {platform.python_version()}"


def load_average() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def prepare(url: str) -> tuple[str, str, dict[str, int]]:
    """A password for the benchmark account (created or reset), a firm for the firm page, and the table sizes."""
    import sqlalchemy as sa
    from sqlmodel import Session

    from registry import auth
    from registry.db import make_engine
    from registry.models import User

    engine = make_engine(url)
    password = secrets.token_urlsafe(16)
    with Session(engine) as session:
        existing = session.exec(sa.select(User).where(User.username == USER)).first()
        if existing is None:
            auth.create_user(auth.cli_principal(), session, USER, password, "admin", "cn",
                             reason="bench_load: load benchmark account")
        else:
            auth.set_password(auth.cli_principal(), session, USER, password, reason="bench_load run")
        session.commit()
    with engine.connect() as conn:
        counts = {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                  for t in ("enterprise", "recognition", "report", "attribute")}
        # The firm page on a 重点小巨人 with a 目标表: the heaviest firm page there is.
        firm = conn.execute(sa.text("SELECT e.uscc FROM enterprise e JOIN firm_target t ON t.enterprise_id = e.id "
                                    "ORDER BY e.id LIMIT 1")).scalar_one()
    engine.dispose()
    return password, firm, counts


def start_dashboards(url: str, processes: int, folder: Path) -> tuple[list[subprocess.Popen], list[str]]:
    config = folder / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[demo]\nfirms = 0\n', encoding="utf-8")
    env = {**os.environ, "ZJTX_CONFIG": str(config)}
    env.pop("ZJTX_DATABASE_URL", None)
    zjtx = str(Path(sys.executable).with_name("zjtx"))
    procs, bases = [], []
    for i in range(processes):
        port = free_port()
        log = (folder / f"dashboard-{i}.log").open("w")
        procs.append(subprocess.Popen([zjtx, "serve", "--port", str(port), "--address", "127.0.0.1"], env=env,
                                      cwd=ROOT, stdout=log, stderr=subprocess.STDOUT))
        bases.append(f"http://127.0.0.1:{port}")
    for base, proc in zip(bases, procs, strict=True):
        try:
            wait_until_healthy(base, proc, seconds=180)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc} (see {folder})") from None
    return procs, bases


def peak_memory_mb(proc: subprocess.Popen) -> float:
    """VmHWM of the Streamlit server: `zjtx serve` runs it as a child process."""
    pids = [proc.pid]
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    peak = 0.0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM"):
                peak = max(peak, int(line.split()[1]) / 1024)
    return peak


def page_path(page: str) -> str:
    return "" if page == "overview" else page


async def visit(session: DashboardSession, page: str, firm: str) -> float:
    run = await session.visit(page_path(page), query_string=f"uscc={firm}" if page == "firm" else "")
    if run.exceptions or run.errors:
        raise PageError(f"{page}: {(run.exceptions + run.errors)[0][:200]}")
    return run.seconds


async def warm_up(bases: list[str], pages: list[str], password: str, firm: str) -> None:
    for base in bases:
        async with DashboardSession(base, timeout=600) as session:
            await session.sign_in(USER, password)
            for page in pages:
                await visit(session, page, firm)


async def single_user(base: str, pages: list[str], password: str, firm: str, rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = defaultdict(list)
    async with DashboardSession(base, timeout=600) as session:
        await session.sign_in(USER, password)
        for _ in range(rounds):
            for page in pages:
                times[page].append(await visit(session, page, firm))
    return times


async def many_users(bases: list[str], users: int, pages: list[str], password: str, firm: str,
                     duration: float) -> tuple[dict[str, list[float]], list[str], float]:
    times: dict[str, list[float]] = defaultdict(list)
    failures: list[str] = []
    start = asyncio.Event()
    signed_in: list[int] = []

    async def one(user: int) -> None:
        rng = random.Random(user)
        try:
            async with DashboardSession(bases[user % len(bases)], timeout=600) as session:
                await session.sign_in(USER, password)
                signed_in.append(user)
                await start.wait()
                stop_at = time.monotonic() + duration
                while time.monotonic() < stop_at:
                    for page in rng.sample(pages, len(pages)):
                        try:
                            times[page].append(await visit(session, page, firm))
                        except PageError as exc:
                            failures.append(str(exc))
                        if time.monotonic() >= stop_at:
                            break
        except (PageError, OSError) as exc:
            failures.append(f"user {user}: {exc}")
            signed_in.append(user)  # counted, so that the others do not wait for it

    tasks = [asyncio.create_task(one(u)) for u in range(users)]
    # Everyone signs in first (argon2 on the servers), then the clock starts for all at once.
    while len(signed_in) < users:
        await asyncio.sleep(0.2)
    started = time.monotonic()
    start.set()
    await asyncio.gather(*tasks)
    return times, failures, time.monotonic() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="database URL holding the registry")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of concurrent browsing")
    parser.add_argument("--single-rounds", type=int, default=3)
    parser.add_argument("--pages", default=DEFAULT_PAGES)
    args = parser.parse_args()
    pages = args.pages.split(",")

    password, firm, counts = prepare(args.db)
    print(f"Machine: {machine()}")
    print(f"Registry: {counts['enterprise']:,} firms, {counts['recognition']:,} recognitions, "
          f"{counts['report']:,} reports, {counts['attribute']:,} attributes")
    with tempfile.TemporaryDirectory() as folder:
        procs, bases = start_dashboards(args.db, args.processes, Path(folder))
        try:
            t0 = time.monotonic()
            asyncio.run(warm_up(bases, pages, password, firm))
            print(f"Warm-up (every page once on each of {args.processes} processes): "
                  f"{time.monotonic() - t0:.0f} s, load average {load_average()}")
            single = asyncio.run(single_user(bases[0], pages, password, firm, args.single_rounds))
            single_load = load_average()
            many, failures, elapsed = asyncio.run(
                many_users(bases, args.users, pages, password, firm, args.duration))
            many_load = load_average()
            memory = [peak_memory_mb(p) for p in procs]
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()

    runs = sum(len(v) for v in many.values())
    print(f"\nOne user: load average {single_load}. {args.users} users on {args.processes} processes for "
          f"{elapsed:.0f} s: {runs} page runs, {runs / elapsed:.2f} pages/s, {len(failures)} failures, "
          f"load average {many_load}\n")
    print(f"| page | 1 user p50 (s) | 1 user p95 (s) | {args.users} users p50 (s) | {args.users} users p95 (s) | "
          f"runs | goal p95 ≤ {P95_GOAL:g} s |")
    print("|---|---:|---:|---:|---:|---:|---|")
    missed = []
    for page in pages:
        s, m = single.get(page, []), many.get(page, [])
        ok = bool(m) and percentile(m, 95) <= P95_GOAL
        if not ok:
            missed.append(page)
        print(f"| {page} | {statistics.median(s):.2f} | {percentile(s, 95):.2f} | "
              f"{statistics.median(m) if m else float('nan'):.2f} | {percentile(m, 95):.2f} | {len(m)} | "
              f"{'ok' if ok else 'MISSED'} |")
    every = [x for v in many.values() for x in v]
    print(f"| all pages | {statistics.median([x for v in single.values() for x in v]):.2f} | "
          f"{percentile([x for v in single.values() for x in v], 95):.2f} | {statistics.median(every):.2f} | "
          f"{percentile(every, 95):.2f} | {len(every)} | |")
    memory_ok = max(memory) <= MEMORY_GOAL_MB
    print(f"\nPeak memory of the dashboard processes: {', '.join(f'{m:,.0f} MB' for m in memory)} "
          f"({'ok' if memory_ok else 'MISSED'}, goal ≤ {MEMORY_GOAL_MB:,} MB)")
    for failure in failures[:10]:
        print(f"failure: {failure}", file=sys.stderr)
    return 0 if not missed and memory_ok and not failures else 1


if __name__ == "__main__":
    sys.exit(main())
