"""Reading and validating data files (interfaces A): encodings, Excel, headers, kinds, every rejection reason.

No database: read_data_file is pure.
"""

from __future__ import annotations

from datetime import date

import pytest
from fixtures.ingest_data import NINGBO, SHENZHEN, write_csv, write_xlsx

from registry.errors import UserError
from registry.identity import make_uscc
from registry.ingest import FileRejected, read_data_file

F0 = NINGBO[0]

ZH_ENTERPRISE_HEADER = ["统一社会信用代码", "企业名称", "行政区划代码", "行业代码", "成立日期", "注册资本", "上市板块"]


# ----------------------------------------------------------------------------------------------------------------
# Encodings and Excel
# ----------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings_with_chinese_headers_are_detected(tmp_path, encoding):
    # 𠀀 (U+20000) exists in GB18030 only, so the gb18030 file cannot be read as GBK.
    name = "𠀀科技（宁波）有限公司" if encoding == "gb18030" else "甲科技（宁波）有限公司"
    path = write_csv(tmp_path / "企业.csv", ZH_ENTERPRISE_HEADER,
                     [[F0, name, "330212", "C3562", "2012-03-01", "1,000", "科创板"]], encoding=encoding)

    parsed = read_data_file(path)

    assert parsed.kind == "enterprises"
    assert parsed.encoding == encoding
    assert parsed.rejections == []
    row = parsed.frame.row(0, named=True)
    assert row["name"] == name  # kept as written, full-width brackets included
    assert row["registered_capital"] == 1000.0
    assert row["listing_board"] == "star"
    assert row["founded_on"] == date(2012, 3, 1)


def test_utf8_file_with_a_corrupt_byte_is_rejected_not_read_as_gbk(tmp_path):
    good = "统一社会信用代码,企业名称,行政区划代码,行业代码,成立日期\n" + \
        f"{F0},甲科技有限公司,330212,C35,2012-03-01\n"
    data = good.encode("utf-8") + f"{NINGBO[1]},乙".encode() + b"\xff\xfe" + "公司,330212,C35,2012-03-01\n".encode()
    path = tmp_path / "broken.csv"
    path.write_bytes(data)

    with pytest.raises(FileRejected) as err:
        read_data_file(path)
    assert "UTF-8" in err.value.reason and "line 3" in err.value.reason


def test_bytes_in_no_supported_encoding_are_rejected_with_the_line(tmp_path):
    path = tmp_path / "junk.csv"
    path.write_bytes(b"uscc,name\n" + b"\x81\x20\x81\x20\x81\x20\n")
    with pytest.raises(FileRejected) as err:
        read_data_file(path)
    assert "neither UTF-8 nor GBK/GB18030" in err.value.reason and "line 2" in err.value.reason


def test_utf16_is_rejected_with_advice(tmp_path):
    path = tmp_path / "u16.csv"
    path.write_bytes("uscc,name\n".encode("utf-16"))
    with pytest.raises(FileRejected, match="UTF-16"):
        read_data_file(path)


def test_xlsx_with_chinese_headers_and_typed_cells(tmp_path):
    path = write_xlsx(
        tmp_path / "认定.xlsx",
        ["统一社会信用代码", "称号", "认定机关辖区", "批次", "认定日期", "文号"],
        [[F0, '专精特新"小巨人"企业', "cn", 3, date(2021, 7, 19), "工信厅企业函〔2021〕197号"],
         [NINGBO[1], "省级专精特新中小企业", "浙江省", 1, "2020/12/1", None]],
    )

    parsed = read_data_file(path)

    assert (parsed.kind, parsed.encoding, parsed.rows_read) == ("recognitions", "xlsx", 2)
    assert parsed.rejections == []
    rows = parsed.frame.sort("row").to_dicts()
    assert [r["tier"] for r in rows] == ["little_giant", "zjtx_sme"]
    assert [r["jurisdiction"] for r in rows] == ["cn", "cn-zj"]
    assert [r["batch"] for r in rows] == ["3", "1"]  # Excel's 3.0 is batch "3"
    assert rows[0]["recognized_on"] == date(2021, 7, 19) and rows[1]["recognized_on"] == date(2020, 12, 1)
    assert rows[0]["document_no"] == "工信厅企业函〔2021〕197号"
    assert rows[0]["status"] == "active"  # CONTRACT §2 default
    # valid_until derived from the policy lifecycle: national 小巨人, 3 years, the day before the anniversary.
    assert rows[0]["valid_until"] == date(2024, 7, 18)


