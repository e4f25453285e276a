"""Identity helpers: the 统一社会信用代码 (USCC, GB 32100-2015) and enterprise-name normalisation.

Every function here has a scalar form (for one value, with a precise error) and a polars form (for a whole column
at once, no per-row Python), and the two must agree: ingestion validates columns, the CLI validates single codes.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Sequence
from functools import reduce
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    import numpy as np

# GB 32100-2015 §4: 10 digits + 21 capital letters; I, O, S, V, Z are excluded to avoid confusion with 1, 0, 5, U, 2.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# GB 32100-2015 §5: W_i = 3^(i-1) mod 31 for the 17 body positions.
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
# Only these are stripped, in both forms: Python's str.strip() and Rust's trim disagree on exotic whitespace.
_WS = " \t\n\r\f\v"


class InvalidUSCC(ValueError):
    """A code that is not a valid USCC. `kind` is `length`, `character` or `check`; the message is bilingual."""

    def __init__(
        self, code: str, kind: str, message: str, position: int | None = None, expected: str | None = None
    ) -> None:
        super().__init__(message)
        self.code, self.kind, self.position, self.expected = code, kind, position, expected


def _normalise_uscc(code: str) -> str:
    # Codes typed in Chinese spreadsheets often come full-width (９１３５…) or lower-case: NFKC + upper fixes both.
    return unicodedata.normalize("NFKC", code).strip(_WS).upper()


def uscc_check_char(first17: str) -> str:
    """The check character for a 17-character body: (31 − Σ value×weight mod 31) mod 31, as a character."""
    if len(first17) != 17:
        raise ValueError(f"USCC body must be 17 characters, got {len(first17)}")
    total = sum(_VALUE[c] * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(code: str) -> str:
    """Return the normalised (NFKC, stripped, upper-case) code, or raise InvalidUSCC saying exactly what is wrong."""
    raw = code
    code = _normalise_uscc(code)
    if len(code) != 18:
        raise InvalidUSCC(
            raw,
            "length",
            f"统一社会信用代码应为18位，实际为{len(code)}位 / USCC must be 18 characters, got {len(code)}",
        )
    for pos, ch in enumerate(code, start=1):
        if ch not in _VALUE:
            raise InvalidUSCC(
                raw,
                "character",
                f"统一社会信用代码第{pos}位字符“{ch}”不合法（GB 32100 不使用 I、O、S、V、Z 及其他符号） / "
                f"illegal character {ch!r} at position {pos}",
                position=pos,
            )
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise InvalidUSCC(
            raw,
            "check",
            f"统一社会信用代码校验码错误：应为“{expected}”，实际为“{code[17]}” / "
            f"wrong check character: expected {expected!r}, got {code[17]!r}",
            position=18,
            expected=expected,
        )
    return code


def is_valid_uscc(code: str | None) -> bool:
    """True when `code` (after the same normalisation as validate_uscc) is a valid USCC."""
    if not isinstance(code, str):
        return False
    try:
        validate_uscc(code)
    except InvalidUSCC:
        return False
    return True


def _as_expr(col: str | pl.Expr) -> pl.Expr:
    return pl.col(col) if isinstance(col, str) else col


def uscc_normalise_expr(col: str | pl.Expr) -> pl.Expr:
    """Column form of the normalisation validate_uscc applies (NFKC, strip, upper)."""
    return _as_expr(col).str.normalize("NFKC").str.strip_chars(_WS).str.to_uppercase()


def uscc_valid_expr(col: str | pl.Expr) -> pl.Expr:
    """Boolean column: is each value a valid USCC? Null or malformed → False. Same verdict as is_valid_uscc."""
    s = uscc_normalise_expr(col)
    # One character per position → its value (null if not in the alphabet); `+` propagates nulls, sum_horizontal
    # would not, so an illegal character anywhere nulls the total and the row ends up False.
    values = [
        s.str.slice(i, 1).replace_strict(_VALUE, default=None, return_dtype=pl.Int64) * w
        for i, w in enumerate(USCC_WEIGHTS)
    ]
    total = reduce(lambda a, b: a + b, values)
    expected = ((31 - total % 31) % 31).replace_strict(
        dict(enumerate(USCC_ALPHABET)), default=None, return_dtype=pl.String
    )
    return ((s.str.len_chars() == 18) & (s.str.slice(17, 1) == expected)).fill_null(False)


def _gb11714_check(body8: str) -> str:
    # Positions 9-17 of a USCC are the old 组织机构代码 (GB 11714), which carries its own mod-11 check character.
    # validate_uscc does not enforce it (GB 32100 only defines the last character), but generated codes satisfy it
    # so that demo data looks like real data to anyone who checks.
    total = sum(
        (int(c) if c.isdigit() else ord(c) - 55) * w
        for c, w in zip(body8, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)
    )
    c9 = 11 - total % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def _draw(rng: random.Random | np.random.Generator, seq: Sequence[str]) -> str:
    if isinstance(rng, random.Random):
        return seq[rng.randrange(len(seq))]
    return seq[int(rng.integers(len(seq)))]  # numpy Generator


def make_uscc(
    rng_or_body17: str | random.Random | np.random.Generator, region_code: str | None = None
) -> str:
    """A valid USCC: either `body17` + its check character, or a random plausible one drawn from `rng`.

    Random codes are 9 (工商) 1 (企业) + the 6-digit region code (given, else a random mainland prefecture)
    + a 9-character organisation code with a correct GB 11714 check character.
    """
    if isinstance(rng_or_body17, str):
        body = rng_or_body17.upper()
        bad = [c for c in body if c not in _VALUE]
        if len(body) != 17 or bad:
            raise ValueError(f"USCC body must be 17 characters from {USCC_ALPHABET}, got {rng_or_body17!r}")
        return body + uscc_check_char(body)
    rng = rng_or_body17
    if region_code is None:
        from registry.reference import regions  # lazy: identity must not need the reference data to import

        codes = regions().filter(pl.col("mainland") & (pl.col("level") == "prefecture"))["code"].to_list()
        region_code = _draw(rng, codes)
    if not re.fullmatch(r"\d{6}", region_code):
        raise ValueError(f"region_code must be 6 digits, got {region_code!r}")
    org8 = "".join(_draw(rng, USCC_ALPHABET) for _ in range(8))
    body = "91" + region_code + org8 + _gb11714_check(org8)
    return body + uscc_check_char(body)


# Whitespace touching a non-ASCII character is dropped ("科技 (宁波) 有限公司" = "科技(宁波)有限公司"); between two
# ASCII characters it is kept as one space ("ABC Technology"). Explicit classes so Python and polars (Rust regex)
# agree exactly.
_WS_RUN = r"[ \t\n\r\f\v]+"
_AROUND_NON_ASCII = r"[ \t\n\r\f\v]*([^\x00-\x7F])[ \t\n\r\f\v]*"
_WS_RUN_RE = re.compile(_WS_RUN)
_AROUND_NON_ASCII_RE = re.compile(_AROUND_NON_ASCII)


def normalize_name(name: str) -> str:
    """Matching key for an enterprise name: NFKC (full-width → half-width, （）→ (), 　→ space), whitespace collapsed,
    and removed next to CJK characters, so the same name typed with either kind of bracket or spacing compares equal."""
    s = unicodedata.normalize("NFKC", name)
    s = _WS_RUN_RE.sub(" ", s)
    s = _AROUND_NON_ASCII_RE.sub(r"\1", s)
    return s.strip(_WS)


def normalize_name_expr(col: str | pl.Expr) -> pl.Expr:
    """Column form of normalize_name."""
    return (
        _as_expr(col)
        .str.normalize("NFKC")
        .str.replace_all(_WS_RUN, " ")
        .str.replace_all(_AROUND_NON_ASCII, "${1}")
        .str.strip_chars(_WS)
    )
