"""Downloads: text that a spreadsheet would run as a formula is neutralised; numbers and dates stay typed."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import openpyxl
import polars as pl

from registry.export import neutralize_text, to_csv_bytes, to_excel_bytes

FRAME = pl.DataFrame({
    "name": ["=HYPERLINK(\"http://x.invalid\",\"点我\")", "+86 755 1234", "-2+3", "@SUM(A1)", "深圳市精密机械有限公司",
             None],
    "revenue": [-5.5, 1200.0, None, 0.0, 3.25, 7.0],
    "employees": [10, 20, 30, 40, 50, 60],
    "recognized_on": [date(2021, 7, 1)] * 6,
    "tiers": [["little_giant", "zjtx_sme"], [], ["=x"], None, ["innovative_sme"], []],
})


def test_neutralize_text():
    assert neutralize_text("=1+1") == "'=1+1"
    assert neutralize_text("\t=1") == "'\t=1"
    assert neutralize_text("a=1") == "a=1"
    assert neutralize_text("") == ""


def test_excel_neutralises_text_and_keeps_types():
    book = openpyxl.load_workbook(io.BytesIO(to_excel_bytes(FRAME, sheet_name="企业名录")))
    sheet = book["企业名录"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("name", "revenue", "employees", "recognized_on", "tiers")
    assert [r[0] for r in rows[1:]] == [
        "'=HYPERLINK(\"http://x.invalid\",\"点我\")", "'+86 755 1234", "'-2+3", "'@SUM(A1)", "深圳市精密机械有限公司", None]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert [r[1] for r in rows[1:]] == [-5.5, 1200.0, None, 0.0, 3.25, 7.0]
    assert rows[1][2] == 10
    assert rows[1][3] == datetime(2021, 7, 1)
    assert [r[4] for r in rows[1:4]] == ["little_giant; zjtx_sme", None, "'=x"]


def test_csv_neutralises_text_and_has_bom():
    data = to_csv_bytes(FRAME)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:5]] == ["'=HYPERLINK(\"http://x.invalid\",\"点我\")", "'+86 755 1234", "'-2+3",
                                         "'@SUM(A1)"]
    assert rows[1][1] == "-5.5"  # a negative number is a number, not a formula
    assert rows[5][0] == "深圳市精密机械有限公司"


def test_headers_are_neutralised_too():
    frame = pl.DataFrame({"=cmd": ["x"]})
    assert list(openpyxl.load_workbook(io.BytesIO(to_excel_bytes(frame))).active.iter_rows(values_only=True))[0] \
        == ("'=cmd",)


def test_csv_of_category_columns_is_what_neutralising_every_cell_gives():
    # CSV leaves a Categorical / Enum column none of whose values needs a quote as it is (an evaluation's
    # criterion columns): the bytes must be those of checking every cell as text, worked out here cell by cell.
    results = pl.Enum(["fail", "missing", "pass", "waived"])
    frame = pl.DataFrame({
        "uscc": ["A", "B", "C"],
        "safe": pl.Series(["pass", None, "fail"], dtype=results),
        "risky": pl.Series(["=1+1", "ok", None], dtype=pl.Categorical),
        "risky_enum": pl.Series(["-3", "x", "-3"], dtype=pl.Enum(["-3", "x"])),
        "name": ["@x", "深圳", None],
    })
    expected = ["uscc,safe,risky,risky_enum,name"]
    for row in frame.cast({c: pl.String for c in frame.columns}).iter_rows():
        expected.append(",".join("" if v is None else neutralize_text(v) for v in row))
    assert to_csv_bytes(frame) == b"\xef\xbb\xbf" + ("\n".join(expected) + "\n").encode("utf-8")
