"""Benchmark: the dashboard under concurrent users (issues 8 and 13) — N dashboard processes against one database,
U simulated users browsing the main pages at once, next to one user alone in the same run.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_load.py \
        --db postgresql+psycopg://postgres@127.0.0.1:5432/zjtx_bench_1m [--users 20] [--processes 2] \
        [--duration 120] [--think-min 5 --think-max 30] [--single-rounds 3] [--pages overview,registry,...]

Each simulated user is a real browser session as far as the server can tell: a websocket speaking Streamlit's
protocol (tests/dashboard_ws.py) that signs in through the login form and opens pages one after another in a
random order. Without think time (the default) each page is opened as soon as the previous one has finished: a
harsher load than people reading, which measures the throughput. With --think-min/--think-max a user reads each
page for a time drawn uniformly between the two (seconds) before the next click, and the users start spread
evenly over the first --think-max seconds (the ramp), so that they do not all click at once; only the page runs
that start after the ramp are counted, for --duration seconds. Users are spread over the processes like sticky
sessions do. Before timing, every page is opened once on every process (warm: the data caches are filled, as on
a server that has been up for a while).

Reported: per page p50/p95 and the dashboard processes' CPU time for one user alone (--single-rounds visits of
each page), then p50/p95 under --users concurrent users; page runs per second and the processes' CPU time per
page run; failures; the peak memory (VmHWM) of each dashboard process; the machine, the code served and the load
average at the start and end of each part. CPU time, because the machine may be shared: wall time then also
measures the other processes.

Goals: with think time (issue 13), every page ≤ 2 s at p95 (50 users, 1,000,000 firms, 2 processes); without
(issue 8), every page ≤ 3 s at p95 (20 users) and, issue 13, at least 15 page runs/s (twice the 7.5/s of
2026-12-06); a dashboard process ≤ 2 GB. Exit status 1 when a goal is missed.

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
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from dashboard_ws import DashboardSession, PageError  # noqa: E402
from serving import free_port, wait_until_healthy  # noqa: E402

USER = "bench_load"
DEFAULT_PAGES = "overview,registry,firm,pipeline,targets,review,intake,policies,briefing"
P95_GOAL_THINK, P95_GOAL_NO_THINK, THROUGHPUT_GOAL, MEMORY_GOAL_MB = 2.0, 3.0, 15.0, 2048


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return f"{cpu}, {os.cpu_count()} cores, {mem_kb / 1024 / 1024:.1f} GB RAM, Python {platform.python_version()}"


def load_average() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def code_served() -> str:
    """The commit of the code the dashboards run (PYTHONPATH decides which checkout that is)."""
    import registry

    folder = Path(registry.__file__).resolve().parents[1]
    commit = subprocess.run(["git", "-C", str(folder), "log", "-1", "--format=%h %cs"], capture_output=True,
                            text=True).stdout.strip()
    return f"{folder} ({commit or 'not a git checkout'})"


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


def server_pids(proc: subprocess.Popen) -> list[int]:
    """`zjtx serve` and the Streamlit server it runs as a child process."""
    pids = [proc.pid]
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    return pids


def cpu_seconds(procs: list[subprocess.Popen]) -> float:
    """User + system CPU time used so far by the dashboard processes (every thread)."""
    ticks = 0
    for proc in procs:
        for pid in server_pids(proc):
            # Fields 14 and 15 (utime, stime) after the command name, which is in parentheses.
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def memory_mb(proc: subprocess.Popen, field: str = "VmHWM") -> float:
    """The Streamlit server's peak (VmHWM) or current (VmRSS) memory."""
    largest = 0.0
    for pid in server_pids(proc):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field):
                largest = max(largest, int(line.split()[1]) / 1024)
    return largest


def page_path(page: str) -> str:
    return "" if page == "overview" else page


async def visit(session: DashboardSession, page: str, firm: str) -> float:
    run = await session.visit(page_path(page), query_string=f"uscc={firm}" if page == "firm" else "")
    if run.exceptions or run.errors:
        raise PageError(f"{page}: {(run.exceptions + run.errors)[0][:200]}")
    return run.seconds


