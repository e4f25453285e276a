"""Policies as data: the pydantic models every file in data/policies/ is validated against on load.

A policy file states one rule set of one document: identity (id, titles, issuer, document number, dates,
jurisdiction, tier, purpose, the version it supersedes), a criteria tree, the recognition lifecycle and
every interpretation the text leaves open. docs/policies.md is the reference for authors; keep both in step.

Conventions: money in 万元, ratios and growth rates in percent (3.0 means 3%), thresholds inclusive only
where the operator says so (">=" for 以上/不低于/达到, "<" for 不足/以下 when the text says so).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

POLICY_ID_RE = re.compile(r"^(cn(?:-[a-z]+)*)/([a-z0-9][a-z0-9-]*)/([0-9][0-9a-z.-]*)$")
CRITERION_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
LINES_RE = re.compile(r"^L\d+(?:-\d+)?(?:,\s*L\d+(?:-\d+)?)*$")


class _Strict(BaseModel):
    # A typo in a policy file must fail loudly, not be ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where a rule comes from: the document and the compilation lines (policy-compilation-2021.txt).

    `quote` is the exact phrase on those lines (whitespace ignored); tests check it is there and holds the
    threshold. `reference` names a data file when the figure is not in the compilation (e.g. the 300号 table).
    Documents after the 2021 compilation have no lines: `part` names the attachment / article / indicator
    (`{doc: 工信部企业〔2022〕63号, part: 附件3 专 (1)}`, data/sources/rules-2022-2026.md).
    """

    doc: str
    lines: str | None = None
    quote: str | None = None
    reference: str | None = None
    part: str | None = None

    @field_validator("lines")
    @classmethod
    def _lines_form(cls, v: str | None) -> str | None:
        if v is not None and not LINES_RE.match(v):
            raise ValueError(f"lines must look like 'L978-982' or 'L978-982, L1001', got {v!r}")
        return v

    @model_validator(mode="after")
    def _located(self) -> Source:
        if self.lines is None and self.reference is None and self.part is None:
            raise ValueError("a source needs compilation `lines`, a `reference` data file or the document's `part`")
        return self

    def line_range(self) -> list[tuple[int, int]]:
        """[(first, last), ...] of the cited compilation lines (1-based, inclusive)."""
        if not self.lines:
            return []
        out = []
        for part in self.lines.split(","):
            a, _, b = part.strip()[1:].partition("-")
            out.append((int(a), int(b) if b else int(a)))
        return out

    def cite(self) -> str:
        if self.lines:
            return f"{self.doc} {self.lines}"
        if self.part:
            return f"{self.doc} {self.part}"
        return f"{self.doc} ({self.reference})"


# How sure a rule's wording is (data/sources/rules-2022-2026.md): A several independent sources, one official or
# word for word; B two or more secondary sources; C one secondary source; U not confirmed (never evaluated).
Confidence = Literal["A", "B", "C", "U"]
CONFIDENCE_ORDER = ("A", "B", "C", "U")
CONFIDENCE_NOTES = {
    "A": ("多个独立来源一致，含政府页面或官方原文转载", "several independent sources agree, one official or verbatim"),
    "B": ("两个以上独立的二手来源一致，尚未与官方附件核对", "two or more secondary sources agree; not yet checked against "
          "the official attachment"),
    "C": ("仅一个二手来源，尚未与官方附件核对", "one secondary source only; not yet checked against the official "
          "attachment"),
    "U": ("未经证实，不作为规则评估", "not confirmed; not evaluated as a rule"),
}


def lowest_confidence(codes: Iterable[str | None]) -> str | None:
    """The least certain of these codes (None when none is stated)."""
    known = [c for c in codes if c]
    return max(known, key=CONFIDENCE_ORDER.index) if known else None


# ----------------------------------------------------------------------------------------------------------
# Lifecycle (interfaces C): validity, re-review, exit rules, reporting duties of a recognised firm.
# ----------------------------------------------------------------------------------------------------------


