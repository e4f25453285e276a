"""No query returns anything from outside the asking principal's jurisdiction — proven for EVERY query function,
and for what the dashboard shows and lets a user download.

The query functions are found by introspection: every public function of every registry module whose first
parameter is `principal` and which reads the database (has an `engine` parameter), except the mutations marked
with @registry.access.mutation. A function added tomorrow is covered without touching this file; if it takes a
parameter this file has no values for, the test fails and says so.

Each function is called by scoped principals (Guangdong, Zhejiang, a city, a county code) on two databases built
from the same seed (tests/scope_seed.py): the whole mixed registry, and only what that jurisdiction may see (same
ids). The answers must be identical: any difference is data from outside the scope. So that this can fail, each
function must also answer differently for a national principal on the two databases (the seed exercises it).

The dashboard's code is read too: every registry function a page calls that reads the database must be one of
those query functions (principal first) — a page that calls an unscoped read fails here, whatever its name — and
no page draws a download button around dashboard/exports.py. Finally a Zhejiang official opens every page of the
dashboard on the mixed registry, presses every download button, and meets no Guangdong firm, run, rejected row,
sidebar line or server path.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
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
    Principal("zj_viewer", "official", "cn-zj"),
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
        "within": ["44", "4403", "4401", "33", "3302", "11"],
        "jurisdiction": [None, "cn-gd", "cn", "cn-gd-shenzhen", "cn-zj", "cn-bj", "cn-sh"],
        "recognition_id": [1, 4, 13, 16, 17, 999],  # Shenzhen, Ningbo, Shenzhen, Guangzhou, Hangzhou, none
        "review_due_days": [180],
        "expiring_days": [90],
        "text": [None, "精密", "芯片"],
        "status": [None, "active", "revoked", "superseded"],
        "run_ids": [[1, 2, 3, 4], [2], [3], [4], [1]],
        "flag_ids": [list(range(1, 500)), [1], [2]],  # every flag of the seed, then one at a time
        "month": [date(2025, 6, 1), date(2024, 12, 1)],
        "months": [12, 36],
        # registry.monitoring: cohorts of national and regional tiers, reporting years, breakdown cells.
        "tiers": [("innovative_sme", "zjtx_sme", "little_giant", "single_champion"), ("zj_hidden_champion",),
                  ("gd_gazelle",)],
        "period": ["2024", "2023"],
        "group": ["44", "4403", "33", "C"],
        "by": ["area", "industry"],
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
    assert {"registry.intake.recent_runs", "registry.intake.rejected_rows", "registry.queries.data_freshness",
            "registry.briefing.briefing_for"} <= names
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
    if dataclasses.is_dataclass(a) and dataclasses.is_dataclass(b) and type(a) is type(b):
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a) if f.compare)
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
    ("sqlite", SCOPED[0]), ("sqlite", SCOPED[1]), ("sqlite", SCOPED[2]), ("sqlite", SCOPED[3]),
    pytest.param(("postgresql", SCOPED[0]), marks=pytest.mark.postgres),
    pytest.param(("postgresql", SCOPED[3]), marks=pytest.mark.postgres),
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


# ---------------------------------------------------------------- what the dashboard calls

DASHBOARD = Path(__file__).resolve().parents[1] / "dashboard"
# Registry functions the pages call that read the database without a principal, and why that is right. Anything
# else that takes an `engine` must be a scoped query (above) or a @mutation.
UNSCOPED_BY_DESIGN = {
    "registry.auth.authenticate": "signing in: who is asking is what it finds out",
    "registry.auth.current_principal": "reads the signed-in account itself (disabled, role changed)",
    "registry.auth.sso_principal": "signing in through SSO",
    "registry.auth.has_active_admin": "first start: whether any admin exists (yes or no)",
    "registry.auth.record_logout": "writes the sign-out audit row",
    "registry.sessions.open_session": "starts the signed-in user's own session (a token, no registry data)",
    "registry.sessions.resume": "finds the browser's own session by its token: who is asking is what it finds out",
    "registry.sessions.revoke": "ends the browser's own session (sign-out)",
    "registry.queries.dashboard_versions": "cache keys (the highest ids), never shown",
    "registry.intake.jobs_overview": "the scheduler's jobs belong to no region",
    "registry.pipeline.last_flags_run": "when the flags job last finished (a time, no data)",
    "registry.intake.ingest_uploads": "the upload itself, for roles with data.ingest (admins, national)",
    "registry.audit.record_export": "writes the audit row of a download",
    # Takes the principal second (after the engine) and filters by it: tests/test_impact.py checks the scope.
    "registry.impact.rule_impact": "scoped by its second argument, the principal (tests/test_impact.py)",
}


def dashboard_sources() -> list[Path]:
    return sorted(p for p in DASHBOARD.rglob("*.py") if "__pycache__" not in p.parts)


def registry_calls(path: Path) -> set[str]:
    """Dotted names of the registry functions a dashboard file refers to: imported by name or reached through an
    imported registry module (a function handed to dashboard.cache.cached is one of these)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: dict[str, str] = {}  # local name → registry.module[.function]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "registry":
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("registry."):
                    names[alias.asname or alias.name] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in names:
            found.add(names[node.id])
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in names:
            found.add(f"{names[node.value.id]}.{node.attr}")
    return found


