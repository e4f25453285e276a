"""The evaluation engine: compiles a policy's criteria tree into polars expressions, three-valued.

Every node becomes a Boolean column `r:<id>`: true = pass, false = fail, null = missing (data that could
change the outcome is not there). polars' Kleene logic gives the combinators their meaning directly:
all = AND (any fail ⇒ fail, else any missing ⇒ missing), any = OR (any pass ⇒ pass, else any missing ⇒
missing). Waived nodes are deemed met. One policy over any number of firms is one polars plan; nothing
loops over firms.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any

import polars as pl

from registry.errors import UserError
from registry.policy.bundle import Bundle
from registry.policy.indicators import derive_indicators, known_indicator
from registry.policy.schema import (
    CONFIDENCE_NOTES,
    OP_TEXT,
    PER_YEAR_AGGREGATIONS,
    All,
    Any_,
    AtLeast,
    Band,
    BandTable,
    ExactlyOne,
    Exclusion,
    IndicatorRef,
    Leaf,
    Manual,
    Node,
    PointBand,
    Policy,
    Prerequisite,
    ReferenceLookup,
    Score,
    ScoreItem,
    children_of,
    iter_nodes,
)

VERDICTS = ("eligible", "ineligible", "insufficient_data")
# not_evaluated / by_hand: a `manual` criterion (unconfirmed rule; no measurable threshold) — shown, never decisive.
RESULTS = ("pass", "fail", "missing", "waived", "not_evaluated", "by_hand")


# ---------------------------------------------------------------------------------------------------------
# Which indicators a policy needs.
# ---------------------------------------------------------------------------------------------------------


def exclusion_ref(node: Exclusion) -> IndicatorRef:
    if node.events is not None:
        return IndicatorRef(indicator="events_within",
                            params={"events": sorted(node.events), "years": node.within_years or 0})
    if node.boards is not None:
        return IndicatorRef(indicator="listing_board")
    params: dict[str, Any] = {"tiers": sorted(node.tiers or [])}
    if node.jurisdictions:
        params["jurisdictions"] = sorted(node.jurisdictions)
    if node.recognized_in_years:
        params["recognized_in_years"] = sorted(node.recognized_in_years)
    return IndicatorRef(indicator="holds_tier", params=params)


def prerequisite_ref(node: Prerequisite) -> IndicatorRef:
    params: dict[str, Any] = {"tiers": sorted(node.tiers)}
    if node.jurisdictions:
        params["jurisdictions"] = sorted(node.jurisdictions)
    return IndicatorRef(indicator="holds_tier", params=params)


def group_ref(policy: Policy, group: str) -> IndicatorRef:
    g = policy.relaxation_groups[group]
    return IndicatorRef(indicator="in_group", params={"attribute": g.attribute, "values": sorted(g.values)})


def required_refs(policy: Policy) -> list[IndicatorRef]:
    """Every indicator (with its window) the policy's criteria read, each once."""
    refs: list[IndicatorRef] = []
    for node in iter_nodes(policy.criteria):
        if isinstance(node, Leaf):
            refs.append(node.ref())
            if isinstance(node.threshold, BandTable):
                refs.append(node.threshold.band_by)
            if node.relaxation:
                refs.append(group_ref(policy, node.relaxation.group))
        elif isinstance(node, Exclusion):
            refs.append(exclusion_ref(node))
        elif isinstance(node, Prerequisite):
            refs.append(prerequisite_ref(node))
        elif isinstance(node, Score):
            refs.extend(i.indicator for i in node.items if i.indicator is not None)
    if policy.class_indicator:
        refs.append(IndicatorRef(indicator=policy.class_indicator))
    unknown = sorted({r.indicator for r in refs if not known_indicator(r.indicator)})
    if unknown:
        raise UserError(f"{policy.id}: 未知指标 / unknown indicators {', '.join(unknown)}")
    return list({r.key(): r for r in refs}.values())


# ---------------------------------------------------------------------------------------------------------
# Compilation.
# ---------------------------------------------------------------------------------------------------------


@dataclass
class _Ctx:
    policy: Policy
    as_of: date
    batch: str | None
    lang: str
    schema: dict[str, pl.DataType]
    result: dict[str, pl.Expr] = field(default_factory=dict)
    actual: dict[str, pl.Expr] = field(default_factory=dict)
    expected: dict[str, pl.Expr] = field(default_factory=dict)
    waived: set[str] = field(default_factory=set)
    score_cols: dict[str, pl.Expr] = field(default_factory=dict)
    class_cols: dict[str, pl.Expr] = field(default_factory=dict)
    # Points of each score item: (lowest, highest) possible — equal when known — and the text of what it scored.
    points: dict[str, tuple[pl.Expr, pl.Expr]] = field(default_factory=dict)
    manual: set[str] = field(default_factory=set)
    # Columns a node computes before its result (a score's points): named expressions, evaluated once per firm and
    # then read by the result, the detail and the parent score instead of repeating the expression trees.
    columns: dict[str, dict[str, pl.Expr]] = field(default_factory=dict)

    def materialise(self, node_id: str, name: str, expr: pl.Expr) -> pl.Expr:
        col = f"{name}:{node_id}"
        self.columns.setdefault(node_id, {})[col] = expr
        return pl.col(col)

    def label(self, node: Node | ScoreItem) -> str:
        return node.label_en if self.lang == "en" else node.label_zh