def test_bom_file_with_bytes_that_are_not_utf8_is_rejected(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfuscc,period\n" + "甲".encode("gbk") + b",2024\n")
    with pytest.raises(FileRejected, match="BOM.*line 2"):
        read_data_file(path)


def test_tab_separated_file_is_read(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text(f"统一社会信用代码\t报告期\t营业收入\n{F0}\t2024\t12.5\n", encoding="gbk")
    parsed = read_data_file(path)
    assert (parsed.kind, parsed.encoding) == ("reports", "gbk")
    assert parsed.frame["revenue"].to_list() == [12.5]


def test_workbook_without_data_is_rejected(tmp_path):
    import openpyxl

    path = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(FileRejected, match="no data"):
        read_data_file(path)


def test_unreadable_excel_is_rejected(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(FileRejected, match="Excel"):
        read_data_file(path)


# ----------------------------------------------------------------------------------------------------------------
# Headers, kinds, whole-file rejections
# ----------------------------------------------------------------------------------------------------------------

def test_headers_match_ignoring_spaces_width_case_and_required_marks(tmp_path):
    header = ["　ＵＳＣＣ ", " 报告期", "*营业收入（万元）", "Employees", "主导产品市场占有率(%)", "研发费用 (万元)"]
    path = write_csv(tmp_path / "r.csv", header, [[F0, "2024年第三季度", "1,234.5", "12", "3.5%", "８８"]])

    parsed = read_data_file(path)

    assert parsed.kind == "reports" and parsed.unknown_columns == [] and parsed.rejections == []
    row = parsed.frame.row(0, named=True)
    assert (row["period"], row["period_type"], row["year"]) == ("2024Q3", "quarterly", 2024)
    assert row["period_end"] == date(2024, 9, 30)
    assert (row["revenue"], row["employees"], row["market_share"], row["rd_expense"]) == (1234.5, 12.0, 3.5, 88.0)
    assert row["basis"] == "period"


def test_unknown_columns_and_wrong_units_are_reported_and_kept_out(tmp_path):
    header = ["uscc", "period", "revenue", "备注", "出口额(万美元)", ""]
    path = write_csv(tmp_path / "r.csv", header, [[F0, "2024", "10", "note", "5", "stray"]])

    parsed = read_data_file(path)

    assert parsed.unknown_columns == ["备注", "出口额(万美元)", "第6列 column 6"]
    assert "export_value" not in parsed.present_columns
    assert parsed.frame["export_value"].to_list() == [None]
    reasons = {n.column: n.reason for n in parsed.column_notes}
    assert "unknown column" in reasons["备注"] and "万美元" in reasons["出口额(万美元)"]


def test_missing_required_column_rejects_the_file(tmp_path):
    path = write_csv(tmp_path / "e.csv", ["uscc", "name", "industry_code", "founded_on"],
                     [[F0, "甲", "C35", "2012-01-01"]])
    with pytest.raises(FileRejected) as err:
        read_data_file(path)
    assert err.value.kind == "enterprises"
    assert "region_code" in err.value.reason and "行政区划代码" in err.value.reason
    assert str(path) in str(err.value)
    assert isinstance(err.value, UserError)


@pytest.mark.parametrize(("header", "kind"), [
    (["uscc", "name", "region_code", "industry_code", "founded_on"], "enterprises"),
    (["uscc", "tier", "jurisdiction", "batch", "recognized_on"], "recognitions"),
    (["uscc", "period", "revenue"], "reports"),
    (["uscc", "attribute", "value", "effective_on"], "attributes"),
    (["uscc", "event", "occurred_on"], "events"),
    (["uscc", "indicator", "baseline", "target_year1", "target_year2", "start_period"], "firm_targets"),
    (["jurisdiction", "tier", "year", "target_count"], "regional_targets"),
    (["辖区", "称号", "年度", "目标数"], "regional_targets"),
])
def test_kind_is_detected_from_headers(tmp_path, header, kind):
    path = write_csv(tmp_path / "f.csv", header, [])
    assert read_data_file(path).kind == kind


def test_kind_given_overrides_detection_and_unknown_kind_is_a_user_error(tmp_path):
    path = write_csv(tmp_path / "f.csv", ["uscc", "period"], [[F0, "2024"]])
    assert read_data_file(path, kind="运行数据").kind == "reports"
    with pytest.raises(FileRejected, match="missing required column"):
        read_data_file(path, kind="events")
    with pytest.raises(UserError, match="unknown kind"):
        read_data_file(path, kind="bananas")


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "empty"),
    (b"\n\n", "empty"),
    (b"foo,bar\n1,2\n", "cannot tell the kind"),
    ("uscc,period,报告期\n".encode(), "appears more than once"),
    (f"uscc,period\n{F0},2024,extra\n".encode(), "data row 1 has 3 fields"),
])
def test_whole_file_rejections(tmp_path, content, reason):
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    with pytest.raises(FileRejected, match=reason):
        read_data_file(path)


