"""One scheduler per database.

A pid file alone cannot do this: the dashboard, the CLI and the scheduler may run on different machines
against one PostgreSQL, and a pid file says nothing about which database it guards. So the lock lives in
the database itself:

- PostgreSQL: `pg_try_advisory_lock` on a connection held for the life of the process. The server drops
  it when that connection dies (kill -9, power loss), so it can never go stale.
- SQLite (and, for visibility, PostgreSQL too): the single `scheduler_lock` row, written with an atomic
  insert or compare-and-swap update, and kept fresh by a heartbeat thread. A row whose heartbeat is older
  than `stale_after` seconds AND whose pid is dead (checked when it was taken on this host) may be taken
  over; a live pid keeps its lock even with an old heartbeat (it may be stuck in a long job's commit).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import Engine

from registry.models import SchedulerLock as SchedulerLockRow
from registry.models import table_of

log = logging.getLogger("zjtx.scheduler.lock")

# Any constant works as long as every zjtx process agrees on it ("zjtx" + "sched" in ASCII, truncated).
ADVISORY_LOCK_KEY = 0x7A6A7478_5343
LOCK = table_of(SchedulerLockRow)


class SchedulerLockHeld(Exception):
    """Another scheduler holds the lock for this database."""


@dataclass(frozen=True)
class LockHolder:
    holder: str
    pid: int
    acquired_at: datetime
    heartbeat_at: datetime

    @property
    def host(self) -> str:
        return self.holder.split("|", 1)[0]


def _now() -> datetime:
    return datetime.now(UTC)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def current_holder(engine: Engine) -> LockHolder | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(LOCK.c.holder, LOCK.c.pid, LOCK.c.acquired_at, LOCK.c.heartbeat_at)
                           .where(LOCK.c.id == 1)).first()
    if row is None:
        return None
    return LockHolder(row.holder, row.pid, row.acquired_at, row.heartbeat_at)


def is_stale(holder: LockHolder, stale_after: float, now: datetime | None = None) -> bool:
    """Heartbeat too old and the process gone (pid checked only when it ran on this host)."""
    now = now or _now()
    if (now - holder.heartbeat_at).total_seconds() <= stale_after:
        return False
    if holder.host == socket.gethostname():
        return not pid_alive(holder.pid)
    return True


class SchedulerLock:
    """Acquire with `acquire()`, release with `release()`; `lost` is set if another process took it."""

    def __init__(self, engine: Engine, stale_after: float = 120.0, heartbeat_every: float | None = None,
                 on_lost: Callable[[], None] | None = None) -> None:
        self.engine = engine
        self.stale_after = stale_after
        self.heartbeat_every = heartbeat_every or max(1.0, min(30.0, stale_after / 4))
        self.holder = f"{socket.gethostname()}|{os.getpid()}|{uuid.uuid4().hex[:8]}"
        self.pid = os.getpid()
        self.on_lost = on_lost
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pg_conn: sa.Connection | None = None

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def acquire(self) -> None:
        if self.is_postgres:
            self._acquire_advisory()
        try:
            self._acquire_row_after_crash()
        except BaseException:
            self._release_advisory()
            raise
        self._thread = threading.Thread(target=self._heartbeat_loop, name="scheduler-lock-heartbeat",
                                        daemon=True)
        self._thread.start()

    def _acquire_advisory(self) -> None:
        conn = self.engine.connect()
        got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY}).scalar()
        conn.commit()  # the advisory lock is session-level: it outlives this transaction
        if not got:
            conn.close()
            holder = current_holder(self.engine)
            raise SchedulerLockHeld(_held_message(holder))
        self._pg_conn = conn

    def _release_advisory(self) -> None:
        if self._pg_conn is not None:
            try:
                self._pg_conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
                self._pg_conn.commit()
            finally:
                self._pg_conn.close()
                self._pg_conn = None

    def _acquire_row_after_crash(self) -> None:
        """Take the row; if its holder crashed on this host, wait out the heartbeat window first.

        A restart right after a crash (kill -9, OOM) finds the dead process's fresh heartbeat: rather than
        failing, it waits until that heartbeat is stale, then takes over. A live holder is refused at once.
        """
        try:
            self._acquire_row()
            return
        except SchedulerLockHeld:
            holder = current_holder(self.engine)
            if (self.is_postgres or holder is None or holder.host != socket.gethostname()
                    or pid_alive(holder.pid)):
                raise
        wait = max(0.0, (holder.heartbeat_at - _now()).total_seconds() + self.stale_after) + 0.5
        log.warning("the previous scheduler (pid %s) died without releasing its lock; taking it over in %.0f s",
                    holder.pid, wait)
        time.sleep(wait)
        self._acquire_row()

    def _acquire_row(self) -> None:
        now = _now()
        values = {"id": 1, "holder": self.holder, "pid": self.pid, "acquired_at": now, "heartbeat_at": now}
        if _try_insert(self.engine, values):
            return
        existing = current_holder(self.engine)
        if existing is None and _try_insert(self.engine, values):  # released between our insert and read
            return
        # On PostgreSQL the advisory lock is the truth: holding it means any row left is a dead process's.
        if existing is not None and not self.is_postgres and not is_stale(existing, self.stale_after, now):
            raise SchedulerLockHeld(_held_message(existing))
        with self.engine.begin() as conn:
            # Compare-and-swap: only take the row we judged stale, not one another process just took.
            taken = conn.execute(
                sa.update(LOCK).where(LOCK.c.id == 1, LOCK.c.holder == (existing.holder if existing else ""))
                .values(holder=self.holder, pid=self.pid, acquired_at=now, heartbeat_at=now)).rowcount
        if taken != 1:
            raise SchedulerLockHeld(_held_message(current_holder(self.engine)))
        if existing is not None:
            log.warning("took over a stale scheduler lock from %s (pid %s, last heartbeat %s UTC)",
                        existing.holder, existing.pid, existing.heartbeat_at)

    def heartbeat(self) -> bool:
        """Refresh our row; False if the row is no longer ours."""
        with self.engine.begin() as conn:
            n = conn.execute(sa.update(LOCK).where(LOCK.c.id == 1, LOCK.c.holder == self.holder)
                             .values(heartbeat_at=_now())).rowcount
        return n == 1

    def _heartbeat_loop(self) -> None:
        while not self._stop.wait(self.heartbeat_every):
            try:
                ours = self.heartbeat()
            except Exception as exc:  # noqa: BLE001 - a database hiccup must not kill the heartbeat
                log.warning("scheduler lock heartbeat failed: %s", str(exc).splitlines()[0])
                continue
            if not ours:
                log.critical("scheduler lock was taken over by another process; stopping")
                self.lost.set()
                if self.on_lost:
                    self.on_lost()
                return

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            with self.engine.begin() as conn:
                conn.execute(sa.delete(LOCK).where(LOCK.c.id == 1, LOCK.c.holder == self.holder))
        finally:
            self._release_advisory()


def _try_insert(engine: Engine, values: dict[str, object]) -> bool:
    """Insert the single lock row; False if it is already there (the primary key makes this atomic)."""
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(LOCK).values(**values))
    except sa.exc.IntegrityError:
        return False
    return True


def _held_message(holder: LockHolder | None) -> str:
    if holder is None:
        return "另一个调度进程正在运行 another scheduler is already running for this database"
    return (f"另一个调度进程正在运行 another scheduler is already running for this database: {holder.holder} "
            f"(pid {holder.pid}, since {holder.acquired_at:%Y-%m-%d %H:%M:%S} UTC, "
            f"last heartbeat {holder.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC)")
