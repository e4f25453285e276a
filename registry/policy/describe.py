"""Human-readable text of a policy's criteria (for `zjtx policies show`, exports and the docs)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from registry.policy.indicators import ANNUAL
from registry.policy.schema import (
    OP_TEXT,
    All,
    Any_,
    AtLeast,
    BandTable,
    ExactlyOne,
    Exclusion,
    Leaf,
    Manual,
    Policy,
    Prerequisite,
    ReferenceLookup,
    Score,
    ScoreItem,
    children_of,
)

AGG_TEXT = {
    "last": ("上年", "last year"),
    "each": ("近{n}年每年", "each of the last {n} years"),
    "pooled": ("近{n}年合计口径", "pooled over the last {n} years"),
    "sum": ("近{n}年合计", "sum of the last {n} years"),
    "mean": ("近{n}年平均", "mean of the last {n} years"),
    "growth": ("上年增长率", "growth of last year"),
    "each_growth": ("近{n}年逐年增长率", "growth in each of the last {n} years"),
    "any": ("近{n}年中至少一年", "at least one of the last {n} years"),
    "any_growth": ("近{n}年中至少一年增长率", "growth in at least one of the last {n} years"),
    "mean_growth": ("近{n}年平均增长率", "mean yearly growth over {n} years"),
    "compound_growth": ("近{n}年复合增长率", "compound growth over {n} years"),
}


def _num(x: float) -> str:
    return f"{x:g}"


def window_text(leaf: Leaf, lang: str = "zh") -> str:
    w = leaf.window
    zh, en = AGG_TEXT[w.aggregation]
    return (en if lang == "en" else zh).format(n=w.years)


def threshold_text(leaf: Leaf, lang: str = "zh") -> str:
    """e.g. "≥ 3 %" or "≥ 2.5 / 3.5 % by revenue band"."""
    sym = OP_TEXT[leaf.op]
    unit = f" {leaf.unit}" if leaf.unit else ""
    t = leaf.threshold
    if isinstance(t, BandTable):
        parts = []
        for b in t.bands:
            lo = "" if b.lower is None else f"{_num(b.lower)}{'≤' if b.lower_inclusive else '<'}"
            hi = "" if b.upper is None else f"{'≤' if b.upper_inclusive else '<'}{_num(b.upper)}"
            val = f"{sym} {_num(b.threshold)}{unit}" if b.threshold is not None else "—"
            parts.append(f"[{lo}{t.band_by.indicator}{hi}] {val}")
        return "; ".join(parts)
    if isinstance(t, ReferenceLookup):
        what = f"{_num(t.factor)} × {t.reference}" if t.factor != 1 else t.reference
        return f"{sym} {what}"
    if isinstance(t, list):
        return f"{sym} {{{', '.join(map(str, t))}}}"
    if isinstance(t, bool):
        shown = ("true" if t else "false") if lang == "en" else ("是" if t else "否")
        return f"{sym} {shown}"
    if isinstance(t, int | float):
        return f"{sym} {_num(float(t))}{unit}"
    return f"{sym} {t}"


def node_text(node: Any, lang: str = "zh") -> str:
    """The rule of one node, without its children: what a reviewer needs to read next to the label."""
    en = lang == "en"
    if isinstance(node, Leaf):
        # Only annual figures have a window; attributes and firm facts are read as of the date.
        window = f" ({window_text(node, lang)})" if node.indicator in ANNUAL else ""
        params = f"[{', '.join(f'{k}={v}' for k, v in node.params.items())}]" if node.params else ""
        text = f"{node.indicator}{params}{window} {threshold_text(node, lang)}"
        if node.relaxation:
            text += (f"; relaxed by up to {_num(node.relaxation.max_percent)}% for {node.relaxation.group}" if en
                     else f"；{node.relaxation.group} 可放宽至多 {_num(node.relaxation.max_percent)}%")
        return text
    if isinstance(node, Exclusion):
        if node.events is not None:
            window = (f"within {_num(node.within_years)} years" if en else f"近{_num(node.within_years)}年")\
                if node.within_years else ("ever" if en else "任何时候")
            return f"{'no' if en else '无'} {', '.join(node.events)} ({window})"
        if node.boards is not None:
            return f"listing_board ∉ {{{', '.join(node.boards)}}}"
        where = f" ({', '.join(node.jurisdictions)})" if node.jurisdictions else ""
        years = "/".join(map(str, node.recognized_in_years or []))
        granted = ((f", granted in {years}" if en else f"，{years}年认定") if years else "")
        return f"{'not holding' if en else '不持有'} {', '.join(node.tiers or [])}{where}{granted}"
    if isinstance(node, Prerequisite):
        where = f" ({', '.join(node.jurisdictions)})" if node.jurisdictions else ""
        return f"{'holds' if en else '持有'} {', '.join(node.tiers)}{where}"
    if isinstance(node, All):
        return "all of" if en else "全部满足"
    if isinstance(node, Any_):
        return "any of" if en else "任一满足"
    if isinstance(node, AtLeast):
        return f"at least {node.n} of {len(node.children)}" if en else f"至少满足 {node.n} 项（共 {len(node.children)} 项）"
    if isinstance(node, ExactlyOne):
        names = "/".join(c.name for c in node.classes)
        return f"exactly one class of {names}" if en else f"恰好满足一类（{names}）"
    if isinstance(node, Score):
        mark = f", pass mark {_num(node.pass_mark)}" if node.pass_mark is not None else ", no pass mark"
        text = f"score{mark}" if en else f"计分{mark.replace(', pass mark', '，合格线').replace(', no pass mark', '，无合格线')}"
        for g in node.groups:
            label = g.label_en if en else g.label_zh
            rule = [("best item" if en else "取最高项") if g.combine == "max" else None,
                    f"{'max' if en else '最高'} {_num(g.max_points)}" if g.max_points is not None else None,
                    f"{'at least' if en else '至少'} {_num(g.min_points)}" if g.min_points is not None else None]
            text += f"; {label}: " + ", ".join(r for r in rule if r) if any(rule) else ""
        return text
    if isinstance(node, ScoreItem):
        return score_item_text(node, lang)
    if isinstance(node, Manual):
        mode = {"by_hand": ("人工核查", "checked by hand"), "not_evaluated": ("不评估", "not evaluated")}[node.mode]
        return f"{mode[1]}: {node.reason_en}" if en else f"{mode[0]}：{node.reason_zh}"
    return ""


def score_item_text(item: ScoreItem, lang: str = "zh") -> str:
    """e.g. "rd_ratio: ≥5 → 20; 3≤x<5 → 15 …" or "met → 3 points"."""
    en = lang == "en"
    pts = "points" if en else "分"
    group = f" [{item.group}]" if item.group else ""
    if item.criteria is not None:
        assert item.points is not None  # ScoreItem._one_rule: criteria come with points
        return f"{'met' if en else '满足'} → {_num(item.points)} {pts}{group}"
    ref = item.indicator
    assert ref is not None  # ScoreItem._one_rule: without criteria, an indicator
    name = ref.indicator
    if ref.params:
        name += f"[{', '.join(f'{k}={v}' for k, v in ref.params.items())}]"
    if ref.indicator in ANNUAL and (ref.window.aggregation != "last" or ref.window.years != 1):
        zh, en_text = AGG_TEXT[ref.window.aggregation]
        name += f" ({(en_text if en else zh).format(n=ref.window.years)})"
    if item.bands:
        rule = "; ".join(f"{b.text()} → {_num(b.points)}" for b in item.bands)
    elif item.categories:
        rule = "; ".join(f"{k} → {_num(v)}" for k, v in item.categories.items())
        rule += f"; {'other' if en else '其他'} → {_num(item.default_points)}"
    else:
        assert item.per_unit is not None  # ScoreItem._one_rule: no bands, no categories: per_unit
        if item.step:
            rule = (f"{_num(item.per_unit)} per full {_num(item.step)}" if en
                    else f"每满 {_num(item.step)} 得 {_num(item.per_unit)}")
        else:
            rule = f"{_num(item.base)} + {_num(item.per_unit)} × x"
    if item.cap is not None and not (item.bands or item.categories):
        rule += f", {'max' if en else '最高'} {_num(item.cap)}"
    return f"{name}: {rule} {pts}{group}"


def walk(node: Any, depth: int = 0, class_name: str | None = None) -> Iterator[tuple[int, Any, str | None]]:
    """(depth, node, class name if the node is a class option's criteria) in display order."""
    yield depth, node, class_name
    if isinstance(node, ExactlyOne):
        for opt in node.classes:
            yield from walk(opt.criteria, depth + 1, opt.name)
    else:
        for child in children_of(node):
            yield from walk(child, depth + 1)


def criteria_rows(policy: Policy, lang: str = "zh") -> list[dict[str, Any]]:
    """One row per criterion node: id, depth, label, rule, source, quote (for sheets and docs)."""
    rows = []
    confidence = policy.criterion_confidence()
    for depth, node, cls in walk(policy.criteria):
        label = node.label_en if lang == "en" else node.label_zh
        rows.append({
            "id": node.id, "depth": depth, "type": node.type, "class": cls, "confidence": confidence.get(node.id),
            "label_zh": node.label_zh, "label_en": node.label_en, "label": label,
            "rule": node_text(node, lang),
            "source": node.source.cite() if node.source else None,
            "quote": node.source.quote if node.source else None,
            "waivers": "; ".join(f"{','.join(w.batches or [])}{','.join(map(str, w.as_of_years or []))}: "
                                 f"{w.reason_en if lang == 'en' else w.reason_zh}" for w in node.waivers) or None,
        })
    return rows
