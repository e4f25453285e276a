"""Policy files picked up: each added, changed or removed data/policies/**/*.yaml becomes an audit row.

The trail itself is the memory: the last `policy_file` row per file holds the sha256 the system last saw, so a
change between two scheduler runs (a new release, an edited file) is recorded once, by the run that first sees it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from registry.audit import ACTOR_SCHEDULER, AUDIT, record
from registry.policy.loader import POLICY_DIR

ENTITY = "policy_file"


def policy_file_hashes(root: Path = POLICY_DIR) -> dict[str, str]:
    """Relative path (posix) → sha256 of every policy file."""
    return {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*.yaml"))}


def record_policy_changes(engine: Engine, actor: str = ACTOR_SCHEDULER, root: Path = POLICY_DIR) -> list[dict[str, Any]]:
    """Write one audit row per policy file added, changed or removed since the trail last saw it; returns them
    as {file, action, before, after}. The first run on a new database records every file as added (the baseline)."""
    current = policy_file_hashes(root)
    changes: list[dict[str, Any]] = []
    with engine.begin() as conn:
        seen: dict[str, str | None] = {}
        for file, after in conn.execute(
            sa.select(AUDIT.c.entity_id, AUDIT.c.after).where(AUDIT.c.entity == ENTITY).order_by(AUDIT.c.id)
        ):
            seen[file] = (after or {}).get("sha256")
        for file in sorted(set(current) | set(seen)):
            old, new = seen.get(file), current.get(file)
            if old == new:
                continue
            action = ("policy.file_added" if old is None else
                      "policy.file_removed" if new is None else "policy.file_changed")
            before = None if old is None else {"sha256": old}
            after = {"sha256": new, "policy_id": file.removesuffix(".yaml")}
            record(conn, actor, action, ENTITY, file, before, after, "policy file picked up")
            changes.append({"file": file, "action": action, "before": before, "after": after})
    return changes
