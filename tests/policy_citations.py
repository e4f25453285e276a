"""The citation check the policy tests share: `zjtx policies check` (registry/policy/check.py) run on one policy,
its failures as readable lines. The compilation is the repository's (data/sources/, the config default);
ZJTX_POLICY_COMPILATION overrides."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from registry.policy.check import FAIL, check_policy
from registry.policy.schema import Policy
from registry.settings import PROJECT_ROOT, load_settings

COMPILATION = Path(os.environ.get("ZJTX_POLICY_COMPILATION")
                   or load_settings(PROJECT_ROOT / "config.toml").path("policy_compilation"))


@cache
def compilation_lines() -> tuple[str, ...]:
    return tuple(COMPILATION.read_text(encoding="utf-8").splitlines())


def citation_problems(policy: Policy) -> list[str]:
    """Every failed check of the policy (quote, number and unit, direction, window, any/all), empty when it holds."""
    return [f"{policy.id} {f.criterion} [{f.check}]: {f.reason}"
            for f in check_policy(policy, lines=compilation_lines()) if f.outcome == FAIL]
