"""`zjtx users add|list|disable|enable|unlock|passwd|role` as an administrator runs them, and the first admin of
`zjtx up` (asked on a terminal, explained otherwise — never a default password).

The commands run in-process through the console script's own entry point (cli.main.main: same parsing,
same one-line errors and exit codes) — a subprocess per command would take seconds each; one test runs the
installed `zjtx` as a subprocess. Engine-specific behaviour of accounts is in test_auth.py (both engines).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
from rich.console import Console
from zjtx_command import ZJTX

from cli import users as users_cli
from cli.main import main
from registry import auth

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def zjtx(config_env, capsys, monkeypatch):
    """Run `zjtx users ...` in-process: (exit code, stdout, stderr)."""
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.setenv("ZJTX_ACTOR", "cli:test-admin")

    def run(*args: str, password: str | None = None) -> subprocess.CompletedProcess:
        monkeypatch.setattr(sys, "argv", ["zjtx", "users", *args])
        monkeypatch.setattr(sys, "stdin", io.StringIO("" if password is None else password + "\n"))
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out.out, out.err)

    return run


def listed(zjtx, name: str) -> dict:
    done = zjtx("list", "--format", "json")
    assert done.returncode == 0, done.stderr
    return next(u for u in json.loads(done.stdout) if u["username"] == name)


@SQLITE_ONLY
def test_the_installed_command_adds_and_lists(engine, config_env):
    env = {**os.environ, "COLUMNS": "300", "ZJTX_ACTOR": "cli:test-admin"}
    added = subprocess.run([*ZJTX, "users", "add", "chief", "--role", "admin", "--jurisdiction", "cn",
                            "--password-stdin"], input="Harbour-Lamp-2024\n", capture_output=True, text=True, env=env,
                           timeout=120)
    assert added.returncode == 0, added.stderr
    listing = subprocess.run([*ZJTX, "users", "list", "--format", "json"], capture_output=True, text=True, env=env,
                             timeout=120)
    assert [u["username"] for u in json.loads(listing.stdout)] == ["chief"]


@SQLITE_ONLY
def test_the_whole_account_lifecycle(engine, zjtx):
    assert zjtx("add", "Chief", "--role", "admin", "--jurisdiction", "cn", "--password-stdin",
                password="Harbour-Lamp-2024").returncode == 0
    done = zjtx("add", "gd_official", "--role", "official", "--jurisdiction", "cn-gd", "--display-name", "张三",
                "--password-stdin", password="Copper-Kettle-1")
    assert done.returncode == 0, done.stderr
    assert "gd_official · official · cn-gd" in done.stdout
    user = listed(zjtx, "gd_official")
    assert (user["role"], user["jurisdiction"], user["active"], user["display_name"]) == (
        "official", "cn-gd", True, "张三")
    assert "password_hash" not in user
    assert auth.authenticate(engine, "gd_official", "Copper-Kettle-1").role == "official"

    assert zjtx("role", "gd_official", "manager", "--jurisdiction", "cn-gd-shenzhen").returncode == 0
    assert (listed(zjtx, "gd_official")["role"], listed(zjtx, "gd_official")["jurisdiction"]) == ("manager", "cn-gd-shenzhen")
    assert zjtx("passwd", "gd_official", "--password-stdin", password="Newer-Pass-22").returncode == 0
    assert auth.authenticate(engine, "gd_official", "Newer-Pass-22").jurisdiction == "cn-gd-shenzhen"

    assert zjtx("disable", "gd_official", "--reason", "调离").returncode == 0
    assert listed(zjtx, "gd_official")["active"] is False
    with pytest.raises(auth.LoginFailed):
        auth.authenticate(engine, "gd_official", "Newer-Pass-22")
    assert zjtx("enable", "gd_official").returncode == 0
    assert zjtx("unlock", "gd_official").returncode == 0
    assert auth.authenticate(engine, "gd_official", "Newer-Pass-22")

    table = zjtx("list")
    assert table.returncode == 0 and "gd_official" in table.stdout and "chief" in table.stdout


@SQLITE_ONLY
@pytest.mark.parametrize("args,password,message", [
    (("add", "x1", "--role", "boss", "--jurisdiction", "cn", "--password-stdin"), "Some-Pass-123",
     "未知角色 / unknown role 'boss'"),
    (("add", "x1", "--role", "official", "--jurisdiction", "cn-xx", "--password-stdin"), "Some-Pass-123", "未知辖区"),
    (("add", "x1", "--role", "official", "--jurisdiction", "cn-gd", "--password-stdin"), "short", "密码太短"),
    (("add", "x1", "--role", "official", "--jurisdiction", "cn-gd"), None, "--password-stdin"),  # no terminal
    # Issue 16: easy-to-guess passwords, with the rule they break.
    (("add", "x1", "--role", "official", "--jurisdiction", "cn-gd", "--password-stdin"), "1234567890",
     "纯数字的密码至少要 16 位 / a password of digits only needs at least 16 digits"),
    (("add", "x1", "--role", "official", "--jurisdiction", "cn-gd", "--password-stdin"), "password12",
     "常见密码"),
    (("passwd", "nobody", "--password-stdin"), "Some-Pass-123", "没有该用户 / no such user: 'nobody'"),
    (("disable", "nobody"), None, "没有该用户"),
    (("role", "nobody", "analyst"), None, "没有该用户"),
])
def test_mistakes_are_one_line_errors(engine, zjtx, args, password, message):
    done = zjtx(*args, password=password)
    assert done.returncode == 1
    assert done.stderr.startswith("zjtx: error: ") and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_up_explains_how_to_create_the_first_admin_when_not_on_a_terminal(sqlite_engine, monkeypatch):
    engine = sqlite_engine
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    out = io.StringIO()
    users_cli.ensure_first_admin(engine, Console(file=out, width=200))
    assert "zjtx users add <name> --role admin --jurisdiction cn" in out.getvalue()
    assert not auth.has_active_admin(engine)  # nothing created, no default password


def test_up_asks_for_the_first_admin_on_a_terminal(sqlite_engine, monkeypatch):
    engine = sqlite_engine
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal())
    # username (default admin), password twice: a too-short try, one that contains the username, then a good one
    answers = iter(["", "Short", "Short", "", "Admin-Keeper-9", "Admin-Keeper-9", "", "First-Keeper-9",
                    "First-Keeper-9"])
    monkeypatch.setattr("builtins.input", lambda _prompt: next(answers))
    monkeypatch.setattr(users_cli, "getpass", lambda _prompt: next(answers))
    out = io.StringIO()
    users_cli.ensure_first_admin(engine, Console(file=out, width=200))
    assert "密码太短" in out.getvalue() and "admin created: admin" in out.getvalue()
    assert "it contains the username" in out.getvalue()
    assert auth.authenticate(engine, "admin", "First-Keeper-9").role == "admin"
    users_cli.ensure_first_admin(engine, Console(file=out, width=200))  # an admin exists: nothing asked


@SQLITE_ONLY
def test_passwd_refuses_an_easy_password_and_keeps_the_old_one(engine, zjtx):
    assert zjtx("add", "gd_official", "--role", "official", "--jurisdiction", "cn-gd", "--password-stdin",
                password="Copper-Kettle-1").returncode == 0
    for weak, rule in [("qwertyuiop", "常见密码"), ("abcdefghijk", "连续字符"), ("Guangzhou2024", "年份")]:
        done = zjtx("passwd", "gd_official", "--password-stdin", password=weak)
        assert done.returncode == 1 and rule in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert auth.authenticate(engine, "gd_official", "Copper-Kettle-1").role == "official"