class ExitRule(_Strict):
    """A condition that ends a recognition (撤销 / 取消 / 出库) or warns that it may."""

    id: str
    label_zh: str
    label_en: str
    # event: a dated event (events file) of kind `event`, optionally only within `within_years` of recognition
    # not_sme: the firm grew into a large enterprise (300号); listing: listed on one of `boards`
    # notification: a `event` (rename/restructure) not notified within `notify_within_days` (or
    #   `notify_within_months`: 3 个月内 is three calendar months, not 90 days)
    # missing_reports: more than `max_missing` reports of `frequency` missed `per` year
    kind: Literal["event", "not_sme", "listing", "notification", "missing_reports"]
    event: str | None = None
    within_years: float | None = None
    boards: list[str] | None = None
    notify_within_days: int | None = None
    notify_within_months: int | None = Field(None, ge=1)
    # The flag a hit raises: `exit` (the rule ends the recognition) or `missing_report` (a reporting duty was
    # breached and the text names no sure consequence — the national 63号/2号 practice, data/sources §2.6).
    flag: Literal["exit", "missing_report"] = "exit"
    frequency: str | None = None
    max_missing: int | None = None
    per: Literal["year"] | None = None
    ban_years: int | None = None
    severity: Literal["critical", "warning"]
    source: Source

    @model_validator(mode="after")
    def _needs(self) -> ExitRule:
        required = {
            "event": ["event"],
            "listing": ["boards"],
            "notification": ["event"],
            "missing_reports": ["frequency", "max_missing"],
            "not_sme": [],
        }[self.kind]
        missing = [f for f in required if getattr(self, f) is None]
        if self.kind == "notification" and (self.notify_within_days is None) == (self.notify_within_months is None):
            missing.append("notify_within_days or notify_within_months (one of them)")
        if missing:
            raise ValueError(f"exit rule {self.id} of kind {self.kind} needs {', '.join(missing)}")
        return self


class ReportingObligation(_Strict):
    """A periodic report the recognised firm owes (月报/季报/半年报/年报) and when it is due."""

    frequency: Literal["monthly", "quarterly", "half_yearly", "annual"]
    due_day: int = Field(ge=1, le=31)
    due_month: int | None = Field(None, ge=1, le=12)  # annual: month of the following year
    months_after: int = Field(1, ge=0)  # sub-annual: due in the month after the period
    what: str
    source: Source

    @model_validator(mode="after")
    def _annual_month(self) -> ReportingObligation:
        if self.frequency == "annual" and self.due_month is None:
            raise ValueError("an annual reporting obligation needs due_month")
        return self


class _UpdateDeadline(_Strict):
    """The deadline of the yearly information update and what missing it costs."""

    due_month: int = Field(ge=1, le=12)
    due_day: int = Field(ge=1, le=31)
    # This many missed updates within one validity period end the recognition (only where a rule says so;
    # null = a reporting duty whose breach is flagged `missing_report`, no exit).
    max_missed: int | None = Field(None, ge=1)
    confidence: Confidence | None = None
    source: Source


class InfoUpdateVariant(_UpdateDeadline):
    """A province's own deadline / consequence (e.g. Zhejiang 2026: by 31 May, two missed updates in one validity
    period → 取消认定). Applies to the firms of that jurisdiction (by region code)."""

    jurisdiction: str


class InfoUpdate(_UpdateDeadline):
    """年度信息更新: the recognised firm updates its information on the national platform once a year, between
    `opens` and the deadline (63号 practice: 1 January – 30 April). Recorded as an `info_update` event. The
    update of year Y is owed for every year after the year of recognition whose deadline falls within the
    validity (the application carried the information of the recognition year)."""

    what: str
    opens_month: int = Field(1, ge=1, le=12)
    opens_day: int = Field(1, ge=1, le=31)
    variants: list[InfoUpdateVariant] = []