def _r(node_id: str) -> pl.Expr:
    return pl.col(f"r:{node_id}")


def _num(x: float) -> str:
    return f"{x:g}"


def _json(expr: pl.Expr, dtype: pl.DataType | type[pl.DataType] | None) -> pl.Expr:
    """JSON text of a value column, so that every criterion's `actual` shares one type in the list."""
    if dtype is not None and dtype.is_numeric():
        e = expr.cast(pl.Float64)
        return (pl.when(e.is_null()).then(pl.lit("null"))
                .when(e.is_nan()).then(pl.lit('"n/a"'))
                .otherwise(e.round(6).cast(pl.String)))
    if dtype == pl.Boolean:
        return pl.when(expr.is_null()).then(pl.lit("null")).otherwise(expr.cast(pl.String))
    text = expr.cast(pl.String).str.replace_all("\\", "\\\\", literal=True).str.replace_all('"', '\\"', literal=True)
    return pl.when(expr.is_null()).then(pl.lit("null")).otherwise(pl.lit('"') + text + pl.lit('"'))


def _compare(val: pl.Expr, op: str, thr: Any, numeric: bool) -> pl.Expr:
    """Three-valued comparison: null when the value (or threshold) is unknown, false when not computable."""
    if op == "starts_with":
        prefixes = [str(t).lower() for t in thr]
        hit = pl.any_horizontal([val.str.starts_with(p) for p in prefixes]) if prefixes else pl.lit(False)
        return pl.when(val.is_null()).then(None).otherwise(hit)
    if op in ("in", "not_in"):
        items = [str(t).lower() if isinstance(t, str) else t for t in thr]
        hit = val.is_in(pl.lit(pl.Series(items)).implode()) if items else pl.lit(False)
        res = hit if op == "in" else hit.not_()
        return pl.when(val.is_null()).then(None).otherwise(res)
    if op in ("==", "!="):
        t = thr.lower() if isinstance(thr, str) else thr
        res = (val == t) if op == "==" else (val != t)
        return pl.when(val.is_null()).then(None).otherwise(res)
    v = val.cast(pl.Float64)
    t = thr if isinstance(thr, pl.Expr) else pl.lit(float(thr))
    res = {">=": v >= t, ">": v > t, "<=": v <= t, "<": v < t}[op]
    return (pl.when(v.is_null() | t.is_null()).then(None)
            .when(v.is_nan()).then(False)
            .otherwise(res))


def _reference_threshold(ctx: _Ctx, look: ReferenceLookup) -> float | None:
    series = ctx.policy.references[look.reference].values
    first = ctx.as_of.year + look.year_offset
    vals = [series.get(first - i) for i in range(look.years)]
    known = [v for v in vals if v is not None]
    if len(known) != len(vals):
        return None  # the reference year is not in the series: every firm's criterion is missing
    return look.factor * sum(known) / len(known)


def _unit(leaf: Leaf) -> str:
    return f" {leaf.unit}" if leaf.unit else ""


