"""Nothing is fetched from outside the machine at run time (an intranet server reaches no CDN): the favicon is not a
Material icon (Streamlit loads those from fonts.gstatic.com), the app names no external URL, and Streamlit sends
no usage statistics."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

from cli.system import streamlit_command

ROOT = Path(__file__).resolve().parents[1]


def _page_icon() -> str:
    tree = ast.parse((ROOT / "dashboard" / "app.py").read_text(encoding="utf-8"))
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and getattr(node.func, "attr", None) == "set_page_config"]
    assert len(calls) == 1
    icon = next(k.value for k in calls[0].keywords if k.arg == "page_icon")
    assert isinstance(icon, ast.Constant)
    return icon.value


def test_the_favicon_is_drawn_locally():
    icon = _page_icon()
    # Streamlit's front end: ":material/x:" → https://fonts.gstatic.com/…; an emoji → an inline SVG data URL.
    assert not icon.startswith(":material") and "://" not in icon
    assert not icon.isascii()  # an emoji (a local image path would be ASCII and is also served locally)


def _string_constants(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings]


def test_the_dashboard_names_no_external_url():
    found = [(path.name, text) for path in (ROOT / "dashboard").rglob("*.py") for text in _string_constants(path)
             if "http://" in text or "https://" in text or "//fonts." in text]
    assert found == []


def test_no_usage_statistics():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["browser"]["gatherUsageStats"] is False
    command = streamlit_command(8501, "127.0.0.1")
    assert command[command.index("--browser.gatherUsageStats") + 1] == "false"
    # No theme font loaded from a URL (Streamlit ships its own fonts).
    assert all("://" not in str(value) for value in config.get("theme", {}).values())