class Lifecycle(_Strict):
    validity_years: int = Field(3, ge=1)
    # anniversary: valid until the day before the anniversary; year_end: 31 Dec of the last year
    expiry: Literal["anniversary", "year_end"] = "anniversary"
    review_at_years: int | None = 3
    lapse_without_review: bool = False  # auto 出库 when not renewed
    exit_rules: list[ExitRule] = []
    reporting: list[ReportingObligation] = []
    info_update: InfoUpdate | None = None
    source: Source | None = None

    def last_valid_day(self, recognized_on: date) -> date:
        """The one definition of valid_until (ingestion, renewals, flags and the demo all use it).

        anniversary: the day before the N-th anniversary (2021-07-19 → 2024-07-18); a start on 29 February, whose
        anniversary day does not exist, runs to the end of February. year_end: 31 December of the N-th calendar
        year counting the year of recognition."""
        years = self.validity_years
        if self.expiry == "year_end":
            return date(recognized_on.year + years - 1, 12, 31)
        if (recognized_on.month, recognized_on.day) == (2, 29):
            end_of_feb = date(recognized_on.year + years, 3, 1)
            return date.fromordinal(end_of_feb.toordinal() - 1)
        return date.fromordinal(recognized_on.replace(year=recognized_on.year + years).toordinal() - 1)


# ----------------------------------------------------------------------------------------------------------
# Thresholds: a number, a band table (threshold depends on another indicator), or a reference lookup.
# ----------------------------------------------------------------------------------------------------------

Scalar = float | int | bool | str


class Band(_Strict):
    """One row of a band table: applies when lower <= band value < upper (bounds inclusive as stated)."""

    lower: float | None = None
    upper: float | None = None
    lower_inclusive: bool = True
    upper_inclusive: bool = False
    threshold: float | None = None  # None: no threshold in this band, i.e. the criterion fails there
    label: str | None = None


class BandTable(_Strict):
    """Threshold depends on another value, e.g. R&D ratio by revenue band (Ningbo 2.5% / 3.5%)."""

    band_by: IndicatorRef
    bands: list[Band] = Field(min_length=1)


class ReferenceLookup(_Strict):
    """Threshold read from a reference series in the policy file, e.g. 1.5 × 厦门 GDP growth of 上年."""

    reference: str  # key of Policy.references
    year_offset: int = -1  # -1 = 上年 (the year before as_of)
    years: int = 1  # >1: mean of that many years ending at year_offset
    factor: float = 1.0


Threshold = Scalar | list[Scalar] | BandTable | ReferenceLookup


class Window(_Strict):
    """Which annual figures a leaf looks at and how it combines them (CONTRACT §3: years before as_of).

    last: 上年 only. each: every one of the last `years` must meet the threshold. pooled: ratio of the sums
    over `years` (e.g. 近2年研发经费 / 近2年营业收入). sum / mean: of the yearly values. mean_growth: arithmetic
    mean of the `years` yearly growth rates. compound_growth: (V[上年] / V[上年-years]) ** (1/years) - 1.
    growth: one year's growth rate (上年 vs the year before). each_growth: every one of the last `years`
    yearly growth rates must meet the threshold (逐年增长). any / any_growth: at least one of the last `years`
    values / yearly growth rates must (近2年中至少有一年增长5%以上).
    """

    years: int = Field(1, ge=1, le=10)
    aggregation: Literal["last", "each", "any", "pooled", "sum", "mean", "growth", "each_growth", "any_growth",
                         "mean_growth",
                         "compound_growth"] = "last"


# Windows that give one value per year, each compared with the threshold (each: all must pass; any: one must).
PER_YEAR_AGGREGATIONS = ("each", "each_growth", "any", "any_growth")
# Windows that need the year before the first one (growth rates).
GROWTH_AGGREGATIONS = ("growth", "mean_growth", "compound_growth", "each_growth", "any_growth")


