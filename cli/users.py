"""`zjtx users add|list|disable|enable|unlock|passwd|role`: local accounts of the dashboard (docs/access.md).

Passwords are never command-line arguments (they would sit in the shell history and the process list): they are
asked twice on a terminal, or read as one line from stdin with --password-stdin (scripts, tests).
Every change is an audit row whose actor is `cli:<OS user>` (ZJTX_ACTOR overrides the name).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import StrEnum
from getpass import getpass
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from cli.database import schema_ready_engine
from registry.errors import UserError
from registry.labels import labels

if TYPE_CHECKING:  # the accounts code (registry.auth: argon2, the models) loads in each command, not for --help
    from sqlalchemy import Engine
    from sqlmodel import Session

    from registry.models import User

users_app = typer.Typer(help="用户与角色 Users and roles (admin, manager, official, analyst).", no_args_is_help=True)
console = Console()


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")


def read_password(from_stdin: bool, confirm: bool = True) -> str:
    """One line from stdin (--password-stdin), or asked twice without echo on a terminal."""
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise UserError("标准输入中没有密码 / no password on stdin (--password-stdin reads one line)")
        return password
    if not sys.stdin.isatty():
        raise UserError("需要密码：请在终端中运行，或使用 --password-stdin / a password is needed: run on a terminal "
                        "or pass it on stdin with --password-stdin")
    password = getpass("密码 Password: ")
    if confirm and getpass("再次输入 Repeat: ") != password:
        raise UserError("两次输入的密码不一致 / the two passwords differ")
    return password


# The roles with their names, from the label catalogue registry.access names them from (registry/label_codes.py).
ROLE_HELP = ", ".join(f"{r} ({zh})" for r, (zh, _en) in labels("role").items())


@users_app.command("add")
def add(
    username: str = typer.Argument(..., help="Login name (case-insensitive; with SSO: the e-mail)."),
    role: str = typer.Option(..., "--role", help=f"One of: {ROLE_HELP}."),
    jurisdiction: str = typer.Option(..., "--jurisdiction",
                                     help="cn, a jurisdiction id (cn-gd, cn-gd-shenzhen) or a prefecture/county code."),
    display_name: str = typer.Option(None, "--display-name", help="Name shown in the dashboard."),
    sso_only: bool = typer.Option(False, "--sso-only", help="No local password: signs in by single sign-on only."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
    reason: str = typer.Option(None, "--reason", help="Why (kept in the audit trail)."),
) -> None:
    """Create an account. 新建用户。"""
    from registry import auth

    engine = schema_ready_engine()
    password = None if sso_only else read_password(password_stdin)
    _change(engine, "已创建用户 user created", lambda session: auth.create_user(
        auth.cli_principal(), session, username, password, role, jurisdiction, display_name, reason), _who_where)


@users_app.command("list")
def list_(
    output: OutputFormat = typer.Option(OutputFormat.table, "--format", help="table or json."),
) -> None:
    """List accounts (never the password hashes). 用户列表。"""
    from sqlmodel import Session

    from registry import auth

    with Session(schema_ready_engine()) as session:
        users = auth.list_users(session)
    if output is OutputFormat.json:
        typer.echo(json.dumps(users.with_columns(
            *(users[c].dt.strftime("%Y-%m-%dT%H:%M:%SZ") for c in ("locked_until", "last_login_at", "created_at"))
        ).to_dicts(), ensure_ascii=False, indent=2))
        return
    table = Table(title="用户 Users")
    for header in ("用户名 username", "姓名 name", "角色 role", "辖区 jurisdiction", "状态 state", "登录方式 sign-in",
                   "最近登录 last login"):
        table.add_column(header)
    for u in users.iter_rows(named=True):
        state = "停用 disabled" if not u["active"] else ("锁定 locked" if u["locked_until"] else "正常 active")
        last = u["last_login_at"].strftime("%Y-%m-%d %H:%M UTC") if u["last_login_at"] else "-"
        table.add_row(u["username"], u["display_name"] or "", u["role"], u["jurisdiction"], state, u["sign_in"], last)
    console.print(table)


@users_app.command("disable")
def disable(
    username: str = typer.Argument(...),
    reason: str = typer.Option(None, "--reason", help="Why (kept in the audit trail)."),
) -> None:
    """Disable an account: sign-in refused, open dashboard sessions end. 停用用户。"""
    from registry import auth

    _change(schema_ready_engine(), "已停用 disabled",
            lambda session: auth.set_active(auth.cli_principal(), session, username, False, reason))


@users_app.command("enable")
def enable(
    username: str = typer.Argument(...),
    reason: str = typer.Option(None, "--reason", help="Why (kept in the audit trail)."),
) -> None:
    """Enable an account again (also clears a lock-out). 启用用户。"""
    from registry import auth

    _change(schema_ready_engine(), "已启用 enabled",
            lambda session: auth.set_active(auth.cli_principal(), session, username, True, reason))


@users_app.command("unlock")
def unlock(
    username: str = typer.Argument(...),
    reason: str = typer.Option(None, "--reason", help="Why (kept in the audit trail)."),
) -> None:
    """Clear a lock-out after too many failed logins. 解除锁定。"""
    from registry import auth

    _change(schema_ready_engine(), "已解除锁定 unlocked",
            lambda session: auth.unlock_user(auth.cli_principal(), session, username, reason))


@users_app.command("passwd")
def passwd(
    username: str = typer.Argument(...),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the new password from stdin."),
    reason: str = typer.Option(None, "--reason", help="Why (kept in the audit trail)."),
) -> None:
    """Set a new password (also clears a lock-out). 设置密码。"""
    from sqlmodel import Session

    from registry import auth
    from registry.db import session_scope

    engine = schema_ready_engine()
    with Session(engine) as session:
        auth.get_user(session, username)  # an unknown user is reported before a password is asked for
    password = read_password(password_stdin)
    with session_scope(engine) as session:
        auth.set_password(auth.cli_principal(), session, username, password, reason)
    console.print(f"密码已更新 password set: {auth.normalize_username(username)}", markup=False, highlight=False)


@users_app.command("role")
def role(
    username: str = typer.Argument(...),
    new_role: str = typer.Argument(..., metavar="ROLE", help=f"One of: {ROLE_HELP}."),
    jurisdiction: str = typer.Option(None, "--jurisdiction", help="Also move the user to this jurisdiction."),
    reason: str = typer.Option(None, "--reason", help="Why (kept in the audit trail)."),
) -> None:
    """Change a user's role (and jurisdiction). 修改角色与辖区。"""
    from registry import auth

    _change(schema_ready_engine(), "已更新 updated", lambda session: auth.set_role(
        auth.cli_principal(), session, username, new_role, jurisdiction, reason), _who_where)