def resolve(dotted: str) -> Any:
    module_name, _, attribute = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError):
        try:
            return importlib.import_module(dotted)
        except ImportError:
            return None


def test_every_read_the_dashboard_makes_takes_the_principal():
    scoped = {name for name, _ in QUERIES}
    unscoped = []
    seen = set()
    for path in dashboard_sources():
        for dotted in registry_calls(path):
            function = resolve(dotted)
            if not inspect.isfunction(function):
                continue  # a module, a class, a constant
            name = f"{function.__module__}.{function.__name__}"
            seen.add(name)
            reads = "engine" in inspect.signature(function).parameters
            if reads and name not in scoped and not is_mutation(function) and name not in UNSCOPED_BY_DESIGN:
                unscoped.append(f"{path.relative_to(DASHBOARD.parent)}: {name}")
    assert not unscoped, ("pages call registry reads that take no principal (add `principal` first and filter "
                          "with scope_clause / scope_expr):\n" + "\n".join(sorted(unscoped)))
    # The scan sees the calls that matter (so that it can fail): the intake page's and the sidebar's reads.
    assert {"registry.intake.recent_runs", "registry.intake.rejected_rows", "registry.queries.data_freshness",
            "registry.briefing.briefing_for", "registry.queries.search_firms"} <= seen
    assert set(UNSCOPED_BY_DESIGN) <= seen | {"registry.auth.record_logout"}, "stale exemptions"


def test_no_page_draws_a_download_button_around_the_export_check():
    offenders = []
    for path in dashboard_sources():
        if path.name == "exports.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "download_button":
                offenders.append(f"{path.relative_to(DASHBOARD.parent)}:{node.lineno}")
    assert not offenders, f"use dashboard.exports.export_button (role check + audit row): {offenders}"


# ---------------------------------------------------------------- the dashboard, as a Zhejiang official

APP = DASHBOARD / "app.py"


@pytest.fixture(scope="module")
def zhejiang_dashboard(tmp_path_factory):
    """The whole mixed registry on SQLite, a Zhejiang official's account, and the dashboard's config."""
    from dashboard_login import seed_user

    folder = tmp_path_factory.mktemp("scope-dashboard")
    url = f"sqlite:///{folder / 'zjtx.db'}"
    engine = make_engine(url)
    upgrade(engine)
    seed = seed_scope_registry(engine)
    seed_user(engine, "zj_viewer", "official", "cn-zj")
    config = folder / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[demo]\nfirms = 0\n', encoding="utf-8")
    yield engine, seed, config
    engine.dispose()


