"""The flags job's second half: the heavy figures the pages show, computed once for the whole registry and stored
for the data version they were computed from (registry.result_store) — 复核 risk and the default rule impact.
`review_risk` and `rule_impact` read them back, narrowed to the asking principal's firms."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import Engine

from registry.impact import store_national_rule_impact
from registry.queries import evaluated_data_version
from registry.review_risk import store_national_review_risk

log = logging.getLogger("zjtx.scheduler.jobs")


def store_finished_results(engine: Engine, as_of: date, months: int) -> dict[str, Any]:
    """Compute and store both; counts per kind. The data version is read FIRST: data arriving while they are
    computed makes the stored version older than the data, so the pages compute live rather than show a result
    of the wrong data. A failure is logged and counted, never raised: the flags are stored already, and without
    a stored result the pages only compute live as before."""
    version = evaluated_data_version(engine)
    started = time.monotonic()
    counts: dict[str, Any] = {}
    stores: dict[str, Callable[[], dict[str, Any]]] = {
        "review_risk": lambda: store_national_review_risk(engine, as_of, months, version),
        "rule_impact": lambda: store_national_rule_impact(engine, as_of, version),
    }
    for kind, store in stores.items():
        try:
            counts[kind] = store()
        except Exception as exc:  # see the docstring: the job's flags must not be lost to this
            log.exception("finished results: %s not stored", kind)
            counts[kind] = {"error": f"{type(exc).__name__}: {exc}"}
    counts["seconds"] = round(time.monotonic() - started, 1)
    return counts
