"""The sign-in gate: app.py calls `require_login` before it builds the navigation, so no page runs for nobody.

A signed-in session lives in st.session_state[AUTH_KEY] (a SignedIn). On every interaction the gate checks that
it has not been idle longer than auth.session_idle_minutes and that the account is still active (a disabled or
locked user's open session ends at their next click; a changed role or jurisdiction applies at once).
Local accounts sign in with a password (registry.auth.authenticate: argon2, lock-out, audited). When
auth.sso_provider is set, Streamlit's OIDC login (st.login / st.user) is offered as well; it signs in the
existing local account whose username equals the configured claim.

A sign-in also opens a server-side session (registry/sessions.py) whose token the browser keeps in the
`zjtx_session` cookie, so a reload or a page opened in a new tab (a firm from the review queue) finds the sign-in
again instead of asking for the password. Streamlit offers no hook to send a Set-Cookie header from a script run
(st.context.cookies only reads the cookies the browser sent when the page connected), so the cookie is written by
a same-origin script (st.html with JavaScript): it cannot be HttpOnly. It is SameSite=Strict, Secure over https,
lives until the browser closes, and is worth nothing once the server revokes the session (sign-out, idle,
password change, disable).

Tests sign in the same way: `start_session(authenticate(...))` puts a SignedIn into session_state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import streamlit as st

from dashboard.database import engine
from dashboard.i18n import code_label, t
from dashboard.safe_text import md_text
from registry import auth, sessions
from registry.access import Principal
from registry.models import utcnow
from registry.settings import get_settings

AUTH_KEY = "auth"
NOTICE_KEY = "auth_notice"
SSO_REFUSED_KEY = "auth_sso_refused"
COOKIE_KEY = "auth_cookie_pending"  # a token to store in the browser, or "" to clear it, on the next page drawn


@dataclass(frozen=True)
class SignedIn:
    principal: Principal
    method: str  # password | sso
    signed_in_at: datetime
    last_seen_at: datetime
    token: str | None = None  # the server-side session (registry/sessions.py); None in tests that need none


def start_session(principal: Principal, method: str = "password", now: datetime | None = None,
                  token: str | None = None) -> SignedIn:
    """A fresh signed-in session for the principal (also what tests put into session_state)."""
    now = now or utcnow()
    return SignedIn(principal, method, now, now, token)


def _open(principal: Principal, method: str) -> SignedIn:
    """A new sign-in: its server-side session, and the cookie that lets a reload or a new tab find it."""
    token = sessions.open_session(engine(), principal.username, method)
    st.session_state[COOKIE_KEY] = token
    return start_session(principal, method, token=token)


def _write_cookie() -> None:
    """Store (or clear) the session cookie in the browser, once, when a sign-in or sign-out asked for it."""
    token = st.session_state.pop(COOKIE_KEY, None)
    if token is None:
        return
    # token_urlsafe: only [A-Za-z0-9_-], nothing to escape. No Max-Age: gone when the browser closes.
    value = f"{token}; SameSite=Strict" if token else "; Max-Age=0; SameSite=Strict"
    st.html(f"<script>document.cookie = '{sessions.COOKIE_NAME}={value}; Path=/'"
            " + (location.protocol === 'https:' ? '; Secure' : '');</script>",
            unsafe_allow_javascript=True, width="content")


def _idle_limit() -> timedelta:
    return timedelta(minutes=get_settings().auth.session_idle_minutes)


def signed_in_principal() -> Principal | None:
    """The current session's principal, without any check (the gate has run before any page)."""
    session = st.session_state.get(AUTH_KEY)
    return session.principal if isinstance(session, SignedIn) else None


def _end(session: SignedIn, reason: str, notice: str) -> None:
    auth.record_logout(engine(), session.principal, reason)
    sessions.revoke(engine(), session.token, reason)
    _forget(session, notice)


def _forget(session: SignedIn, notice: str) -> None:
    """This tab is signed out (the session itself has ended and been audited already, or by _end)."""
    del st.session_state[AUTH_KEY]
    st.session_state[COOKIE_KEY] = ""
    st.session_state[NOTICE_KEY] = notice
    if session.method == "sso" and st.user.is_logged_in:
        st.logout()  # otherwise the identity cookie would sign them straight back in


def _check(session: SignedIn, now: datetime) -> Principal | None:
    """The session's principal refreshed from the database, or None (session ended) when idle or disabled.

    With a server-side session, idleness is that of the session in every tab (registry.sessions.resume)."""
    if session.token is None and now - session.last_seen_at > _idle_limit():
        _end(session, "idle", "login.expired")
        return None
    if session.token is not None and sessions.resume(engine(), session.token, now=now) is None:
        # Idle in every tab (resume revoked and audited it), signed out in another tab, or revoked by an admin.
        _forget(session, "login.expired" if now - session.last_seen_at > _idle_limit() else "login.ended")
        return None
    fresh = auth.current_principal(engine(), session.principal.username, now=now)
    if fresh is None:
        _end(session, "account disabled or locked", "login.ended")
        return None
    st.session_state[AUTH_KEY] = replace(session, principal=fresh, last_seen_at=now)
    return fresh