def test_missing_file_is_rejected(tmp_path):
    with pytest.raises(FileRejected, match="file not found"):
        read_data_file(tmp_path / "nope.csv")


def test_blank_rows_are_skipped_and_row_numbers_follow_the_file(tmp_path):
    path = write_csv(tmp_path / "r.csv", ["uscc", "period", "revenue"],
                     [[F0, "2024", "1"], ["", "", ""], [NINGBO[1], "2024", "x"]])
    parsed = read_data_file(path)
    assert parsed.rows_read == 2
    assert [(r.row, r.column) for r in parsed.rejections] == [(3, "revenue")]


@pytest.mark.parametrize(("written", "period", "period_type"), [
    ("2024", "2024", "annual"), ("2024年", "2024", "annual"), ("2024q3", "2024Q3", "quarterly"),
    ("2024-Q1", "2024Q1", "quarterly"), ("2024年第四季度", "2024Q4", "quarterly"), ("2024年2季度", "2024Q2", "quarterly"),
    ("2024-7", "2024-07", "monthly"), ("202407", "2024-07", "monthly"), ("2024年12月", "2024-12", "monthly"),
    ("2024/03", "2024-03", "monthly"),
])
def test_period_spellings_are_normalised(tmp_path, written, period, period_type):
    parsed = read_data_file(write_csv(tmp_path / "r.csv", ["uscc", "period"], [[F0, written]]))
    assert parsed.rejections == []
    assert parsed.frame.select("period", "period_type").row(0) == (period, period_type)


@pytest.mark.parametrize("written", ["2021-07-19", "2021/7/19", "2021.07.19", "20210719", "2021年7月19日",
                                     "2021-07-19 00:00:00"])
def test_date_spellings(tmp_path, written):
    parsed = read_data_file(write_csv(tmp_path / "e.csv", ["uscc", "event", "occurred_on"], [[F0, "更名", written]]))
    assert parsed.rejections == []
    assert parsed.frame.row(0, named=True)["occurred_on"] == date(2021, 7, 19)


def test_annual_ytd_is_the_same_as_period_and_listing_detail_is_a_board(tmp_path):
    reports = read_data_file(write_csv(tmp_path / "r.csv", ["uscc", "period", "口径"],
                                       [[F0, "2024", "本年累计"], [F0, "2024-06", "本年累计"]]))
    assert reports.frame.sort("row")["basis"].to_list() == ["period", "ytd"]
    events = read_data_file(write_csv(tmp_path / "e.csv", ["uscc", "event", "occurred_on", "detail"],
                                      [[F0, "上市", "2023-05-01", "科创板"], [F0, "rename", "2023-05-01", "改名为乙"]]))
    assert events.frame.sort("row")["detail"].to_list() == ["star", "改名为乙"]


def test_attribute_values_are_read_by_attribute_and_extra_attributes_are_kept(tmp_path):
    parsed = read_data_file(write_csv(
        tmp_path / "a.csv", ["uscc", "属性", "值", "生效日期"],
        [[F0, "研发机构", "省级", "2020-01-01"], [F0, "high_tech_enterprise", "是", "2020-01-01"],
         [F0, "niche_since_year", "2012", "2020-01-01"], [F0, "shenzhen_priority", "A类", "2020-01-01"]]))
    assert parsed.rejections == []
    assert parsed.frame.sort("row").select("attribute", "value").rows() == [
        ("rd_institution", "provincial"), ("high_tech_enterprise", "true"), ("niche_since_year", "2012"),
        ("shenzhen_priority", "A类")]


