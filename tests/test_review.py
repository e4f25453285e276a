"""Review decisions on SQLite and PostgreSQL: renew creates the superseding recognition with the jurisdiction's
validity, revoke ends it with the policy's re-application ban, watch closes the flag for good; every decision
needs a reason, resolves its flags, writes the audit trail, respects roles and scope, and a bulk decision is all
or nothing. Also the queue (filters, scope, evidence) and its Excel list."""

from __future__ import annotations

import io
import json
import random
from datetime import date

import openpyxl
import polars as pl
import pytest
import sqlalchemy as sa
from builders import enterprise_row, recognition_row

from registry.access import SYSTEM, PermissionDenied, Principal
from registry.identity import make_uscc
from registry.models import Enterprise, Flag, Recognition
from registry.review import (
    DecisionRefused,
    decisions,
    queue_evidence,
    queue_workbook,
    record_decision,
    record_decisions,
    renewal_valid_until,
    review_items,
    review_queue,
    revocation_rules,
    watched_flag_keys,
)

rng = random.Random(101)
MANAGER = Principal("wang", "manager", "cn")
GD_MANAGER = Principal("li", "manager", "cn-gd")
ANALYST = Principal("zhao", "analyst", "cn")
ON = date(2024, 6, 1)

FIRMS = {  # key: (region, tier, jurisdiction, batch, recognized_on, valid_until, flag kind, evidence)
    "sz": ("440305", "little_giant", "cn", "3", date(2021, 7, 15), date(2024, 7, 14), "review_due",
           {"valid_until": "2024-07-14", "days_left": 43, "rule": "复核提示", "source": "工信厅企业函〔2021〕79号"}),
    "bj": ("110108", "zjtx_sme", "cn-bj", "2022", date(2022, 3, 1), date(2025, 2, 28), "exit",
           {"reason": "false_declaration", "label_zh": "虚假申报", "ban_years": 3, "source": "京 L1"}),
    "nb1": ("330212", "little_giant", "cn", "2", date(2020, 12, 1), date(2023, 11, 30), "expired", {}),
    "nb2": ("330212", "little_giant", "cn", "2", date(2020, 12, 1), date(2023, 11, 30), "expired", {}),
    "xj": ("650102", "zjtx_sme", "cn-xj", "2021", date(2021, 9, 1), date(2024, 12, 31), "expiring", {}),
}


def seed(engine) -> dict[str, dict]:
    out = {}
    with engine.begin() as conn:
        for key, (region, tier, jurisdiction, batch, start, until, kind, evidence) in FIRMS.items():
            uscc = make_uscc(rng, region)
            name = f"测试企业{key}有限公司"
            firm = conn.execute(sa.insert(Enterprise.__table__).values(enterprise_row(uscc, name, region))
                                .returning(Enterprise.__table__.c.id)).scalar_one()
            rec = conn.execute(sa.insert(Recognition.__table__).values(
                recognition_row(firm, tier, jurisdiction, start, until, batch=batch))
                               .returning(Recognition.__table__.c.id)).scalar_one()
            flag = conn.execute(sa.insert(Flag.__table__).values(
                enterprise_id=firm, recognition_id=rec, tier=tier, jurisdiction=jurisdiction, kind=kind,
                severity="critical" if kind in ("exit", "expired") else "warning", due_on=until,
                key=f"{uscc}:{rec}:{kind}", evidence=evidence, opened_on=date(2024, 5, 1),
            ).returning(Flag.__table__.c.id)).scalar_one()
            out[key] = {"uscc": uscc, "firm": firm, "rec": rec, "flag": flag}
    return out


def rows(engine, statement: str, **params):
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(statement), params).all()]


