"""Text encoding of a CSV file: UTF-8, UTF-8 with BOM, GBK or GB18030 — decided from the bytes, never guessed.

A file is read under an encoding only when every byte decodes under it. GBK/GB18030 decode almost any byte
pairs, so a UTF-8 file with a few corrupt bytes would "decode" as GB18030 into nonsense; such a file is
recognised by its many valid UTF-8 sequences and rejected, with the line of the first bad byte, instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UTF8_BOM = b"\xef\xbb\xbf"
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Decoded:
    encoding: str  # utf-8 | utf-8-sig | gbk | gb18030
    utf8: bytes  # the content as UTF-8 without BOM, ready for the CSV reader


class EncodingRejected(ValueError):
    """The bytes are in no supported encoding; the message is bilingual and names the line."""


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _looks_like_utf8(data: bytes) -> bool:
    # GBK text read as UTF-8 yields mostly U+FFFD; UTF-8 text with a stray bad byte yields mostly real characters.
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    non_ascii = len(text) - len(text.encode("ascii", errors="ignore"))
    return non_ascii - bad > bad


def _utf16_without_bom(data: bytes) -> str | None:
    """'LE' or 'BE' when the bytes look like UTF-16 without a byte-order mark: the high byte of every ASCII
    character (commas, digits, line breaks) is NUL, so NULs gather on one of the two byte positions, and the
    bytes read as UTF-16 that way are clean text (no control characters but tabs and line breaks). A NUL or two
    in a UTF-8 or GBK file is a bad cell (rejected with its row), not an encoding."""
    sample = data[: min(len(data), 8192) // 2 * 2]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    # Even Chinese text has ASCII commas, digits and line breaks: at least a tenth of the characters.
    crowded = max(2, len(sample) // 20)
    for order, nuls, others in (("LE", odd, even), ("BE", even, odd)):
        if nuls < crowded or others > nuls // 2:
            continue
        text = sample.decode(f"utf-16-{order.lower()}", errors="replace")
        if text.count("\ufffd") <= 1 and not _CONTROL.search(text) and ("," in text or "\t" in text):
            return order
    return None


def decode(data: bytes) -> Decoded:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise EncodingRejected("文件为 UTF-16 编码，请另存为 UTF-8 或 GBK 的 CSV / the file is UTF-16; save it as "
                               "CSV in UTF-8 or GBK")
    order = _utf16_without_bom(data)
    if order is not None:
        raise EncodingRejected(f"文件为 UTF-16 编码（{order}，无 BOM），请另存为 UTF-8 或 GBK 的 CSV / the file is "
                               f"UTF-16 ({order}, without a byte-order mark); save it as CSV in UTF-8 or GBK")
    if data.startswith(UTF8_BOM):
        body = data[len(UTF8_BOM):]
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = _line_of(body, exc.start)
            raise EncodingRejected(
                f"文件带 UTF-8 BOM，但第{line}行含有非 UTF-8 字节 / the file starts with a UTF-8 BOM but line {line} "
                f"has bytes that are not valid UTF-8"
            ) from exc
        return Decoded("utf-8-sig", body)
    try:
        data.decode("utf-8")
        return Decoded("utf-8", data)
    except UnicodeDecodeError as exc:
        utf8_error = exc
    if _looks_like_utf8(data):
        line = _line_of(data, utf8_error.start)
        raise EncodingRejected(
            f"文件为 UTF-8 编码，但第{line}行含有无法解码的字节（文件可能已损坏或混用了编码） / the file is UTF-8 but "
            f"line {line} has bytes that are not valid UTF-8 (damaged file or mixed encodings)"
        )
    for encoding in ("gbk", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            if encoding == "gb18030":
                line = _line_of(data, exc.start)
                raise EncodingRejected(
                    f"无法识别文件编码：既不是 UTF-8，也不是 GBK/GB18030（第{line}行出现无效字节） / unknown "
                    f"encoding: neither UTF-8 nor GBK/GB18030 (invalid bytes on line {line})"
                ) from exc
            continue
        return Decoded(encoding, text.encode("utf-8"))
    raise AssertionError("unreachable")  # pragma: no cover