class IndicatorRef(_Strict):
    """An indicator plus its window: the unit a leaf compares, derived for all firms at once."""

    indicator: str
    window: Window = Window()
    params: dict[str, Any] = {}

    def key(self) -> str:
        """Column name of this indicator in the indicators frame."""
        w = self.window
        base = self.indicator
        if self.params:
            base += "[" + ",".join(f"{k}={_param_text(v)}" for k, v in sorted(self.params.items())) + "]"
        if w.aggregation == "last" and w.years == 1:
            return base
        return f"{base}@{w.aggregation}{w.years}y"


def _param_text(v: Any) -> str:
    return "|".join(map(str, v)) if isinstance(v, list | tuple) else str(v)


class Relaxation(_Strict):
    """Threshold lowered (raised, for lower-is-better) by up to `max_percent` for a declared group."""

    group: str  # key of Policy.relaxation_groups
    max_percent: float = Field(gt=0, le=100)
    source: Source


class Waiver(_Strict):
    """The node is not applied (result `waived`) for these batches or as-of years."""

    batches: list[str] | None = None
    as_of_years: list[int] | None = None
    reason_zh: str
    reason_en: str
    source: Source

    @model_validator(mode="after")
    def _scoped(self) -> Waiver:
        if not self.batches and not self.as_of_years:
            raise ValueError("a waiver names batches or as_of_years")
        return self


# ----------------------------------------------------------------------------------------------------------
# The criteria tree.
# ----------------------------------------------------------------------------------------------------------


class _NodeBase(_Strict):
    id: str
    label_zh: str
    label_en: str
    source: Source | None = None
    waivers: list[Waiver] = []
    confidence: Confidence | None = None  # of this criterion's wording; inherited by its children

    @field_validator("id")
    @classmethod
    def _id_form(cls, v: str) -> str:
        if not CRITERION_ID_RE.match(v):
            raise ValueError(f"criterion id must be snake_case ascii, got {v!r}")
        return v


Operator = Literal[">=", ">", "<=", "<", "==", "!=", "in", "not_in", "starts_with"]
# How each operator is written in a criterion's `expected` text and in the policy descriptions.
OP_TEXT = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "=", "!=": "≠", "in": "∈", "not_in": "∉",
           "starts_with": "以…开头 / starts with"}
# Operators whose threshold is a list: membership, and starts_with (a code under one of these prefixes: GB/T 4754
# section letters, e.g. 工业 = B, C, D).
LIST_OPERATORS = ("in", "not_in", "starts_with")


class Leaf(_NodeBase):
    """A comparison of one indicator (over its window) with a threshold; pass / fail / missing."""

    type: Literal["leaf"] = "leaf"
    indicator: str
    window: Window = Window()
    params: dict[str, Any] = {}
    op: Operator
    threshold: Threshold
    unit: str | None = None
    relaxation: Relaxation | None = None
    source: Source  # every leaf cites its text

    def ref(self) -> IndicatorRef:
        return IndicatorRef(indicator=self.indicator, window=self.window, params=self.params)

    @model_validator(mode="after")
    def _threshold_fits_op(self) -> Leaf:
        listy = isinstance(self.threshold, list)
        if self.op in LIST_OPERATORS and not listy:
            raise ValueError(f"{self.id}: operator {self.op} needs a list threshold")
        if self.op not in LIST_OPERATORS and listy:
            raise ValueError(f"{self.id}: a list threshold needs operator in / not_in / starts_with")
        if self.relaxation and self.op not in (">=", ">", "<=", "<"):
            raise ValueError(f"{self.id}: only ordered comparisons can be relaxed")
        return self