def _compile_leaf(ctx: _Ctx, leaf: Leaf) -> None:
    ref = leaf.ref()
    key = ref.key()
    each = leaf.window.aggregation in PER_YEAR_AGGREGATIONS
    # each: every year must meet the threshold; any: at least one (Kleene: a pass wins over a missing year).
    combine = pl.any_horizontal if leaf.window.aggregation in ("any", "any_growth") else pl.all_horizontal
    cols = [f"{key}#{k}" for k in range(1, leaf.window.years + 1)] if each else [key]
    dtype = ctx.schema.get(cols[0])
    numeric = dtype is not None and dtype.is_numeric()
    op = leaf.op
    sym = OP_TEXT[op]

    # The threshold: a literal, a band table (per firm), or a reference lookup.
    band_idx: pl.Expr | None = None
    thr_expr: pl.Expr | None  # None: a list or equality comparison takes leaf.threshold as it is
    if isinstance(leaf.threshold, BandTable):
        bt = leaf.threshold
        b = pl.col(bt.band_by.key()).cast(pl.Float64)
        conds = []
        for band in bt.bands:
            cond = pl.lit(True)
            if band.lower is not None:
                cond = cond & ((b >= band.lower) if band.lower_inclusive else (b > band.lower))
            if band.upper is not None:
                cond = cond & ((b <= band.upper) if band.upper_inclusive else (b < band.upper))
            conds.append(cond)
        band_idx = pl.lit(-1)
        thr_expr = pl.lit(None, pl.Float64)
        exp_expr: pl.Expr = pl.lit("无适用档 / no band applies")
        for i in reversed(range(len(bt.bands))):
            band = bt.bands[i]
            band_idx = pl.when(conds[i]).then(pl.lit(i)).otherwise(band_idx)
            t = pl.lit(band.threshold, pl.Float64) if band.threshold is not None else pl.lit(None, pl.Float64)
            thr_expr = pl.when(conds[i]).then(t).otherwise(thr_expr)
            txt = (f"{sym} {_num(band.threshold)}{_unit(leaf)}" if band.threshold is not None
                   else "本档不适用 / not eligible in this band")
            exp_expr = pl.when(conds[i]).then(pl.lit(f"{txt} ({band.label or i + 1})")).otherwise(exp_expr)
        band_known = b.is_not_null()
        exp_expr = pl.when(band_known).then(exp_expr).otherwise(
            pl.lit(f"{sym} ? ({bt.band_by.indicator} 未知 / unknown)"))
    elif isinstance(leaf.threshold, ReferenceLookup):
        ref_value = _reference_threshold(ctx, leaf.threshold)
        thr_expr = pl.lit(ref_value, pl.Float64)
        exp_expr = pl.lit(f"{sym} {_num(ref_value)}{_unit(leaf)}" if ref_value is not None
                          else f"{sym} ? (参考数据缺失 / reference value missing)")
    elif isinstance(leaf.threshold, list):  # the list operators in / not_in / starts_with (Leaf._threshold_fits_op)
        thr_expr = None
        exp_expr = pl.lit(f"{sym} {{{', '.join(map(str, leaf.threshold))}}}")
    elif op in ("==", "!="):
        thr_expr = None
        shown = json.dumps(leaf.threshold, ensure_ascii=False)
        exp_expr = pl.lit(f"{sym} {shown}")
    else:
        thr_expr = pl.lit(float(leaf.threshold), pl.Float64)
        exp_expr = pl.lit(f"{sym} {_num(float(leaf.threshold))}{_unit(leaf)}")

    # A relaxation is for ordered comparisons only (Leaf validation), which always have a threshold expression.
    if leaf.relaxation is not None and thr_expr is not None:
        member = pl.col(group_ref(ctx.policy, leaf.relaxation.group).key())
        factor = 1 - leaf.relaxation.max_percent / 100 if op in (">=", ">") else 1 + leaf.relaxation.max_percent / 100
        relaxed = (thr_expr * factor).round(9)
        thr_expr = pl.when(member).then(relaxed).otherwise(thr_expr)
        note = f" (放宽{_num(leaf.relaxation.max_percent)}% / relaxed)"
        exp_expr = pl.when(member).then(
            pl.lit(f"{sym} ") + relaxed.round(4).cast(pl.String) + pl.lit(f"{_unit(leaf)}{note}")
        ).otherwise(exp_expr)

    threshold = thr_expr if thr_expr is not None else leaf.threshold
    per_year = []
    sample = leaf.threshold[0] if isinstance(leaf.threshold, list) and leaf.threshold else leaf.threshold
    for c in cols:
        v = pl.col(c)
        if op in ("in", "not_in", "starts_with", "==", "!="):
            if isinstance(sample, bool):
                v = v.cast(pl.Boolean)
            elif isinstance(sample, str):
                v = v.cast(pl.String).str.to_lowercase()
            else:
                v = v.cast(pl.Float64)
        per_year.append(_compare(v, op, threshold, numeric))
    res = per_year[0] if len(per_year) == 1 else combine(per_year)
    if band_idx is not None and thr_expr is not None:  # a band table (thr_expr is its per-firm threshold)
        b = pl.col(bt.band_by.key())
        res = (pl.when(b.is_null()).then(None)
               .when(band_idx == -1).then(False)
               .when(thr_expr.is_null()).then(False)
               .otherwise(res))
    # A sum with some parts unknown can still pass on the known parts (lower bound).
    lb = f"{key}~lb"
    if lb in ctx.schema and op in (">=", ">") and not each:
        res = pl.when(_compare(pl.col(lb), op, threshold, True)).then(True).otherwise(res)

    ctx.result[leaf.id] = res
    if each:
        ctx.actual[leaf.id] = pl.lit("[") + pl.concat_str([_json(pl.col(c), dtype) for c in cols],
                                                          separator=",") + pl.lit("]")
    elif lb in ctx.schema:
        # Show what is known: the sum of the reported parts when some part is blank.
        ctx.actual[leaf.id] = _json(pl.coalesce(pl.col(key), pl.col(lb)), dtype)
    else:
        ctx.actual[leaf.id] = _json(pl.col(key), dtype)
    ctx.expected[leaf.id] = exp_expr


def _waived(ctx: _Ctx, node: Any) -> bool:
    for w in getattr(node, "waivers", ()):
        if (w.batches and ctx.batch in w.batches) or (w.as_of_years and ctx.as_of.year in w.as_of_years):
            return True
    return False


