"""Policies as data (data/policies/**/*.yaml) and their vectorised evaluation.

Public API (interfaces B and C): load_policies, get_policy, lifecycle_for, evaluate, evaluation_records,
Bundle, load_bundle, bundle_from_files, and the models Policy, Lifecycle, ExitRule, ReportingObligation,
Source. The schema is documented in docs/policies.md.
"""

from registry.policy.bundle import Bundle, bundle_from_files, load_bundle
from registry.policy.engine import evaluate, evaluate_indicators, evaluation_records, required_refs
from registry.policy.loader import get_policy, lifecycle_for, load_policies
from registry.policy.schema import ExitRule, Lifecycle, Policy, ReportingObligation, Source

__all__ = [
    "Bundle", "ExitRule", "Lifecycle", "Policy", "ReportingObligation", "Source",
    "bundle_from_files", "evaluate", "evaluate_indicators", "evaluation_records", "get_policy",
    "lifecycle_for", "load_bundle", "load_policies", "required_refs",
]
