"""Roles × actions × pages, and jurisdictions: who may do what, and which firms a jurisdiction covers.

The expected matrix is written out here from issue 6 (admin everything; official read + export; analyst read
only; manager = official + review decisions and revocations), not derived from registry.access.
"""

from __future__ import annotations

import pytest

from dashboard.pages import PAGES, pages_for
from registry.access import (
    ACTIONS,
    ROLES,
    SYSTEM,
    PermissionDenied,
    Principal,
    can,
    in_scope,
    is_mutation,
    jurisdictions_in_scope,
    mutation,
    region_prefixes,
    require,
    role_can,
)
from registry.errors import UserError

Y, N = True, False
#                         admin manager official analyst
EXPECTED = {
    "read":               (Y, Y, Y, Y),
    "export":             (Y, Y, Y, N),
    "export.aggregate":   (Y, Y, Y, Y),
    "review.decide":      (Y, Y, N, N),
    "recognition.revoke": (Y, Y, N, N),
    "data.ingest":        (Y, N, N, N),
    "jobs.run":           (Y, N, N, N),
    "users.manage":       (Y, N, N, N),
    "audit.view":         (Y, N, N, N),
}
ORDER = ("admin", "manager", "official", "analyst")


def test_the_matrix_covers_every_action_and_role():
    assert set(EXPECTED) == set(ACTIONS)
    assert set(ORDER) == set(ROLES)


@pytest.mark.parametrize("action", sorted(EXPECTED))
@pytest.mark.parametrize("role", ORDER)
def test_role_action_matrix(role, action):
    expected = EXPECTED[action][ORDER.index(role)]
    assert role_can(role, action) is expected
    assert can(Principal("u", role, "cn"), action) is expected
    if expected:
        require(Principal("u", role, "cn"), action)
    else:
        with pytest.raises(PermissionDenied, match="权限不足.*permission denied"):
            require(Principal("u", role, "cn"), action)


def test_unknown_role_may_do_nothing_and_unknown_action_is_an_error():
    assert not any(role_can("superuser", a) for a in ACTIONS)
    with pytest.raises(ValueError, match="unknown action"):
        can(SYSTEM, "delete_everything")


def test_accounts_and_audit_trail_are_for_national_admins_only():
    provincial_admin = Principal("x", "admin", "cn-gd")  # refused by registry.auth; checked here as well
    assert not can(provincial_admin, "users.manage")
    assert not can(provincial_admin, "audit.view")
    assert can(provincial_admin, "data.ingest")


# role → the pages in the navigation (issue 6: the audit page is admin only)
EXPECTED_PAGES = {
    "admin": {"overview", "registry", "firm", "audit"},
    "manager": {"overview", "registry", "firm"},
    "official": {"overview", "registry", "firm"},
    "analyst": {"overview", "registry", "firm"},
}


@pytest.mark.parametrize("role", ORDER)
def test_role_page_matrix(role):
    keys = {p.key for p in pages_for(role)}
    # Pages of other work (pipeline, intake ...) may be added; these are the ones this matrix decides.
    decided = {"overview", "registry", "firm", "audit"}
    assert keys & decided == EXPECTED_PAGES[role]
    assert {p.key for p in PAGES} >= decided


def test_every_page_names_a_known_action():
    for page in PAGES:
        assert page.action in ACTIONS, page


def test_mutation_checks_the_role_before_running():
    ran = []

    @mutation("recognition.revoke")
    def revoke(principal: Principal, recognition_id: int) -> int:
        ran.append(recognition_id)
        return recognition_id

    assert is_mutation(revoke)
    assert revoke(Principal("m", "manager", "cn-gd"), 7) == 7
    with pytest.raises(PermissionDenied):
        revoke(Principal("o", "official", "cn-gd"), 8)
    with pytest.raises(TypeError, match="Principal must come first"):
        revoke("manager", 9)
    assert ran == [7]


def test_require_checks_the_firm_scope():
    manager = Principal("m", "manager", "cn-gd")
    require(manager, "review.decide", region_code="440305")
    with pytest.raises(PermissionDenied, match="不在辖区"):
        require(manager, "review.decide", region_code="330212")


@pytest.mark.parametrize("jurisdiction,inside,outside", [
    ("cn-gd", ["440305", "440106", "441900"], ["330212", "110108", "659001", ""]),
    ("cn-gd-shenzhen", ["440305", "440304"], ["440106", "330212"]),
    ("440100", ["440106", "440111"], ["440305", "330106"]),  # a prefecture by its code: 广州市
    ("440106", ["440106"], ["440111", "440305"]),  # a county: 天河区
    ("cn-xj", ["650100", "652301"], ["659001"]),  # 兵团 units are a jurisdiction of their own
    ("cn-bingtuan", ["659001"], ["650100"]),
])
def test_a_jurisdiction_sees_itself_and_everything_below(jurisdiction, inside, outside):
    principal = Principal("p", "official", jurisdiction)
    assert all(in_scope(principal, code) for code in inside)
    assert not any(in_scope(principal, code) for code in outside)
    assert in_scope(SYSTEM, "659001") and region_prefixes("cn") is None


@pytest.mark.parametrize("bad", ["cn-xx", "440000", "999999", "", "44"])
def test_unknown_jurisdictions_are_refused(bad):
    with pytest.raises(UserError, match="未知辖区.*unknown jurisdiction"):
        region_prefixes(bad)


def test_jurisdictions_in_scope_are_the_own_and_those_below_never_above():
    assert jurisdictions_in_scope(Principal("p", "official", "cn-gd"))["id"].to_list() == ["cn-gd", "cn-gd-shenzhen"]
    assert jurisdictions_in_scope(Principal("p", "official", "cn-gd-shenzhen"))["id"].to_list() == ["cn-gd-shenzhen"]
    assert jurisdictions_in_scope(Principal("p", "official", "440300"))["id"].to_list() == ["cn-gd-shenzhen"]
    assert jurisdictions_in_scope(Principal("p", "official", "440106")).is_empty()
    assert "cn" in jurisdictions_in_scope(SYSTEM)["id"].to_list()


def test_docs_state_the_same_matrix():
    """docs/access.md's role table is what the code enforces (a reader must not be misled)."""
    from registry.settings import PROJECT_ROOT

    documented = {}
    for line in (PROJECT_ROOT / "docs" / "access.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0].startswith("`") and cells[0].strip("`") in ACTIONS:
            documented[cells[0].strip("`")] = tuple(c == "✓" for c in cells[3:])
    assert documented == EXPECTED
