"""Ingestion runs: the one code path behind `zjtx ingest` and the scheduler's inbox job.

Per file: read the bytes → sha256 → already loaded? (`unchanged`, nothing touched) → parse and validate →
archive the original under its sha256 → ONE transaction: already loaded? (asked again, atomically with what follows:
two processes ingesting one file at once record it loaded once), ingestion_run row, data, rejected rows, status.
Any exception rolls the transaction back (the database is as it was) and is recorded as a `failed` run.
Within one call, enterprises files load first so that the other files of the same call can refer to their firms;
files of the same kind load in the order given (the later file wins, the earlier values go to report_revision).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from registry.audit import ACTOR_SCHEDULER, ACTOR_SYSTEM, cli_actor, record
from registry.errors import UserError
from registry.ingest import bulk
from registry.ingest.archive import archive_bytes, quarantine_file, sha256_of, write_rejected_rows
from registry.ingest.headers import KINDS
from registry.ingest.load import REJECTION_SCHEMA, load_parsed
from registry.ingest.read import (
    FileRejected,
    ParsedFile,
    Rejection,
    parse_data,
    read_regular_file,
    resolve_kind,
)
from registry.models import IngestionRun, RejectedRow, table_of, utcnow
from registry.settings import Settings, get_settings

# progress(file, rows done, rows total) — the CLI draws a bar from it.
ProgressCallback = Callable[[str, int, int], None]

_RUNS = table_of(IngestionRun)
_REJECTED = table_of(RejectedRow)
# Partial downloads and editor lock files must not be ingested from the inbox.
_SKIPPED_SUFFIXES = (".part", ".tmp", ".crdownload", ".reason.txt")


@dataclass
class FileResult:
    """The outcome for one file; to_json() is CONTRACT §4's object (plus `warnings` when there are any)."""

    file: str
    kind: str | None
    run_id: int | None
    status: str  # loaded | partial | rejected | unchanged
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    # About the file rather than its rows: other sheets ignored, the inbox file could not be moved ...
    warnings: list[str] = field(default_factory=list)
    path: Path | None = field(default=None, repr=False)
    quarantine_csv: Path | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file, "kind": self.kind, "run_id": self.run_id, "status": self.status,
            "rows_read": self.rows_read, "rows_loaded": self.rows_loaded, "rows_rejected": self.rows_rejected,
            "rejections": [r.to_json() for r in self.rejections],
        }
        if self.warnings:  # an addition to the contract's object, only where there is something to say
            out["warnings"] = list(self.warnings)
        return out

    @property
    def file_reason(self) -> str | None:
        """Why the whole file was rejected (None when it was read)."""
        return "; ".join(r.reason for r in self.rejections if r.row is None and r.column is None) or None


class IngestFailed(UserError):
    """Loading a file failed (database error, bug); that file's transaction was rolled back."""

    def __init__(self, message: str, results: list[FileResult] | None = None) -> None:
        super().__init__(message)
        self.results = results or []


@dataclass
class _Pending:
    index: int
    path: Path
    data: bytes | None = None
    sha256: str = ""
    parsed: ParsedFile | None = None
    rejected: FileRejected | None = None
    error: Exception | None = None  # an unexpected failure while reading (a bug, not the file's content)

    @property
    def kind(self) -> str | None:
        if self.parsed is not None:
            return self.parsed.kind
        return self.rejected.kind if self.rejected is not None else None


def ingest_files(engine: sa.Engine, paths: Sequence[Path | str], kind: str | None = None, source: str = "cli",
                 progress: ProgressCallback | None = None, actor: str | None = None) -> list[FileResult]:
    """Ingest files (folders: their files) and return one result per file, in the order given.
    Raises IngestFailed (after recording a failed run) when a file cannot be loaded for a reason other than its
    content; files before it stay loaded. Each run is an audit row by `actor` (default: the CLI user for
    source "cli", else "system"; a dashboard upload passes the signed-in username)."""
    actor = actor or (cli_actor() if source == "cli" else ACTOR_SYSTEM)
    results, failures = _ingest(engine, _expand(paths), kind, source, progress, get_settings(), actor,
                                stop_on_error=True)
    if failures:
        raise next(iter(failures.values()))
    return [r for r in results if r is not None]