def test_renew_creates_the_superseding_recognition_and_resolves_the_flag(engine):
    ids = seed(engine)
    sz = ids["sz"]
    result = record_decision(MANAGER, sz["rec"], "renew", "复核材料齐全，指标达标", flag_ids=[sz["flag"]],
                             renewed_on=date(2024, 5, 20), document_no="工信厅企业函〔2024〕100号", on=ON,
                             engine=engine)
    [(new_id, start, until, status, doc)] = rows(
        engine, "SELECT id, recognized_on, valid_until, status, document_no FROM recognition "
                "WHERE enterprise_id = :f AND id != :r", f=sz["firm"], r=sz["rec"])
    assert (str(start), str(until), status, doc) == ("2024-05-20", "2027-05-19", "active", "工信厅企业函〔2024〕100号")
    assert result.new_recognition_id == new_id and str(result.new_valid_until) == "2027-05-19"
    assert rows(engine, "SELECT status, superseded_by FROM recognition WHERE id = :r", r=sz["rec"]) == \
        [("superseded", new_id)]
    assert [str(d) for (d,) in rows(engine, "SELECT resolved_on FROM flag WHERE id = :f", f=sz["flag"])] == \
        ["2024-06-01"]
    [(decision, reason, by, new_rec, flag_id)] = rows(
        engine, "SELECT decision, reason, decided_by, new_recognition_id, flag_id FROM review_decision")
    assert (decision, reason, by, new_rec, flag_id) == ("renew", "复核材料齐全，指标达标", "wang", new_id, sz["flag"])
    [(actor, action, entity_id, audit_reason)] = rows(
        engine, "SELECT actor, action, entity_id, reason FROM audit_log WHERE action LIKE 'review.%'")
    assert (actor, action, entity_id, audit_reason) == ("wang", "review.decide", str(sz["rec"]), "复核材料齐全，指标达标")
    # The firm's page shows it.
    shown = decisions(MANAGER, sz["uscc"], engine=engine)
    assert shown["decision"].to_list() == ["renew"]
    assert shown["new_valid_until"].to_list() == [date(2027, 5, 19)]


def test_renewal_validity_follows_the_jurisdictions_rule():
    # Renewed on 29 February: 2027 has no 29 February, so the three years run to the end of February — the same
    # date ingestion and the flags derive (Lifecycle.last_valid_day).
    assert renewal_valid_until("little_giant", "cn", date(2024, 2, 29)) == date(2027, 2, 28)
    # Xinjiang counts calendar years (year_end; the policy states validity_years = 4, see its interpretation).
    assert renewal_valid_until("zjtx_sme", "cn-xj", date(2024, 3, 1)) == date(2027, 12, 31)


def test_revoke_on_an_exit_rule_sets_the_policy_ban(engine):
    ids = seed(engine)
    bj = ids["bj"]
    rules = {r["id"]: r for r in revocation_rules(MANAGER, bj["rec"], engine=engine)}
    assert rules["false_declaration"]["ban_years"] == 3  # Beijing 专精特新 2021: 3 years
    result = record_decision(MANAGER, bj["rec"], "revoke", "经核实存在虚假申报", flag_ids=[bj["flag"]], on=ON,
                             engine=engine)
    assert result.ban_until == date(2027, 6, 1)
    [(status, ended, why)] = rows(engine, "SELECT status, ended_on, end_reason FROM recognition WHERE id = :r",
                                  r=bj["rec"])
    assert (status, str(ended), why) == ("revoked", "2024-06-01", "经核实存在虚假申报")
    assert [str(b) for (b,) in rows(engine, "SELECT ban_until FROM review_decision")] == ["2027-06-01"]
    actions = sorted(a for (a,) in rows(engine, "SELECT action FROM audit_log WHERE entity = 'recognition'"))
    assert actions == ["recognition.revoke", "review.decide"]
    # A rule the policy does not have cannot be named (a ban never comes from a guess).
    with pytest.raises(DecisionRefused, match="no exit rule"):
        record_decision(MANAGER, ids["sz"]["rec"], "revoke", "x", exit_rule="false_declaration_typo", on=ON,
                        engine=engine)