def _compile(ctx: _Ctx, node: Any) -> None:
    """Fill ctx with the node's result/actual/expected expressions; children first (they are columns)."""
    for child in children_of(node):
        _compile(ctx, child)
    if _waived(ctx, node):
        ctx.waived.add(node.id)
        ctx.result[node.id] = pl.lit(True)
        ctx.actual[node.id] = pl.lit("null")
        reason = next(w for w in node.waivers)
        ctx.expected[node.id] = pl.lit(f"不适用 / waived: {reason.reason_zh} / {reason.reason_en}")
        return
    # A manual criterion is shown but decides nothing: its parent combines the other children only.
    kids = [_r(c.id) for c in children_of(node) if not isinstance(c, Manual)]
    if isinstance(node, Manual):
        ctx.manual.add(node.id)
        ctx.result[node.id] = pl.lit(True)
        ctx.actual[node.id] = pl.lit("null")
        ctx.expected[node.id] = pl.lit(f"{'人工核查' if node.mode == 'by_hand' else '不评估'} / "
                                       f"{'checked by hand' if node.mode == 'by_hand' else 'not evaluated'}: "
                                       f"{node.reason_zh} / {node.reason_en}")
        return
    if not kids and isinstance(node, All | Any_ | AtLeast):
        # Every child is manual: nothing for the engine to decide here.
        ctx.result[node.id] = pl.lit(True)
        ctx.expected[node.id] = pl.lit("人工核查 / checked by hand")
        ctx.actual[node.id] = pl.lit("null")
        return
    if isinstance(node, Leaf):
        _compile_leaf(ctx, node)
    elif isinstance(node, Exclusion):
        ref = exclusion_ref(node)
        v = pl.col(ref.key())
        if node.events is not None:
            ctx.result[node.id] = v == 0
            window = f"近{_num(node.within_years)}年" if node.within_years else "任何时候"
            ctx.expected[node.id] = pl.lit(f"0 ({window}无 {', '.join(node.events)})")
        elif node.boards is not None:
            ctx.result[node.id] = pl.when(v.is_null()).then(True).otherwise(v.is_in(node.boards).not_())
            ctx.expected[node.id] = pl.lit(f"∉ {{{', '.join(node.boards)}}}")
        else:
            ctx.result[node.id] = v.not_()
            granted = (f" ({'/'.join(map(str, node.recognized_in_years))}年认定 / granted then)"
                       if node.recognized_in_years else "")
            ctx.expected[node.id] = pl.lit(f"不持有 / not holding {', '.join(node.tiers or [])}{granted}")
        ctx.actual[node.id] = _json(v, ctx.schema.get(ref.key()))
    elif isinstance(node, Prerequisite):
        ref = prerequisite_ref(node)
        ctx.result[node.id] = pl.col(ref.key())
        ctx.actual[node.id] = _json(pl.col(ref.key()), pl.Boolean)
        where = f" ({', '.join(node.jurisdictions)})" if node.jurisdictions else ""
        ctx.expected[node.id] = pl.lit(f"持有 / holds {', '.join(node.tiers)}{where}")
    elif isinstance(node, All):
        ctx.result[node.id] = pl.all_horizontal(kids)
        ctx.expected[node.id] = pl.lit("全部满足 / all")
        ctx.actual[node.id] = _counts_struct(kids)
    elif isinstance(node, Any_):
        ctx.result[node.id] = pl.any_horizontal(kids)
        ctx.expected[node.id] = pl.lit("任一满足 / any")
        ctx.actual[node.id] = _counts_struct(kids)
    elif isinstance(node, AtLeast):
        passes, unknown = _counts(kids)
        ctx.result[node.id] = (pl.when(passes >= node.n).then(True)
                               .when(passes + unknown < node.n).then(False)
                               .otherwise(None))
        ctx.expected[node.id] = pl.lit(f"≥ {node.n} / {len(kids)}")
        ctx.actual[node.id] = _counts_struct(kids)
    elif isinstance(node, ExactlyOne):
        passes, unknown = _counts(kids)
        ok = (passes == 1) & (unknown == 0)
        ctx.result[node.id] = (pl.when(ok).then(True)
                               .when((passes >= 2) | ((passes == 0) & (unknown == 0))).then(False)
                               .otherwise(None))
        cls: pl.Expr = pl.lit(None, pl.String)
        for opt in reversed(node.classes):
            cls = pl.when(_r(opt.criteria.id)).then(pl.lit(opt.name)).otherwise(cls)
        ctx.class_cols[node.id] = pl.when(ok).then(cls)
        names = "/".join(o.name for o in node.classes)
        ctx.expected[node.id] = pl.lit(f"恰好一类 / exactly one of {names}")
        ctx.actual[node.id] = _json(pl.when(ok).then(cls), pl.String)
    elif isinstance(node, ScoreItem):
        _compile_score_item(ctx, node)
    elif isinstance(node, Score):
        _compile_score(ctx, node)
    else:  # pragma: no cover - the schema admits no other node
        raise TypeError(type(node))


