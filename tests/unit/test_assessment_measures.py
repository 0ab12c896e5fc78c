"""The assessment's rules on hand-made records (the seeded month is in
tests/integration/test_assessment_report.py): what counts, from when, in which time zone."""

from __future__ import annotations

from typing import Any

from assessment import measures, period

OCT = period.month("2026-10")


def records(**tables: Any) -> dict[str, dict[str, Any]]:
    base: dict[str, dict[str, Any]] = {
        "review": {"cases": [], "decisions": [], "escalations": [], "staff": []},
        "liaison": {"tickets": []}, "news": {"plan_entries": [], "comments": []},
        "notify": {"notifications": []}}
    for key, rows in tables.items():
        service, table = key.split("__")
        base[service][table] = rows
    return base


def test_carried_approvals_are_not_decisions_and_time_runs_from_the_previous_decision() -> None:
    found = records(
        review__cases=[{"id": "c1", "author": "sun", "status": "approved",
                        "created_at": "2026-09-30T23:00:00+08:00"}],
        review__decisions=[
            {"case_id": "c1", "stage": "section_head", "reviewer": "wang", "decision": "approve",
             "at": "2026-09-30T23:00:00+08:00", "carried_from": "c0"},
            {"case_id": "c1", "stage": "leader_in_charge", "reviewer": "qian",
             "decision": "approve", "at": "2026-10-01T01:00:00+08:00", "carried_from": None}],
        review__staff=[{"name": "qian", "role": "leader_in_charge", "section": "办公室"}])
    steps = measures.review_steps(found, OCT)
    assert [(s["reviewer"], s["hours"]) for s in steps] == [("qian", 2.0)]
    table = measures.review_turnaround(found, OCT).by_person
    assert table.rows == [("qian", "办公室", "分管领导", 1, 1, 0, 0, 2.0, 2.0, 0)]


def test_a_ticket_not_yet_acknowledged_is_not_on_time() -> None:
    ticket = {"lead_section": "办公室", "acknowledged_at": None, "resolved_at": None,
              "acknowledge_due_at": "2026-10-02T10:00:00+08:00",
              "resolve_due_at": "2026-10-03T10:00:00+08:00"}
    table = measures.ticket_deadlines(records(liaison__tickets=[ticket]), OCT).by_section
    assert table.rows == [("办公室", 1, 0, 0, 0, 0, 0.0, 0.0)]


def test_a_plan_entry_is_on_time_by_the_office_day_not_the_utc_day() -> None:
    entries = [
        {"owner": "sun", "due_on": "2026-10-15", "published_at": "2026-10-15T23:30:00+08:00"},
        {"owner": "sun", "due_on": "2026-10-15", "published_at": "2026-10-15T17:00:00+00:00"},
        {"owner": "sun", "due_on": "2026-10-15", "published_at": None}]
    table = measures.plan_entries(records(news__plan_entries=entries), OCT).by_person
    assert table.rows == [("sun", measures.UNKNOWN_SECTION, 3, 2, 1, 0.333)]


def test_unanswered_comments_have_their_own_row() -> None:
    comments = [{"received_at": "2026-10-01T10:00:00+08:00", "replied_at": None,
                 "replied_by": None, "reply_due_at": "2026-10-02T10:00:00+08:00"}]
    measure = measures.comment_replies(records(news__comments=comments), OCT)
    assert measure.by_section.rows == [(measures.UNREPLIED, 1, 0, 0, None)]
    assert measure.by_person.rows == []


def test_notifications_acknowledged_are_inbox_reads_and_delivered_mails() -> None:
    def note(person: str, channel: str, status: str, read_at: str | None = None) -> dict:
        return {"person": person, "channel": channel, "status": status,
                "created_at": "2026-10-31T23:00:00+08:00", "read_at": read_at}
    notes = [note("sun", "inbox", "sent", "2026-11-01T02:00:00+08:00"),  # read after the month
             note("sun", "inbox", "sent"), note("sun", "email", "sent"),
             note("sun", "email", "dead"), note("li", "inbox", "sent"),
             note("li", "email", "pending")]
    found = records(notify__notifications=notes,
                    review__staff=[{"name": "sun", "role": "editor", "section": "新闻宣传处"}])
    measure = measures.notifications_acknowledged(found, OCT)
    assert measure.by_person.rows == [
        ("li", measures.UNKNOWN_SECTION, 1, 0, 0.0, None, 1, 0, 0.0),
        ("sun", "新闻宣传处", 2, 1, 0.5, 3.0, 2, 1, 0.5)]
    assert [r[0] for r in measure.by_section.rows] == ["新闻宣传处", measures.UNKNOWN_SECTION]
