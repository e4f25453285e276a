"""Finished results per data version: heavy figures the flags job computes for the whole registry, read back by
the functions that compute them (issue 13 item 3).

复核 risk and rule impact evaluate tens of thousands of firms (20–70 s at 200,000 firms on SQLite); the pages,
the CLI and the briefing call `review_risk` / `rule_impact` as before, and those first look here. A stored result
serves a call only when

- its kind and parameters are the call's (as_of, months / the policy pair, the as-of date);
- its data version is the registry's now (`registry.queries.evaluated_data_version`, read by the job *before* computing:
  data that changed meanwhile makes the stored version older than the data, never a result passed off as newer);
- its policy fingerprint is today's (the policy files' bytes and the result format: an edited file or a release
  that changes what the result holds invalidates it).

Otherwise the function computes live, as it always did. One row per kind: storing replaces the one before.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Engine

from registry.models import FinishedResult, table_of
from registry.policy.loader import POLICY_DIR
from registry.policy_changes import policy_file_hashes

RESULTS = table_of(FinishedResult)

# Bumped when what a stored result holds changes (columns, meaning): results of an older release are not read.
RESULT_FORMAT = 1

_HEADER = struct.Struct(">I")


@dataclass(frozen=True)
class Stored:
    frames: dict[str, pl.DataFrame]
    meta: dict[str, Any]


def policy_fingerprint(root: Path = POLICY_DIR) -> str:
    """sha256 over every policy file's path and sha256 and the result format."""
    digest = hashlib.sha256(f"format {RESULT_FORMAT}\n".encode())
    for path, sha in sorted(policy_file_hashes(root).items()):
        digest.update(f"{path} {sha}\n".encode())
    return digest.hexdigest()


def params_key(params: dict[str, Any]) -> str:
    """Canonical JSON of the parameters (dates as ISO text): equal parameters, equal key."""
    return json.dumps(params, sort_keys=True, default=str, ensure_ascii=False, separators=(",", ":"))


def pack(frames: dict[str, pl.DataFrame], meta: dict[str, Any]) -> bytes:
    """A JSON header (meta, frame names and sizes) then each frame as Parquet."""
    parts = []
    for frame in frames.values():
        buffer = io.BytesIO()
        frame.write_parquet(buffer, compression="zstd")
        parts.append(buffer.getvalue())
    header = json.dumps({"meta": meta, "frames": [[name, len(p)] for name, p in zip(frames, parts, strict=True)]},
                        ensure_ascii=False).encode()
    return _HEADER.pack(len(header)) + header + b"".join(parts)


def unpack(payload: bytes) -> Stored:
    (size,) = _HEADER.unpack_from(payload)
    header = json.loads(payload[_HEADER.size:_HEADER.size + size])
    frames, offset = {}, _HEADER.size + size
    for name, length in header["frames"]:
        frames[name] = pl.read_parquet(io.BytesIO(payload[offset:offset + length]))
        offset += length
    return Stored(frames, header["meta"])


def put(engine: Engine, kind: str, params: dict[str, Any], data_version: str, fingerprint: str,
        frames: dict[str, pl.DataFrame], meta: dict[str, Any], seconds: float = 0.0) -> None:
    """Store a result, replacing every one before of the same kind (one transaction): the job stores one per kind
    and run, and results for an earlier day would only pile up (a few MB each at 200,000 firms) — pages ask
    for today's."""
    key = params_key(params)
    payload = pack(frames, meta)
    with engine.begin() as conn:
        conn.execute(sa.delete(RESULTS).where(RESULTS.c.kind == kind))
        conn.execute(sa.insert(RESULTS).values(kind=kind, params=key, data_version=data_version,
                                               policy_fingerprint=fingerprint, seconds=round(seconds, 3),
                                               payload=payload))


def get(engine: Engine, kind: str, params: dict[str, Any], data_version: str) -> Stored | None:
    """The stored result for kind + parameters if it was computed from this data version and today's policy
    files; else None (the caller computes live)."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(RESULTS.c.policy_fingerprint, RESULTS.c.payload)
                           .where(RESULTS.c.kind == kind, RESULTS.c.params == params_key(params),
                                  RESULTS.c.data_version == data_version)).first()
    if row is None or row.policy_fingerprint != policy_fingerprint():
        return None
    return unpack(bytes(row.payload))
