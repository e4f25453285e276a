"""The dashboard's one text catalogue, Chinese first with English alongside.

`t(key, lang)` for interface text, `code_label(kind, code, lang)` for the codes the data carries (tiers, statuses,
flags, boards ...), `column_label(name, lang)` for table headers. An unknown key is shown as the key itself, never
as an error: a missing label must not break a page.

Where the text lives:
- Interface text and table headers: dashboard/strings.toml, read once at import. A data file rather than Python
  because the people who check and extend the wording are translators and officials, not programmers: each entry
  is `key = { zh = "…", en = "…" }` under the section of its page ([ui.overview], [ui.review] …), the two languages
  side by side, with no Python syntax (tuples, commas, implicit string joins) to break; comments say what a
  section is. TOML rather than YAML: quoting is explicit (no "no" read as false, no indentation rules), and
  Python reads it with the standard library (tomllib).
- Names of codes: registry/labels.py (registry/label_codes.py), the one catalogue the CLI, the briefing and the
  reminders read as well. The dashboard defines none of its own (the peers table's metric names are the column
  headers of those metrics).
- Entries derived here from that catalogue (below), so that a state or a tier reads the same as a header or a
  metric as it does in a cell.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from registry.label_codes import FIXED, NATIONAL_TIERS
from registry.labels import catalogue as registry_catalogue
from registry.peers import PEER_METRICS

Pair = tuple[str, str]
LANGUAGES: dict[str, str] = {"zh": "中文", "en": "English"}

STRINGS = Path(__file__).with_name("strings.toml")


def _capitalised(pairs: dict[str, Pair]) -> dict[str, Pair]:
    """A code's names as a header or a title: the English name starts with a capital."""
    return {code: (zh, en[:1].upper() + en[1:]) for code, (zh, en) in pairs.items()}


def _load() -> tuple[dict[str, Pair], dict[str, Pair]]:
    """(interface text by "section.key", headers by column name) from strings.toml."""
    with STRINGS.open("rb") as file:
        doc = tomllib.load(file)
    labels = {f"{section}.{key}": (entry["zh"], entry["en"])
              for section, entries in doc["ui"].items() for key, entry in entries.items()}
    columns = {name: (entry["zh"], entry["en"]) for name, entry in doc["columns"].items()}
    return labels, columns


LABELS, COLUMNS = _load()

# Code names (registry catalogue) in the interface: the overview's due-state metrics are titled by their state.
LABELS |= {f"metric.{state}": pair for state, pair in _capitalised(FIXED["due_state"]).items()}

# Columns named after a code carry the code's name: counts per due state, per tier of the ladder, per verdict, per
# target status and per reporting status.
COLUMNS |= {
    **_capitalised(FIXED["due_state"]),
    **{tier: NATIONAL_TIERS[tier] for tier in ("innovative_sme", "zjtx_sme", "little_giant", "single_champion")},
    **_capitalised(FIXED["verdict"]),
    **_capitalised({s: FIXED["target_status"][s] for s in ("not_due", "no_data", "achieved", "on_track")}),
    **_capitalised(FIXED["report_status"]),
}

# The peers table names each metric by its column header (the same figure reads the same in every table).
CODES: dict[str, dict[str, Pair]] = {**registry_catalogue(), "peer_metric": {m: COLUMNS[m] for m in PEER_METRICS}}


def _pick(pair: Pair, lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def t(key: str, lang: str, **values: object) -> str:
    """The label for `key` in `lang`, with {placeholders} filled from `values`."""
    pair = LABELS.get(key)
    text = _pick(pair, lang) if pair else key
    return text.format(**values) if values else text


def code_label(kind: str, code: str | None, lang: str) -> str:
    """The display name of a data code (tier, status, flag ...); the code itself when it has no label."""
    if code is None:
        return ""
    pair = CODES.get(kind, {}).get(code)
    return _pick(pair, lang) if pair else code


def column_label(name: str, lang: str) -> str:
    pair = COLUMNS.get(name)
    return _pick(pair, lang) if pair else name


def column_labels(names: list[str], lang: str) -> dict[str, str]:
    return {n: column_label(n, lang) for n in names}