class Exclusion(_NodeBase):
    """不得推荐 / 限制条件: fails when the firm has one of `events` within `within_years` before as_of, is
    listed on one of `boards`, or holds one of `tiers`. Absence of such a fact is a pass (never missing).

    With `tiers`, `jurisdictions` limits the issuers, and `recognized_in_years` counts a title granted in one of
    those years whether or not it is still in force ("十三五期间已评定的…", "2019年、2020年认定的…不得重复申报")."""

    type: Literal["exclusion"] = "exclusion"
    events: list[str] | None = None
    within_years: float | None = None
    boards: list[str] | None = None
    tiers: list[str] | None = None
    jurisdictions: list[str] | None = None
    recognized_in_years: list[int] | None = None
    source: Source

    @model_validator(mode="after")
    def _one_kind(self) -> Exclusion:
        if sum(x is not None for x in (self.events, self.boards, self.tiers)) != 1:
            raise ValueError(f"{self.id}: an exclusion names exactly one of events, boards, tiers")
        if self.tiers is None and (self.jurisdictions or self.recognized_in_years):
            raise ValueError(f"{self.id}: jurisdictions / recognized_in_years only go with tiers")
        return self


class Prerequisite(_NodeBase):
    """Holds a recognition in force on as_of: one of `tiers`, from one of `jurisdictions` (any if None)."""

    type: Literal["prerequisite"] = "prerequisite"
    tiers: list[str] = Field(min_length=1)
    jurisdictions: list[str] | None = None
    source: Source


class All(_NodeBase):
    """All children: any fail ⇒ fail, else any missing ⇒ missing, else pass."""

    type: Literal["all"] = "all"
    children: list[Node] = Field(min_length=1)


class Any_(_NodeBase):
    """Any child: any pass ⇒ pass, else any missing ⇒ missing, else fail."""

    type: Literal["any"] = "any"
    children: list[Node] = Field(min_length=1)


class AtLeast(_NodeBase):
    """At least n children pass: passes ≥ n ⇒ pass; passes + missing < n ⇒ fail; else missing."""

    type: Literal["at_least"] = "at_least"
    n: int = Field(ge=1)
    children: list[Node] = Field(min_length=1)

    @model_validator(mode="after")
    def _n_reachable(self) -> AtLeast:
        if self.n > len(self.children):
            raise ValueError(f"{self.id}: at_least {self.n} of only {len(self.children)} children")
        return self


class ClassOption(_Strict):
    name: str  # reported in the `class` column, e.g. "a"
    label_zh: str
    label_en: str
    criteria: Node


class ExactlyOne(_NodeBase):
    """Exactly one class: one pass and no missing ⇒ pass (class reported); two or more pass, or none pass
    and none missing ⇒ fail; otherwise missing."""

    type: Literal["exactly_one"] = "exactly_one"
    classes: list[ClassOption] = Field(min_length=2)


class Manual(_NodeBase):
    """A criterion the engine does not decide: shown with its reason, never changes the verdict.

    not_evaluated: the rule is not confirmed (confidence U) or the data to judge it do not exist;
    by_hand: the text names no measurable threshold (知名度/影响力, "较为靠前") — an official checks it."""

    type: Literal["manual"] = "manual"
    mode: Literal["not_evaluated", "by_hand"]
    reason_zh: str
    reason_en: str
    source: Source


class PointBand(_Strict):
    """One row of a points table: `points` when lower ≤ value < upper (inclusiveness as stated).

    The 2022 tables write "≥5% → 20; 3–5% → 15": a boundary value scores in the higher-scoring band (以上/以下含本数,
    docs/policies.md), so higher-is-better bands keep the defaults and lower-is-better bands (资产负债率 ≤55% → 10;
    55–75% → 5) set `lower_inclusive: false, upper_inclusive: true`."""

    lower: float | None = None
    upper: float | None = None
    lower_inclusive: bool = True
    upper_inclusive: bool = False
    points: float
    label: str | None = None

    def text(self) -> str:
        lo = "" if self.lower is None else f"{self.lower:g}{'≤' if self.lower_inclusive else '<'}"
        hi = "" if self.upper is None else f"{'≤' if self.upper_inclusive else '<'}{self.upper:g}"
        return self.label or (f"{lo}x{hi}" if lo or hi else "x")


