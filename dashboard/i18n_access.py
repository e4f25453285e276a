"""Labels of the login page, the session controls and the audit page (Chinese first, English alongside).

Kept beside dashboard/i18n.py so the access pages do not edit the shared catalogue; `ta` falls back to it.
"""

from __future__ import annotations

from dashboard.i18n import t

ACCESS_LABELS: dict[str, tuple[str, str]] = {
    "login.title": ("登录", "Sign in"),
    "login.caption": ("专精特新企业梯度培育登记与监测系统，仅限授权人员使用",
                      "SME cultivation registry & monitoring — authorised users only"),
    "login.username": ("用户名", "Username"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Sign in"),
    "login.sso": ("单点登录", "Single sign-on"),
    "login.sso_unavailable": ("单点登录未配置完整（需要 Authlib 与 .streamlit/secrets.toml 中的 [auth]）",
                              "Single sign-on is not fully configured (needs Authlib and [auth] in "
                              ".streamlit/secrets.toml)"),
    "login.sso_other": ("换一个账号", "Use another account"),
    "login.expired": ("会话因 {minutes} 分钟无操作已过期，请重新登录", "Your session expired after {minutes} minutes "
                      "without activity: sign in again"),
    "login.ended": ("账号已停用或已锁定，会话已结束", "The account was disabled or locked: the session has ended"),
    "login.signed_out": ("已退出登录", "Signed out"),
    "login.missing": ("请输入用户名和密码", "Enter a username and a password"),
    "login.no_admin": ("尚无管理员账号。请在服务器上运行：zjtx users add <用户名> --role admin --jurisdiction cn",
                       "No admin account yet. On the server, run: zjtx users add <name> --role admin "
                       "--jurisdiction cn"),
    "session.user": ("用户", "User"),
    "session.role": ("角色", "Role"),
    "session.logout": ("退出登录", "Sign out"),
    "export.not_allowed": ("当前角色无导出权限", "Your role may not export"),
    "audit.since": ("起始日期", "From"),
    "audit.until": ("截止日期", "To"),
    "audit.actor": ("操作人（包含）", "Actor contains"),
    "audit.action": ("操作", "Action"),
    "audit.entity": ("对象类型", "Entity"),
    "audit.entity_id": ("对象编号（包含）", "Entity id contains"),
    "audit.any": ("全部", "Any"),
    "audit.count": ("显示最近 {shown} 条（上限 {limit}）", "Showing the latest {shown} rows (limit {limit})"),
    "audit.none": ("没有符合条件的记录", "No matching audit rows"),
    "audit.append_only": ("审计日志只能追加，任何人都不能修改或删除", "The audit trail is append-only: nobody can change "
                          "or delete a row"),
    "audit.detail": ("查看单条记录", "One row in full"),
}

ROLE_NAMES: dict[str, tuple[str, str]] = {
    "admin": ("系统管理员", "Administrator"),
    "manager": ("主管", "Manager"),
    "official": ("工作人员", "Official"),
    "analyst": ("分析人员", "Analyst"),
}


def ta(key: str, lang: str, **values: object) -> str:
    """The access label for `key` (or the shared catalogue's, or the key itself)."""
    pair = ACCESS_LABELS.get(key)
    if pair is None:
        return t(key, lang, **values)
    text = pair[1] if lang == "en" else pair[0]
    return text.format(**values) if values else text


def role_name(role: str, lang: str) -> str:
    pair = ROLE_NAMES.get(role)
    return (pair[1] if lang == "en" else pair[0]) if pair else role
