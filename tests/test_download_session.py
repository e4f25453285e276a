"""Downloads over HTTP against a real `zjtx serve` (issue 16): what a download URL is worth without the session.

Streamlit serves files at /media/<id> without asking for a session. The dashboard's downloads are deferred
(dashboard/exports.py): the page carries no file and no URL, only a random placeholder that the signed-in
session's own WebSocket can turn into a file; the file then exists under a content hash until the next script
runs drop it. This test drives the protocol a browser speaks (tests/dashboard_ws.py) and fetches the URLs with a
plain HTTP client that holds no session, to prove each step — including what remains (docs/access.md).
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from dashboard_login import password_for, seed_user
from dashboard_seed import seed_registry
from dashboard_ws import DashboardSession, PageError
from ops_seed import seed_operations
from serving import free_port, wait_until_healthy

from registry.db import make_engine, upgrade

ROOT = Path(__file__).resolve().parents[1]
REVIEW_LIST = "导出复核清单（Excel）"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("download-session")
    url = f"sqlite:///{folder / 'zjtx.db'}"
    engine = make_engine(url)
    upgrade(engine)
    info = seed_registry(engine, firms=40, seed=9)
    seed_operations(engine, info.today)
    seed_user(engine, "official", "official", "cn")
    config = folder / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[demo]\nfirms = 0\n', encoding="utf-8")
    env = {**os.environ, "ZJTX_CONFIG": str(config)}
    env.pop("ZJTX_DATABASE_URL", None)
    port = free_port()
    log = (folder / "serve.log").open("w")
    server = subprocess.Popen([str(Path(sys.executable).with_name("zjtx")), "serve", "--port", str(port),
                               "--address", "127.0.0.1"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, server, seconds=120)
        yield base, engine
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        engine.dispose()


def fetch(base: str, url: str) -> tuple[int, bytes]:
    """GET with no cookie and no session, as anyone who got hold of the address would."""
    try:
        with urllib.request.urlopen(base + "/" + url.lstrip("/"), timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def exports(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT COUNT(*) FROM audit_log WHERE action = 'data.export'")).scalar_one()


def test_a_download_exists_only_when_its_session_presses_it_and_only_until_the_next_run(served):
    base, engine = served

    async def scenario() -> None:
        async with DashboardSession(base, timeout=120) as session:
            await session.sign_in("official", password_for("official"))
            page = await session.visit("review")
            placeholder, url = page.downloads[REVIEW_LIST]
            # Drawn, not built: no file, no address, no audit row yet.
            assert placeholder and not url
            before = exports(engine)

            # Someone who is not signed in cannot make a page draw the button, so has no placeholder; a made-up
            # one builds nothing, and neither does a request naming another session.
            async with DashboardSession(base, timeout=60) as stranger:
                await stranger.open()
                with pytest.raises(PageError, match="download refused"):
                    await stranger.press_download("0" * 32)
                own = stranger.session_id
                stranger.session_id = session.session_id
                with pytest.raises(PageError, match="Invalid session ID"):
                    await stranger.press_download(placeholder)
                assert exports(engine) == before
                # Nor from another connection with its own session: the placeholder is bound to the session that
                # drew it (dashboard/exports.py, bind_downloads_to_sessions) — Streamlit alone would build it.
                stranger.session_id = own
                with pytest.raises(PageError, match="download refused"):
                    await stranger.press_download(placeholder)
                assert exports(engine) == before

            # The signed-in session presses it: the file is built, audited, and served at a content-hash address.
            media = await session.press_download(placeholder)
            assert media.startswith("/media/") and len(Path(media).stem) >= 32  # a 128-bit hash of the content
            assert exports(engine) == before + 1
            status, data = fetch(base, media)
            # What remains (docs/access.md): until the second script run after, the address needs no session.
            assert status == 200
            rows = list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
            assert len(rows) > 1

            # Script runs drop it: Streamlit marks a built download at the end of the next run and deletes it at
            # the end of the one after (so a slow browser still gets it); then the address answers 404.
            await session.visit("review")
            await session.visit("review")
            status, _ = fetch(base, media)
            assert status == 404

    asyncio.run(scenario())