def _counts(kids: list[pl.Expr]) -> tuple[pl.Expr, pl.Expr]:
    passes = pl.sum_horizontal([k.fill_null(False).cast(pl.Int32) for k in kids])
    unknown = pl.sum_horizontal([k.is_null().cast(pl.Int32) for k in kids])
    return passes, unknown


def _counts_struct(kids: list[pl.Expr]) -> pl.Expr:
    passes, unknown = _counts(kids)
    return (pl.lit('{"pass":') + passes.cast(pl.String) + pl.lit(',"missing":') + unknown.cast(pl.String)
            + pl.lit(f',"of":{len(kids)}}}'))


def _points_json(lo: pl.Expr, hi: pl.Expr) -> pl.Expr:
    """The points as JSON text: a number when known, else {"min": known points, "max": most possible}."""
    hi_txt = pl.when(hi.is_infinite()).then(pl.lit("null")).otherwise(hi.round(6).cast(pl.String))
    return (pl.when(lo == hi).then(lo.round(6).cast(pl.String))
            .otherwise(pl.lit('{"min":') + lo.round(6).cast(pl.String) + pl.lit(',"max":') + hi_txt + pl.lit("}")))


def _cat(text: str) -> pl.Expr:
    """A constant text as a categorical: a million firms' per-item texts stay codes, not strings (the detail list
    stores `expected` as Categorical anyway)."""
    return pl.lit(text, pl.Categorical)


def _band_condition(v: pl.Expr, band: PointBand | Band) -> pl.Expr:
    """lower ≤ v < upper with the band's inclusiveness: a points band and a threshold band (warnings) read alike."""
    c = pl.lit(True)
    if band.lower is not None:
        c = c & ((v >= band.lower) if band.lower_inclusive else (v > band.lower))
    if band.upper is not None:
        c = c & ((v <= band.upper) if band.upper_inclusive else (v < band.upper))
    return c


def _compile_score_item(ctx: _Ctx, item: ScoreItem) -> None:
    """The item's points (lowest, highest possible), its result (pass: points > 0, fail: 0, missing: unknown),
    the value it read and the band / category / rule that gave the points."""
    pts_txt = "分 / points"
    if item.criteria is not None:
        assert item.points is not None  # ScoreItem._one_rule: criteria come with points
        r = _r(item.criteria.id)
        lo = pl.when(r).then(pl.lit(item.points)).otherwise(0.0)
        hi = pl.when(r.not_()).then(0.0).otherwise(pl.lit(item.points))
        ctx.actual[item.id] = _points_json(lo, hi)
        ctx.expected[item.id] = pl.lit(f"满足 / met → {_num(item.points)} {pts_txt}")
    else:
        assert item.indicator is not None  # ScoreItem._one_rule: without criteria, an indicator
        key = item.indicator.key()
        dtype = ctx.schema.get(key)
        raw = pl.col(key)
        ctx.actual[item.id] = _json(raw, dtype)
        top = item.max_points()
        if item.categories:
            v = raw.cast(pl.String).str.strip_chars().str.to_lowercase()
            pts: pl.Expr = pl.lit(item.default_points)
            txt: pl.Expr = _cat(f"其他 / other → {_num(item.default_points)} {pts_txt}")
            for name, p in reversed(list(item.categories.items())):
                pts = pl.when(v == name.lower()).then(pl.lit(p)).otherwise(pts)
                txt = pl.when(v == name.lower()).then(_cat(f"{name} → {_num(p)} {pts_txt}")).otherwise(txt)
            known = v.is_not_null()
        else:
            v = raw.cast(pl.Float64)
            if item.bands:
                pts = pl.lit(0.0)
                txt = _cat(f"无适用档 / no band → 0 {pts_txt}")
                for band in reversed(item.bands):
                    cond = _band_condition(v, band)
                    pts = pl.when(cond).then(pl.lit(band.points)).otherwise(pts)
                    txt = pl.when(cond).then(_cat(f"{band.text()} → {_num(band.points)} {pts_txt}")).otherwise(txt)
            else:
                assert item.per_unit is not None  # ScoreItem._one_rule: no categories, no bands: per_unit
                units = (v / item.step).floor() if item.step else v
                pts = (item.base + item.per_unit * units).clip(lower_bound=0.0)
                if item.cap is not None:
                    pts = pts.clip(upper_bound=item.cap)
                rule = (f"每满 {_num(item.step)} 得 {_num(item.per_unit)} / {_num(item.per_unit)} per full {_num(item.step)}"
                        if item.step else f"{_num(item.base)} + {_num(item.per_unit)} × x")
                cap = f", 最高 / max {_num(item.cap)}" if item.cap is not None else ""
                txt = (pl.lit(f"{rule}{cap} → ") + pts.round(6).cast(pl.String) + pl.lit(f" {pts_txt}")).cast(pl.Categorical)
            # Known but not computable (NaN: a ratio over zero, growth from a non-positive base) scores nothing.
            pts = pl.when(v.is_nan()).then(0.0).otherwise(pts)
            txt = pl.when(v.is_nan()).then(_cat(f"不可计算 / not computable → 0 {pts_txt}")).otherwise(txt)
            known = v.is_not_null()
        # Unknown: the fewest points the rule can give (every category scores something: 5 for 其他) to the most.
        least = min([*item.categories.values(), item.default_points]) if item.categories else 0.0
        lo = pl.when(known).then(pts).otherwise(least)
        hi = pl.when(known).then(pts).otherwise(top if top is not None else float("inf"))
        ctx.expected[item.id] = pl.when(known).then(txt).otherwise(
            _cat(f"未知 / unknown → {_num(least)}–{_num(top) if top is not None else '∞'} {pts_txt}"))
    lo = ctx.materialise(item.id, "lo", lo.cast(pl.Float64))
    hi = ctx.materialise(item.id, "hi", hi.cast(pl.Float64))
    ctx.points[item.id] = (lo, hi)
    ctx.result[item.id] = pl.when(lo != hi).then(None).otherwise(lo > 0)