def test_inputs_of_the_2022_and_2026_rules_with_chinese_headers(tmp_path):
    """CONTRACT §3b: the new report metrics under their Chinese headers, and the new attributes and values."""
    reports = read_data_file(write_csv(
        tmp_path / "r.csv", ["统一社会信用代码", "报告期", "Ⅰ类知识产权数", "Ⅰ类高价值知识产权数", "自主研发Ⅰ类知识产权数",
                             "Ⅱ类知识产权数", "科技人员数", "成本费用支出总额(万元)", "主导产品国际细分市场占有率(%)",
                             "主导产品国内细分市场排名"],
        [[F0, "2024", "5", "1", "3", "12", "40", "8,000", "12.5", "2"]]))
    assert reports.rejections == [] and reports.unknown_columns == []
    row = reports.frame.row(0, named=True)
    assert [row[c] for c in ("class1_ip", "class1_ip_high_value", "class1_ip_own", "class2_ip", "tech_staff",
                             "total_cost", "intl_market_share", "national_rank")] == [5, 1, 3, 12, 40, 8000, 12.5, 2]
    attrs = read_data_file(write_csv(
        tmp_path / "a.csv", ["uscc", "属性", "值", "生效日期", "失效日期"],
        [[F0, "产业链作用", "锻长板", "2024-01-01", ""], [F0, "数字化水平评测等级", "三级", "2024-01-01", ""],
         [F0, "专精特新发展质量评价得分", "62.5", "2026-03-01", ""], [F0, "科技奖励", "省级", "2023-06-01", ""],
         [F0, "获奖单位排名", "2", "2023-06-01", ""], [F0, "创客中国大赛", "全国500强", "2022-11-01", ""],
         [F0, "innovation_honour", "高新技术企业", "2022-12-01", "2025-11-30"],
         [F0, "innovation_honour", "知识产权示范企业", "2023-01-01", "2025-12-31"],
         [F0, "研发机构", "市级", "2020-01-01", ""], [F0, "产业导向", "网络强国", "2020-01-01", ""],
         [F0, "战略性新兴产业", "是", "2020-01-01", ""], [F0, "省级以上质量奖", "否", "2020-01-01", ""]]))
    assert attrs.rejections == []
    assert attrs.frame.sort("row").select("attribute", "value").rows() == [
        ("chain_role", "longboard"), ("digital_level", "3"), ("quality_score", "62.5"), ("science_award", "provincial"),
        ("science_award_rank", "2"), ("maker_china", "top500"), ("innovation_honour", "high_tech_enterprise"),
        ("innovation_honour", "ip_demo"), ("rd_institution", "city"), ("industry_orientation", "network_power"),
        ("strategic_emerging", "true"), ("quality_award", "false")]
    bad = read_data_file(write_csv(
        tmp_path / "b.csv", ["uscc", "属性", "值", "生效日期"],
        [[F0, "quality_score", "120", "2026-03-01"], [F0, "science_award_rank", "0", "2023-06-01"],
         [F0, "digital_level", "五级", "2024-01-01"]]))
    assert sorted(r.row for r in bad.rejections) == [1, 2, 3]
    recognitions = read_data_file(write_csv(
        tmp_path / "t.csv", ["统一社会信用代码", "称号", "辖区", "批次", "认定日期"],
        [[F0, "科技型中小企业", "cn", "2025", "2025-05-01"]]))
    assert recognitions.rejections == [] and recognitions.frame["tier"].to_list() == ["tech_sme"]


# ----------------------------------------------------------------------------------------------------------------
# Every row rejection reason: one valid row per kind, one cell (or two) changed, exactly that cell rejected
# ----------------------------------------------------------------------------------------------------------------

