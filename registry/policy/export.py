"""Evaluation results as files: a wide table (one row per firm, one column per criterion) for CSV, and an
Excel workbook whose criterion cells are coloured pass / fail / missing / waived, with a sheet of the
criteria, their rules and sources. Text from outside files is neutralised against spreadsheet formulas."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import polars as pl
import xlsxwriter

from registry.export import neutralize_frame, neutralize_text, to_csv_bytes
from registry.policy.describe import criteria_rows
from registry.policy.schema import CONFIDENCE_NOTES, CONFIDENCE_ORDER, Policy

RESULT_COLOURS = {"pass": "#C6EFCE", "fail": "#FFC7CE", "missing": "#FFEB9C", "waived": "#DDEBF7"}
VERDICT_COLOURS = {"eligible": "#C6EFCE", "ineligible": "#FFC7CE", "insufficient_data": "#FFEB9C"}


def criterion_ids(policy: Policy) -> list[str]:
    return [r["id"] for r in criteria_rows(policy)[1:]]


def confidence_note(policy: Policy) -> str | None:
    """Which criteria are not yet checked against the official text, e.g. "B: main_share, rd; C: score" — with
    what the codes mean — or None when the policy states no confidence or every criterion is A."""
    codes = policy.criterion_confidence()
    by_code: dict[str, list[str]] = {}
    for row in criteria_rows(policy)[1:]:
        code = codes.get(row["id"])
        if code and code != "A":
            by_code.setdefault(code, []).append(row["id"])
    if not by_code:
        return None
    parts = [f"{code}: {', '.join(ids)} — {CONFIDENCE_NOTES[code][0]} / {CONFIDENCE_NOTES[code][1]}"
             for code, ids in sorted(by_code.items(), key=lambda kv: CONFIDENCE_ORDER.index(kv[0]))]
    return "; ".join(parts)


def results_wide(df: pl.DataFrame, policy: Policy, names: pl.DataFrame | None = None) -> pl.DataFrame:
    """uscc, [name], policy, as_of, verdict, class, score, then one result column per criterion id; for a policy
    that states its confidence, `confidence` (the least certain code) and `confidence_note` (which criteria are
    not yet checked against the official text) before the criteria."""
    ids = criterion_ids(policy)
    base = df.select("uscc", "policy", "as_of", "verdict", "class", "score")
    lowest = policy.lowest_confidence()
    if lowest is not None:
        base = base.with_columns(pl.lit(lowest).alias("confidence"),
                                 pl.lit(confidence_note(policy), pl.String).alias("confidence_note"))
    if "criteria" in df.columns and ids:
        # The criteria list is in tree order, the same order as criterion_ids.
        crit = pl.col("criteria")
        base = base.with_columns(df.select(crit.list.get(k, null_on_oob=True).struct.field("result").alias(i)
                                           for k, i in enumerate(ids)))
    if names is not None:
        base = base.join(names.select("uscc", "name").unique("uscc"), on="uscc", how="left").select(
            "uscc", "name", *[c for c in base.columns if c != "uscc"])
    return base


def csv_bytes(df: pl.DataFrame, policy: Policy, names: pl.DataFrame | None = None) -> bytes:
    return to_csv_bytes(results_wide(df, policy, names))


def write_xlsx(df: pl.DataFrame, policy: Policy, path: Path, names: pl.DataFrame | None = None,
               lang: str = "zh") -> None:
    path.write_bytes(xlsx_bytes(df, policy, names, lang))


def xlsx_bytes(df: pl.DataFrame, policy: Policy, names: pl.DataFrame | None = None, lang: str = "zh") -> bytes:
    wide = neutralize_frame(results_wide(df, policy, names))
    rows = criteria_rows(policy, lang)
    # A criterion whose wording is not yet checked against the official text says so in its column header.
    label_of = {r["id"]: r["label"] + (f" [{r['confidence']}]" if r["confidence"] not in (None, "A") else "")
                for r in rows}
    for criterion in rows:
        code = criterion["confidence"]
        criterion["note"] = f"{CONFIDENCE_NOTES[code][0]} / {CONFIDENCE_NOTES[code][1]}" if code and code != "A" else None
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                      "strings_to_numbers": False})
    header = wb.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1, "text_wrap": True,
                            "valign": "top"})
    fills = {k: wb.add_format({"bg_color": v, "border": 1}) for k, v in {**RESULT_COLOURS, **VERDICT_COLOURS}.items()}
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})

    sheet = wb.add_worksheet("结果 results")
    for c, name in enumerate(wide.columns):
        title = f"{name}\n{label_of[name]}" if name in label_of else name
        sheet.write_string(0, c, neutralize_text(title), header)
        sheet.set_column(c, c, 14 if name in label_of else 20)
    sheet.set_row(0, 48)
    for r, firm in enumerate(wide.iter_rows(), start=1):
        for c, value in enumerate(firm):
            if value is None:
                continue
            if isinstance(value, date):
                sheet.write_datetime(r, c, value, date_fmt)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, str(value), fills.get(str(value)))
    sheet.freeze_panes(1, 2 if names is not None else 1)

    crit = wb.add_worksheet("条件 criteria")
    cols = ["id", "label_zh", "label_en", "type", "class", "rule", "source", "quote", "waivers", "confidence", "note"]
    for c, name in enumerate(cols):
        crit.write_string(0, c, name, header)
        crit.set_column(c, c, {"label_zh": 40, "label_en": 40, "rule": 40, "quote": 50, "source": 30,
                               "note": 50}.get(name, 14))
    for r, row in enumerate(rows, start=1):
        for c, name in enumerate(cols):
            value = row[name]
            if value is not None:
                text = ("  " * row["depth"] + str(value)) if name == "id" else str(value)
                crit.write_string(r, c, text)

    notes = wb.add_worksheet("说明 notes")
    notes.set_column(0, 0, 24)
    notes.set_column(1, 1, 100)
    info = [("policy", policy.id), ("title", f"{policy.title_zh} / {policy.title_en}"),
            ("document", policy.document_no), ("issuer", policy.issuer),
            ("effective", f"{policy.effective_from} – {policy.effective_to or ''}")]
    if policy.lowest_confidence():
        info.append(("confidence 可信度", f"{policy.lowest_confidence()} — {confidence_note(policy) or '全部为A / all A'}"))
        info += [(f"confidence {code}", f"{zh} / {en}") for code, (zh, en) in CONFIDENCE_NOTES.items()]
    info += [(f"interpretation {i.id}", f"{i.zh}\n{i.en}") for i in policy.interpretations]
    for r, (k, v) in enumerate(info):
        notes.write_string(r, 0, k, header)
        notes.write_string(r, 1, v)
    wb.close()
    return buffer.getvalue()