def _compile_score(ctx: _Ctx, node: Score) -> None:
    """Total points, lowest and highest possible: groups combine their items (sum or best, capped), the total
    adds groups and ungrouped items (capped at max_points) and bonus items (capped at bonus_cap). Passes when the
    lowest total reaches the pass mark and every group's lowest reaches its minimum; fails when the highest total
    cannot reach the mark or a group's highest cannot reach its minimum; else missing (CONTRACT §3b)."""
    groups = {g.id: g for g in node.groups}

    def group_total(gid: str, side: int) -> pl.Expr | None:
        """A group's points: its items and child groups, summed or the best one, capped (None: nothing in it)."""
        g = groups[gid]
        parts = [ctx.points[i.id][side] for i in node.items if i.group == gid]
        parts += [t for c in node.groups if c.parent == gid if (t := group_total(c.id, side)) is not None]
        if not parts:
            return None
        t = pl.max_horizontal(parts) if g.combine == "max" else pl.sum_horizontal(parts)
        return t.clip(upper_bound=g.max_points) if g.max_points is not None else t

    def total(side: int) -> pl.Expr:
        main = [ctx.points[i.id][side] for i in node.items if i.group is None and not i.bonus]
        bonus = [ctx.points[i.id][side] for i in node.items if i.group is None and i.bonus]
        main += [t for g in node.groups if g.parent is None if (t := group_total(g.id, side)) is not None]
        t = pl.sum_horizontal(main) if main else pl.lit(0.0)
        if node.max_points is not None:
            t = t.clip(upper_bound=node.max_points)
        if bonus:
            b = pl.sum_horizontal(bonus)
            if node.bonus_cap is not None:
                b = b.clip(upper_bound=node.bonus_cap)
            t = t + b
        return t

    low = ctx.materialise(node.id, "lo", total(0))
    high = ctx.materialise(node.id, "hi", total(1))
    minima = []
    for g in node.groups:
        # Both sides are None together: a group with nothing in it.
        if (g.min_points is not None and (lo := group_total(g.id, 0)) is not None
                and (hi := group_total(g.id, 1)) is not None):
            minima.append((ctx.materialise(node.id, f"lo[{g.id}]", lo),
                           ctx.materialise(node.id, f"hi[{g.id}]", hi), g.min_points))
    ctx.score_cols[node.id] = pl.when(low == high).then(low)
    marks = []
    if node.pass_mark is not None:
        marks.append(f"≥ {_num(node.pass_mark)}")
    marks += [f"{g.label_zh} ≥ {_num(g.min_points)}" for g in node.groups if g.min_points is not None]
    if not marks:
        ctx.result[node.id] = pl.lit(True)
        ctx.expected[node.id] = pl.lit("计分，无合格线 / scored, no pass mark")
    else:
        sure = [low >= node.pass_mark] if node.pass_mark is not None else []
        cannot = [high < node.pass_mark] if node.pass_mark is not None else []
        sure += [lo >= m for lo, _, m in minima]
        cannot += [hi < m for _, hi, m in minima]
        ctx.result[node.id] = (pl.when(pl.any_horizontal(cannot)).then(False)
                               .when(pl.all_horizontal(sure)).then(True).otherwise(None))
        ctx.expected[node.id] = pl.lit(f"{'，'.join(marks)} 分 / points")
    ctx.points[node.id] = (low, high)
    ctx.actual[node.id] = _points_json(low, high)


def _heights(node: Any, out: dict[str, int]) -> int:
    h = 1 + max((_heights(c, out) for c in children_of(node)), default=-1)
    out[node.id] = h
    return h


# ---------------------------------------------------------------------------------------------------------
# Evaluation.
# ---------------------------------------------------------------------------------------------------------


