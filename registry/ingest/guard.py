"""Limits on what a data file may be before anything parses it: type and size of uploads, and the zip container
of an .xlsx (a decompression bomb unpacks a few kB into gigabytes).

Files are only ever parsed as data (CSV text, or cell values read by fastexcel/calamine — no formulas are
evaluated, no macros run); these checks keep a hostile file from exhausting memory or disk on the way there.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from registry.errors import UserError
from registry.settings import Settings, get_settings

UPLOAD_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xls")
MAX_ZIP_ENTRIES = 10_000
_MB = 1024 * 1024
# Below this size an entry's ratio is not judged: small, repetitive XML (empty styles, blank rows) compresses
# far beyond any sensible ratio and is harmless.
_RATIO_FLOOR = _MB
_CHUNK = 256 * 1024


class UnsafeFile(UserError):
    """A file refused before parsing (type, size, or zip container); `reason` without the file name."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = Path(path), reason


def check_upload(name: str, size: int, settings: Settings | None = None) -> None:
    """Refuse an uploaded file by its name (type) and size, before it is stored or read."""
    limits = (settings or get_settings()).uploads
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise UnsafeFile(name, f"不支持的文件类型 {suffix or '（无扩展名）'}，只接受 {' '.join(UPLOAD_SUFFIXES)} / "
                         f"file type {suffix or '(none)'} not accepted; accepted: {' '.join(UPLOAD_SUFFIXES)}")
    if size > limits.max_file_mb * _MB:
        raise UnsafeFile(name, f"文件过大（{size / _MB:.1f} MB，上限 {limits.max_file_mb} MB） / file too large "
                         f"({size / _MB:.1f} MB; the limit is {limits.max_file_mb} MB, uploads.max_file_mb)")
    if size == 0:
        raise UnsafeFile(name, "文件为空 / the file is empty")


def check_zip_container(data: bytes, path: Path | str, settings: Settings | None = None) -> None:
    """Refuse an .xlsx whose entries unpack beyond the limits, counting the bytes actually inflated (the sizes a
    zip declares can lie). Raises UnsafeFile naming the file and the entry."""
    limits = (settings or get_settings()).uploads
    max_total = limits.max_unpacked_mb * _MB
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - BadZipFile, or ValueError/OverflowError on a forged directory
        return  # not a readable zip: the Excel reader reports it as an unreadable file
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ZIP_ENTRIES:
            raise UnsafeFile(path, f"Excel 文件包含 {len(entries)} 个条目，超过上限 {MAX_ZIP_ENTRIES} / the workbook "
                             f"holds {len(entries)} entries (limit {MAX_ZIP_ENTRIES})")
        total = 0
        for entry in entries:
            inflated = 0
            try:
                with archive.open(entry) as stream:
                    while chunk := stream.read(_CHUNK):
                        inflated += len(chunk)
                        total += len(chunk)
                        if total > max_total:
                            raise UnsafeFile(
                                path, f"Excel 文件解压后超过 {limits.max_unpacked_mb} MB（疑似解压炸弹） / the workbook "
                                f"unpacks to more than {limits.max_unpacked_mb} MB (uploads.max_unpacked_mb): "
                                f"refused as a possible decompression bomb")
                        ratio = inflated / max(entry.compress_size, 1)
                        if inflated > _RATIO_FLOOR and ratio > limits.max_compression_ratio:
                            raise UnsafeFile(
                                path, f"Excel 文件条目 {entry.filename} 压缩比超过 {limits.max_compression_ratio} 倍"
                                f"（疑似解压炸弹） / entry {entry.filename} expands more than "
                                f"{limits.max_compression_ratio} times (uploads.max_compression_ratio): refused as a "
                                f"possible decompression bomb")
            except UnsafeFile:
                raise
            except Exception as exc:  # noqa: BLE001 - encrypted, corrupt (zlib.error) or exotic entries
                raise UnsafeFile(path, f"无法读取 Excel 文件条目 {entry.filename} / cannot read workbook entry "
                                 f"{entry.filename}: {exc}") from None
