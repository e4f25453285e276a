"""`zjtx up` (scheduler + dashboard on one machine) and `zjtx serve` (one dashboard process)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

import typer
from rich.console import Console

from cli.database import print_flags_refresh, schema_ready_engine
from cli.users import ensure_first_admin

console = Console(stderr=True)
APP_PATH = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"


def register(app: typer.Typer) -> None:
    app.command("up")(up)
    app.command("serve")(serve)


def streamlit_command(port: int, address: str) -> list[str]:
    from registry.settings import get_settings

    # Streamlit refuses larger uploads itself (uploads.max_file_mb), before our own checks run.
    return [sys.executable, "-m", "streamlit", "run", str(APP_PATH),
            "--server.port", str(port), "--server.address", address,
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--server.maxUploadSize", str(get_settings().uploads.max_file_mb),
            # Tables offer no built-in CSV download or copy: every export goes through the download buttons,
            # which check the role (analysts may not export) and neutralise formula cells (registry/export.py).
            "--client.disableDataExport", "true",
            # No full garbage collection after every page run: it was about half of a served page run's CPU
            # (0.25 → 0.08 s at 1,000,000 firms; throughput 5.6 → 21.6 page runs/s with two processes,
            # docs/benchmarks.md "Load with think time"). Python's own generational collector still runs.
            # STREAMLIT_RUNNER_POST_SCRIPT_GC=true turns it back on (benchmarks compare the two).
            "--runner.postScriptGC", os.environ.get("STREAMLIT_RUNNER_POST_SCRIPT_GC", "false")]


def serve(
    port: int = typer.Option(None, "--port", help="Port (default: dashboard.port in config)."),
    address: str = typer.Option(None, "--address", help="Address (default: dashboard.address in config)."),
) -> None:
    """Run one dashboard process (Streamlit). 启动看板进程。"""
    from registry.settings import get_settings

    settings = get_settings()
    cmd = streamlit_command(port or settings.dashboard.port, address or settings.dashboard.address)
    if os.name == "posix":
        # Become the Streamlit server (same pid): a stop signal from systemd, `zjtx up` or a test then reaches
        # the server itself; as a child it was left running, orphaned, when only this process was stopped.
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(cmd[0], cmd)
    raise typer.Exit(subprocess.call(cmd))


def up(
    port: int = typer.Option(None, "--port", help="Dashboard port (default: dashboard.port in config)."),
    no_scheduler: bool = typer.Option(False, "--no-scheduler", help="Start the dashboard only."),
    processes: int = typer.Option(1, "--processes", min=1, max=64,
                                  help="Dashboard processes, on ports PORT, PORT+1, ... (put a reverse proxy with "
                                       "sticky sessions in front: docs/deployment.md)."),
) -> None:
    """Start the whole system: migrate, load demo data into an empty database, scheduler + dashboard(s).
    启动整个系统（调度进程 + 看板）；Ctrl-C 同时停止两者。"""
    from registry.db import is_empty
    from registry.db_roles import owner_engine
    from registry.settings import get_settings

    settings = get_settings()
    engine = schema_ready_engine()
    if is_empty(engine) and settings.demo.firms > 0:
        from registry.demo import build_demo

        console.print(f"数据库为空，载入示例数据 Empty database: loading a demo registry of {settings.demo.firms} firms")
        with owner_engine() as owner:
            build_demo(owner, firms=settings.demo.firms, seed=settings.demo.seed, progress=True)
        print_flags_refresh(engine)
    ensure_first_admin(engine, console)
    port = port or settings.dashboard.port
    procs: dict[str, subprocess.Popen[bytes]] = {}
    if not no_scheduler:
        procs["scheduler"] = subprocess.Popen([sys.executable, "-m", "cli.main", "scheduler"])
    host = "localhost" if settings.dashboard.address in ("127.0.0.1", "0.0.0.0") else settings.dashboard.address
    # One Streamlit process serves its sessions on one core; more processes use more cores (docs/deployment.md).
    for i in range(processes):
        name = "dashboard" if processes == 1 else f"dashboard:{port + i}"
        procs[name] = subprocess.Popen(streamlit_command(port + i, settings.dashboard.address))
        console.print(f"[bold green]看板 Dashboard:[/] http://{host}:{port + i}")
    console.print("Ctrl-C 停止 / to stop" + ("" if processes == 1 else
                  "  — 多进程请经反向代理（粘性会话）访问 / serve them behind a reverse proxy with sticky sessions"))
    code = _supervise(procs)
    raise typer.Exit(code)


def _supervise(procs: dict[str, subprocess.Popen[bytes]]) -> int:
    """Wait until Ctrl-C / SIGTERM or until one process dies; then stop the others cleanly."""
    stopping = False

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    code = 0
    try:
        while not stopping:
            dead = {n: p.returncode for n, p in procs.items() if p.poll() is not None}
            if dead:
                for name, rc in dead.items():
                    console.print(f"[red]{name} exited ({rc}); stopping the rest[/]")
                code = 1
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    for p in procs.values():
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 20
    for p in procs.values():
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
    console.print("已停止 stopped")
    return code
