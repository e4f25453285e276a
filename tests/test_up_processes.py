"""`zjtx up --processes N` starts N dashboard processes on consecutive ports and stops them all on SIGTERM;
`zjtx serve` is the Streamlit server itself, so stopping it leaves nothing running."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from zjtx_command import ZJTX

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def _two_free_consecutive_ports() -> int:
    for _ in range(50):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
        if port >= 65535:
            continue
        with socket.socket() as b:
            try:
                b.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two consecutive free ports")


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _wait(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return condition()


@pytest.fixture
def env(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "zjtx.db"}"\n[demo]\nfirms = 0\n'
                      '[dashboard]\naddress = "127.0.0.1"\n', encoding="utf-8")
    environment = {**os.environ, "ZJTX_CONFIG": str(config)}
    environment.pop("ZJTX_DATABASE_URL", None)
    return environment


def test_up_starts_n_dashboards_on_consecutive_ports_and_stops_them_all(env, tmp_path):
    port = _two_free_consecutive_ports()
    with (tmp_path / "up.log").open("w") as log:
        up = subprocess.Popen([*ZJTX, "up", "--processes", "2", "--no-scheduler", "--port", str(port)], env=env,
                              cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            assert _wait(lambda: _healthy(port) and _healthy(port + 1), 120), (tmp_path / "up.log").read_text()
            up.send_signal(signal.SIGTERM)
            assert up.wait(60) == 0
        finally:
            if up.poll() is None:
                up.kill()
    assert _wait(lambda: not _healthy(port) and not _healthy(port + 1), 30)
    text = (tmp_path / "up.log").read_text()
    assert f":{port}" in text and f":{port + 1}" in text


def test_stopping_zjtx_serve_stops_the_server(env, tmp_path):
    port = _two_free_consecutive_ports()
    with (tmp_path / "serve.log").open("w") as log:
        serve = subprocess.Popen([*ZJTX, "serve", "--port", str(port), "--address", "127.0.0.1"], env=env,
                                 cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            assert _wait(lambda: _healthy(port), 120), (tmp_path / "serve.log").read_text()
            serve.terminate()
            serve.wait(30)
        finally:
            if serve.poll() is None:
                serve.kill()
    assert _wait(lambda: not _healthy(port), 15), "the Streamlit server outlived zjtx serve"
