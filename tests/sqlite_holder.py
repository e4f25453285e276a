"""A long-lived zjtx process on one SQLite file, driven line by line over stdin/stdout (tests/test_sqlite_processes.py).

It is what the dashboard and the scheduler are to the database: one pooled engine from registry.db.make_engine kept
for the whole life of the process, reads through the fast path (registry.fastread) and writes through the engine.
Commands (one per line) and answers (one JSON line each):

  read            → {"fast": rows of enterprise by fastread, "pooled": the same count through the engine}
  write NAME      → {"written": NAME}  (one enterprise row, committed)
  auth USER PASS  → {"principal": bool (current_principal), "login": "ok" | the LoginFailed code}
  fds             → {"deleted": the process's open files of this database that are "(deleted)"}
  libs            → {"sqlite": the shared objects mapped into this process whose name has "sqlite" in it}
  quit            → {"bye": true}, engine disposed, exit 0
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from registry import auth, fastread
from registry.db import make_engine


def _deleted_files(database: Path) -> list[str]:
    """Open descriptors on the database, its WAL or shm whose file has been unlinked under this process."""
    deleted = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(database)) and target.endswith("(deleted)"):
            deleted.append(target)
    return deleted


def main(url: str) -> None:
    engine = make_engine(url)
    database = Path(engine.url.database).resolve()
    for line in sys.stdin:
        command, *args = line.split()
        if command == "read":
            fast = fastread.read_frame(engine, "SELECT count(*) AS n FROM enterprise", {"n": pl.Int64})["n"].item()
            with engine.connect() as conn:
                pooled = conn.exec_driver_sql("SELECT count(*) FROM enterprise").scalar_one()
            answer = {"fast": fast, "pooled": pooled}
        elif command == "write":
            name = args[0]
            with engine.begin() as conn:
                conn.execute(sa.text(
                    "INSERT INTO enterprise (uscc, name, name_norm, region_code, province_code, created_at, "
                    "updated_at) VALUES (:uscc, :name, :name, '440300', '44', '2026-01-01', '2026-01-01')"),
                    {"uscc": name, "name": name})
            answer = {"written": name}
        elif command == "auth":
            username, password = args
            try:
                auth.authenticate(engine, username, password)
                login = "ok"
            except auth.LoginFailed as exc:
                login = exc.code
            answer = {"principal": auth.current_principal(engine, username) is not None, "login": login}
        elif command == "fds":
            answer = {"deleted": _deleted_files(database)}
        elif command == "libs":
            with open("/proc/self/maps", encoding="utf-8") as maps:
                answer = {"sqlite": sorted({Path(line.split()[-1]).name for line in maps if "sqlite" in line.lower()})}
        elif command == "quit":
            engine.dispose()
            print(json.dumps({"bye": True}), flush=True)
            return
        else:
            answer = {"error": f"unknown command {command!r}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
