"""Reference tables in data/reference/ and the lookups built on them."""

from __future__ import annotations

import polars as pl
import pytest

from registry import reference as ref

MAINLAND = {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42",
            "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"}  # fmt: skip


def test_every_table_has_a_source_note() -> None:
    for csv in ref.DATA_DIR.glob("*.csv"):
        note = csv.with_suffix(".source.md")
        assert note.exists() and note.stat().st_size > 200, note


def test_regions_provinces() -> None:
    r = ref.regions()
    prov = r.filter(pl.col("level") == "province")
    assert set(prov.filter("mainland")["code"].str.slice(0, 2)) == MAINLAND
    assert set(prov.filter(~pl.col("mainland"))["code"]) == {"710000", "810000", "820000"}
    assert r["code"].is_unique().all() and r["code"].str.contains(r"^\d{6}$").all()


def test_regions_hierarchy() -> None:
    r = ref.regions()
    codes = set(r["code"])
    below = r.filter(pl.col("level") != "province")
    assert set(below["parent_code"]) <= codes
    assert (below["province_code"] == below["code"].str.slice(0, 2) + "0000").all()
    assert (r.filter(pl.col("level") == "prefecture")["code"].str.slice(4) == "00").all()
    # 333 real prefecture-level units + 5 municipal 市辖区/县 rows + 4 省直辖县级 pseudo-prefectures
    assert r.filter(pl.col("level") == "prefecture").height == 342
    assert {"330200", "440300", "110100", "500200", "659000", "652300"} <= codes


def test_bingtuan_cities() -> None:
    r = ref.regions().filter(pl.col("parent_code") == "659000")
    assert r["code"].to_list() == [f"6590{i:02d}" for i in range(1, 13)]
    assert set(r["level"]) == {"county"}
    assert r.filter(pl.col("code") == "659001")["name"].item() == "石河子市"


def test_jurisdiction_prefixes_match_regions() -> None:
    codes = ref.regions()["code"]
    j = ref.jurisdictions()
    assert j["id"].is_unique().all() and set(j["parent_id"]) - {""} <= set(j["id"])
    for jid, prefixes in j.select("id", "region_codes").iter_rows():
        for p in filter(None, prefixes.split(";")):
            assert codes.str.starts_with(p).any(), (jid, p)
    provinces = j.filter(pl.col("level") == "province")
    assert provinces.height == 32 and "cn-bingtuan" in provinces["id"]


def test_jurisdiction_of_region() -> None:
    assert ref.jurisdiction_of_region("330212") == ["cn", "cn-zj", "cn-zj-ningbo"]
    assert ref.jurisdiction_of_region("440305") == ["cn", "cn-gd", "cn-gd-shenzhen"]
    assert ref.jurisdiction_of_region("330106") == ["cn", "cn-zj"]
    assert ref.jurisdiction_of_region("659001") == ["cn", "cn-bingtuan"]
    assert ref.jurisdiction_of_region("650102") == ["cn", "cn-xj"]
    with pytest.raises(ValueError):
        ref.jurisdiction_of_region("33021")


def test_every_mainland_region_has_exactly_one_province_jurisdiction() -> None:
    r = ref.regions().filter("mainland")
    scalar = [[j for j in ref.jurisdiction_of_region(c) if j.count("-") == 1] for c in r["code"]]
    assert all(len(s) == 1 for s in scalar)
    vec = r.select(ref.jurisdiction_expr("code"))["code"].to_list()
    assert vec == [s[0] for s in scalar]


def test_jurisdiction_expr() -> None:
    df = pl.DataFrame({"r": ["330212", "659004", "650102", "370202", "110108", "710000", None]})
    out = df.select(p=ref.jurisdiction_expr("r"), c=ref.jurisdiction_expr(pl.col("r"), most_specific=True))
    assert out["p"].to_list() == ["cn-zj", "cn-bingtuan", "cn-xj", "cn-sd", "cn-bj", None, None]
    assert out["c"].to_list() == [
        "cn-zj-ningbo",
        "cn-bingtuan",
        "cn-xj",
        "cn-sd-qingdao",
        "cn-bj",
        None,
        None,
    ]


def test_province_of() -> None:
    assert ref.province_of("659001") == "650000"  # 兵团 firms still roll up to Xinjiang
    assert ref.province_of("110108") == "110000"
    with pytest.raises(ValueError):
        ref.province_of("990101")
    assert pl.select(ref.province_code_expr(pl.lit("330212"))).item() == "330000"


