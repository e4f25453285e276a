"""Confidence codes shown to users (data/sources/rules-2022-2026.md: A/B/C/U): `zjtx policies list`, verdict
details, CSV and Excel exports. The code is data in the policy file: changing it changes what users see."""

from __future__ import annotations

import io
import json
from datetime import date

import openpyxl
from builders import Firm, bundle, uscc_for
from typer.testing import CliRunner

from cli.main import app
from registry.policy import evaluate, evaluation_records, get_policy
from registry.policy.export import results_wide, xlsx_bytes
from registry.policy.schema import Policy

AS_OF = date(2023, 5, 1)
FIRM = Firm(uscc=uscc_for(1), years={2022: {"revenue": 10000.0, "rd_expense": 300.0, "employees": 100.0}})


def test_policies_list_shows_the_least_certain_code():
    res = CliRunner().invoke(app, ["policies", "list", "--format", "json"])
    listed = {p["id"]: p for p in json.loads(res.stdout)}
    # 附件2's per-indicator bands come from one secondary source (C); 附件1's rows are all A except the Ⅱ类 definition.
    assert listed["cn/zjtx-sme/2022"]["confidence"] == "C"
    assert listed["cn/little-giant/2021"]["confidence"] is None  # the 2021 files cite the compilation word for word
    table = CliRunner().invoke(app, ["policies", "list"], env={"COLUMNS": "300"})
    line = next(ln for ln in table.stdout.splitlines() if "cn/zjtx-sme/2022" in ln)
    assert "C 待核对" in line


def test_exports_carry_the_confidence_and_a_note():
    policy = get_policy("cn/zjtx-sme/2022")
    df = evaluate(policy, bundle(FIRM), AS_OF)
    wide = results_wide(df, policy)
    assert wide["confidence"].to_list() == ["C"]
    note = wide["confidence_note"][0]
    assert note.startswith("C: score") and "not yet checked against the official" in note
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(df, policy)))
    sheet = book["条件 criteria"]
    header = [c.value for c in sheet[1]]
    rows = {r[0].strip(): dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["score"]["confidence"] == "C" and "一个二手来源" in rows["score"]["note"]
    assert rows["years_in_niche"]["confidence"] == "A" and rows["years_in_niche"]["note"] is None
    results = [c.value for c in book["结果 results"][1]]
    assert any(v.startswith("score\n") and v.endswith("[C]") for v in results)
    # JSON: each criterion carries its code, with a note when it is not A.
    rec = evaluation_records(df)[0]
    by_id = {c["id"]: c for c in rec["criteria"]}
    assert by_id["score"]["confidence"] == "C" and "note" in by_id["score"]
    assert by_id["rd_expense"]["confidence"] == "A" and "note" not in by_id["rd_expense"]


def test_the_check_is_data_not_code():
    """Once the official attachment is checked, raising the file's codes to A is all it takes."""
    data = json.loads(get_policy("cn/zjtx-sme/2022").model_dump_json(exclude_none=True))
    data["criteria"]["children"][4]["children"][0]["confidence"] = "A"
    checked = Policy.model_validate(data)
    assert checked.lowest_confidence() == "A"
    wide = results_wide(evaluate(checked, bundle(FIRM), AS_OF), checked)
    assert wide["confidence"].to_list() == ["A"] and wide["confidence_note"].to_list() == [None]


def test_json_lines_equal_the_records_read_field_by_field():
    """`zjtx evaluate --format json` writes each firm's object in polars (engine.evaluation_json_lines); read back, it
    equals the contract's object assembled field by field from the same result frame in Python — for the national
    rule sets with scores, waivers, checked-by-hand criteria and confidence codes, and firms with and without data."""
    from registry.policy.engine import criteria_list, evaluation_json_lines

    firms = [FIRM, Firm(uscc=uscc_for(2), years={}),
             Firm(uscc=uscc_for(3), years={2021: {"revenue": 30000.0, "rd_expense": 2000.0, "employees": 250.0},
                                           2022: {"revenue": 42000.0, "rd_expense": 2600.0, "employees": 260.0}})]
    for policy_id, on in (("cn/zjtx-sme/2022", AS_OF), ("cn/innovative-sme/2022", AS_OF),
                          ("cn/little-giant/2026", date(2026, 6, 1)), ("cn/little-giant/2021", date(2021, 6, 1))):
        df = evaluate(get_policy(policy_id), bundle(*firms), on)
        expected = [{"uscc": r["uscc"], "policy": r["policy"], "as_of": r["as_of"].isoformat(), "verdict": r["verdict"],
                     "class": r["class"], "score": r["score"], "criteria": criteria_list(r["criteria"])}
                    for r in df.iter_rows(named=True)]
        assert [json.loads(line) for line in evaluation_json_lines(df)] == expected, policy_id
        assert len(expected) == 3 and all(rec["criteria"] for rec in expected)