def check_as_of(policy: Policy, as_of: date) -> None:
    if not policy.in_force(as_of):
        until = policy.effective_to.isoformat() if policy.effective_to else "—"
        raise UserError(
            f"评估日期 {as_of} 不在政策 {policy.id} 的有效期 {policy.effective_from}–{until} 内 / "
            f"as-of date {as_of} is outside the effective range of {policy.id}")


def evaluate_indicators(policy: Policy, indicators: pl.DataFrame, as_of: date, *, batch: str | None = None,
                        lang: str = "zh", detail: bool = True) -> pl.DataFrame:
    """Evaluate from a frame of derived indicators (uscc + one column per required key).

    Returns uscc, policy, as_of, verdict, class, score and (with detail) `criteria`: a list of structs
    {id, label, result, actual (JSON text), expected, source}, one per node except the root.
    """
    ctx = _Ctx(policy=policy, as_of=as_of, batch=batch or policy.batch_of(as_of), lang=lang,
               schema=dict(indicators.schema))
    _compile(ctx, policy.criteria)
    heights: dict[str, int] = {}
    _heights(policy.criteria, heights)
    lf = indicators.lazy()
    for level in range(max(heights.values()) + 1):
        ids = [i for i, h in heights.items() if h == level]
        pre = {name: expr for i in ids for name, expr in ctx.columns.get(i, {}).items()}
        if pre:
            lf = lf.with_columns(expr.alias(name) for name, expr in pre.items())
        lf = lf.with_columns(ctx.result[i].alias(f"r:{i}") for i in ids)

    root = _r(policy.criteria.id)
    verdict = (pl.when(root).then(pl.lit("eligible"))
               .when(root.not_()).then(pl.lit("ineligible"))
               .otherwise(pl.lit("insufficient_data")))
    if policy.class_indicator:
        cls = pl.col(IndicatorRef(indicator=policy.class_indicator).key()).cast(pl.String)
    elif ctx.class_cols:
        cls = next(iter(ctx.class_cols.values()))
    else:
        cls = pl.lit(None, pl.String)
    score = next(iter(ctx.score_cols.values())) if ctx.score_cols else pl.lit(None, pl.Float64)
    out = [pl.col("uscc"), pl.lit(policy.id).alias("policy"), pl.lit(as_of).alias("as_of"),
           verdict.alias("verdict"), cls.cast(pl.String).alias("class"), score.cast(pl.Float64).alias("score")]
    if detail:
        out.append(_criteria_list(ctx, policy))
    return lf.select(out).collect()


def _criteria_list(ctx: _Ctx, policy: Policy) -> pl.Expr:
    """A list of {id, label, result, actual (JSON text), expected, source}, one per node in tree order.

    The constant texts (id, label, source, result) are an Enum and `expected` a Categorical: repeated for a
    million firms as plain strings they would take gigabytes. The list is built as a fixed-size array first:
    concat_list of structs is an order of magnitude slower.
    """
    nodes = [n for n in iter_nodes(policy.criteria) if n is not policy.criteria]
    if not nodes:
        return pl.lit([], pl.List(pl.Null)).alias("criteria")
    confidence = policy.criterion_confidence()
    words = {*RESULTS} | {n.id for n in nodes} | {ctx.label(n) for n in nodes}
    words |= {n.source.cite() for n in nodes if n.source}
    words |= {"A", "B", "C", "U"}
    text = pl.Enum(sorted(words))
    structs = []
    for node in nodes:
        r = _r(node.id)
        if node.id in ctx.manual:
            result = pl.lit(node.mode)
        elif node.id in ctx.waived:
            result = pl.lit("waived")
        else:
            result = pl.when(r).then(pl.lit("pass")).when(r.not_()).then(pl.lit("fail")).otherwise(pl.lit("missing"))
        lo_hi = ctx.points.get(node.id)
        points = pl.when(lo_hi[0] == lo_hi[1]).then(lo_hi[0]) if lo_hi else pl.lit(None, pl.Float64)
        structs.append(pl.struct(
            pl.lit(node.id, text).alias("id"), pl.lit(ctx.label(node), text).alias("label"),
            result.cast(text).alias("result"), ctx.actual[node.id].cast(pl.String).alias("actual"),
            ctx.expected[node.id].cast(pl.Categorical).alias("expected"),
            pl.lit(node.source.cite() if node.source else None, text).alias("source"),
            points.cast(pl.Float64).alias("points"),
            pl.lit(confidence.get(node.id), text).alias("confidence"),
        ))
    return pl.concat_arr(structs).arr.to_list().alias("criteria")


def evaluate(policy: Policy, bundle: Bundle, as_of: date, *, batch: str | None = None, lang: str = "zh",
             detail: bool = True) -> pl.DataFrame:
    """One row per firm of the bundle: uscc, verdict, class, score, criteria (interfaces C)."""
    check_as_of(policy, as_of)
    indicators = derive_indicators(bundle, required_refs(policy), as_of)
    return evaluate_indicators(policy, indicators, as_of, batch=batch, lang=lang, detail=detail)


