"""`zjtx policies check`: does each policy file say what its cited compilation lines say?

For every criterion, relaxation, waiver, score item and lifecycle rule that cites compilation lines
(data/sources/policy-compilation-2021.txt) it checks that

- quote: the quote is on the cited lines (whitespace and full/half width ignored);
- number: the threshold's number and unit are in the quote (万元 / 亿元 with 1亿 = 10,000万, %, 年, 项/个);
- direction: the comparison agrees with the direction words next to the number (以上 / 不低于 / 不少于 / 达到 / 超过
  → ≥ or >; 以下 / 不高于 / 不超过 / 低于 → ≤ or <);
- window: an annual leaf's window agrees with the quote's words (上年 → one year; 近N年 → N years; 均 → each year;
  平均 / 年均 → a mean; 复合 → compound growth);
- combine: an any / all node agrees with 或 / 之一 (any) and 同时 / 且 (all).

A mismatch is a failure, unless an interpretation of the policy names the criterion — then a person confirms it. What
the words cannot decide (no direction word, both kinds of words) is listed for a person with the reason. Policies
whose sources cite no compilation lines (2022+ files cite `{doc, part}`) are counted as "no compilation text".
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from registry.policy.citations import compilation_lines
from registry.policy.indicators import ANNUAL
from registry.policy.schema import (
    GROWTH_AGGREGATIONS,
    All,
    Any_,
    AtLeast,
    Exclusion,
    Leaf,
    Node,
    Policy,
    ScoreItem,
    Source,
    iter_nodes,
)

PASS, PERSON, FAIL = "pass", "person", "fail"
CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
CN_OF = {1: ["一"], 2: ["两", "二"], 3: ["三"], 4: ["四"], 5: ["五"], 6: ["六"], 7: ["七"], 8: ["八"], 9: ["九"],
         10: ["十"]}
# The word after a number that states its unit, by the unit a policy file gives.
UNIT_WORDS = {"万元": "万", "%": "%", "年": "(?:个会计|个)?年", "项": "(?:项|个|件)", "个": "(?:个|项|件)",
              "分": "分"}
GE_WORDS = re.compile(r"≥|>|以上|不低于|不少于|达到|(?<![不未])超过|至少|(?<!不)高于|(?<!不)大于")
LE_WORDS = re.compile(r"≤|<|以下(?=$|[的，。；、,;)）或且])|不高于|不超过|未超过|(?<!不)低于|以内|不足|(?<!不)小于|不大于")
RECENT_YEARS = re.compile(r"(?:近|前|最近|连续)(\d+|[一二两三四五六七八九十])(?:个会计|个)?年")
LAST_YEAR = re.compile(r"上年|上一年|去年")
NAMED_YEAR = re.compile(r"(20\d\d)年(?!\d+月)")
ANY_STRONG = re.compile(r"之一|任一|其中一|至少一|至少满足一|一项以上|一类以上|任意")
ALL_STRONG = re.compile(r"同时|全部|均须|均应|须全部")
COUNT_UNITS = ("项", "个", "年", "人", "件")
GREW_WORDS = re.compile(r"增长|递增|增加|提高|上升|正|盈利|有")
ENGLISH_NUMBERS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine",
                   10: "ten"}
MEAN_GROWTH_FAMILY = ("mean", "mean_growth", "compound_growth")
EACH_FAMILY = ("each", "each_growth")


def squash(text: str) -> str:
    """Text compared ignoring whitespace and full-width/half-width differences."""
    return "".join(unicodedata.normalize("NFKC", text).split())


@dataclass(frozen=True)
class Finding:
    policy: str
    file: str
    criterion: str
    check: str  # quote | number | direction | window | combine
    outcome: str  # pass | person | fail
    reason: str = ""


@dataclass
class CheckReport:
    findings: list[Finding] = field(default_factory=list)
    policies: int = 0
    without_compilation_text: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        c = Counter(f.outcome for f in self.findings)
        return {"policies": self.policies, "no_compilation_text": len(self.without_compilation_text),
                "checked": len(self.findings), "passed": c[PASS], "person": c[PERSON], "failed": c[FAIL]}

    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.outcome == FAIL]

    def for_a_person(self) -> list[Finding]:
        return [f for f in self.findings if f.outcome == PERSON]

    def as_dict(self) -> dict[str, Any]:
        return {**self.counts(), "without_compilation_text": self.without_compilation_text,
                "findings": [asdict(f) for f in self.findings if f.outcome != PASS]}


# ---------------------------------------------------------------------------------------------------------
# Reading the words.
# ---------------------------------------------------------------------------------------------------------


def _num_text(v: float) -> str:
    return f"{v:g}"


def number_spans(text: str, value: float, unit: str | None) -> tuple[list[tuple[int, int]], bool]:
    """Where the number stands in the text: (spans with the unit, whether it stands there without its unit)."""
    forms: list[tuple[str, str]] = []  # (number regex, unit regex)
    word = UNIT_WORDS.get(unit or "", "")
    digits = re.escape(_num_text(value)) + r"(?:\.0+)?"
    forms.append((digits, word))
    if value == int(value) and int(value) in CN_OF and unit in ("年", "项", "个", None):
        forms += [(c, word) for c in CN_OF[int(value)]]
    if unit == "万元":
        forms.append((re.escape(_num_text(value / 10000)) + r"(?:\.0+)?", "亿"))
    spans = []
    bare = False
    for num, unit_re in forms:
        lead = r"(?<![\d.])" if num[0].isdigit() or num[0] == "\\" else ""
        spans += [m.span() for m in re.finditer(f"{lead}{num}{unit_re}", text)]
        # Standing without any unit (a unit of another kind — 1亿 for 1万元 — is a different number, not a bare one).
        if re.search(f"{lead}{num}(?![\\d.万亿%年项个件元人分位倍])", text):
            bare = True
    return spans, bare


ENGLISH_UNITS = {"万元": r"(?:万|0{4}yuan|\d*millionyuan)", "%": "%", "年": r"(?:-?years?|-year)", "项": r"(?:项|个|patents?|items?|standards?)",
                 "个": r"(?:个|项|standards?|items?)", "分": r"(?:分|points?)"}


def _spaced(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _states(spaced: str, value: float, unit: str | None) -> bool:
    """An interpretation states the number: with its unit (Chinese or English) or, unit-less, standing alone."""
    if re.search(rf"\b{ENGLISH_NUMBERS.get(int(value), '@')}\b", spaced, re.IGNORECASE) and value == int(value):
        return True
    text = squash(spaced)
    if number_spans(text, value, unit)[0]:
        return True
    num = r"(?<![\d.])" + re.escape(_num_text(value)) + r"(?:\.0+)?"
    if re.search(r"(?:>=|≥|=|is|为)" + num + r"(?![\d.])", text):  # "standards_count >= 1", "validity_years is 4"
        return True
    if unit is None:
        return bool(re.search(num + r"(?![\d.])", text))
    return bool(re.search(num + ENGLISH_UNITS.get(unit, "(?![\\d.])"), text, re.IGNORECASE))


OP_WORDS = {">=": "(?:≥|>=)", ">": "(?:>|above|more than)", "<=": "(?:≤|<=)", "<": "(?:<|below|less than)"}
# How an interpretation states a window or a combination, so that it can vouch for the file's reading.
WINDOW_READINGS = {
    "last": r"只取上年|仅上年|only the previous year|previous year only|last year only|one year",
    "each": r"each|every|逐年|每年|均", "any": r"any|至少一年|at least one", "pooled": r"pooled|合并|合计|之和|sum",
    "sum": r"sum|合计|之和|累计", "mean": r"mean|average|平均", "growth": r"growth|增长",
    "each_growth": r"each|every|逐年|每年", "any_growth": r"any|至少一年|at least one",
    "mean_growth": r"mean|average|平均", "compound_growth": r"compound|复合|CAGR",
}
COMBINE_READINGS = {"any": r"any one|any of|one of|任一|之一|either", "all": r"all of|all required|同时|全部|须全部"}


def _op_reading(op: str, value: float) -> str:
    return OP_WORDS[op] + r"\s*" + re.escape(_num_text(value)) + r"(?![\d.])"


def direction_words(text: str) -> tuple[bool, bool]:
    return bool(GE_WORDS.search(text)), bool(LE_WORDS.search(text))


def recent_years(text: str) -> int | None:
    m = RECENT_YEARS.search(text)
    if m:
        n = m.group(1)
        return int(n) if n.isdigit() else CN_DIGITS[n]
    named = set(NAMED_YEAR.findall(text))
    return len(named) if len(named) >= 2 else None


# ---------------------------------------------------------------------------------------------------------
# The checks.
# ---------------------------------------------------------------------------------------------------------


class _PolicyChecker:
    def __init__(self, policy: Policy, file: str, lines: tuple[str, ...]):
        self.policy, self.file, self.lines = policy, file, lines
        self.findings: list[Finding] = []
        self.lines_text = ""  # the cited lines of the last source read
        self.readings: dict[str, list[tuple[str, str]]] = {}
        for i in policy.interpretations:
            for cid in i.applies_to:
                self.readings.setdefault(cid, []).append((i.id, _spaced(i.zh + " " + i.en)))

    def add(self, criterion: str, check: str, outcome: str, reason: str = "") -> None:
        self.findings.append(Finding(self.policy.id, self.file, criterion, check, outcome, reason))

    def mismatch(self, criterion: str, check: str, reason: str, reading: str) -> None:
        """A mismatch fails, unless an interpretation of the criterion states the file's reading (`reading`, a
        pattern such as "≤ 5" or "pooled"): then a person confirms it."""
        stating = [i for i, t in self.readings.get(criterion, []) if re.search(reading, t, re.IGNORECASE)]
        if stating:
            self.add(criterion, check, PERSON, f"{reason} — interpretation {stating[0]} states this reading")
        else:
            self.add(criterion, check, FAIL, reason)

    def cited(self, criterion: str, source: Source) -> str | None:
        """The squashed quote (or the cited lines when there is none); None when the citation fails."""
        parts = []
        for first, last in source.line_range():
            if not 1 <= first <= last <= len(self.lines):
                self.add(criterion, "quote", FAIL, f"{source.lines} lies outside the compilation (1-{len(self.lines)})")
                return None
            parts.append("".join(self.lines[first - 1:last]))
        text = squash("".join(parts))
        self.lines_text = text
        if source.quote is None:
            return text
        if squash(source.quote) not in text:
            self.add(criterion, "quote", FAIL, f"quote {source.quote!r} is not on {source.lines}")
            return None
        self.add(criterion, "quote", PASS)
        return squash(source.quote)

    # -- numbers and directions --

    def number(self, criterion: str, text: str, value: float, unit: str | None, what: str,
               lines_text: str | None = None, explained_by: str | None = None) -> list[tuple[int, int]] | None:
        """The number in the quote; else explained by an interpretation (of the criterion or of `explained_by`);
        else, for lifecycle and score figures, found elsewhere on the cited lines (`lines_text`) for a person."""
        spans, bare = number_spans(text, value, unit)
        if spans:
            self.add(criterion, "number", PASS)
            return spans
        if value == 0:  # "> 0" is how the texts say grew / positive / has
            if GREW_WORDS.search(text):
                self.add(criterion, "number", PASS)
                return []
            if GREW_WORDS.search(lines_text or self.lines_text):
                self.add(criterion, "number", PERSON, f"{what} 0 (grew / positive): the growth word is on the "
                                                      f"cited lines but not in the quote")
                return None
        readings = self.readings.get(criterion, []) + self.readings.get(explained_by or "", [])
        explained = [i for i, t in readings if _states(t, value, unit)]
        if explained:
            self.add(criterion, "number", PASS)
            return []
        unit_text = f" {unit}" if unit else ""
        if lines_text is not None and number_spans(lines_text, value, unit)[0]:
            self.add(criterion, "number", PERSON, f"{what} {_num_text(value)}{unit_text} is on the cited lines "
                                                  f"but not in the quote")
            return None
        if bare:
            self.add(criterion, "number", PERSON, f"{what} {_num_text(value)} is in the quote but not with its unit"
                                                  f"{unit_text}")
        else:
            self.add(criterion, "number", FAIL, f"{what} {_num_text(value)}{unit_text} is not in the quote "
                                                f"and no interpretation explains it")
        return None

    def direction(self, criterion: str, text: str, spans: list[tuple[int, int]], op: str, value: float,
                  unit: str | None) -> None:
        if not spans and value == 0 and op == ">" and GREW_WORDS.search(text):
            self.add(criterion, "direction", PASS)  # grew / positive / has: above zero
            return
        after = [text[b:b + 4] for _, b in spans]
        if any(a.startswith("(含)") for a in after) and op in (">=", "<="):
            self.add(criterion, "direction", PASS)  # 5000万元(含): inclusive bound
            return
        if any(a.startswith("(不含)") for a in after) and op in (">", "<"):
            self.add(criterion, "direction", PASS)  # 1亿元(不含): exclusive bound
            return
        if any(text[max(0, a - 1):a] == "前" for a, _ in spans):
            if op in ("<=", "<"):
                self.add(criterion, "direction", PASS)  # 前3位: a rank of 3 or better
            else:
                self.mismatch(criterion, "direction", f"the quote says 前{_num_text(value)} (at most) but the file "
                                                      f"compares {op}", _op_reading(op, value))
            return
        near = "".join(text[max(0, a - 8):b + 6] for a, b in spans) if spans else text
        if "之间" in near or "至" in near and "之间" in text:
            self.add(criterion, "direction", PASS)  # a range: both bounds are stated
            return
        ge, le = direction_words(near)
        wants_ge = op in (">=", ">")
        if ge and not le:
            ok = wants_ge
        elif le and not ge:
            ok = not wants_ge
        elif not (ge or le) and unit in COUNT_UNITS and op in (">=", ">"):
            self.add(criterion, "direction", PASS)  # "拥有 2项", "连续经营 3年": a count held means at least
            return
        else:
            why = "no direction word next to the number" if not (ge or le) else "both directions stated"
            self.add(criterion, "direction", PERSON, f"{why}; the file says {op}")
            return
        if ok:
            self.add(criterion, "direction", PASS)
        else:
            said = "以上/不低于/…" if ge else "以下/不高于/…"
            self.mismatch(criterion, "direction", f"the quote says {said} but the file compares {op}",
                          _op_reading(op, value))

    # -- windows and combinations --

    def window(self, leaf: Leaf, text: str) -> None:
        w = leaf.window
        growth = w.aggregation in GROWTH_AGGREGATIONS
        n = recent_years(text)
        problems = []
        if n is not None:
            allowed = {w.years, w.years + 1} if growth else {w.years}
            if n not in allowed:
                problems.append(f"the quote covers {n} years but the window is {w.years} ({w.aggregation})")
        elif LAST_YEAR.search(text) and w.years != 1:
            problems.append(f"the quote says 上年 but the window is {w.years} years ({w.aggregation})")
        mean_word = re.search(r"平均|年均", text)
        each_word = re.search(r"(?<![平年])均|每年|逐年", text)
        if re.search(r"复合", text) and w.aggregation != "compound_growth":
            problems.append(f"the quote says 复合 (compound) but the window is {w.aggregation}")
        elif mean_word and not each_word and w.aggregation in (*EACH_FAMILY, "last", "any", "any_growth"):
            problems.append(f"the quote says 平均 (mean) but the window is {w.aggregation}")
        elif each_word and not mean_word and w.years > 1 and w.aggregation not in (*EACH_FAMILY,):
            problems.append(f"the quote says 均/每年 (each year) but the window is {w.aggregation}")
        if problems:
            self.mismatch(leaf.id, "window", "; ".join(problems), WINDOW_READINGS[w.aggregation])
        elif n is None and not LAST_YEAR.search(text) and w.years > 1:
            self.add(leaf.id, "window", PERSON, f"the quote names no years; the window is {w.years} ({w.aggregation})")
        else:
            self.add(leaf.id, "window", PASS)

    def combine(self, node: All | Any_ | AtLeast, text: str) -> None:
        any_strong, all_strong = bool(ANY_STRONG.search(text)), bool(ALL_STRONG.search(text))
        if any_strong != all_strong:
            wants = "any" if any_strong else "all"
        else:
            any_weak, all_weak = "或" in text, bool(re.search(r"且|并", text))
            if any_weak == all_weak:
                self.add(node.id, "combine", PERSON, "the quote does not say whether all or any is needed")
                return
            wants = "any" if any_weak else "all"
        n_children = len(node.children)
        if isinstance(node, Any_) or (isinstance(node, AtLeast) and node.n == 1):
            is_ = "any"
        elif isinstance(node, All) or (isinstance(node, AtLeast) and node.n == n_children):
            is_ = "all"
        else:  # at least n with n neither 1 nor every child: the words cannot say any or all
            self.add(node.id, "combine", PERSON, f"at least {node.n} of {n_children}: the words say {wants}")
            return
        if is_ == wants:
            self.add(node.id, "combine", PASS)
        else:
            self.mismatch(node.id, "combine", f"the quote says {'或/之一 (any)' if wants == 'any' else '同时/且 (all)'}"
                                              f" but the node needs {is_}", COMBINE_READINGS[is_])

    # -- the policy --

    def run(self) -> None:
        for node in iter_nodes(self.policy.criteria):
            if node.source is not None and node.source.lines:
                text = self.cited(node.id, node.source)
                if text is not None:
                    self.node(node, text, quoted=node.source.quote is not None)
            if isinstance(node, Leaf) and node.relaxation is not None and node.relaxation.source.lines:
                text = self.cited(node.id, node.relaxation.source)
                if text is not None and node.relaxation.source.quote:
                    self.number(node.id, text, node.relaxation.max_percent, "%", "relaxation")
            for w in node.waivers:
                if w.source.lines:
                    self.cited(node.id, w.source)
            for item in getattr(node, "items", None) or []:
                if item.source.lines:
                    text = self.cited(item.id, item.source)
                    if text is not None and item.source.quote and item.points is not None:
                        self.number(item.id, text, item.points, "分", "points", self.lines_text, node.id)
        lc = self.policy.lifecycle
        if lc is not None:
            # Lifecycle figures have no criterion id: an interpretation naming the lifecycle field explains them.
            for i in self.policy.interpretations:
                text = _spaced(i.zh + " " + i.en)
                if re.search(r"validity|有效期|valid", text):
                    self.readings.setdefault("lifecycle", []).append((i.id, text))
                if re.search(r"ban|不得", text):
                    self.readings.setdefault("ban", []).append((i.id, text))
            if lc.source is not None and lc.source.lines:
                text = self.cited("lifecycle", lc.source)
                if text is not None and lc.source.quote:
                    self.number("lifecycle", text, lc.validity_years, "年", "validity", self.lines_text)
            for rule in lc.exit_rules:
                if rule.source.lines:
                    text = self.cited(rule.id, rule.source)
                    if text is not None and rule.source.quote and rule.ban_years:
                        self.number(rule.id, text, rule.ban_years, "年", "ban", self.lines_text, "ban")
            for duty in lc.reporting:
                if duty.source.lines:
                    self.cited(f"reporting_{duty.frequency}", duty.source)

    def node(self, node: Node | ScoreItem, text: str, quoted: bool) -> None:
        if isinstance(node, Leaf):
            th = node.threshold
            if isinstance(th, int | float) and not isinstance(th, bool):
                spans = self.number(node.id, text, float(th), node.unit, "threshold")
                if spans is not None and node.op in (">=", ">", "<=", "<") and quoted:
                    self.direction(node.id, text, spans, node.op, float(th), node.unit)
            if quoted and node.indicator in ANNUAL:
                self.window(node, text)
        elif isinstance(node, All | Any_ | AtLeast) and quoted:
            self.combine(node, text)
        elif isinstance(node, Exclusion) and node.within_years:
            self.number(node.id, text, float(node.within_years), "年", "within")


def check_policy(policy: Policy, file: str = "", lines: tuple[str, ...] | None = None) -> list[Finding]:
    lines = lines if lines is not None else compilation_lines()
    if lines is None:
        raise FileNotFoundError("the policy compilation is missing (paths.policy_compilation)")
    checker = _PolicyChecker(policy, file, lines)
    checker.run()
    return checker.findings


def cites_compilation(policy: Policy) -> bool:
    return any(n.source is not None and n.source.lines for n in iter_nodes(policy.criteria))


def check_policies(policies: dict[str, tuple[Policy, str]], lines: tuple[str, ...] | None = None) -> CheckReport:
    """Check {policy id: (policy, file)}; policies that cite no compilation lines are only counted."""
    report = CheckReport(policies=len(policies))
    for pid in sorted(policies):
        policy, file = policies[pid]
        if not cites_compilation(policy):
            report.without_compilation_text.append(pid)
            continue
        report.findings += check_policy(policy, file, lines)
    return report


def check_directory(root: Path, lines: tuple[str, ...] | None = None) -> CheckReport:
    """Every policy file under `root` (a data/policies tree)."""
    from registry.policy.loader import read_policy_file

    policies = {}
    for path in sorted(root.rglob("*.yaml")):
        policy = read_policy_file(path, root)
        policies[policy.id] = (policy, str(path.relative_to(root)))
    return check_policies(policies, lines)
