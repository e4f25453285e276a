"""The dashboard's one cache of registry reads: `cached(registry_function, *args, **kwargs)`.

The function is a scoped read model, `fn(principal, ..., *, engine=None)`: the helper supplies the signed-in
principal and the engine, and keeps the answer until the data changes. The key is the function's dotted name, the
data version of this page run, the database URL, the principal and the arguments — so new data, another database or
another user is a new entry, and mypy checks each call's arguments against the function's own signature.
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


def note_data_version() -> None:
    """Ask the database for its data version, once per page run (app.py, before any page code)."""
    # One question per run instead of one per cached call (a page makes up to a dozen): every read of the run
    # sees the same data version, and the next run (any click) asks again, so new data shows on the next run.
    st.session_state[VERSION_KEY] = queries.data_version(engine())


def data_version() -> str:
    """The data version app.py noted at the start of this page run."""
    version = st.session_state.get(VERSION_KEY)
    if not isinstance(version, str):
        raise RuntimeError("no data version for this run: pages run through dashboard/app.py")
    return version


def cached(fn: Callable[Concatenate[Principal, P], R], *args: P.args, **kwargs: P.kwargs) -> R:
    """fn(current principal, *args, engine=<the dashboard's engine>, **kwargs), cached until the data changes."""
    if "engine" in kwargs:
        raise TypeError("cached() supplies the engine itself")
    module, name = fn.__module__, fn.__qualname__
    if "<" in name:  # a lambda or a nested function cannot be found again by its name
        raise TypeError(f"cached() needs a module-level function, not {module}.{name}")
    principal = current_principal()
    return cast(R, _cached_call(module, name, data_version(), settings().database_url,
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