class ScoreItem(_Strict):
    """Points for one criterion, by one of these rules:

    - `criteria` + `points`: the points when the criteria pass;
    - `indicator` + `per_unit` (+ `base`, `cap`): base + per_unit × value; with `step`, per_unit for each full
      `step` of the value (每满2年得1分, 最高5分: step 2, per_unit 1, cap 5);
    - `indicator` + `bands`: the points of the band the value falls in (0 when none applies);
    - `indicator` + `categories`: the points of the value (text, case-insensitive), else `default_points`.
    An unknown value makes the item's points unknown: 0 at least, its maximum at most (three-valued scores)."""

    type: Literal["score_item"] = "score_item"
    id: str
    label_zh: str
    label_en: str
    criteria: Node | None = None
    points: float | None = None
    indicator: IndicatorRef | None = None
    base: float = 0.0
    per_unit: float | None = None
    step: float | None = Field(None, gt=0)
    cap: float | None = None
    bands: list[PointBand] | None = None
    categories: dict[str, float] | None = None
    default_points: float = 0.0
    group: str | None = None  # id of a Score.groups entry
    bonus: bool = False  # counted beyond the base total, up to Score.bonus_cap
    confidence: Confidence | None = None
    source: Source

    @field_validator("id")
    @classmethod
    def _id_form(cls, v: str) -> str:
        if not CRITERION_ID_RE.match(v):
            raise ValueError(f"score item id must be snake_case ascii, got {v!r}")
        return v

    @model_validator(mode="after")
    def _one_rule(self) -> ScoreItem:
        rules = [self.criteria is not None and self.points is not None,
                 self.indicator is not None and self.per_unit is not None,
                 self.indicator is not None and bool(self.bands),
                 self.indicator is not None and bool(self.categories)]
        if sum(rules) != 1 or (self.criteria is not None) == (self.indicator is not None):
            raise ValueError(f"{self.id}: a score item has exactly one of criteria + points, indicator + per_unit, "
                             "indicator + bands or indicator + categories")
        if self.step is not None and self.per_unit is None:
            raise ValueError(f"{self.id}: step needs per_unit")
        return self

    @property
    def waivers(self) -> list[Waiver]:
        return []

    def max_points(self) -> float | None:
        if self.points is not None:
            return self.points
        if self.bands:
            return max(b.points for b in self.bands)
        if self.categories:
            return max([*self.categories.values(), self.default_points])
        return self.cap


class ScoreGroup(_Strict):
    """A dimension of a points table: its items' points are summed (or the best one taken: `combine: max`, for
    "择一" and for tiers of one indicator written as separate items), capped at `max_points`; a `min_points` must be
    reached for the score to pass (创新型: 创新能力 ≥ 20, 成长性 ≥ 15, 专业化 ≥ 15)."""

    id: str
    label_zh: str
    label_en: str
    combine: Literal["sum", "max"] = "sum"
    max_points: float | None = None
    min_points: float | None = None
    # A group inside a dimension (知识产权 best tier inside 创新能力): its total counts toward the parent group.
    parent: str | None = None


class Score(_NodeBase):
    """A points table. With a pass_mark it passes when the lowest possible score reaches it and fails when
    the highest possible score cannot; without one it is informative only (always pass)."""

    type: Literal["score"] = "score"
    items: list[ScoreItem] = Field(min_length=1)
    groups: list[ScoreGroup] = []
    max_points: float | None = None
    bonus_cap: float | None = None
    pass_mark: float | None = None

    @model_validator(mode="after")
    def _groups_known(self) -> Score:
        ids = [g.id for g in self.groups]
        if len(ids) != len(set(ids)):
            raise ValueError(f"{self.id}: score group ids must be unique")
        unknown = sorted({i.group for i in self.items if i.group is not None} - set(ids))
        if unknown:
            raise ValueError(f"{self.id}: score items name unknown groups {unknown}")
        parents = {g.id: g.parent for g in self.groups}
        for g in self.groups:
            seen, p = {g.id}, g.parent
            while p is not None:
                if p not in parents:
                    raise ValueError(f"{self.id}: group {g.id} names unknown parent {p}")
                if p in seen:
                    raise ValueError(f"{self.id}: groups {sorted(seen)} are their own parents")
                seen.add(p)
                p = parents[p]
        return self


