"""USCC (GB 32100-2015) validation and name normalisation: scalar and polars forms must agree."""

from __future__ import annotations

import random

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.identity import (
    USCC_ALPHABET,
    InvalidUSCC,
    is_valid_uscc,
    make_uscc,
    normalize_name,
    normalize_name_expr,
    uscc_check_char,
    uscc_valid_expr,
    validate_uscc,
)

EXAMPLE = "91350100M000100Y43"  # the worked example of GB 32100-2015


def test_standard_example_validates() -> None:
    assert uscc_check_char(EXAMPLE[:17]) == "3"
    assert validate_uscc(EXAMPLE) == EXAMPLE
    assert is_valid_uscc(EXAMPLE)


def test_normalises_case_spaces_and_full_width() -> None:
    assert validate_uscc(" 91350100m000100y43\t") == EXAMPLE
    assert validate_uscc("９１３５０１００Ｍ０００１００Ｙ４３") == EXAMPLE


@pytest.mark.parametrize("wrong", ["0", "4", "Y", "A"])
def test_wrong_check_char_names_the_expected_one(wrong: str) -> None:
    with pytest.raises(InvalidUSCC) as exc:
        validate_uscc(EXAMPLE[:17] + wrong)
    assert exc.value.kind == "check" and exc.value.expected == "3"
    assert "应为“3”" in str(exc.value) and "expected '3'" in str(exc.value)
    assert not is_valid_uscc(EXAMPLE[:17] + wrong)


@pytest.mark.parametrize("bad", ["I", "O", "S", "V", "Z", "-", "中"])
def test_illegal_characters_rejected_with_position(bad: str) -> None:
    code = EXAMPLE[:4] + bad + EXAMPLE[5:]
    with pytest.raises(InvalidUSCC) as exc:
        validate_uscc(code)
    assert exc.value.kind == "character" and exc.value.position == 5
    assert f"第5位字符“{bad}”" in str(exc.value)
    assert not is_valid_uscc(code)


@pytest.mark.parametrize("code", ["", "9135010", EXAMPLE + "0", EXAMPLE[:17]])
def test_wrong_length_rejected(code: str) -> None:
    with pytest.raises(InvalidUSCC) as exc:
        validate_uscc(code)
    assert exc.value.kind == "length" and f"实际为{len(code)}位" in str(exc.value)


def test_alphabet_is_the_standards() -> None:
    assert len(USCC_ALPHABET) == 31 and not set("IOSVZ") & set(USCC_ALPHABET)


def test_make_uscc_from_body_and_rng() -> None:
    assert make_uscc(EXAMPLE[:17]) == EXAMPLE
    rng = random.Random(7)
    codes = [make_uscc(rng, "330212") for _ in range(50)]
    assert all(is_valid_uscc(c) and c.startswith("91330212") for c in codes)
    assert len(set(codes)) == 50
    np = pytest.importorskip("numpy")
    assert is_valid_uscc(make_uscc(np.random.default_rng(0)))
    with pytest.raises(ValueError):
        make_uscc("91350100M000I00Y4")


def _corrupt(code: str, rng: random.Random) -> str:
    """One realistic mistake: a changed character, a transposition, a dropped/extra char, an illegal letter, lower case."""
    i = rng.randrange(18)
    kind = rng.randrange(6)
    if kind == 0:
        return code[:i] + rng.choice(USCC_ALPHABET) + code[i + 1 :]
    if kind == 1 and i < 17:
        return code[:i] + code[i + 1] + code[i] + code[i + 2 :]
    if kind == 2:
        return code[:i] + code[i + 1 :]
    if kind == 3:
        return code + rng.choice(USCC_ALPHABET)
    if kind == 4:
        return code[:i] + rng.choice("IOSVZ") + code[i + 1 :]
    return code.lower()


def test_polars_expression_agrees_on_2000_random_codes() -> None:
    rng = random.Random(2024)
    valid = [make_uscc(rng, f"{rng.randrange(11, 66)}{rng.randrange(10000):04d}") for _ in range(1000)]
    codes = valid + [_corrupt(c, rng) for c in valid] + [None]
    got = pl.DataFrame({"uscc": codes}).select(uscc_valid_expr("uscc"))["uscc"].to_list()
    want = [is_valid_uscc(c) for c in codes]
    assert got == want
    # Both verdicts occur, so the comparison is not vacuous. Some corruptions stay valid on purpose: lower case
    # is normalised, and a replacement or transposition may not change the character.
    assert sum(want) >= 1000 and want.count(False) >= 700


_BODY = st.text(st.sampled_from(USCC_ALPHABET), min_size=17, max_size=17)
_NOISE = st.sampled_from(USCC_ALPHABET + "IOSVZabcxy ０９Ａ-中")


@st.composite
def _codes(draw: st.DrawFn) -> str:
    """A valid code, left alone or hit by one mutation (replace / insert / delete one char) drawn by hypothesis."""
    body = draw(_BODY)
    code = body + uscc_check_char(body)
    op = draw(st.sampled_from(["keep", "replace", "insert", "delete"]))
    i = draw(st.integers(0, 17))
    if op == "replace":
        return code[:i] + draw(_NOISE) + code[i + 1 :]
    if op == "insert":
        return code[:i] + draw(_NOISE) + code[i:]
    return code[:i] + code[i + 1 :] if op == "delete" else code


@settings(max_examples=300, deadline=None)
@given(st.lists(_codes(), min_size=1, max_size=20))
def test_polars_expression_agrees_property(codes: list[str]) -> None:
    got = pl.DataFrame({"c": codes}, schema={"c": pl.String}).select(uscc_valid_expr("c"))["c"].to_list()
    assert got == [is_valid_uscc(c) for c in codes]


NAME_VARIANTS = [
    "浙江某某科技（宁波）有限公司",
    "浙江某某科技(宁波) 有限公司",
    " 浙江某某科技 ( 宁波 ) 有限公司　",
    "浙江某某科技（宁波）　有限公司",
]


def test_name_variants_match() -> None:
    assert {normalize_name(n) for n in NAME_VARIANTS} == {"浙江某某科技(宁波)有限公司"}
    keys = pl.DataFrame({"n": NAME_VARIANTS}).select(normalize_name_expr("n"))["n"].unique().to_list()
    assert keys == ["浙江某某科技(宁波)有限公司"]


def test_name_keeps_latin_word_spaces_and_full_width_letters() -> None:
    assert normalize_name("ＡＢＣ  Technology　（China）  Co.,Ltd") == "ABC Technology (China) Co.,Ltd"
    assert normalize_name("宁波ＸＹＺ１２３ 科技") == "宁波XYZ123科技"
    assert normalize_name("浙江甲科技有限公司") != normalize_name("浙江乙科技有限公司")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.text(st.sampled_from("浙江科技有限公司ABc1 （）()\t　　ＡＢ１・-"), max_size=24),
        min_size=1,
        max_size=10,
    )
)
def test_name_expression_agrees_property(names: list[str]) -> None:
    got = pl.DataFrame({"n": names}, schema={"n": pl.String}).select(normalize_name_expr("n"))["n"].to_list()
    assert got == [normalize_name(n) for n in names]