def outside_zhejiang(seed) -> list[str]:
    """What a Zhejiang official must never meet: the codes and names of every firm outside Zhejiang, the
    Guangdong firm only a rejected row names, the Guangdong upload's file name, and server folders."""
    from scope_seed import SERVER_PATHS

    firms = [key for key, (_, region, _) in FIRMS.items() if not region.startswith("33")]
    return ([seed.usccs[k] for k in firms] + [FIRMS[k][0] for k in firms]
            + ["广州未登记有限公司", "广东坏文件", "无代码公司", *SERVER_PATHS, "/srv/", "/tmp/"])


def rendered_text(at) -> str:
    """Everything the page drew, as text: every element's message (labels, options, Markdown, captions,
    metrics; the sidebar too) and every table's cells."""
    from google.protobuf import text_format

    parts = [frame.value.to_csv() for frame in at.dataframe]

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(text_format.MessageToString(proto, as_utf8=True))
        for child in (getattr(node, "children", None) or {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)


def test_a_zhejiang_official_meets_nothing_of_guangdong_on_the_dashboard(zhejiang_dashboard, monkeypatch):
    from dashboard_downloads import keep_media, press, text_of
    from dashboard_login import log_in
    from streamlit.testing.v1 import AppTest

    from dashboard.i18n import t
    from dashboard.pages import pages_for
    from registry.settings import get_settings

    engine, seed, config = zhejiang_dashboard
    monkeypatch.setenv("ZJTX_CONFIG", str(config))
    monkeypatch.delenv("ZJTX_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    media = keep_media(monkeypatch)
    forbidden = outside_zhejiang(seed)
    seen_pages, downloads, runs_listed = [], 0, set()

    def check(at, where: str, typed: str = "") -> None:
        nonlocal downloads
        assert not at.exception, [e.value for e in at.exception]
        text = rendered_text(at).replace(typed or "\0", "")  # the code the user typed is echoed back
        leaked = [f for f in forbidden if f in text]
        assert not leaked, f"{where}: a Zhejiang official sees {leaked}"
        for button in at.get("download_button"):
            data = text_of(press(media, button))
            leaked = [f for f in forbidden if f in data]
            assert not leaked, f"{where}: download {button.proto.label!r} holds {leaked}"
            downloads += 1

    try:
        at = AppTest.from_file(str(APP), default_timeout=120)
        log_in(at, engine, "zj_viewer").run()
        # The sidebar names the latest run the official may see (run 4, Zhejiang's), by its file name only.
        assert "浙江名录" in rendered_text(at)  # (Markdown-escaped: 浙江名录&#46;csv)
        for spec in pages_for("official"):
            at.switch_page(spec.script).run()
            seen_pages.append(spec.key)
            check(at, spec.key)
            if spec.key == "intake":
                for tab in ("intake.runs", "intake.completeness"):
                    at.session_state["intake_tab"] = t(tab, "zh")
                    at.run()
                    check(at, f"intake/{tab}")
                    if tab == "intake.runs":
                        runs_listed = set(at.dataframe[0].value["编号" if "编号" in at.dataframe[0].value
                                                                 else at.dataframe[0].value.columns[0]])
                        for run in at.selectbox(key="intake_run").options:
                            at.selectbox(key="intake_run").set_value(
                                int(run.split("·")[0].strip().lstrip("#"))).run()
                            check(at, f"intake/runs/{run}")
            if spec.key == "firm":
                for key in ("hz_chip", "gz_parts"):
                    at.query_params["uscc"] = seed.usccs[key]
                    at.run()
                    check(at, f"firm/{key}", typed=seed.usccs[key])
                at.query_params.clear()
    finally:
        get_settings.cache_clear()
    assert {"overview", "registry", "intake", "review", "briefing"} <= set(seen_pages)
    assert runs_listed == {4, 2}, "the Zhejiang official sees the Zhejiang upload and the mixed file, no other run"
    assert downloads >= 10, "the downloads were pressed"
