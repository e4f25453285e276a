"""Files on disk around an ingestion: the archive (every loaded file, kept under its sha256), the quarantine
(rejected rows as CSV; whole rejected inbox files with a .reason.txt beside them)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import polars as pl


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def archive_path(archive_dir: Path, sha256: str, original: Path) -> Path:
    # Content-addressed: the same content is stored once, whatever it was called; the suffix keeps it openable.
    return archive_dir / f"{sha256}{original.suffix.lower()}"


def archive_bytes(archive_dir: Path, sha256: str, original: Path, data: bytes) -> Path:
    """Store `data` under its sha256 (atomically: a crash never leaves a half-written archive file)."""
    target = archive_path(archive_dir, sha256, original)
    if target.exists():
        return target
    archive_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=archive_dir, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_rejected_rows(quarantine_dir: Path, run_id: int, original: Path, rejections: pl.DataFrame,
                        raw: pl.DataFrame) -> Path:
    """CSV (UTF-8 with BOM, so Excel shows the Chinese) of file, row, column, reason, then the row as written,
    so an official can correct the rows and send them again."""
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    target = quarantine_dir / f"run{run_id}-{original.stem}.rejected.csv"
    table = rejections.select(pl.lit(original.name).alias("file"), "row", "column", "reason")
    if raw.width > 1 and not rejections.is_empty():
        cells = raw.rename({c: f"cell:{c}" for c in raw.columns if c != "row"})
        table = table.join(cells, on="row", how="left", maintain_order="left")
    table.write_csv(target, include_bom=True)
    return target


def quarantine_file(quarantine_dir: Path, run_id: int | None, source: Path, reason: str) -> Path:
    """Move a whole rejected file out of the inbox, with a .reason.txt beside it."""
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    prefix = f"run{run_id}-" if run_id is not None else ""
    target = quarantine_dir / f"{prefix}{source.name}"
    shutil.move(source, target)
    target.with_name(target.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")
    return target