def test_revoke_without_an_exit_rule_has_no_ban(engine):
    ids = seed(engine)
    result = record_decision(MANAGER, ids["nb1"]["rec"], "revoke", "复核未通过", flag_ids=[ids["nb1"]["flag"]],
                             on=ON, engine=engine)
    assert result.ban_until is None


def test_watch_closes_the_flag_and_the_flags_job_does_not_reopen_it(engine):
    ids = seed(engine)
    xj = ids["xj"]
    record_decision(MANAGER, xj["rec"], "watch", "企业已提交续期申请，待审", flag_ids=[xj["flag"]], on=ON,
                    engine=engine)
    assert rows(engine, "SELECT status FROM recognition WHERE id = :r", r=xj["rec"]) == [("active",)]
    assert [str(d) for (d,) in rows(engine, "SELECT resolved_on FROM flag WHERE id = :f", f=xj["flag"])] == \
        ["2024-06-01"]
    with engine.connect() as conn:
        assert f"{xj['uscc']}:{xj['rec']}:expiring" in watched_flag_keys(conn)
    assert xj["uscc"] not in review_queue(MANAGER, engine=engine)["uscc"].to_list()


def test_every_decision_needs_a_reason_and_an_open_recognition(engine):
    ids = seed(engine)
    sz = ids["sz"]
    with pytest.raises(DecisionRefused, match="reason"):
        record_decision(MANAGER, sz["rec"], "renew", "   ", flag_ids=[sz["flag"]], on=ON, engine=engine)
    assert rows(engine, "SELECT COUNT(*) FROM review_decision") == [(0,)]
    assert rows(engine, "SELECT status FROM recognition WHERE id = :r", r=sz["rec"]) == [("active",)]
    record_decision(MANAGER, sz["rec"], "renew", "通过", on=ON, engine=engine)
    with pytest.raises(DecisionRefused, match="superseded"):
        record_decision(MANAGER, sz["rec"], "revoke", "再次", on=ON, engine=engine)
    with pytest.raises(DecisionRefused, match="after the recognition date"):
        record_decision(MANAGER, ids["nb1"]["rec"], "renew", "x", renewed_on=date(2020, 1, 1), on=ON, engine=engine)


def test_roles_and_scope(engine):
    ids = seed(engine)
    with pytest.raises(PermissionDenied):
        record_decision(ANALYST, ids["sz"]["rec"], "watch", "x", on=ON, engine=engine)
    # A Guangdong manager cannot see (so cannot decide on) a Beijing firm: it looks absent.
    with pytest.raises(DecisionRefused, match="no such recognition"):
        record_decision(GD_MANAGER, ids["bj"]["rec"], "watch", "x", on=ON, engine=engine)
    assert revocation_rules(GD_MANAGER, ids["bj"]["rec"], engine=engine) == []
    assert set(review_queue(GD_MANAGER, engine=engine)["uscc"]) == {ids["sz"]["uscc"]}
    record_decision(GD_MANAGER, ids["sz"]["rec"], "watch", "跟踪", flag_ids=[ids["sz"]["flag"]], on=ON,
                    engine=engine)
    assert decisions(GD_MANAGER, engine=engine)["uscc"].to_list() == [ids["sz"]["uscc"]]
    assert decisions(Principal("bj", "official", "cn-bj"), engine=engine).is_empty()