def ingest_each(engine: sa.Engine, paths: Sequence[Path | str], kind: str | None = None, source: str = "upload",
                progress: ProgressCallback | None = None, actor: str | None = None) -> list[FileResult]:
    """Like ingest_files, but every file gets its own outcome, in the order given: a file whose load fails is
    a `failed` result with the reason (its transaction rolled back) and the files after it are still loaded.
    For the dashboard's upload, where one bad file must not drop the others."""
    actor = actor or ACTOR_SYSTEM
    files = _expand(paths)
    results, failures = _ingest(engine, files, kind, source, progress, get_settings(), actor, stop_on_error=False)
    for index, exc in failures.items():
        results[index] = FileResult(str(files[index]), None, None, "failed",
                                    rejections=[Rejection(None, None, str(exc))], path=files[index])
    return [r for r in results if r is not None]


def ingest_inbox(engine: sa.Engine, settings: Settings, *, min_age_seconds: float = 5.0,
                 actor: str = ACTOR_SCHEDULER) -> list[FileResult]:
    """Ingest every file in the inbox, oldest first. Loaded, partial and unchanged files leave the inbox (their
    content is in the archive); rejected files move to the quarantine with a .reason.txt — among them symbolic
    links and anything that is not a regular file (folders, pipes), which are refused without being followed
    or read. Files modified in the last `min_age_seconds` are left for the next run (they may still be being
    copied in). A file whose load fails stays in the inbox for the next run; the others are still processed,
    then IngestFailed is raised."""
    inbox = settings.path("inbox")
    inbox.mkdir(parents=True, exist_ok=True)
    now = time.time()
    entries = []
    for p in inbox.iterdir():
        if p.name.startswith((".", "~$")) or p.name.lower().endswith(_SKIPPED_SUFFIXES):
            continue
        try:
            info = p.lstat()  # the entry itself: a link's target is never looked at
        except FileNotFoundError:
            continue  # gone meanwhile
        if now - info.st_mtime >= min_age_seconds:
            entries.append((info.st_mtime, p.name, p))
    files = [p for _, _, p in sorted(entries)]
    results, failures = _ingest(engine, files, None, "inbox", None, settings, actor, stop_on_error=False)
    done = [r for r in results if r is not None]
    for result in done:
        _clear_from_inbox(result, settings)
    if failures:
        detail = "; ".join(str(exc) for exc in failures.values())
        raise IngestFailed(f"{len(failures)} 个文件载入失败，留在收件箱待下次处理 / {len(failures)} file(s) failed "
                           f"and stay in the inbox: {detail}", done)
    return done


def _clear_from_inbox(result: FileResult, settings: Settings) -> None:
    """Move a rejected file to the quarantine, delete the others (their content is archived). A file that
    cannot be moved is a warning on its result, never a reason to leave the other files where they are."""
    assert result.path is not None
    try:
        if result.status == "rejected":
            quarantine_file(settings.path("quarantine"), result.run_id, result.path, result.file_reason or "")
        else:
            result.path.unlink(missing_ok=True)
    except OSError as exc:
        result.warnings.append(f"无法移出收件箱 / could not be moved out of the inbox: {exc.strerror or exc}")


def _expand(paths: Iterable[Path | str]) -> list[Path]:
    expanded: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            expanded += sorted(c for c in p.iterdir() if c.is_file() and not c.name.startswith("."))
        else:
            expanded.append(p)
    return expanded


