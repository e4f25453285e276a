"""Screening from files: a Bundle read straight from data files through the ingestion reader, nothing stored
(`zjtx screen`, `zjtx evaluate --file`, the policy tools page).

Its own module because it joins two domain packages: registry.ingest (reading and validating files) and
registry.policy (the Bundle the evaluation takes). Neither of them imports the other's reading side.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from registry.ingest.read import ParsedFile, read_data_file
from registry.policy.bundle import SCHEMAS, Bundle, conform, period_columns


def bundle_from_files(paths: Sequence[Path]) -> Bundle:
    """A bundle from data files via the ingestion reader (interfaces A); nothing is stored."""
    return read_files(paths)[0]


def read_files(paths: Sequence[Path]) -> tuple[Bundle, list[ParsedFile]]:
    """A bundle from data files (enterprises + reports + attributes + events + recognitions), via the
    ingestion reader (interfaces A). Returns the bundle and the ParsedFile of each file, so the caller can
    report rejected rows. Files of the same kind are stacked; nothing is stored."""
    parsed = [read_data_file(Path(p)) for p in paths]
    frames: dict[str, list[pl.DataFrame]] = {}
    for pf in parsed:
        if pf.kind in SCHEMAS:
            frames.setdefault(pf.kind, []).append(conform(pf.frame, SCHEMAS[pf.kind]))
    stacked = {k: pl.concat(v, how="vertical") for k, v in frames.items()}
    if "reports" in stacked:
        stacked["reports"] = stacked["reports"].with_columns(
            pl.col("basis").fill_null("period"),
            *period_columns(pl.col("period")),
        )
    return Bundle.of(**stacked), parsed