def test_bulk_decision_for_a_cohort_is_all_or_nothing(engine):
    ids = seed(engine)
    cohort = review_queue(MANAGER, batch="2", engine=engine)
    assert sorted(cohort["uscc"]) == sorted([ids["nb1"]["uscc"], ids["nb2"]["uscc"]])
    items = list(zip(cohort["recognition_id"], cohort["flag_id"], strict=True))
    # One of them is already decided: the whole batch is refused and nothing changes.
    record_decision(MANAGER, ids["nb2"]["rec"], "revoke", "复核未通过", on=ON, engine=engine)
    with pytest.raises(DecisionRefused):
        record_decisions(MANAGER, items, "renew", "第二批复核通过", renewed_on=date(2024, 5, 1), on=ON, engine=engine)
    assert rows(engine, "SELECT COUNT(*) FROM review_decision WHERE decision = 'renew'") == [(0,)]
    assert rows(engine, "SELECT status FROM recognition WHERE id = :r", r=ids["nb1"]["rec"]) == [("active",)]
    results = record_decisions(MANAGER, items[:1] if items[0][0] == ids["nb1"]["rec"] else items[1:], "renew",
                               "第二批复核通过", renewed_on=date(2024, 5, 1), on=ON, renew_expired=True, engine=engine)
    assert [r.recognition_id for r in results] == [ids["nb1"]["rec"]]
    assert rows(engine, "SELECT COUNT(*) FROM audit_log WHERE action = 'review.decide'") == [(2,)]


def test_renewing_an_expired_recognition_needs_an_explicit_choice(engine):
    ids = seed(engine)
    nb1 = ids["nb1"]  # valid until 2023-11-30; decided on 2024-06-01: 31+31+29+31+30+31+1 = 184 days later
    with pytest.raises(DecisionRefused, match=r"2023-11-30 到期（184 天前）.*confirmed explicitly"):
        record_decision(MANAGER, nb1["rec"], "renew", "补办复核", flag_ids=[nb1["flag"]], on=ON, engine=engine)
    with pytest.raises(DecisionRefused, match="184 days ago"):
        record_decisions(MANAGER, [(nb1["rec"], nb1["flag"])], "renew", "补办复核", on=ON, engine=engine)
    assert rows(engine, "SELECT status FROM recognition WHERE id = :r", r=nb1["rec"]) == [("active",)]
    assert rows(engine, "SELECT COUNT(*) FROM review_decision") == [(0,)]
    # A recognition still valid on the decision day needs no confirmation (sz: valid until 2024-07-14).
    record_decision(MANAGER, ids["sz"]["rec"], "renew", "通过", on=ON, engine=engine)
    # Confirmed, with a reason: renewed, and the audit row says how late.
    result = record_decision(MANAGER, nb1["rec"], "renew", "补办复核，材料齐全", flag_ids=[nb1["flag"]], on=ON,
                             renew_expired=True, engine=engine)
    assert result.new_recognition_id is not None
    with engine.connect() as conn:
        after = conn.execute(sa.text("SELECT after FROM audit_log WHERE action = 'review.decide' AND entity_id = :r"),
                             {"r": str(nb1["rec"])}).scalar_one()
    assert (json.loads(after) if isinstance(after, str) else after)["renewed_days_after_expiry"] == 184
    # The reason is still required when confirmed.
    with pytest.raises(DecisionRefused, match="reason"):
        record_decision(MANAGER, ids["nb2"]["rec"], "renew", " ", on=ON, renew_expired=True, engine=engine)


def test_queue_filters_and_evidence(engine):
    ids = seed(engine)
    queue = review_queue(SYSTEM, engine=engine)
    assert queue["severity"].to_list()[:3] == ["critical"] * 3  # critical first
    assert set(review_queue(SYSTEM, flag="exit", engine=engine)["uscc"]) == {ids["bj"]["uscc"]}
    assert set(review_queue(SYSTEM, jurisdiction="cn-xj", engine=engine)["uscc"]) == {ids["xj"]["uscc"]}
    assert set(review_queue(SYSTEM, tier="zjtx_sme", engine=engine)["uscc"]) == {ids["bj"]["uscc"], ids["xj"]["uscc"]}
    exit_row = queue.filter(pl.col("flag") == "exit").row(0, named=True)
    assert (exit_row["rule"], exit_row["source"]) == ("虚假申报", "京 L1")
    review_row = queue.filter(pl.col("flag") == "review_due").row(0, named=True)
    assert review_row["rule"] == "复核提示" and review_row["valid_until"] == date(2024, 7, 14)