def _ingest(engine: sa.Engine, paths: list[Path], kind: str | None, source: str,
            progress: ProgressCallback | None, settings: Settings, actor: str, *, stop_on_error: bool,
            ) -> tuple[list[FileResult | None], dict[int, Exception]]:
    kind = resolve_kind(kind)
    pending = [_prepare(engine, i, p, kind, follow_symlinks=source != "inbox") for i, p in enumerate(paths)]
    results: list[FileResult | None] = [None] * len(pending)
    failures: dict[int, Exception] = {}
    order = sorted(pending, key=lambda p: (KINDS.index(p.kind) if p.kind in KINDS else -1, p.index))
    for item in order:
        try:
            if item.error is not None:
                _record_failure(engine, item, source, None, utcnow(), item.error, actor)
                raise item.error
            results[item.index] = _process(engine, item, source, progress, settings, actor)
        except Exception as exc:  # noqa: BLE001 - recorded, reported, and re-raised by the callers
            failures[item.index] = exc if isinstance(exc, IngestFailed) else IngestFailed(
                f"{item.path}: 载入失败，数据库未改变 / loading failed, database unchanged: "
                f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            failures[item.index].__cause__ = exc
            if stop_on_error:
                break
    return results, failures


def _prepare(engine: sa.Engine, index: int, path: Path, kind: str | None, *, follow_symlinks: bool) -> _Pending:
    item = _Pending(index, path)
    try:
        item.data = read_regular_file(path, follow_symlinks=follow_symlinks)
    except FileRejected as exc:
        item.rejected = exc
        return item
    item.sha256 = sha256_of(item.data)
    try:
        if _loaded_before(engine, item.sha256) is not None:
            return item  # unchanged: no need to parse
        item.parsed = parse_data(item.data, path, kind)
    except FileRejected as exc:
        item.rejected = exc
    except Exception as exc:  # noqa: BLE001 - reported as this file's failure; the other files go on
        item.error = exc
    return item


def _loaded_before(conn_or_engine: sa.Engine | sa.Connection, sha256: str) -> tuple[int, str | None] | None:
    stmt = (
        sa.select(_RUNS.c.id, _RUNS.c.kind)
        .where(_RUNS.c.sha256 == sha256, _RUNS.c.status.in_(("loaded", "partial")))
        .order_by(_RUNS.c.id).limit(1)
    )
    if isinstance(conn_or_engine, sa.Engine):
        with conn_or_engine.connect() as conn:
            row = conn.execute(stmt).first()
    else:
        row = conn_or_engine.execute(stmt).first()
    return (row[0], row[1]) if row else None


def _new_run(conn: sa.Connection, item: _Pending, source: str, status: str, kind: str | None, now: datetime,
             **values: Any) -> int:
    result = conn.execute(sa.insert(_RUNS).values(
        file_name=str(item.path), sha256=item.sha256, kind=kind, status=status, source=source,
        started_at=now, **values,
    ))
    key = result.inserted_primary_key  # None only for a statement that inserts no single row
    assert key is not None
    run_id: int = key[0]
    return run_id


def _audit_run(conn: sa.Connection, actor: str, run_id: int, item: _Pending, status: str, kind: str | None,
               **counts: int) -> None:
    """The run's audit row, in the run's own transaction (registry.audit)."""
    record(conn, actor, "ingest.run", "ingestion_run", run_id, None,
           {"file": str(item.path), "sha256": item.sha256, "kind": kind, "status": status, **counts})


def _process(engine: sa.Engine, item: _Pending, source: str, progress: ProgressCallback | None,
             settings: Settings, actor: str) -> FileResult:
    if item.rejected is not None and item.data is None:
        return _record_rejected(engine, item, source, actor)
    with engine.begin() as conn:
        earlier = _loaded_before(conn, item.sha256)
        if earlier is not None:
            return _record_unchanged(conn, item, source, actor, settings, earlier)
    if item.rejected is not None:
        return _record_rejected(engine, item, source, actor)
    return _load(engine, item, source, progress, settings, actor)


def _record_unchanged(conn: sa.Connection, item: _Pending, source: str, actor: str, settings: Settings,
                      earlier: tuple[int, str | None]) -> FileResult:
    assert item.data is not None
    archived = archive_bytes(settings.path("archive"), item.sha256, item.path, item.data)
    now = utcnow()
    run_id = _new_run(conn, item, source, "unchanged", earlier[1], now, archive_path=str(archived),
                      finished_at=now, error=f"same content as run {earlier[0]}")
    _audit_run(conn, actor, run_id, item, "unchanged", earlier[1])
    return FileResult(str(item.path), earlier[1], run_id, "unchanged", path=item.path)


# Advisory lock class of "a file of this content is being recorded" (the two-key space: no clash with the
# scheduler's one-key lock, jobs/lock.py).
_CONTENT_LOCK_CLASS = 16


def _serialise_same_content(conn: sa.Connection, sha256: str) -> None:
    """Make 'loaded before?' and the record of the run one atomic step: a second process ingesting the same file
    at the same moment waits here, then finds the first one's run and records `unchanged` (issue 16)."""
    if conn.dialect.name == "sqlite":
        # The write lock from the start of the transaction, not at its first INSERT (after the check).
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:class, hashtext(:sha256))"),
                     {"class": _CONTENT_LOCK_CLASS, "sha256": sha256})


def _record_rejected(engine: sa.Engine, item: _Pending, source: str, actor: str) -> FileResult:
    assert item.rejected is not None
    reason = item.rejected.reason
    now = utcnow()
    with engine.begin() as conn:
        run_id = _new_run(conn, item, source, "rejected", item.rejected.kind, now, finished_at=now, error=reason)
        conn.execute(sa.insert(_REJECTED).values(run_id=run_id, row=None, column=None, reason=reason))
        _audit_run(conn, actor, run_id, item, "rejected", item.rejected.kind)
    return FileResult(str(item.path), item.rejected.kind, run_id, "rejected",
                      rejections=[Rejection(None, None, reason)], path=item.path)


