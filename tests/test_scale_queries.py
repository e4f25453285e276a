"""Dashboard queries kept cheap at national scale, with the behaviour users rely on unchanged."""

from __future__ import annotations

import random
import time

import sqlalchemy as sa
from builders import enterprise_row
from sqlmodel import Session

from registry import queries
from registry.identity import make_uscc
from registry.models import Enterprise

E = Enterprise.__table__


def _firms(engine, n: int, seed: int = 3) -> list[int]:
    rng = random.Random(seed)
    with Session(engine) as s:
        firms = [Enterprise(**enterprise_row(make_uscc(rng, "330200"), f"企业{seed}-{i}", "330200")) for i in range(n)]
        s.add_all(firms)
        s.commit()
        return [f.id for f in firms]


def test_data_version_changes_when_a_firm_is_deleted_even_if_not_the_newest(engine):
    """The key no longer counts every firm on PostgreSQL; deleting an older firm must still change it."""
    ids = _firms(engine, 3)
    before = queries.data_version(engine)
    with engine.begin() as conn:
        conn.execute(sa.delete(E).where(E.c.id == ids[0]))
    engine.dispose()  # a closed session hands its statistics to PostgreSQL at once
    deadline = time.monotonic() + 15
    while queries.data_version(engine) == before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert queries.data_version(engine) != before


def test_data_version_changes_when_a_firm_is_added(engine):
    _firms(engine, 1, seed=1)
    before = queries.data_version(engine)
    assert queries.data_version(engine) == before
    _firms(engine, 1, seed=2)
    assert queries.data_version(engine) != before