def test_industries() -> None:
    ind = ref.industries()
    sections = ind.filter(pl.col("level") == "section")
    divisions = ind.filter(pl.col("level") == "division")
    assert sections["code"].to_list() == list("ABCDEFGHIJKLMNOPQRST")
    assert divisions["code"].to_list() == [f"{i:02d}" for i in range(1, 98)]
    assert set(divisions["section"]) == set(sections["code"])
    lookup = dict(divisions.select("code", "section").iter_rows())
    assert (lookup["13"], lookup["43"], lookup["44"], lookup["65"], lookup["97"]) == ("C", "C", "D", "I", "T")
    assert divisions.filter(pl.col("code") == "35")["name"].item() == "专用设备制造业"


def test_parse_industry_code() -> None:
    assert ref.parse_industry_code("C3562") == ("C", "3562")
    assert ref.parse_industry_code("c35") == ("C", "35")
    for bad in ["B35", "C3", "X01", "35", "C35621"]:
        with pytest.raises(ValueError):
            ref.parse_industry_code(bad)


def test_sme_size_standard_rows() -> None:
    s = ref.sme_size_standard()
    assert s.height == 16 and s["industry_key"].is_unique().all()
    assert s["name_zh"].to_list()[:3] == ["农、林、牧、渔业", "工业", "建筑业"]
    ind = s.filter(pl.col("industry_key") == "industry").row(0, named=True)
    assert ind["gbt4754_sections"] == "B;C;D"
    assert (ind["sme_employees_max"], ind["sme_revenue_max"], ind["sme_assets_max"]) == (1000, 40000, None)
    assert (ind["medium_employees_min"], ind["medium_revenue_min"]) == (300, 2000)
    assert (ind["small_employees_min"], ind["small_revenue_min"]) == (20, 300)
    assert (ind["micro_employees_max"], ind["micro_revenue_max"]) == (20, 300)
    lease = s.filter(pl.col("industry_key") == "leasing_business_services").row(0, named=True)
    assert (lease["measures"], lease["sme_assets_max"], lease["medium_assets_min"]) == (
        "employees;assets",
        120000,
        8000,
    )


def test_sme_size_standard_is_consistent() -> None:
    """For every used measure: small min < medium min < SME max, micro max = small min; unused measures empty."""
    for row in ref.sme_size_standard().iter_rows(named=True):
        used = set(row["measures"].split(";"))
        assert row["rule"].startswith(("从业人员", "营业收入")), row["industry_key"]
        for m in ("employees", "revenue", "assets"):
            vals = [row[f"small_{m}_min"], row[f"medium_{m}_min"], row[f"sme_{m}_max"], row[f"micro_{m}_max"]]
            if m in used:
                assert vals[0] < vals[1] < vals[2] and vals[3] == vals[0], (row["industry_key"], m)
                assert f"{vals[2]}" in row["rule"]
            else:
                assert vals == [None] * 4, (row["industry_key"], m)


@pytest.mark.parametrize(
    ("code", "key"),
    [("C3562", "industry"), ("B06", "industry"), ("D4411", "industry"), ("E47", "construction"),
     ("F5123", "wholesale"), ("F52", "retail"), ("G5430", "transport"), ("G5910", "transport"),
     ("G5920", "warehousing"), ("G60", "postal"), ("I6510", "software_it"), ("I64", "information_transmission"),
     ("K7010", "real_estate_development"), ("K7020", "property_management"), ("K7030", "other_unlisted"),
     ("L7212", "leasing_business_services"), ("M73", "other_unlisted"), ("A05", "agriculture"),
     ("G53", None), ("J66", None), ("K7040", None), ("S92", None)],
)  # fmt: skip
def test_sme_industry_key(code: str, key: str | None) -> None:
    assert ref.sme_industry_key(code) == key


def test_little_giant_batches() -> None:
    b = ref.little_giant_batches()
    per_batch = b.filter(pl.col("scope") == "batch")

    def count(batch: int, stage: str) -> int:
        return per_batch.filter((pl.col("batch") == batch) & (pl.col("stage") == stage))["count"].item()

    assert count(1, "公布") == 248
    assert count(1, "复核") == 142
    assert count(3, "复核") == 2430
    assert set(b["stage"]) <= {"公示", "公布", "复核"} and b["source"].str.len_chars().min() > 10
    # The compilation's cumulative figures agree with the final per-batch counts.
    cum = dict(b.filter(pl.col("scope") == "cumulative").select("batch", "count").iter_rows())
    assert cum == {2: 1832, 3: 4762}
    assert sum(count(i, "公布") for i in (1, 2, 3)) == cum[3]
    assert sum(count(i, "公布") for i in (1, 2)) == cum[2]