VALID = {
    "enterprises": {"uscc": F0, "name": "甲公司", "region_code": "330212", "industry_code": "C3562",
                    "founded_on": "2012-03-01", "registered_capital": "100", "ownership": "民营",
                    "listing_board": "none"},
    "recognitions": {"uscc": F0, "tier": "little_giant", "jurisdiction": "cn", "batch": "3",
                     "recognized_on": "2021-07-19", "valid_until": "", "status": "active"},
    "reports": {"uscc": F0, "period": "2024", "basis": "period", "revenue": "100", "net_profit": "-5",
                "employees": "10", "market_share": "3.5", "province_rank": "1"},
    "attributes": {"uscc": F0, "attribute": "rd_institution", "value": "provincial", "effective_on": "2020-01-01",
                   "expires_on": ""},
    "events": {"uscc": F0, "event": "rename", "occurred_on": "2023-01-01", "notified_on": "2023-01-15",
               "detail": ""},
    "firm_targets": {"uscc": F0, "indicator": "revenue_growth", "baseline": "10", "target_year1": "12",
                     "target_year2": "是", "start_period": "2021", "direction": "higher"},
    "regional_targets": {"jurisdiction": "cn-zj", "tier": "little_giant", "year": "2025", "target_count": "500"},
}


def _write(tmp_path, kind: str, values: dict):
    return write_csv(tmp_path / f"{kind}.csv", list(values), [list(values.values())])


@pytest.mark.parametrize("kind", list(VALID))
def test_the_valid_rows_pass(tmp_path, kind):
    parsed = read_data_file(_write(tmp_path, kind, VALID[kind]))
    assert parsed.kind == kind and parsed.rejections == [] and parsed.frame.height == 1


BAD_CHECK = F0[:17] + ("0" if F0[17] != "0" else "1")
BAD_CHAR = "9133021" + "I" + F0[8:]

CASES = [
    ("enterprises", {"uscc": "91330212"}, "uscc", "must be 18 characters"),
    ("enterprises", {"uscc": BAD_CHECK}, "uscc", "wrong check character"),
    ("enterprises", {"uscc": BAD_CHAR}, "uscc", "illegal character"),
    ("enterprises", {"name": ""}, "name", "required value missing"),
    ("enterprises", {"region_code": "33021"}, "region_code", "must be 6 digits"),
    ("enterprises", {"region_code": "990101"}, "region_code", "unknown region code"),
    ("enterprises", {"industry_code": "35"}, "industry_code", "must look like C35"),
    ("enterprises", {"industry_code": "A35"}, "industry_code", "unknown division"),
    ("enterprises", {"founded_on": "2021-02-30"}, "founded_on", "not a real date"),
    ("enterprises", {"founded_on": "1850-01-01"}, "founded_on", "before 1900"),
    ("enterprises", {"founded_on": "2999-01-01"}, "founded_on", "in the future"),
    ("enterprises", {"registered_capital": "abc"}, "registered_capital", "not a number"),
    ("enterprises", {"registered_capital": "-1"}, "registered_capital", "must not be negative"),
    ("enterprises", {"ownership": "外资"}, "ownership", "not an allowed value"),
    ("enterprises", {"listing_board": "nasdaq"}, "listing_board", "not an allowed value"),
    ("recognitions", {"tier": "Little Giant!"}, "tier", "not a valid tier id"),
    ("recognitions", {"tier": "little_gaint"}, "tier", "misspelling of little_giant"),
    ("recognitions", {"jurisdiction": "cn-zz"}, "jurisdiction", "unknown jurisdiction"),
    ("recognitions", {"status": "expired"}, "status", "not an allowed value"),
    ("recognitions", {"valid_until": "2020-01-01"}, "valid_until", "must be after recognized_on"),
    ("recognitions", {"batch": ""}, "batch", "required value missing"),
    ("reports", {"period": "2024Q5"}, "period", "period must look like"),
    ("reports", {"period": "2999"}, "period", "has not begun"),
    ("reports", {"basis": "monthly"}, "basis", "basis must be period or ytd"),
    ("reports", {"revenue": "1.2.3"}, "revenue", "not a number"),
    ("reports", {"revenue": "inf"}, "revenue", "not a number"),
    ("reports", {"employees": "-3"}, "employees", "must not be negative"),
    ("reports", {"employees": "10.5"}, "employees", "whole number"),
    ("reports", {"market_share": "120"}, "market_share", "within 0-100"),
    ("reports", {"province_rank": "0"}, "province_rank", "at least 1"),
    ("attributes", {"attribute": "研发中心"}, "attribute", "not a valid attribute id"),
    ("attributes", {"attribute": "rd_instituton"}, "attribute", "misspelling of rd_institution"),
    ("attributes", {"value": "big"}, "value", "not an allowed value for rd_institution"),
    ("attributes", {"attribute": "niche_since_year", "value": "1800"}, "value", "must be a year"),
    ("attributes", {"attribute": "standards_led", "value": "-2"}, "value", "whole number"),
    ("attributes", {"expires_on": "2019-01-01"}, "expires_on", "before effective_on"),
    ("events", {"event": "fire"}, "event", "unknown event"),
    ("events", {"notified_on": "2022-12-01"}, "notified_on", "before occurred_on"),
    ("events", {"event": "listing", "detail": ""}, "detail", "needs the board"),
    ("firm_targets", {"baseline": "many"}, "baseline", "not a number or yes/no"),
    ("firm_targets", {"direction": "up"}, "direction", "not an allowed value"),
    ("firm_targets", {"start_period": "21"}, "start_period", "period must look like"),
    ("regional_targets", {"year": "25"}, "year", "4-digit year"),
    ("regional_targets", {"target_count": "-1"}, "target_count", "must not be negative"),
    ("regional_targets", {"target_count": "1.5"}, "target_count", "whole number"),
    ("regional_targets", {"tier": ""}, "tier", "required value missing"),
]


