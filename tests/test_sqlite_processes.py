"""Several processes on one SQLite file (the embedded default), as they run in a deployment (docs/deployment.md,
"SQLite: several processes").

A long-lived process (tests/sqlite_holder.py: a pooled engine from registry.db.make_engine, reads through the fast
path, writes — what the dashboard and the scheduler are) alternates with short-lived writers in other processes:
the real `zjtx users disable` command, a plain `sqlite3` insert that exits at once, and the online backup
(deploy/backup/backup-sqlite.sh, the sqlite3 shell). Issue 16: when the fast path
read SQLite through a second SQLite library (ADBC's driver), closing that library's handle dropped the process's
POSIX locks; the next short-lived writer then believed it was the last connection, checkpointed and deleted the WAL
and shm under the long-lived process, whose later commits went to a deleted file (rows lost), whose reads went
stale (a disabled user still signed in), and the file ended "malformed".

Every step waits for the previous one through the holder's stdout (one JSON line per command): no sleeps.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from sqlmodel import Session

from registry import auth
from registry.db import make_engine, upgrade

HOLDER = Path(__file__).with_name("sqlite_holder.py")
BACKUP = Path(__file__).resolve().parents[1] / "deploy" / "backup" / "backup-sqlite.sh"
ZJTX = str(Path(sys.executable).with_name("zjtx"))
PASSWORD = "holder-test-password-7"
ROUNDS = 3


class Holder:
    """The long-lived process: one command in, one JSON answer out."""

    def __init__(self, url: str) -> None:
        self.proc = subprocess.Popen([sys.executable, str(HOLDER), url], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def ask(self, command: str) -> dict:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, f"the long-lived process died on {command!r} (exit {self.proc.wait()})"
        return json.loads(line)

    def close(self) -> None:
        """Quit cleanly (the engine disposed); a process that cannot is killed, without hiding the test's error."""
        if self.proc.poll() is None:
            try:
                self.ask("quit")
                self.proc.wait(timeout=60)
            except (AssertionError, OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


def _plain_insert(path: Path, name: str) -> None:
    """A short-lived writer that is not zjtx at all: the stdlib sqlite3 module in its own process, then exit."""
    script = ("import sqlite3, sys\n"
              "c = sqlite3.connect(sys.argv[1], timeout=30)\n"
              "c.execute(\"INSERT INTO enterprise (uscc, name, name_norm, region_code, province_code, created_at, "
              "updated_at) VALUES (?, ?, ?, '440300', '44', '2026-01-01', '2026-01-01')\", "
              "(sys.argv[2], sys.argv[2], sys.argv[2]))\n"
              "c.commit()\nc.close()\n")
    subprocess.run([sys.executable, "-c", script, str(path), name], check=True, timeout=60)


def _zjtx(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([ZJTX, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_long_lived_process_and_short_lived_writers_lose_nothing(db_url, config_env, tmp_path):
    path = Path(db_url.removeprefix("sqlite:///"))
    engine = make_engine(db_url)
    upgrade(engine)
    with Session(engine) as session:
        auth.create_user(auth.cli_principal(), session, "bob", PASSWORD, "analyst", "cn")
        session.commit()
    engine.dispose()

    holder = Holder(db_url)
    expected: list[str] = []
    try:
        assert holder.ask(f"auth bob {PASSWORD}") == {"principal": True, "login": "ok"}
        for n in range(ROUNDS):
            # The long-lived process reads through the fast path and writes through its pool …
            assert holder.ask("read") == {"fast": len(expected), "pooled": len(expected)}
            assert holder.ask(f"write long-{n}") == {"written": f"long-{n}"}
            expected.append(f"long-{n}")
            # … then another process writes and exits (it must not take the WAL with it) …
            _plain_insert(path, f"short-{n}")
            expected.append(f"short-{n}")
            assert path.with_name(path.name + "-wal").exists(), f"round {n}: the WAL was deleted by a writer's exit"
            assert holder.ask("fds") == {"deleted": []}, f"round {n}"
            # … and the long-lived process sees that row at once, through both of its read paths.
            assert holder.ask("read") == {"fast": len(expected), "pooled": len(expected)}, f"round {n}"
            if n == 1:
                done = _zjtx("users", "disable", "bob", "--reason", "left the office")
                assert done.returncode == 0, done.stderr
                assert path.with_name(path.name + "-wal").exists(), "the WAL was deleted by `zjtx users disable`"
                # Refused at once: the dashboard's per-interaction check and a new sign-in.
                assert holder.ask(f"auth bob {PASSWORD}") == {"principal": False, "login": "disabled"}
            if n == 2:
                # The nightly backup is one more short-lived process; its copy holds every row so far.
                subprocess.run(["bash", str(BACKUP), str(path), str(tmp_path / "backups"), "30"], check=True,
                               capture_output=True, timeout=120)
                assert path.with_name(path.name + "-wal").exists(), "the WAL was deleted by the backup"
                (copy,) = (tmp_path / "backups").glob("zjtx-*.db.gz")
                restored = tmp_path / "restored.db"
                restored.write_bytes(gzip.decompress(copy.read_bytes()))
                with closing(sqlite3.connect(restored)) as backup:
                    assert [r[0] for r in backup.execute("SELECT name FROM enterprise ORDER BY id")] == expected
        assert holder.ask("write long-last") == {"written": "long-last"}
        expected.append("long-last")
        # One SQLite library in the long-lived process: Python's module and the library it links, nothing else
        # (ADBC's libadbc_driver_sqlite.so carried a second copy of SQLite).
        libraries = holder.ask("libs")["sqlite"]
        assert [name for name in libraries if not name.startswith(("_sqlite3.", "libsqlite3.so"))] == [], libraries
    finally:
        holder.close()
    assert holder.proc.returncode == 0

    check = sqlite3.connect(path)
    try:
        assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        names = [r[0] for r in check.execute("SELECT name FROM enterprise ORDER BY id")]
        assert names == expected
        assert check.execute("SELECT active FROM app_user WHERE username = 'bob'").fetchone() == (0,)
        refused = check.execute("SELECT count(*) FROM audit_log WHERE action = 'auth.login_refused' "
                                "AND entity_id = 'bob'").fetchone()[0]
        assert refused == 1  # the long-lived process's audit row reached the file
    finally:
        check.close()
