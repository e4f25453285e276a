"""Why a new password is too easy to guess — or None when it is not.

Rules, in the order they are checked (the first that applies is the reason given):
- the username (3+ characters), a part of it of 4+ characters (`zhang` of `zhang.san@gd.gov.cn`, `official` of
  `gd_official`), or `zjtx` is in it;
- one character repeated, or fewer than 4 different characters;
- digits only, shorter than 16;
- on the list of common passwords (registry/common_passwords.txt, ~10,000; also with 0→o, @→a … undone);
- a sequence or keyboard run (123456789, abcdefgh, 987654, qwertyui, asdfgh, 1234567890);
- a word and a year (beijing2024, 2023summer, Summer@2024);
- a common password or a run with digits or symbols added before or after (password12, qwerty2024!, 123abcdef).
The length rule (auth.min_password_length) is registry.auth's.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache
from pathlib import Path

COMMON_PASSWORDS = Path(__file__).resolve().parent / "common_passwords.txt"
# What a character may follow in a run: the alphabet, digits, and the rows of a US keyboard (used in China too).
SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "01234567890", "1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'",
             "zxcvbnm,./", "!@#$%^&*()_+")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
_PADDING = string.digits + string.punctuation + " "
_WORD_AND_YEAR = re.compile(r"[\W_]*(?:[^\W\d_]+[\W_]*(?:19|20)\d\d|(?:19|20)\d\d[\W_]*[^\W\d_]+)[\W_]*")
_SYSTEM_NAME = "zjtx"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def is_run(text: str) -> bool:
    """4+ characters that follow each other, forwards or backwards, along one of SEQUENCES."""
    return len(text) >= 4 and any(text in seq or text[::-1] in seq for seq in SEQUENCES)


def _is_common(text: str) -> bool:
    common = common_passwords()
    return text in common or text.translate(_LEET) in common


def weakness(password: str, username: str) -> str | None:
    """The reason `password` is too weak for `username` (Chinese / English), or None."""
    lower = password.lower()
    name = username.strip().lower()
    parts = [name] if len(name) >= 3 else []
    parts += [part for part in re.split(r"[.@+\-_]", name) if len(part) >= 4]
    if any(part in lower for part in parts):
        return "密码包含用户名 / it contains the username"
    if _SYSTEM_NAME in lower:
        return f"密码包含系统名称 {_SYSTEM_NAME} / it contains the system's name '{_SYSTEM_NAME}'"
    if len(set(password)) == 1:
        return "密码是同一个字符的重复 / it is one character repeated"
    if len(set(password)) < 4:
        return "密码的不同字符少于 4 个 / it has fewer than 4 different characters"
    if password.isdigit() and len(password) < 16:
        return "纯数字的密码至少要 16 位 / a password of digits only needs at least 16 digits"
    if _is_common(lower):
        return "这是常见密码，最先被猜到 / it is on the list of common passwords, the first ones tried"
    if is_run(lower):
        return ("密码是连续字符或键盘序列（如 123456、abcdef、qwerty） / it is a sequence or keyboard run "
                "(like 123456, abcdef, qwerty)")
    if _WORD_AND_YEAR.fullmatch(lower):
        return "密码只是一个单词加年份（如 beijing2024） / it is just a word and a year (like beijing2024)"
    core = lower.strip(_PADDING)
    if core != lower and len(core) >= 4 and (_is_common(core) or is_run(core)):
        return ("密码是常见密码或连续字符加上数字或符号（如 password12、qwerty2024!） / it is a common password or a "
                "sequence with digits or symbols added (like password12, qwerty2024!)")
    return None
