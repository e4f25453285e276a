"""The dashboard's caches, both keyed by the data version app.py asks for once per page run.

- `cached(registry_function, *args, **kwargs)`: a registry read. The function is a scoped read model,
  `fn(principal, ..., *, engine=None)`: the helper supplies the signed-in principal and the engine, and keeps the
  answer until the data changes.
- `cached_view(builder, *args, **kwargs)`: what a page *shows* — finished plotly figures, labelled tables, counts —
  built by a module-level function (dashboard/sections.py) that reads through `cached()`. A warm page run then only
  looks the finished pieces up instead of building charts and labelling frames again (issue 13: a warm run's CPU
  was mostly that).
- `cached_with_job_runs(registry_function, ...)`: like `cached()`, and also new when a scheduled job records a run
  (the sidebar's freshness note). Job runs are not in the data version: the inbox job records one every 5 minutes.

The key is the function's dotted name, the data version of this page run, the database URL, the principal and the
arguments — so new data, another database or another user is a new entry, and mypy checks each call's arguments
against the function's own signature.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import streamlit as st

from dashboard.components import current_principal, settings
from dashboard.database import engine
from registry import queries
from registry.access import Principal
from registry.db import get_engine

P = ParamSpec("P")
R = TypeVar("R")

VERSION_KEY = "data_version"
JOB_RUN_VERSION_KEY = "job_run_version"


def note_data_version() -> None:
    """Ask the database for its data version, once per page run (app.py, before any page code)."""
    # One question per run instead of one per cached call (a page makes up to a dozen): every read of the run
    # sees the same data version, and the next run (any click) asks again, so new data shows on the next run.
    # Job runs have their own key: the inbox job records one every 5 minutes, and only the sidebar shows them.
    st.session_state[VERSION_KEY], st.session_state[JOB_RUN_VERSION_KEY] = queries.dashboard_versions(engine())


def data_version() -> str:
    """The data version app.py noted at the start of this page run."""
    version = st.session_state.get(VERSION_KEY)
    if not isinstance(version, str):
        raise RuntimeError("no data version for this run: pages run through dashboard/app.py")
    return version


def cached(fn: Callable[Concatenate[Principal, P], R], *args: P.args, **kwargs: P.kwargs) -> R:
    """fn(current principal, *args, engine=<the dashboard's engine>, **kwargs), cached until the data changes."""
    return _cached_read(fn, data_version(), args, kwargs)


def cached_with_job_runs(fn: Callable[Concatenate[Principal, P], R], *args: P.args, **kwargs: P.kwargs) -> R:
    """cached(), also until a scheduled job records a run: for what shows job runs (the sidebar's freshness)."""
    job_runs = st.session_state.get(JOB_RUN_VERSION_KEY)
    return _cached_read(fn, f"{data_version()}/{job_runs}", args, kwargs)


def _cached_read(fn: Callable[..., R], version: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> R:
    if "engine" in kwargs:
        raise TypeError("cached() supplies the engine itself")
    module, name = fn.__module__, fn.__qualname__
    if "<" in name:  # a lambda or a nested function cannot be found again by its name
        raise TypeError(f"cached() needs a module-level function, not {module}.{name}")
    principal = current_principal()
    return cast(R, _cached_call(module, name, version, settings().database_url,
                                (principal.username, principal.role, principal.jurisdiction), args,
                                tuple(sorted(kwargs.items()))))


def cached_view(build: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """build(*args, **kwargs), kept until the data changes and shared as it is (not copied): never mutate it.

    The builder's answer depends on the data, the signed-in user's scope (its reads go through `cached()`) and its
    arguments — the language is one of them."""
    module, name = build.__module__, build.__qualname__
    if "<" in name:
        raise TypeError(f"cached_view() needs a module-level function, not {module}.{name}")
    principal = current_principal()
    return cast(R, _cached_view(module, name, data_version(), settings().database_url,
                                (principal.username, principal.role, principal.jurisdiction), args,
                                tuple(sorted(kwargs.items()))))


# One cache for every page (the three it replaces held 512 + 256 + 64 entries); an entry of old data is dropped
# after an hour at most.
@st.cache_data(show_spinner=False, max_entries=1024, ttl=3600)
def _cached_call(module: str, name: str, version: str, database_url: str, principal: tuple[str, str, str],
                 args: tuple[Any, ...], kwargs: tuple[tuple[str, Any], ...]) -> Any:
    # The function travels by its dotted name: Streamlit hashes plain strings, not function objects. `version` is
    # only a cache key: new data is a new entry.
    del version
    function = getattr(importlib.import_module(module), name)
    return function(Principal(*principal), *args, engine=get_engine(database_url), **dict(kwargs))


# Finished views are kept as objects (st.cache_resource), not pickled copies (st.cache_data): unpickling a plotly
# figure validates every property again — as slow as building it — and a copy of a large frame costs its size.
@st.cache_resource(show_spinner=False, max_entries=1024, ttl=3600)
def _cached_view(module: str, name: str, version: str, database_url: str, principal: tuple[str, str, str],
                 args: tuple[Any, ...], kwargs: tuple[tuple[str, Any], ...]) -> Any:
    # Only keys: the builder reads through cached(), which takes the version, database and principal of the run.
    del version, database_url, principal
    return getattr(importlib.import_module(module), name)(*args, **dict(kwargs))