def criteria_list(value: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The `criteria` cell of one row as the contract's list, `actual` decoded from its JSON text.

    Beyond the contract's keys: `points` (score items and scores: the points, null when not known or not scored)
    and `confidence` (A/B/C/U of the rule's wording, when the policy states it) with a `note` for codes other
    than A."""
    out = []
    for c in value or []:
        row = {"id": c["id"], "label": c["label"], "result": c["result"],
               "actual": json.loads(c["actual"]) if c["actual"] is not None else None,
               "expected": c["expected"], "source": c["source"]}
        if c.get("points") is not None:
            row["points"] = c["points"]
        code = c.get("confidence")
        if code:
            row["confidence"] = code
        if code and code != "A":
            zh, en = CONFIDENCE_NOTES[code]
            row["note"] = f"{zh} / {en}"
        out.append(row)
    return out


def _member(expr: pl.Expr, name: str) -> pl.Expr:
    """`"name":<value as JSON>` (polars' JSON writer escapes text and writes numbers as Python's json does)."""
    return pl.struct(expr.alias(name)).struct.json_encode().str.strip_prefix("{").str.strip_suffix("}")


def evaluation_json_lines(df: pl.DataFrame) -> pl.Series:
    """The CONTRACT §4 JSON object of each firm as text, in the frame's order — built in polars, not per criterion
    in Python: at 200,000 firms × 50 criteria that loop was most of `zjtx evaluate --format json`.

    Each criterion: id, label, result, actual (its JSON text as the engine wrote it), expected, source; then `points`
    when known, `confidence` when the policy states it, and a `note` for codes other than A (as criteria_list)."""
    notes = {code: f"{zh} / {en}" for code, (zh, en) in CONFIDENCE_NOTES.items()}
    rows = df.with_row_index("_row")
    text = pl.String
    if "criteria" in df.columns:
        crit = (rows.select("_row", "criteria").explode("criteria").unnest("criteria")
                .filter(pl.col("id").is_not_null()))
        confidence = pl.col("confidence").cast(text) if "confidence" in crit.columns else pl.lit(None, text)
        points = pl.col("points") if "points" in crit.columns else pl.lit(None, pl.Float64)
        known_code = confidence.is_not_null() & (confidence != "")
        optional = (
            pl.when(points.is_not_null()).then(pl.lit(",") + _member(points, "points")).otherwise(pl.lit(""))
            + pl.when(known_code).then(pl.lit(",") + _member(confidence, "confidence")).otherwise(pl.lit(""))
            + pl.when(known_code & (confidence != "A"))
            .then(pl.lit(",") + _member(confidence.replace_strict(notes, default=None, return_dtype=text), "note"))
            .otherwise(pl.lit(""))
        )
        crit = crit.select("_row", (
            pl.struct(pl.col("id").cast(text), pl.col("label").cast(text), pl.col("result").cast(text))
            .struct.json_encode().str.strip_suffix("}")
            + pl.lit(',"actual":') + pl.col("actual").cast(text).fill_null("null") + pl.lit(",")
            + pl.struct(pl.col("expected").cast(text), pl.col("source").cast(text))
            .struct.json_encode().str.strip_prefix("{").str.strip_suffix("}")
            + optional + pl.lit("}")).alias("criterion"))
        joined = crit.group_by("_row", maintain_order=True).agg(pl.col("criterion").str.join(","))
        rows = rows.join(joined, on="_row", how="left", maintain_order="left")
    else:
        rows = rows.with_columns(pl.lit(None, text).alias("criterion"))
    as_of = pl.col("as_of").cast(text) if "as_of" in df.columns else pl.lit(None, text)
    head = pl.struct(pl.col("uscc"), pl.col("policy"), as_of.alias("as_of"), pl.col("verdict"),
                     pl.col("class").cast(text), pl.col("score").cast(pl.Float64)).struct.json_encode()
    return rows.select(
        head.str.strip_suffix("}") + pl.lit(',"criteria":[') + pl.col("criterion").fill_null("") + pl.lit("]}")
    ).to_series().alias("json")


def evaluation_records(df: pl.DataFrame) -> list[dict[str, Any]]:
    """The CONTRACT §4 JSON objects, one per firm, in the frame's order (evaluation_json_lines, parsed)."""
    return [json.loads(line) for line in evaluation_json_lines(df)]


def write_evaluation_json(df: pl.DataFrame, out: IO[str], *, indent: bool = False, chunk: int = 20_000) -> None:
    """The JSON array of evaluation_json_lines written in chunks, so a whole registry's result never has to be one
    string in memory. `indent` (a person reading in a terminal) re-parses each object to lay it out."""
    out.write("[")
    first = True
    for start in range(0, len(df), chunk):
        for line in evaluation_json_lines(df.slice(start, chunk)):
            if indent:
                line = "\n".join("  " + part for part in json.dumps(json.loads(line), ensure_ascii=False,
                                                                     indent=2).splitlines())
            out.write(("\n" if first else ",\n") + line)
            first = False
    out.write("\n]\n" if not first else "]\n")
