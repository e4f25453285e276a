"""Reads and validates data/policies/**/*.yaml; picks the policy or lifecycle in force for a tier and date."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from registry.errors import UserError
from registry.policy.schema import Lifecycle, Policy

POLICY_DIR = Path(__file__).resolve().parent.parent.parent / "data" / "policies"


class PolicyFileError(UserError):
    """A policy file that cannot be read or does not validate."""


def policy_path(policy_id: str, root: Path = POLICY_DIR) -> Path:
    """The file of a policy: the path mirrors the id (cn/little-giant/2021 → cn/little-giant/2021.yaml)."""
    return root / f"{policy_id}.yaml"


def read_policy_file(path: Path, root: Path = POLICY_DIR) -> Policy:
    try:
        # libyaml's safe loader when PyYAML has it (7x faster on the 65 policy files; same documents).
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PolicyFileError(f"{path}: 无法读取政策文件 / cannot read policy file: {exc}") from exc
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PolicyFileError(f"{path}: 政策文件无效 / invalid policy file at {where}: {first['msg']}") from exc
    expected = path.resolve().relative_to(root.resolve()).with_suffix("").as_posix()
    if policy.id != expected:
        raise PolicyFileError(f"{path}: 政策编号 {policy.id} 与文件路径不符 / id does not match path {expected}")
    return policy


@cache
def _load(root: Path) -> dict[str, Policy]:
    policies = {}
    for path in sorted(root.rglob("*.yaml")):
        policy = read_policy_file(path, root)
        policies[policy.id] = policy
    return policies


def load_policies(root: Path = POLICY_DIR) -> dict[str, Policy]:
    """Every policy file, validated, by id (cached: policy files change with releases, not at run time)."""
    return dict(_load(root.resolve()))


def get_policy(policy_id: str, root: Path = POLICY_DIR) -> Policy:
    policies = load_policies(root)
    try:
        return policies[policy_id]
    except KeyError:
        known = ", ".join(sorted(policies))
        raise UserError(f"未知的政策编号 / unknown policy id: {policy_id} (known: {known})") from None


def declared_tiers(root: Path = POLICY_DIR) -> dict[str, str]:
    """Regional tier codes the policy files declare (CONTRACT §3), with their Chinese names: code → name_zh.

    Data files may name these tiers by code or by Chinese name, like the national ones."""
    tiers: dict[str, str] = {}
    for policy in load_policies(root).values():
        if policy.declares_tier is not None:
            tiers[policy.declares_tier.code] = policy.declares_tier.name_zh
        if policy.tier and policy.tier not in tiers:
            tiers[policy.tier] = policy.tier
    return tiers


DEFAULT_LIFECYCLE = Lifecycle()
