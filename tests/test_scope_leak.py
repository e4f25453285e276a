"""No query returns anything from outside the asking principal's jurisdiction — proven for EVERY query function.

The query functions are found by introspection: every public function of every registry module whose first
parameter is `principal` and which reads the database (has an `engine` parameter), except the mutations marked
with @registry.access.mutation. A function added tomorrow is covered without touching this file; if it takes a
parameter this file has no values for, the test fails and says so.

Each function is called by scoped principals (a province, a city, a county code) on two databases built from the
same seed (tests/scope_seed.py): the whole mixed registry, and only what that jurisdiction may see (same ids).
The answers must be identical: any difference is data from outside the scope. So that this can fail, each
function must also answer differently for a national principal on the two databases (the seed exercises it).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from conftest import create_pg_database, drop_pg_database
from scope_seed import AS_OF, FIRMS, seed_scope_registry

import registry
from registry.access import SYSTEM, PermissionDenied, Principal, is_mutation
from registry.db import make_engine, upgrade
from registry.errors import UserError

# Scoped principals: a province, a city (jurisdiction id) and a county (GB/T 2260 code); each role once.
SCOPED = [
    Principal("gd_official", "official", "cn-gd"),
    Principal("sz_analyst", "analyst", "cn-gd-shenzhen"),
    Principal("gz_tianhe_manager", "manager", "440106"),
]

UNKNOWN_USCC = "91440300000000000X"


def _values() -> dict[str, list[Any]]:
    """Values to try per parameter name; the first is the base, the others are tried one at a time."""
    from scope_seed import _rows

    from registry.policy import get_policy

    usccs, _ = _rows()
    return {
        "policy": [get_policy("cn/sme-size/2011")],
        "as_of": [AS_OF],
        "uscc": [usccs["sz_sensor"], usccs["gz_parts"], usccs["nb_hydraulic"], usccs["hz_chip"],
                 usccs["bj_materials"], UNKNOWN_USCC],
        "tier": [None, "little_giant", "zjtx_sme", "innovative_sme", "zj_hidden_champion", "single_champion"],
        "region": [None, "44", "4403", "440106", "33", "3302", "11"],
        "industry": [None, "C", "C34"],
        "city": ["4403", "4401", "3302", "3301"],
        "province": [None, "44", "33", "11"],
        "jurisdiction": [None, "cn-gd", "cn", "cn-gd-shenzhen", "cn-zj", "cn-bj", "cn-sh"],
        "recognition_id": [1, 4, 13, 16, 17, 999],  # Shenzhen, Ningbo, Shenzhen, Guangzhou, Hangzhou, none
        "review_due_days": [180],
        "expiring_days": [90],
        "text": [None, "精密", "芯片"],
        "status": [None, "active", "revoked", "superseded"],
    }


def query_functions() -> list[tuple[str, Callable]]:
    found: dict[str, Callable] = {}
    for info in pkgutil.walk_packages(registry.__path__, "registry."):
        if ".migrations" in info.name:
            continue
        module = importlib.import_module(info.name)
        for name, function in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(function) or function.__module__ != module.__name__:
                continue
            params = list(inspect.signature(function).parameters)
            if params and params[0] == "principal" and "engine" in params and not is_mutation(function):
                found[f"{module.__name__}.{name}"] = function
    return sorted(found.items())


QUERIES = query_functions()


def test_the_known_queries_are_discovered():
    names = {name for name, _ in QUERIES}
    assert {"registry.queries.search_firms", "registry.queries.firm_profile", "registry.queries.counts_by_tier",
            "registry.audit.audit_entries"} <= names
    assert "registry.auth.create_user" not in names  # a mutation, covered by the role tests


def argument_sets(function: Callable) -> Iterator[dict[str, Any]]:
    """The base arguments, then each catalogued parameter varied one at a time."""
    values = _values()
    signature = inspect.signature(function)
    base: dict[str, Any] = {}
    varied: list[str] = []
    for name, param in list(signature.parameters.items())[1:]:
        if name == "engine" or param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
            continue
        if name in values:
            # A required parameter starts from its first real value, an optional one from the first (often None).
            required = param.default is inspect.Parameter.empty
            base[name] = next(v for v in values[name] if v is not None) if required else values[name][0]
            varied.append(name)
        elif param.default is inspect.Parameter.empty:
            pytest.fail(f"{function.__module__}.{function.__name__}: no test values for required parameter "
                        f"{name!r}; add them to _values() in {__file__}")
        # Other optional parameters (paging, audit filters, injected helpers) keep their defaults.
    yield base
    for name in varied:
        for value in values[name]:
            if value != base[name] and (value is not None or signature.parameters[name].default is None):
                yield {**base, name: value}


def call(function: Callable, principal: Principal, engine: sa.Engine, arguments: dict[str, Any]) -> Any:
    try:
        return function(principal, engine=engine, **arguments)
    except PermissionDenied:
        return PermissionDenied  # nothing comes back
    except UserError as exc:
        # e.g. "not found, or outside your jurisdiction": must read the same whether the firm exists elsewhere or not
        return ("UserError", str(exc))


def same(a: Any, b: Any) -> bool:
    if isinstance(a, pl.DataFrame) and isinstance(b, pl.DataFrame):
        return a.schema == b.schema and a.equals(b)
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def databases(backend: str, jurisdiction: str) -> Iterator[tuple[sa.Engine, sa.Engine]]:
    urls = []
    for _ in range(2):
        if backend == "sqlite":
            import tempfile

            folder = tempfile.mkdtemp(prefix="zjtx-scope-")
            urls.append(f"sqlite:///{folder}/zjtx.db")
        else:
            urls.append(create_pg_database())
    engines = [make_engine(u) for u in urls]
    for eng in engines:
        upgrade(eng)
    seed_scope_registry(engines[0])
    seed_scope_registry(engines[1], keep=jurisdiction)
    try:
        yield engines[0], engines[1]
    finally:
        for eng in engines:
            eng.dispose()
        if backend == "postgresql":
            for u in urls:
                drop_pg_database(u)


@pytest.fixture(scope="module", params=[
    ("sqlite", SCOPED[0]), ("sqlite", SCOPED[1]), ("sqlite", SCOPED[2]),
    pytest.param(("postgresql", SCOPED[0]), marks=pytest.mark.postgres),
], ids=lambda p: f"{p[0]}-{p[1].jurisdiction}")
def mixed_and_scoped(request):
    backend, principal = request.param
    for pair in databases(backend, principal.jurisdiction):
        yield principal, *pair


@pytest.mark.parametrize("name,function", QUERIES, ids=[name.removeprefix("registry.") for name, _ in QUERIES])
def test_no_row_outside_the_scope(mixed_and_scoped, name, function):
    principal, mixed, scoped = mixed_and_scoped
    for arguments in argument_sets(function):
        on_mixed = call(function, principal, mixed, arguments)
        on_scoped = call(function, principal, scoped, arguments)
        assert same(on_mixed, on_scoped), (
            f"{name}({principal.jurisdiction}, {arguments}) returns data from outside the scope:\n"
            f"mixed registry:  {on_mixed}\nscoped registry: {on_scoped}")


@pytest.mark.parametrize("name,function", QUERIES, ids=[name.removeprefix("registry.") for name, _ in QUERIES])
def test_the_seed_exercises_every_query(mixed_and_scoped, name, function):
    """Without out-of-scope data that the function would show a national user, the comparison proves nothing."""
    principal, mixed, scoped = mixed_and_scoped
    if all(call(function, principal, mixed, a) is PermissionDenied for a in argument_sets(function)):
        return  # the scoped principal gets nothing at all (e.g. the audit trail): nothing to compare
    differs = any(not same(call(function, SYSTEM, mixed, a), call(function, SYSTEM, scoped, a))
                  for a in argument_sets(function))
    assert differs, (f"{name}: a national user sees the same on the whole and on the {principal.jurisdiction} "
                     f"registry; extend tests/scope_seed.py so that this function has out-of-scope data to leak")


def test_seed_spans_several_jurisdictions():
    regions = {region[:2] for _, region, _ in FIRMS.values()}
    assert {"44", "33", "11", "65"} <= regions
