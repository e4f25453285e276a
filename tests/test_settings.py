"""Settings as data: every setting is in config.toml with a comment and in docs/configuration.md."""

from __future__ import annotations

import re
import tomllib

import pytest

from registry.settings import PROJECT_ROOT, ConfigError, Settings, load_settings


def _leaf_settings() -> list[tuple[str, str]]:
    out = []
    for section, field in Settings.model_fields.items():
        if field.exclude:
            continue
        for name in field.annotation.model_fields:
            out.append((section, name))
    return out


def test_every_setting_is_in_config_toml_with_a_comment():
    text = (PROJECT_ROOT / "config.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    lines = text.splitlines()
    for section, name in _leaf_settings():
        assert name in data.get(section, {}), f"{section}.{name} missing from config.toml"
        # `name = ...` in its section, or a sub-table `[section.name]` (a setting that is a table, e.g. ingest.bounds)
        idx = next(i for i, line in enumerate(lines) if (re.match(rf"\s*{name}\s*=", line)
                   and _section_of(lines, i) == section) or line.strip() == f"[{section}.{name}]")
        # a comment directly above the setting, or above the group of settings it belongs to
        j = idx - 1
        while j >= 0 and re.match(r"\s*\w+\s*=", lines[j]):
            j -= 1
        assert lines[j].lstrip().startswith("#"), f"{section}.{name} has no comment in config.toml"


def _section_of(lines: list[str], idx: int) -> str:
    for line in reversed(lines[:idx]):
        m = re.match(r"\[(\w+)\]", line.strip())
        if m:
            return m.group(1)
    return ""


def test_every_setting_is_documented():
    doc = (PROJECT_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    for section, name in _leaf_settings():
        assert f"`{section}.{name}`" in doc, f"{section}.{name} not documented in docs/configuration.md"


def test_config_toml_values_are_the_model_defaults():
    """The shipped file states the defaults; a drift between code and file would mislead readers."""
    shipped = load_settings(PROJECT_ROOT / "config.toml").model_dump(exclude={"base_dir"}, mode="json")
    defaults = Settings().model_dump(exclude={"base_dir"}, mode="json")
    assert shipped == defaults


def test_environment_overrides_database_url(monkeypatch, tmp_path):
    monkeypatch.setenv("ZJTX_DATABASE_URL", "postgresql+psycopg://u@h:5432/x")
    assert load_settings(PROJECT_ROOT / "config.toml").database_url == "postgresql+psycopg://u@h:5432/x"


def test_relative_sqlite_path_resolves_against_the_config_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("ZJTX_DATABASE_URL", raising=False)
    cfg = tmp_path / "c.toml"
    cfg.write_text('[database]\nurl = "sqlite:///db/z.db"\n', encoding="utf-8")
    assert load_settings(cfg).database_url == f"sqlite:///{tmp_path / 'db' / 'z.db'}"


def test_invalid_config_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("ZJTX_DATABASE_URL", raising=False)
    cfg = tmp_path / "c.toml"
    cfg.write_text("[dashboard]\nport = 99999999\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="port"):
        load_settings(cfg)
    cfg.write_text("[dashboard\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(cfg)