Node = Annotated[
    All | Any_ | AtLeast | ExactlyOne | Score | Leaf | Exclusion | Prerequisite | Manual,
    Field(discriminator="type"),
]


# ----------------------------------------------------------------------------------------------------------
# The policy file.
# ----------------------------------------------------------------------------------------------------------


class Interpretation(_Strict):
    """A reading the text leaves open, stated once (listed in docs/policies.md by its id)."""

    id: str
    zh: str
    en: str
    applies_to: list[str] = []  # criterion ids
    source: Source | None = None


class RelaxationGroup(_Strict):
    """A declared group of firms (e.g. Shenzhen 优先遴选领域): an in-force attribute with one of `values`."""

    label_zh: str
    label_en: str
    attribute: str
    values: list[str]
    source: Source


class Batch(_Strict):
    """A batch of the programme and the as-of dates that belong to it (for waivers by batch)."""

    id: str
    as_of_from: date
    as_of_to: date


class ReferenceSeries(_Strict):
    label_zh: str
    label_en: str
    unit: str
    values: dict[int, float]
    source: Source


class TierDeclaration(_Strict):
    """A regional tier declared by this policy (CONTRACT §3: regional tiers are declared by policy files)."""

    code: str
    name_zh: str
    name_en: str


PURPOSES = ("new_application", "re_review")


class PurposeWindow(_Strict):
    """When a rule set serves one purpose: 认定/申报 (new_application) or 复核 (re_review). 117号 judges the 2026
    小巨人 复核 on the 2022 standard while new applications use the 2026 one: the 2022 file serves re_review
    beyond the day it stopped serving new applications."""

    purpose: Literal["new_application", "re_review"]
    effective_from: date
    effective_to: date | None = None
    source: Source | None = None

    def covers(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)