async def warm_up(bases: list[str], procs: list[subprocess.Popen], pages: list[str], password: str,
                  firm: str) -> None:
    """Every page once on each process, one process after the other; each page's cold time and the process's
    memory after it (a cold run is where the memory peaks)."""
    for i, (base, proc) in enumerate(zip(bases, procs, strict=True)):
        async with DashboardSession(base, timeout=1200) as session:
            # Signing in shows the default page (the overview): its cold run happens here.
            signed_in = (await session.sign_in(USER, password)).seconds
            for page in ["sign-in", *pages]:
                seconds = signed_in if page == "sign-in" else await visit(session, page, firm)
                print(f"  process {i + 1}, {page}: {seconds:.1f} s cold, memory {memory_mb(proc, 'VmRSS'):,.0f} MB "
                      f"(peak {memory_mb(proc):,.0f} MB), load average {load_average()}", flush=True)


async def single_user(base: str, proc: subprocess.Popen, pages: list[str], password: str, firm: str,
                      rounds: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall seconds and the serving process's CPU seconds of each page run, for one user alone."""
    times: dict[str, list[float]] = defaultdict(list)
    cpu: dict[str, list[float]] = defaultdict(list)
    async with DashboardSession(base, timeout=600) as session:
        await session.sign_in(USER, password)
        for _ in range(rounds):
            for page in pages:
                before = cpu_seconds([proc])
                times[page].append(await visit(session, page, firm))
                cpu[page].append(cpu_seconds([proc]) - before)
    return times, cpu


@dataclass
class LoadRun:
    times: dict[str, list[float]]  # page → wall seconds of the runs that started after the ramp
    failures: list[str]
    seconds: float  # from the end of the ramp until the last user stopped
    cpu_seconds: float  # of the dashboard processes over the same span
    load_start: str
    load_end: str


async def many_users(bases: list[str], procs: list[subprocess.Popen], users: int, pages: list[str],
                     password: str, firm: str, duration: float, think: tuple[float, float]) -> LoadRun:
    times: dict[str, list[float]] = defaultdict(list)
    failures: list[str] = []
    start = asyncio.Event()
    signed_in: list[int] = []
    ramp = think[1]  # users start spread over one longest think time
    counted_from = stop_at = 0.0  # set when the clock starts

    async def one(user: int) -> None:
        rng = random.Random(user)
        try:
            async with DashboardSession(bases[user % len(bases)], timeout=600) as session:
                await session.sign_in(USER, password)
                signed_in.append(user)
                await start.wait()
                await asyncio.sleep(ramp * user / users)
                while time.monotonic() < stop_at:
                    for page in rng.sample(pages, len(pages)):
                        began = time.monotonic()
                        try:
                            seconds = await visit(session, page, firm)
                            if began >= counted_from:
                                times[page].append(seconds)
                        except PageError as exc:
                            failures.append(str(exc))
                        if think[1] > 0:  # reading the page; no longer than the run lasts
                            await asyncio.sleep(max(0.0, min(rng.uniform(*think), stop_at - time.monotonic())))
                        if time.monotonic() >= stop_at:
                            break
        except (PageError, OSError) as exc:
            failures.append(f"user {user}: {exc}")
            signed_in.append(user)  # counted, so that the others do not wait for it

    tasks = [asyncio.create_task(one(u)) for u in range(users)]
    # Everyone signs in first (argon2 on the servers), then the clock starts for all at once.
    while len(signed_in) < users:
        await asyncio.sleep(0.2)
    counted_from = time.monotonic() + ramp
    stop_at = counted_from + duration
    start.set()
    await asyncio.sleep(ramp)
    cpu_before, load_start = cpu_seconds(procs), load_average()
    await asyncio.gather(*tasks)
    return LoadRun(times, failures, time.monotonic() - counted_from, cpu_seconds(procs) - cpu_before,
                   load_start, load_average())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="database URL holding the registry")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--duration", type=float, default=120.0,
                        help="seconds of concurrent browsing counted (after the ramp, if there is think time)")
    parser.add_argument("--think-min", type=float, default=0.0, help="shortest time a user reads a page (s)")
    parser.add_argument("--think-max", type=float, default=0.0,
                        help="longest time a user reads a page (s); 0 = no think time")
    parser.add_argument("--single-rounds", type=int, default=3)
    parser.add_argument("--pages", default=DEFAULT_PAGES)
    args = parser.parse_args()
    if not 0 <= args.think_min <= args.think_max:
        parser.error("--think-min must be between 0 and --think-max")
    pages = args.pages.split(",")
    think = (args.think_min, args.think_max)

    password, firm, counts = prepare(args.db)
    print(f"Machine: {machine()}")
    print(f"Code: {code_served()}")
    if streamlit_env := [f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("STREAMLIT_")]:
        print(f"Streamlit settings from the environment: {' '.join(streamlit_env)}")
    print(f"Registry: {counts['enterprise']:,} firms, {counts['recognition']:,} recognitions, "
          f"{counts['report']:,} reports, {counts['attribute']:,} attributes")
    with tempfile.TemporaryDirectory() as folder:
        procs, bases = start_dashboards(args.db, args.processes, Path(folder))
        try:
            t0, load_before = time.monotonic(), load_average()
            asyncio.run(warm_up(bases, procs, pages, password, firm))
            print(f"Warm-up (every page once on each of {args.processes} processes): "
                  f"{time.monotonic() - t0:.0f} s, load average {load_before} → {load_average()}")
            single_load = load_average()
            single, single_cpu = asyncio.run(single_user(bases[0], procs[0], pages, password, firm,
                                                         args.single_rounds))
            single_load += f" → {load_average()}"
            load = asyncio.run(many_users(bases, procs, args.users, pages, password, firm, args.duration, think))
            memory = [memory_mb(p) for p in procs]
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()

    many = load.times
    runs = sum(len(v) for v in many.values())
    throughput = runs / load.seconds
    mode = (f"think time {args.think_min:g}–{args.think_max:g} s, ramp {args.think_max:g} s" if args.think_max
            else "no think time")
    p95_goal = P95_GOAL_THINK if args.think_max else P95_GOAL_NO_THINK
    print(f"\nOne user: load average {single_load}.")
    print(f"{args.users} users ({mode}) on {args.processes} processes, {load.seconds:.0f} s counted: {runs} page runs, "
          f"{throughput:.2f} pages/s, {len(load.failures)} failures, load average {load.load_start} → "
          f"{load.load_end}; the processes used {load.cpu_seconds:.0f} s of CPU "
          f"({load.cpu_seconds / runs if runs else float('nan'):.3f} s per page run, "
          f"{load.cpu_seconds / load.seconds:.2f} cores)\n")
    print(f"| page | 1 user p50 (s) | 1 user p95 (s) | 1 user CPU (s) | {args.users} users p50 (s) | "
          f"{args.users} users p95 (s) | runs | goal p95 ≤ {p95_goal:g} s |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    missed = []
    for page in pages:
        s, m = single.get(page, []), many.get(page, [])
        ok = bool(m) and percentile(m, 95) <= p95_goal
        if not ok:
            missed.append(page)
        print(f"| {page} | {median(s):.2f} | {percentile(s, 95):.2f} | {median(single_cpu.get(page, [])):.3f} | "
              f"{median(m):.2f} | {percentile(m, 95):.2f} | {len(m)} | {'ok' if ok else 'MISSED'} |")
    one = [x for v in single.values() for x in v]
    every = [x for v in many.values() for x in v]
    print(f"| all pages | {median(one):.2f} | {percentile(one, 95):.2f} | "
          f"{median([x for v in single_cpu.values() for x in v]):.3f} | {median(every):.2f} | "
          f"{percentile(every, 95):.2f} | {len(every)} | |")
    throughput_ok = bool(args.think_max) or throughput >= THROUGHPUT_GOAL
    if not args.think_max:
        print(f"\nThroughput {throughput:.2f} page runs/s ({'ok' if throughput_ok else 'MISSED'}, "
              f"goal ≥ {THROUGHPUT_GOAL:g}/s)")
    memory_ok = max(memory) <= MEMORY_GOAL_MB
    print(f"\nPeak memory of the dashboard processes: {', '.join(f'{m:,.0f} MB' for m in memory)} "
          f"({'ok' if memory_ok else 'MISSED'}, goal ≤ {MEMORY_GOAL_MB:,} MB)")
    for failure in load.failures[:10]:
        print(f"failure: {failure}", file=sys.stderr)
    return 0 if not missed and throughput_ok and memory_ok and not load.failures else 1


if __name__ == "__main__":
    sys.exit(main())
