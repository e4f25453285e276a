"""Hostile files are refused before anything parses them: upload type and size, and .xlsx decompression bombs
(total unpacked size and per-entry ratio, counted on the bytes actually inflated)."""

from __future__ import annotations

import io
import os
import zipfile

import pytest
from fixtures.ingest_data import ENTERPRISE_HEADER, enterprise_rows, write_xlsx

from registry.ingest import FileRejected, ingest_files, read_data_file
from registry.ingest.guard import UnsafeFile, check_upload, check_zip_container
from registry.settings import Settings, get_settings

MB = 1024 * 1024


@pytest.fixture
def small_limits(tmp_path, monkeypatch):
    """uploads.max_unpacked_mb = 2 and max_compression_ratio = 50, through a real config file."""
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "z.db"}"\n[paths]\narchive = "archive"\n'
                      'quarantine = "quarantine"\n[uploads]\nmax_file_mb = 5\nmax_unpacked_mb = 2\n'
                      'max_compression_ratio = 50\n', encoding="utf-8")
    monkeypatch.setenv("ZJTX_CONFIG", str(config))
    monkeypatch.delenv("ZJTX_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def workbook_with(tmp_path, extra_name: str, extra: bytes):
    """A real enterprises workbook plus one more entry in its zip container."""
    path = write_xlsx(tmp_path / "firms.xlsx", ENTERPRISE_HEADER, enterprise_rows())
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(extra_name, extra)
    return path


def test_a_normal_workbook_passes(small_limits, tmp_path):
    parsed = read_data_file(write_xlsx(tmp_path / "firms.xlsx", ENTERPRISE_HEADER, enterprise_rows()))
    assert parsed.kind == "enterprises" and parsed.frame.height == 4


def test_an_entry_that_expands_too_much_is_refused(small_limits, tmp_path):
    # 1.5 MB of one repeated byte deflates to about 1.5 kB: a ratio near 1000.
    bomb = workbook_with(tmp_path, "xl/media/padding.bin", b"\0" * (3 * MB // 2))
    with pytest.raises(FileRejected, match=r"padding\.bin.*(压缩比|expands more than 50 times)") as refused:
        read_data_file(bomb)
    assert "解压炸弹" in str(refused.value) and "firms.xlsx" in str(refused.value)


def test_a_workbook_that_unpacks_beyond_the_total_is_refused(small_limits, tmp_path):
    incompressible = os.urandom(5 * MB // 2)  # ratio about 1, but 2.5 MB > max_unpacked_mb = 2
    with pytest.raises(FileRejected, match="unpacks to more than 2 MB"):
        read_data_file(workbook_with(tmp_path, "xl/media/photo.bin", incompressible))


def test_a_bomb_becomes_a_rejected_ingestion_run(small_limits, tmp_path):
    from registry.db import make_engine, upgrade

    engine = make_engine(small_limits.database_url)
    upgrade(engine)
    [result] = ingest_files(engine, [workbook_with(tmp_path, "xl/pad.bin", b"A" * (2 * MB))])
    assert result.status == "rejected" and "decompression bomb" in result.rejections[0].reason
    engine.dispose()


def test_declared_sizes_are_not_trusted():
    """An entry whose header claims fewer bytes than it holds is refused as corrupt, not read by its claim."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<x/>" * (MB // 8))  # 0.5 MB: within the limits
    settings = Settings(uploads={"max_unpacked_mb": 1, "max_compression_ratio": 5})
    check_zip_container(buffer.getvalue(), "honest.xlsx", settings)
    data = bytearray(buffer.getvalue())
    # Rewrite the uncompressed size (local header offset 22, central directory offset 24) to 10 bytes.
    data[22:26] = (10).to_bytes(4, "little")
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = (10).to_bytes(4, "little")
    with pytest.raises(UnsafeFile, match="cannot read workbook entry xl/worksheets/sheet1.xml"):
        check_zip_container(bytes(data), "forged.xlsx", settings)


@pytest.mark.parametrize("name,size,message", [
    ("名单.exe", 100, "不支持的文件类型"),
    ("macro.xlsm", 100, "file type .xlsm not accepted"),
    ("no_suffix", 100, "不支持的文件类型"),
    ("名单.xlsx", 6 * MB, "文件过大"),
    ("名单.csv", 0, "文件为空"),
])
def test_uploads_are_limited_in_type_and_size(small_limits, name, size, message):
    with pytest.raises(UnsafeFile, match=message):
        check_upload(name, size)


def test_accepted_uploads(small_limits):
    for name in ("企业名录.xlsx", "运行数据.CSV", "old.xls", "tab.tsv", "plain.txt"):
        check_upload(name, 5 * MB)
