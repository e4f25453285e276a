"""One bad file never blocks the others: every reader failure is that file's rejection, naming it and the
reason; the inbox job quarantines bad files with a note and loads the rest; a dashboard upload gives each file
its own outcome. Old-Mac line endings and line breaks inside headers are read, not refused."""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from fixtures.ingest_data import ENTERPRISE_HEADER, NINGBO, SHENZHEN, enterprise_rows, write_xlsx

from jobs.runs import run_recorded
from registry.identity import make_uscc
from registry.ingest import FileRejected, read_data_file
from registry.intake import Upload, ingest_uploads
from registry.schedule import ingest_job
from registry.settings import get_settings

F0, F1, F2 = NINGBO
ZH_HEADER = "统一社会信用代码,企业名称,行政区划代码,行业代码,成立日期"


def firms_csv(usccs, newline: str = "\n", header: str = ZH_HEADER) -> bytes:
    # A USCC's characters 3-8 are the firm's region code.
    lines = [header] + [f"{u},测试企业{i}有限公司,{u[2:8]},C35,2012-03-01" for i, u in enumerate(usccs, 1)]
    return (newline.join(lines) + newline).encode("utf-8")


def stored_usccs(engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(r[0] for r in conn.execute(sa.text("SELECT uscc FROM enterprise")))


# ----------------------------------------------------------------------------------------------------------------
# Reading: what used to raise a traceback is read, or rejected with a reason
# ----------------------------------------------------------------------------------------------------------------

def test_old_mac_line_endings_are_read(tmp_path):
    path = tmp_path / "mac.csv"
    path.write_bytes(firms_csv([F0, F1], newline="\r"))
    parsed = read_data_file(path)
    assert parsed.kind == "enterprises" and parsed.rejections == []
    assert parsed.frame["uscc"].to_list() == [F0, F1]
    assert parsed.frame["founded_on"].cast(str).to_list() == ["2012-03-01", "2012-03-01"]


@pytest.mark.parametrize("header", [
    ZH_HEADER.replace("企业名称", '"企业\n名称"'),  # a cell with a line break (Alt+Enter in Excel)
    ZH_HEADER.replace("企业名称", "企业\r名称"),  # a stray CR inside a header of an LF file
    ZH_HEADER.replace("企业名称", '"企业\r\n名称"'),
], ids=["quoted-lf", "bare-cr", "quoted-crlf"])
def test_a_line_break_inside_a_header_is_part_of_that_header(tmp_path, header):
    path = tmp_path / "h.csv"
    path.write_bytes(firms_csv([F0, F1], header=header))
    parsed = read_data_file(path)
    assert parsed.kind == "enterprises" and parsed.rejections == [] and parsed.rows_read == 2
    assert parsed.frame["name"].to_list() == ["测试企业1有限公司", "测试企业2有限公司"]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("header", [ZH_HEADER, ",".join(ENTERPRISE_HEADER)], ids=["zh", "en"])
def test_utf16_without_bom_is_named_as_such(tmp_path, encoding, header):
    path = tmp_path / "u16.csv"
    path.write_bytes(firms_csv([F0], header=header).decode("utf-8").encode(encoding))
    with pytest.raises(FileRejected, match="UTF-16") as err:
        read_data_file(path)
    assert "without a byte-order mark" in err.value.reason


def test_a_nul_byte_in_a_cell_is_a_row_rejection_not_an_encoding(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(firms_csv([F0, F1]).replace("测试企业2".encode(), "测试\x00企业2".encode()))
    parsed = read_data_file(path)
    assert parsed.frame["uscc"].to_list() == [F0]
    assert [(r.row, r.column) for r in parsed.rejections] == [(2, "name")]


def _corrupt_entry_xlsx(tmp_path: Path) -> bytes:
    """A real workbook whose sheet entry's compressed bytes are damaged (zlib fails while inflating)."""
    good = write_xlsx(tmp_path / "good.xlsx", ENTERPRISE_HEADER, enterprise_rows()).read_bytes()
    source = zipfile.ZipFile(io.BytesIO(good))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
    data = bytearray(out.getvalue())
    entry = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("xl/worksheets/sheet1.xml")
    start = entry.header_offset + 30 + len(entry.filename) + len(entry.extra)
    for i in range(start + 2, start + min(entry.compress_size, 60)):
        data[i] ^= 0x5A
    return bytes(data)


@pytest.mark.parametrize("name, content", [
    ("unclosed.csv", f'{ZH_HEADER}\n"{F0},甲公司,330212,C35,2012-03-01\n'.encode()),
    ("crlf-in-quote.csv", b'uscc,name\n"a\r\n'),
    ("not-a-zip.xlsx", b"PK\x03\x04" + random.Random(1).randbytes(200)),
    ("text.xlsx", b"uscc,name\n1,2\n"),
    ("legacy.xls", b"\xd0\xcf\x11\xe0" + random.Random(2).randbytes(300)),
    ("truncated.xlsx", None),
    ("corrupt-entry.xlsx", "corrupt"),
])
def test_every_reader_failure_is_a_rejection_naming_the_file(tmp_path, name, content):
    path = tmp_path / name
    if content is None:
        content = write_xlsx(tmp_path / "whole.xlsx", ENTERPRISE_HEADER, enterprise_rows()).read_bytes()[:900]
    elif content == "corrupt":
        content = _corrupt_entry_xlsx(tmp_path)
    path.write_bytes(content)
    try:
        parsed = read_data_file(path)
    except FileRejected as exc:
        assert str(exc).startswith(str(path)) and exc.reason
    else:  # a reader that recovers must still account for every row
        assert parsed.rows_read == parsed.frame.height + len({r.row for r in parsed.rejections if r.row})


def _two_sheet_workbook(path: Path, uscc: str) -> Path:
    workbook = openpyxl.Workbook()
    workbook.active.title = "企业"
    workbook.active.append(ENTERPRISE_HEADER)
    for row in enterprise_rows([uscc]):
        workbook.active.append(row)
    workbook.create_sheet("空表")
    workbook.create_sheet("运行数据").append(["uscc", "period", "revenue"])
    workbook.save(path)
    return path


def test_other_sheets_of_a_workbook_are_reported(tmp_path, engine, config_env):
    path = _two_sheet_workbook(tmp_path / "两张表.xlsx", F0)
    parsed = read_data_file(path)
    assert parsed.kind == "enterprises" and parsed.frame["uscc"].to_list() == [F0]
    assert len(parsed.warnings) == 1 and "运行数据" in parsed.warnings[0] and "one kind per file" in parsed.warnings[0]

    zjtx = str(Path(sys.executable).with_name("zjtx"))
    env = {**os.environ, "COLUMNS": "300"}
    done = subprocess.run([zjtx, "ingest", str(path), "--format", "json"], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    [out] = json.loads(done.stdout)
    assert out["status"] == "loaded" and out["warnings"] == parsed.warnings
    other = _two_sheet_workbook(tmp_path / "另一个.xlsx", F1)
    text = subprocess.run([zjtx, "ingest", str(other)], capture_output=True, text=True, env=env, timeout=120)
    assert "warning: 工作表“运行数据”未读取" in text.stdout and "sheet '运行数据' ignored" in text.stdout


# ----------------------------------------------------------------------------------------------------------------
# The inbox job: the good file loads, each bad one is quarantined with its note, the job succeeds with warnings
# ----------------------------------------------------------------------------------------------------------------

def _age(inbox: Path) -> None:
    old = time.time() - 60
    for entry in inbox.iterdir():
        os.utime(entry, (old, old), follow_symlinks=False)


def test_the_inbox_job_loads_the_good_files_and_quarantines_each_bad_one(engine, config_env, tmp_path):
    settings = get_settings()
    inbox, quarantine = settings.path("inbox"), settings.path("quarantine")
    inbox.mkdir(parents=True)
    (inbox / "good.csv").write_bytes(firms_csv([F0]))
    (inbox / "mac.csv").write_bytes(firms_csv([F1], newline="\r"))  # read, not refused
    (inbox / "wrapped-header.csv").write_bytes(firms_csv([F2], header=ZH_HEADER.replace("企业名称", '"企业\n名称"')))
    odd_suffix = make_uscc("91330212MA0000002")
    (inbox / ("名单." + "x" * 200)).write_bytes(firms_csv([odd_suffix]))  # a 200-character "suffix": archived safely
    long_name = "很长的文件名" * 13 + ".csv"  # 237 bytes: the quarantine's prefix and note would overflow 255
    bad = {
        "unclosed.csv": f'{ZH_HEADER}\n"{SHENZHEN},甲公司,440305,C35,2012-03-01\n'.encode(),
        "utf16.csv": firms_csv([SHENZHEN]).decode().encode("utf-16-le"),
        "broken.xlsx": b"PK\x03\x04" + b"\x00" * 100,
        long_name: b"no,kind\n1,2\n",
    }
    for name, content in bad.items():
        (inbox / name).write_bytes(content)
    # A link to a valid file outside the inbox: refused, never followed (its firm must not be loaded).
    outside = tmp_path / "elsewhere.csv"
    stranger = make_uscc("91330212MA0000001")
    outside.write_bytes(firms_csv([stranger]))
    (inbox / "link.csv").symlink_to(outside)
    os.mkfifo(inbox / "pipe.csv")  # reading it would block the job forever
    (inbox / "folder.csv").mkdir()
    _age(inbox)

    outcome = run_recorded(engine, "ingest", lambda: ingest_job(engine, settings))

    assert outcome.status == "success", outcome.error
    assert stored_usccs(engine) == sorted([F0, F1, F2, odd_suffix])
    assert outcome.counts["loaded"] == 4 and outcome.counts["rejected"] == 7
    refused = {*bad, "link.csv", "pipe.csv", "folder.csv"}
    warned = {w.split(": ", 1)[0] for w in outcome.counts["warnings"]}
    assert warned == refused
    assert list(inbox.iterdir()) == []
    notes = {p: p.read_text("utf-8") for p in quarantine.glob("*.reason.txt")}
    assert len(notes) == len(refused)
    by_file = {text.splitlines()[0]: text for text in notes.values()}  # the note names the file as it was called
    assert set(by_file) == refused
    assert "malformed CSV" in by_file["unclosed.csv"]
    assert "UTF-16" in by_file["utf16.csv"]
    assert "Excel" in by_file["broken.xlsx"]
    assert "symbolic link" in by_file["link.csv"] and "not a regular file" in by_file["pipe.csv"]
    assert "not a regular file" in by_file["folder.csv"]
    assert all(len(p.name.encode()) <= 255 for p in quarantine.iterdir())
    long_note = next(p for p, text in notes.items() if text.startswith(long_name))
    kept = long_note.with_name(long_note.name.removesuffix(".reason.txt"))
    assert kept.read_bytes() == bad[long_name] and len(kept.name) < len(long_name)
    # The link was moved as a link; its target is where it was, unread.
    moved_link = next(p for p in quarantine.iterdir() if p.is_symlink())
    assert os.readlink(moved_link) == str(outside) and outside.exists()
    # Every refusal is a rejected run, named in the runs table and the audit trail.
    with engine.connect() as conn:
        statuses = conn.execute(sa.text("SELECT status, COUNT(*) FROM ingestion_run GROUP BY status")).all()
    assert dict(statuses) == {"loaded": 4, "rejected": 7}

    # The next run finds an empty inbox and succeeds.
    again = run_recorded(engine, "ingest", lambda: ingest_job(engine, settings))
    assert again.status == "success" and again.counts["files"] == 0


# ----------------------------------------------------------------------------------------------------------------
# Dashboard upload: each file its own outcome
# ----------------------------------------------------------------------------------------------------------------

def test_each_uploaded_file_gets_its_own_outcome(engine, config_env):
    uploads = [
        Upload("企业名录.csv", firms_csv([F0])),
        Upload("程序.exe", b"MZ\x90\x00"),
        Upload("坏引号.csv", f'{ZH_HEADER}\n"{F1},乙公司,330212,C35,2012-03-01\n'.encode()),
        Upload("mac.csv", firms_csv([F2], newline="\r")),
        Upload("quoted-header.csv", firms_csv([SHENZHEN], header=ZH_HEADER.replace("企业名称", '"企业\n名称"'))),
    ]
    results = ingest_uploads(engine, uploads)

    assert [(Path(r.file).name, r.status) for r in results] == [
        ("企业名录.csv", "loaded"), ("程序.exe", "rejected"), ("坏引号.csv", "rejected"), ("mac.csv", "loaded"),
        ("quoted-header.csv", "loaded")]
    assert "not accepted" in results[1].file_reason
    assert "malformed CSV" in results[2].file_reason
    assert stored_usccs(engine) == sorted([F0, F2, SHENZHEN])


def test_an_unexpected_failure_while_reading_one_file_does_not_stop_the_others(engine, config_env, monkeypatch):
    """Not the file's fault (a bug, say): that file stays in the inbox for the next run, as a failed run naming it;
    the other files still load."""
    import registry.ingest.service as service

    settings = get_settings()
    inbox = settings.path("inbox")
    inbox.mkdir(parents=True)
    (inbox / "good.csv").write_bytes(firms_csv([F0]))
    (inbox / "bug.csv").write_bytes(firms_csv([F1]))
    _age(inbox)
    real_parse = service.parse_data

    def parse(data, path, kind=None):
        if path.name == "bug.csv":
            raise RuntimeError("a bug in the reader")
        return real_parse(data, path, kind)

    monkeypatch.setattr(service, "parse_data", parse)
    outcome = run_recorded(engine, "ingest", lambda: ingest_job(engine, settings))

    assert outcome.status == "failed" and "bug.csv" in outcome.error and "a bug in the reader" in outcome.error
    assert stored_usccs(engine) == [F0]
    assert [p.name for p in inbox.iterdir()] == ["bug.csv"]
    with engine.connect() as conn:
        runs = conn.execute(sa.text("SELECT file_name, status FROM ingestion_run ORDER BY id")).all()
    assert sorted((Path(name).name, status) for name, status in runs) == [("bug.csv", "failed"), ("good.csv", "loaded")]