def _load(engine: sa.Engine, item: _Pending, source: str, progress: ProgressCallback | None,
          settings: Settings, actor: str) -> FileResult:
    parsed, data = item.parsed, item.data
    assert parsed is not None and data is not None
    archived = archive_bytes(settings.path("archive"), item.sha256, item.path, data)
    now = utcnow()
    tick = _progress_for(str(item.path), parsed, progress)
    try:
        with engine.begin() as conn:
            _serialise_same_content(conn, item.sha256)
            earlier = _loaded_before(conn, item.sha256)
            if earlier is not None:  # another process loaded it since the check in _process
                return _record_unchanged(conn, item, source, actor, settings, earlier)
            run_id = _new_run(conn, item, source, "running", parsed.kind, now, rows_read=parsed.rows_read,
                              archive_path=str(archived))
            loaded = load_parsed(conn, parsed, run_id, now, tick)
            row_rejections = (
                pl.concat([parsed.rejection_frame.cast(REJECTION_SCHEMA), loaded.rejections])
                .sort("row", maintain_order=True)
            )
            rows_rejected = row_rejections.get_column("row").n_unique()
            status = "partial" if rows_rejected else "loaded"
            _store_rejections(conn, run_id, parsed, row_rejections)
            conn.execute(sa.update(_RUNS).where(_RUNS.c.id == run_id).values(
                status=status, rows_loaded=loaded.rows_loaded, rows_rejected=rows_rejected, finished_at=utcnow(),
            ))
            _audit_run(conn, actor, run_id, item, status, parsed.kind, rows_read=parsed.rows_read,
                       rows_loaded=loaded.rows_loaded, rows_rejected=rows_rejected)
    except Exception as exc:
        _record_failure(engine, item, source, parsed.kind, now, exc, actor)
        raise
    rejections = parsed.column_notes + [Rejection(r, c, why) for r, c, why in row_rejections.iter_rows()]
    quarantine_csv = None
    if rejections:
        notes = pl.DataFrame([n.to_json() for n in parsed.column_notes], schema=REJECTION_SCHEMA)
        quarantine_csv = write_rejected_rows(settings.path("quarantine"), run_id, item.path,
                                             pl.concat([notes, row_rejections]), parsed.raw)
    return FileResult(str(item.path), parsed.kind, run_id, status, parsed.rows_read, loaded.rows_loaded,
                      rows_rejected, rejections, warnings=list(parsed.warnings), path=item.path,
                      quarantine_csv=quarantine_csv)


def _store_rejections(conn: sa.Connection, run_id: int, parsed: ParsedFile, rows: pl.DataFrame) -> None:
    """rejected_row: one row per failing cell, with the whole row as written (JSON); unknown columns with row NULL."""
    cells = parsed.raw.drop("row").columns
    rejected_raw = parsed.raw.join(rows.select("row").unique(), on="row", how="semi")  # JSON for those rows only
    raw = rejected_raw.select("row", pl.struct(cells).struct.json_encode().alias("raw")) if cells else None
    table = rows if raw is None else rows.join(raw, on="row", how="left", maintain_order="left")
    if raw is None:
        table = table.with_columns(pl.lit(None, dtype=pl.String).alias("raw"))
    notes = pl.DataFrame([n.to_json() for n in parsed.column_notes], schema=REJECTION_SCHEMA).with_columns(
        pl.lit(None, dtype=pl.String).alias("raw"))
    bulk.insert_frame(conn, "rejected_row", pl.concat([notes, table]).with_columns(
        pl.lit(run_id, dtype=pl.Int64).alias("run_id")))


def _record_failure(engine: sa.Engine, item: _Pending, source: str, kind: str | None, now: datetime,
                    exc: Exception, actor: str) -> None:
    # Best effort: if the database itself is down this cannot be written either, and the error still surfaces.
    try:
        with engine.begin() as conn:
            run_id = _new_run(conn, item, source, "failed", kind, now, finished_at=utcnow(),
                              error=f"{type(exc).__name__}: {exc}"[:2000])
            _audit_run(conn, actor, run_id, item, "failed", kind)
    except Exception:  # noqa: BLE001, S110 - the original error is the one to report
        pass


def _progress_for(name: str, parsed: ParsedFile, progress: ProgressCallback | None) -> bulk.Progress | None:
    if progress is None:
        return None
    total = parsed.frame.height
    done = 0

    def tick(rows: int) -> None:
        nonlocal done
        done = min(total, done + rows)
        progress(name, done, total)

    return tick