class Policy(_Strict):
    id: str
    title_zh: str
    title_en: str
    issuer: str
    document_no: str
    issued_on: date
    effective_from: date
    effective_to: date | None = None
    jurisdiction: str
    tier: str | None = None
    declares_tier: TierDeclaration | None = None
    # precheck: a checklist before the application (初核), never the rule set that decides a tier.
    purpose: Literal["new_application", "re_review", "precheck", "support", "classification"]
    # Optional: the purposes served and when (default: `purpose` from effective_from to effective_to).
    purposes: list[PurposeWindow] = []
    # The rule sets this one replaces: while this one serves a purpose, they are not picked for it
    # (registry/policy/resolve.py). A national rule may replace many provincial ones.
    supersedes: str | list[str] | None = None
    # For classification policies: the `class` column is this indicator's value (e.g. sme_size_class).
    class_indicator: str | None = None
    criteria: Node
    lifecycle: Lifecycle | None = None
    relaxation_groups: dict[str, RelaxationGroup] = {}
    batches: list[Batch] = []
    references: dict[str, ReferenceSeries] = {}
    interpretations: list[Interpretation] = []
    # How sure the rule set's wording is, as a whole (data/sources/rules-2022-2026.md); the criteria carry their own.
    confidence: Confidence | None = None
    notes: str | None = None

    @field_validator("id")
    @classmethod
    def _id_form(cls, v: str) -> str:
        if not POLICY_ID_RE.match(v):
            raise ValueError(f"policy id must be <jurisdiction>/<tier-or-rule-set>/<version>, got {v!r}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        if self.id.split("/")[0] != self.jurisdiction:
            raise ValueError(f"policy id {self.id} does not start with its jurisdiction {self.jurisdiction}")
        if self.effective_to and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        seen: set[str] = set()
        for node in iter_nodes(self.criteria):
            if node.id in seen:
                raise ValueError(f"criterion id {node.id} appears twice")
            seen.add(node.id)
            if isinstance(node, Leaf):
                if node.relaxation and node.relaxation.group not in self.relaxation_groups:
                    raise ValueError(f"{node.id}: unknown relaxation group {node.relaxation.group}")
                if isinstance(node.threshold, ReferenceLookup) and node.threshold.reference not in self.references:
                    raise ValueError(f"{node.id}: unknown reference {node.threshold.reference}")
            for w in node.waivers:
                unknown = set(w.batches or ()) - {b.id for b in self.batches}
                if unknown:
                    raise ValueError(f"{node.id}: waiver names unknown batches {sorted(unknown)}")
        ids = [i.id for i in self.interpretations]
        if len(ids) != len(set(ids)):
            raise ValueError("interpretation ids must be unique within a policy")
        for i in self.interpretations:
            unknown = set(i.applies_to) - seen
            if unknown:
                raise ValueError(f"interpretation {i.id} applies to unknown criteria {sorted(unknown)}")
        return self

    @property
    def version(self) -> str:
        return self.id.rsplit("/", 1)[1]

    def in_force(self, on: date, purpose: str | None = None) -> bool:
        """In force on that day — for `purpose` when given (new_application / re_review), else for any purpose."""
        if purpose is not None:
            return self.serves(purpose, on)
        base = self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)
        return base or any(w.covers(on) for w in self.purposes)

    def serves(self, purpose: str, on: date) -> bool:
        if self.purposes:
            return any(w.purpose == purpose and w.covers(on) for w in self.purposes)
        return (purpose == self.purpose and self.effective_from <= on
                and (self.effective_to is None or on <= self.effective_to))

    def superseded_ids(self) -> list[str]:
        if self.supersedes is None:
            return []
        return [self.supersedes] if isinstance(self.supersedes, str) else list(self.supersedes)

    def batch_of(self, as_of: date) -> str | None:
        for b in self.batches:
            if b.as_of_from <= as_of <= b.as_of_to:
                return b.id
        return None

    def leaves(self) -> list[Leaf]:
        return [n for n in iter_nodes(self.criteria) if isinstance(n, Leaf)]

    def criterion_confidence(self) -> dict[str, str | None]:
        """Each criterion's confidence: its own code, else its nearest ancestor's, else the policy's."""
        out: dict[str, str | None] = {}

        def visit(node: Any, inherited: str | None) -> None:
            code = getattr(node, "confidence", None) or inherited
            out[node.id] = code
            for child in children_of(node):
                visit(child, code)

        visit(self.criteria, self.confidence)
        return out

    def lowest_confidence(self) -> str | None:
        """The least certain code among the criteria the engine evaluates (a `manual` node decides nothing)."""
        codes = self.criterion_confidence()
        evaluated = [codes[n.id] for n in iter_nodes(self.criteria) if not isinstance(n, Manual)]
        return lowest_confidence([*evaluated, self.confidence])


def children_of(node: Any) -> list[Any]:
    if isinstance(node, All | Any_ | AtLeast):
        return list(node.children)
    if isinstance(node, ExactlyOne):
        return [c.criteria for c in node.classes]
    if isinstance(node, Score):
        return list(node.items)
    if isinstance(node, ScoreItem):
        return [node.criteria] if node.criteria is not None else []
    return []


def iter_nodes(node: Any) -> Iterator[Any]:
    """Every node of a criteria tree, depth first, parents before children."""
    yield node
    for child in children_of(node):
        yield from iter_nodes(child)


for _model in (BandTable, All, Any_, AtLeast, ClassOption, ExactlyOne, ScoreItem, Score, Policy):
    _model.model_rebuild()
