"""Files on disk around an ingestion: the archive (every loaded file, kept under its sha256), the quarantine
(rejected rows as CSV; whole rejected inbox files with a .reason.txt beside them)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

import polars as pl


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def archive_path(archive_dir: Path, sha256: str, original: Path) -> Path:
    # Content-addressed: the same content is stored once, whatever it was called; the suffix keeps it openable
    # (only a short, plain one: "x." followed by 250 characters is a name, not a file type).
    suffix = original.suffix.lower()
    if not _PLAIN_SUFFIX.fullmatch(suffix):
        suffix = ""
    return archive_dir / f"{sha256}{suffix}"


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


# File names in the quarantine get a prefix and a suffix; most file systems allow 255 bytes per name.
MAX_NAME_BYTES = 120
_PLAIN_SUFFIX = re.compile(r"\.[a-z0-9]{1,8}")
_UNSAFE_CHARS = re.compile(r"[\x00-\x1f\x7f/\\]")


def safe_name(name: str, limit: int = MAX_NAME_BYTES) -> str:
    """`name` fit for the quarantine: control characters and separators replaced, and when longer than
    `limit` bytes (UTF-8) cut at a character boundary with a short hash of the whole name, so two long names
    that start alike stay two files. The suffix is kept."""
    cleaned = _UNSAFE_CHARS.sub("_", name)
    if len(cleaned.encode("utf-8")) <= limit:
        return cleaned
    suffix = Path(cleaned).suffix if len(Path(cleaned).suffix) <= 10 else ""
    stem = cleaned[: len(cleaned) - len(suffix)] if suffix else cleaned
    tag = "~" + hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:10]
    budget = limit - len((tag + suffix).encode("utf-8"))
    while len(stem.encode("utf-8")) > budget:
        stem = stem[:-1]
    return f"{stem}{tag}{suffix}"


def _free_target(folder: Path, name: str) -> Path:
    """`folder/name`, or `name` with -2, -3 ... before the suffix when that is taken (never overwrite)."""
    target = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 1
    while target.exists() or target.is_symlink():
        n += 1
        target = folder / f"{stem}-{n}{suffix}"
    return target


def write_rejected_rows(quarantine_dir: Path, run_id: int, original: Path, rejections: pl.DataFrame,
                        raw: pl.DataFrame) -> Path:
    """CSV (UTF-8 with BOM, so Excel shows the Chinese) of file, row, column, reason, then the row as written,
    so an official can correct the rows and send them again."""
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    target = quarantine_dir / f"run{run_id}-{safe_name(original.stem)}.rejected.csv"
    table = rejections.select(pl.lit(original.name).alias("file"), "row", "column", "reason")
    if raw.width > 1 and not rejections.is_empty():
        cells = raw.rename({c: f"cell:{c}" for c in raw.columns if c != "row"})
        table = table.join(cells, on="row", how="left", maintain_order="left")
    table.write_csv(target, include_bom=True)
    return target


def quarantine_file(quarantine_dir: Path, run_id: int | None, source: Path, reason: str) -> Path:
    """Move a whole rejected file out of the inbox, with a .reason.txt beside it (naming the file as it was
    called). A symlink is moved as the link, never followed; names are shortened safely (safe_name)."""
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    prefix = f"run{run_id}-" if run_id is not None else ""
    target = _free_target(quarantine_dir, prefix + safe_name(source.name))
    if source.is_symlink():
        # The link itself, never its target; across file systems a rename fails, so the link is made anew.
        os.symlink(os.readlink(source), target)
        source.unlink()
    elif not source.is_file():
        os.rename(source, target)  # a folder or a pipe as it is: nothing is read or copied
    else:
        shutil.move(source, target)
    target.with_name(target.name + ".reason.txt").write_text(f"{source.name}\n{reason}\n", encoding="utf-8")
    return target