def _change(engine: Engine, done: str, change: Callable[[Session], User],
            summary: Callable[[User], str] = lambda user: user.username) -> None:
    """One account change in its own transaction (its audit row with it), then one line saying what was done."""
    from registry.db import session_scope

    with session_scope(engine) as session:
        said = summary(change(session))
    console.print(f"{done}: {said}", markup=False, highlight=False)


def _who_where(user: User) -> str:
    return f"{user.username} · {user.role} · {user.jurisdiction}"


FIRST_ADMIN_HINT = ("尚无管理员账号，看板无法登录。请创建第一个管理员 / no admin account yet, nobody can sign in. Create the "
                    "first one with:\n  zjtx users add <name> --role admin --jurisdiction cn")


def ensure_first_admin(engine: Engine, err: Console | None = None) -> None:
    """`zjtx up` on a database without an active admin: ask for one on a terminal, else say how to create one.
    There is never a default account or password."""
    from registry import auth
    from registry.db import session_scope

    err = err or Console(stderr=True)
    if auth.has_active_admin(engine):
        return
    if not sys.stdin.isatty():
        err.print(FIRST_ADMIN_HINT, markup=False, highlight=False)
        return
    err.print("首次启动：请创建管理员账号 / first start: create the admin account", markup=False)
    while True:
        try:
            username = input("管理员用户名 Admin username [admin]: ").strip() or "admin"
            password = read_password(False)
            with session_scope(engine) as session:
                auth.create_user(auth.cli_principal(), session, username, password, "admin", "cn",
                                 reason="first admin, created by zjtx up")
        except UserError as exc:
            err.print(f"{exc} — 请重试 / try again", markup=False, highlight=False)
            continue
        err.print(f"已创建管理员 admin created: {auth.normalize_username(username)}", markup=False)
        return
