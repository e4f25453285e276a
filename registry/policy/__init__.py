"""Policies as data (data/policies/*.yaml) and their vectorised evaluation.

Public API (interfaces C): load_policies, get_policy, lifecycle_for, evaluate, evaluation_records,
Policy, Lifecycle, ExitRule, ReportingObligation, Source.
"""

from registry.policy.loader import get_policy, lifecycle_for, load_policies
from registry.policy.schema import ExitRule, Lifecycle, Policy, ReportingObligation, Source

__all__ = [
    "ExitRule", "Lifecycle", "Policy", "ReportingObligation", "Source",
    "get_policy", "lifecycle_for", "load_policies",
]