def require_login(lang: str, keep_address: Callable[[], object] | None = None) -> Principal:
    """The signed-in principal; otherwise the sign-in page is shown and the script stops here.

    keep_address: called while the sign-in page shows (app.py registers the pages, hidden) so that Streamlit
    keeps the requested page in the address and opens it after sign-in."""
    now = utcnow()
    session = st.session_state.get(AUTH_KEY)
    if isinstance(session, SignedIn):
        principal = _check(session, now)
        if principal is not None:
            _write_cookie()
            _idle_watch()
            return principal
    principal = _cookie_sign_in(now) or _sso_sign_in()
    if principal is not None:
        _write_cookie()
        return principal
    if keep_address is not None:
        keep_address()
    _login_page(lang)
    st.stop()
    raise AssertionError("unreachable")  # st.stop() ends the script run


@st.fragment(run_every=timedelta(seconds=60))
def _idle_watch() -> None:
    """An open page is cleared once the session is over, even if nobody clicks: a full rerun shows the sign-in."""
    session = st.session_state.get(AUTH_KEY)
    if not isinstance(session, SignedIn):
        return
    if session.token is None:
        over = utcnow() - session.last_seen_at > _idle_limit()
    else:  # only look: this timer must not keep the session alive; another tab's clicks do
        over = sessions.resume(engine(), session.token, touch=False) is None
    if over:
        st.rerun(scope="app")


def _cookie_sign_in(now: datetime) -> Principal | None:
    """A reload or a new tab: the browser brought the cookie of a session that is still open (audited)."""
    token = st.context.cookies.get(sessions.COOKIE_NAME)
    resumed = sessions.resume(engine(), token, from_cookie=True, now=now)
    if resumed is None:
        return None
    username, method = resumed
    principal = auth.current_principal(engine(), username, now=now)
    if principal is None:
        sessions.revoke(engine(), token, "account disabled or locked")
        return None
    st.session_state[AUTH_KEY] = start_session(principal, method, now, token)
    return principal


def _sso_sign_in() -> Principal | None:
    provider = get_settings().auth.sso_provider.strip()
    if not provider or not st.user.is_logged_in or st.session_state.get(SSO_REFUSED_KEY):
        return None
    try:
        principal = auth.sso_principal(engine(), st.user.to_dict())
    except auth.LoginFailed as exc:
        st.session_state[SSO_REFUSED_KEY] = str(exc)  # logged once, shown on the sign-in page
        return None
    st.session_state[AUTH_KEY] = _open(principal, "sso")
    return principal


def _login_page(lang: str) -> None:
    _write_cookie()
    st.title(t("login.title", lang))
    st.caption(t("login.caption", lang))
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice == "login.expired":
        st.info(t(notice, lang, minutes=get_settings().auth.session_idle_minutes))
    elif notice:
        st.info(t(notice, lang))
    if not auth.has_active_admin(engine()):
        st.warning(t("login.no_admin", lang))
    with st.form("login_form", enter_to_submit=True):
        username = st.text_input(t("login.username", lang), key="login_username", autocomplete="username")
        password = st.text_input(t("login.password", lang), key="login_password", type="password",
                                 autocomplete="current-password")
        submitted = st.form_submit_button(t("login.submit", lang), key="login_submit", type="primary")
    if submitted:
        _password_sign_in(username, password, lang)
    _sso_button(lang)


def _password_sign_in(username: str, password: str, lang: str) -> None:
    if not username.strip() or not password:
        st.error(t("login.missing", lang))
        return
    try:
        principal = auth.authenticate(engine(), username, password)
    except auth.LoginFailed as exc:
        st.error(md_text(exc))
        return
    st.session_state[AUTH_KEY] = _open(principal, "password")
    st.rerun()


def _sso_button(lang: str) -> None:
    provider = get_settings().auth.sso_provider.strip()
    if not provider:
        return
    refused = st.session_state.get(SSO_REFUSED_KEY)
    if refused:
        st.error(md_text(refused))
        if st.button(t("login.sso_other", lang), key="login_sso_other"):
            st.session_state.pop(SSO_REFUSED_KEY, None)
            st.logout()
        return
    if st.button(t("login.sso", lang), key="login_sso", icon=":material/key:"):
        try:
            st.login(None if provider == "default" else provider)
        except Exception as exc:  # noqa: BLE001 - Authlib missing or [auth] not in secrets.toml
            st.error(f"{t('login.sso_unavailable', lang)}: {str(exc).splitlines()[0]}")


def session_controls(principal: Principal, lang: str) -> None:
    """Who is signed in, and the sign-out button (sidebar)."""
    with st.sidebar:
        st.caption(f"{t('session.user', lang)}: {md_text(principal.username)} · {t('session.role', lang)}: "
                   f"{code_label('role', principal.role, lang)} · {t('app.scope', lang)}: {principal.jurisdiction}")
        if st.button(t("session.logout", lang), key="logout", icon=":material/logout:"):
            session = st.session_state.get(AUTH_KEY)
            if isinstance(session, SignedIn):
                _end(session, "signed out", "login.signed_out")
            st.rerun()
