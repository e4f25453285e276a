"""The text a policy cites: lines of the policy compilation (policy-compilation-2021.txt), read from the configured
path (`paths.policy_compilation`, by default data/sources/policy-compilation-2021.txt in the repository). When a
configuration points elsewhere and the file is not there, every lookup returns None and the pages say "source text not
available"."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from registry.policy.schema import Source
from registry.settings import get_settings


def compilation_path() -> Path:
    return get_settings().path("policy_compilation")


@lru_cache(maxsize=2)
def _lines(path: str, mtime_ns: int) -> tuple[str, ...]:
    del mtime_ns  # a cache key: an updated file is read again
    return tuple(Path(path).read_text(encoding="utf-8").splitlines())


def compilation_lines(path: Path | None = None) -> tuple[str, ...] | None:
    """Every line of the compilation, or None when the file is not there."""
    path = path or compilation_path()
    try:
        return _lines(str(path), path.stat().st_mtime_ns)
    except (FileNotFoundError, NotADirectoryError, PermissionError, UnicodeDecodeError):
        return None


def cited_text(source: Source | None, path: Path | None = None) -> str | None:
    """The cited lines ("L978-982, L1001"), joined with line breaks and prefixed with their numbers; None when the
    source cites no lines, the compilation is absent, or the lines lie outside it."""
    if source is None or not source.lines:
        return None
    lines = compilation_lines(path)
    if lines is None:
        return None
    parts = []
    for first, last in source.line_range():
        if not 1 <= first <= last <= len(lines):
            return None
        parts += [f"L{n} {lines[n - 1].strip()}" for n in range(first, last + 1) if lines[n - 1].strip()]
    return "\n".join(parts)