def test_the_page_reads_the_queue_without_evidence_and_the_evidence_of_the_rows_it_shows(engine):
    """The review page lists review_items (no evidence) and reads queue_evidence for the rows it shows: together
    they are review_queue, in its order, for every filter and scope; another region's flags yield no evidence."""
    ids = seed(engine)
    for principal in (SYSTEM, MANAGER, GD_MANAGER):
        for filters in ({}, {"flag": "expired"}, {"tier": "zjtx_sme"}, {"jurisdiction": "cn", "batch": "2"}):
            queue = review_queue(principal, **filters, engine=engine)
            items = review_items(principal, **filters, engine=engine)
            assert items.to_dicts() == queue.drop("rule", "source", "evidence").to_dicts(), (principal, filters)
            evidence = queue_evidence(principal, items["flag_id"].to_list(), engine=engine)
            joined = items.join(evidence, on="flag_id", how="left", maintain_order="left")
            assert joined.select(queue.columns).to_dicts() == queue.to_dicts()
    bj_flag = review_items(SYSTEM, flag="exit", engine=engine)["flag_id"].to_list()
    assert queue_evidence(GD_MANAGER, bj_flag, engine=engine).is_empty()  # 北京's flag is not 广东's to read
    bj = queue_evidence(MANAGER, bj_flag, engine=engine).row(0, named=True)
    assert (bj["rule"], bj["source"], json.loads(bj["evidence"])["ban_years"]) == ("虚假申报", "京 L1", 3)
    assert ids["bj"]["uscc"] in review_items(MANAGER, engine=engine)["uscc"].to_list()


def test_queue_workbook_reads_back(engine):
    ids = seed(engine)
    queue = review_queue(SYSTEM, engine=engine)
    data = queue_workbook(queue, "复核与退出工作清单 2024-06-01", {"flag": {"exit": "触发退出条件"}})
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    cells = list(sheet.iter_rows(values_only=True))
    assert cells[0][0] == "复核与退出工作清单 2024-06-01"
    assert cells[1][0] == "统一社会信用代码\nUSCC" and cells[1][-3] == "处理意见\nDecision"
    assert len(cells) == 2 + queue.height
    by_uscc = {row[0]: row for row in cells[2:]}
    assert by_uscc[ids["bj"]["uscc"]][8] == "触发退出条件"
    assert "ban_years: 3" in by_uscc[ids["bj"]["uscc"]][13]
    assert sheet.auto_filter.ref is not None


def test_the_queue_reads_rule_and_source_from_every_kind_of_evidence():
    """The queue's `rule` and `source` columns, against Python's json module: text fields decoded at once, and
    evidence whose field is not text (a number, an object) read field by field (registry.review._rule_and_source)."""
    import json as json_module

    import polars as pl

    from registry.review import _rule_and_source

    def expected(texts: list[str]) -> tuple[list, list]:
        def text(value):
            return None if value is None else value if isinstance(value, str) else json_module.dumps(
                value, separators=(",", ":"))
        docs = [json_module.loads(t) for t in texts]
        rules = [next((text(d[k]) for k in ("label_zh", "rule", "what") if d.get(k) is not None), None) for d in docs]
        return rules, [text(d.get("source")) for d in docs]

    plain = ['{"label_zh": "连续两年营收下降", "rule": "decline", "source": "工信部企业〔2022〕63号"}',
             '{"rule": "review_due", "days_left": 30}', '{"what": "annual_update", "source": "2号 第八条"}', '{}',
             '{"label_zh": "引号\\"与\\u6587字"}']
    odd = [*plain, '{"rule": 5, "source": "x"}']
    for texts in (plain, odd):
        found = _rule_and_source(pl.DataFrame({"evidence": texts}))
        assert (found["rule"].to_list(), found["source"].to_list()) == expected(texts)
