"""Policies as data (data/policies/**/*.yaml) and their vectorised evaluation.

Public API (interfaces B and C): load_policies, get_policy, lifecycle_for, evaluate, evaluation_records,
Bundle, load_bundle, and the models Policy, Lifecycle, ExitRule, ReportingObligation, Source (a Bundle read
from data files: registry.screening). The schema is documented in docs/policies.md.

The names are loaded on first use (PEP 562), so a module that needs only the policy files — ingestion
validation reads tiers through registry.policy.loader and lifecycles through registry.policy.resolve — does not load the evaluation engine
and the database reader with them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from registry.policy.bundle import Bundle, load_bundle
    from registry.policy.engine import evaluate, evaluate_indicators, evaluation_records, required_refs
    from registry.policy.loader import get_policy, load_policies
    from registry.policy.resolve import lifecycle_for
    from registry.policy.schema import ExitRule, Lifecycle, Policy, ReportingObligation, Source

# public name → the submodule defining it
_HOME = {
    "Bundle": "bundle", "load_bundle": "bundle",
    "evaluate": "engine", "evaluate_indicators": "engine", "evaluation_records": "engine", "required_refs": "engine",
    "get_policy": "loader", "lifecycle_for": "resolve", "load_policies": "loader",
    "ExitRule": "schema", "Lifecycle": "schema", "Policy": "schema", "ReportingObligation": "schema", "Source": "schema",
}

__all__ = [
    "Bundle", "ExitRule", "Lifecycle", "Policy", "ReportingObligation", "Source",
    "evaluate", "evaluate_indicators", "evaluation_records", "get_policy",
    "lifecycle_for", "load_bundle", "load_policies", "required_refs",
]


def __getattr__(name: str) -> object:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    globals()[name] = value  # later lookups skip this function
    return value