@pytest.mark.parametrize(("kind", "change", "column", "fragment"), CASES,
                         ids=[f"{k}-{c}-{f}" for k, _, c, f in CASES])
def test_each_rejection_reason(tmp_path, kind, change, column, fragment):
    parsed = read_data_file(_write(tmp_path, kind, {**VALID[kind], **change}))

    assert parsed.frame.height == 0
    assert [(r.row, r.column) for r in parsed.rejections] == [(1, column)]
    reason = parsed.rejections[0].reason
    assert fragment in reason
    assert " / " in reason  # Chinese first, then English


def test_duplicate_key_in_one_file_keeps_the_later_row(tmp_path):
    parsed = read_data_file(write_csv(tmp_path / "r.csv", ["uscc", "period", "revenue"],
                                      [[F0, "2024", "1"], [SHENZHEN, "2024", "5"], [F0, "2024年", "2"]]))
    assert sorted(parsed.frame["revenue"].to_list()) == [2.0, 5.0]
    assert [(r.row, r.column) for r in parsed.rejections] == [(1, "period")]
    assert "duplicate of row 3" in parsed.rejections[0].reason


def test_several_bad_cells_of_one_row_are_all_reported(tmp_path):
    other = make_uscc("91330212MA2XXXXX0")
    parsed = read_data_file(write_csv(tmp_path / "r.csv", ["uscc", "period", "revenue", "employees"],
                                      [[other, "2024", "-1", "x"]]))
    assert [(r.row, r.column) for r in parsed.rejections] == [(1, "revenue"), (1, "employees")]


def test_every_column_of_every_kind_is_documented_for_users():
    from pathlib import Path

    from registry.ingest.headers import CATALOGUE

    doc = (Path(__file__).resolve().parent.parent / "docs" / "data-files.md").read_text(encoding="utf-8")
    for kind, specs in CATALOGUE.items():
        assert f"### {kind}" in doc
        for spec in specs:
            assert f"| `{spec.name}` | {' / '.join(spec.zh)} |" in doc, (kind, spec.name)


def test_regional_tiers_declared_by_policy_files_are_accepted_by_code_and_name(tmp_path):
    """hb_little_giant is close to little_giant but is a real tier declared by a Hubei policy file."""
    from registry.policy.loader import declared_tiers

    regional = declared_tiers()
    assert "hb_little_giant" in regional
    rows = [{**VALID["recognitions"], "tier": "hb_little_giant", "jurisdiction": "cn"},
            {**VALID["recognitions"], "tier": regional["hb_little_giant"], "jurisdiction": "cn",
             "recognized_on": "2022-01-05"}]
    path = write_csv(tmp_path / "r.csv", list(rows[0]), [list(r.values()) for r in rows])
    parsed = read_data_file(path)
    assert parsed.rejections == []
    assert parsed.frame["tier"].to_list() == ["hb_little_giant", "hb_little_giant"]
