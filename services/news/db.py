"""News tables and the repository over them (SQLAlchemy Core).

Use cases never write SQL: they ask this module in domain terms. An item comes back as a
`domain.Item` (a revision as a `domain.Revision`) with aware datetimes; the other tables (the
publication queue, notes, the archive, the plan, comments) come back as plain dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from civicpulse.db import insert_once, rows
from civicpulse.serialize import aware
from services.news.domain import ITEM_FIELDS, REVISION_FIELDS, Item, Revision

metadata = MetaData()

items = Table(
    "items", metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("title", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("column", String(64), nullable=True),
    Column("author", String(64), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("current_revision", Integer, nullable=False),
    Column("last_submitted_revision", Integer, nullable=True),
    Column("approved_hash", String(64), nullable=True),
    Column("correlation_id", String(128), nullable=False, index=True),
    Column("ticket_id", String(64), nullable=True),
    Column("reference_no", String(64), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True),
    # added in 0002: embargo, expiry, approval
    Column("approved_revision", Integer, nullable=True),
    Column("publish_at", DateTime(timezone=True), nullable=True),
    Column("time_sensitive", Boolean, nullable=False, server_default="0"),
    Column("valid_until", DateTime(timezone=True), nullable=True),
    Column("expires_at", DateTime(timezone=True), nullable=True, index=True),
    Column("expiry_notified_at", DateTime(timezone=True), nullable=True),
    Column("archived", Boolean, nullable=False, server_default="0"),
)

revisions = Table(
    "revisions", metadata,
    Column("item_id", String(64), ForeignKey("items.id"), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("title", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    # who wrote this revision (separation of duties: no author of any revision reviews it);
    # NULL only for revisions written before migration 0003 (their item's author wrote them)
    Column("author", String(64), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

publications = Table(
    "publications", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(64), ForeignKey("items.id"), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("channel", String(32), nullable=False),
    Column("url", String(500), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("item_id", "channel", name="uq_publications_item_channel"),
)


# One row per (item, action, channel) to deliver: the per-channel publication queue.
deliveries = Table(
    "deliveries", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(64), ForeignKey("items.id"), nullable=False, index=True),
    Column("revision", Integer, nullable=False),
    Column("channel", String(32), nullable=False),
    Column("action", String(16), nullable=False),
    Column("status", String(16), nullable=False),          # pending, sent, failed, cancelled
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True, index=True),
    Column("last_error", Text, nullable=True),
    Column("url", String(500), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
)

# Corrections and retractions, in order: the item's public history.
notes = Table(
    "notes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(64), ForeignKey("items.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),              # correction, retraction
    Column("note", Text, nullable=False),
    Column("by", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

# Expired items: what they were before (restorable); nothing is deleted.
archive = Table(
    "archive", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(64), ForeignKey("items.id"), nullable=False, index=True),
    Column("previous_status", String(16), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("snapshot", JSON, nullable=False),
    Column("archived_at", DateTime(timezone=True), nullable=False),
    Column("restored_at", DateTime(timezone=True), nullable=True),
)

notifications = Table(
    "notifications", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recipient", String(64), nullable=False, index=True),
    Column("item_id", String(64), ForeignKey("items.id"), nullable=True),
    Column("kind", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("read_at", DateTime(timezone=True), nullable=True),
)

plan_themes = Table(
    "plan_themes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("month", String(7), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

plan_entries = Table(
    "plan_entries", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("theme_id", Integer, ForeignKey("plan_themes.id"), nullable=False, index=True),
    Column("title", String(300), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("column", String(64), nullable=True),
    Column("owner", String(64), nullable=True),
    Column("due_on", Date, nullable=False),
    Column("item_id", String(64), ForeignKey("items.id"), nullable=True),
)

channel_stats = Table(
    "channel_stats", metadata,
    Column("item_id", String(64), ForeignKey("items.id"), primary_key=True),
    Column("channel", String(32), primary_key=True),
    Column("views", Integer, nullable=False),
    Column("likes", Integer, nullable=False),
    Column("comments", Integer, nullable=False),
    Column("collected_at", DateTime(timezone=True), nullable=False),
)

comments = Table(
    "comments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(64), ForeignKey("items.id"), nullable=True, index=True),
    Column("channel", String(32), nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("author", String(128), nullable=False),
    Column("text", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("reply_due_at", DateTime(timezone=True), nullable=False, index=True),
    Column("reply", Text, nullable=True),
    Column("replied_by", String(64), nullable=True),
    Column("replied_at", DateTime(timezone=True), nullable=True),
    # when `news.comment.overdue` was recorded for it (once per comment)
    Column("overdue_notified_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("channel", "external_id", name="uq_comments_channel_external"),
)


def _aware_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: aware(v) if isinstance(v, datetime) else v for k, v in row.items()}


# --- items and their revisions ----------------------------------------------------------------

def _item(row: Mapping[str, Any]) -> Item:
    return Item(**{k: aware(row[k]) if isinstance(row[k], datetime) else row[k]
                   for k in ITEM_FIELDS})


def _revision(row: Mapping[str, Any]) -> Revision:
    return Revision(**{k: aware(row[k]) if isinstance(row[k], datetime) else row[k]
                       for k in REVISION_FIELDS})


def get_item(session: Session, item_id: str, *, for_update: bool = False) -> Item | None:
    """The item; `for_update` locks its row until the transaction ends (PostgreSQL), so a
    concurrent writer that read it the same way waits and then sees this one's outcome."""
    query = select(items).where(items.c.id == item_id)
    row = session.execute(query.with_for_update() if for_update else query).mappings().first()
    return _item(row) if row else None


def add_item(session: Session, **values: Any) -> None:
    session.execute(insert(items).values(**values))


def update_item(session: Session, item_id: str, **values: Any) -> None:
    """Change the item's row (`updated_at` is the caller's to give)."""
    session.execute(update(items).where(items.c.id == item_id).values(**values))


def find_items(session: Session, filters: Mapping[str, str | None], limit: int = 200
               ) -> list[Item]:
    query = select(items).order_by(items.c.created_at.desc()).limit(limit)
    for name in ("correlation_id", "status", "kind"):
        if filters.get(name):
            query = query.where(items.c[name] == filters[name])
    return [_item(r) for r in session.execute(query).mappings().all()]


def scheduled_due(session: Session, now: datetime) -> list[Item]:
    """Scheduled items whose embargo has passed."""
    return [_item(r) for r in session.execute(select(items).where(
        items.c.status == "scheduled", items.c.publish_at <= now)).mappings().all()]


def outdated(session: Session, statuses: tuple[str, ...], now: datetime) -> list[Item]:
    """Items in `statuses` whose `expires_at` has passed (the expiry sweep's candidates)."""
    return [_item(r) for r in session.execute(select(items).where(
        items.c.status.in_(statuses), items.c.expires_at <= now)).mappings().all()]


def live_items(session: Session, statuses: tuple[str, ...]) -> list[dict[str, Any]]:
    """Items on the channels now, newest first, as rows (what the website's index lists)."""
    return [_aware_row(r) for r in rows(session, select(items).where(
        items.c.status.in_(statuses)).order_by(items.c.published_at.desc()))]


def add_revision(session: Session, revision: Revision) -> None:
    session.execute(insert(revisions).values(**{k: getattr(revision, k)
                                                for k in REVISION_FIELDS}))


def get_revision(session: Session, item_id: str, number: int) -> Revision | None:
    row = session.execute(select(revisions).where(
        revisions.c.item_id == item_id, revisions.c.number == number)).mappings().first()
    return _revision(row) if row else None


def item_revisions(session: Session, item_id: str) -> list[Revision]:
    found = session.execute(select(revisions).where(revisions.c.item_id == item_id)
                            .order_by(revisions.c.number)).mappings().all()
    return [_revision(r) for r in found]


# --- notes, publications, channel statistics ---------------------------------------------------

def add_note(session: Session, item_id: str, kind: str, note: str, by: str, at: datetime
             ) -> None:
    session.execute(insert(notes).values(item_id=item_id, kind=kind, note=note, by=by, at=at))


def item_notes(session: Session, item_id: str) -> list[dict[str, Any]]:
    return rows(session, select(notes).where(notes.c.item_id == item_id).order_by(notes.c.id))


def item_publications(session: Session, item_id: str) -> list[dict[str, Any]]:
    return rows(session, select(publications).where(publications.c.item_id == item_id)
                .order_by(publications.c.id))


def record_publication(session: Session, item_id: str, channel: str, revision: int, url: str,
                       now: datetime, *, first: bool) -> None:
    """One row per channel the item is on, with its latest receipt; a new row only for a
    publication (`first`), never for a correction or retraction of a channel it is not on."""
    where = (publications.c.item_id == item_id, publications.c.channel == channel)
    done = session.execute(update(publications).where(*where).values(
        revision=revision, url=url)).rowcount
    if not done and first:
        session.execute(insert(publications).values(
            item_id=item_id, revision=revision, channel=channel, url=url, published_at=now))


def item_stats(session: Session, item_id: str) -> list[dict[str, Any]]:
    return rows(session, select(channel_stats).where(channel_stats.c.item_id == item_id))


def put_stats(session: Session, item_id: str, channel: str, values: Mapping[str, Any]) -> None:
    """The collector's latest counts replace the previous ones."""
    where = (channel_stats.c.item_id == item_id, channel_stats.c.channel == channel)
    if not session.execute(update(channel_stats).where(*where).values(**values)).rowcount:
        session.execute(insert(channel_stats).values(item_id=item_id, channel=channel,
                                                     **values))


# --- the publication queue ----------------------------------------------------------------------

def add_delivery(session: Session, **values: Any) -> None:
    session.execute(insert(deliveries).values(**values))


def cancel_pending(session: Session, item_id: str) -> None:
    session.execute(update(deliveries).where(
        deliveries.c.item_id == item_id, deliveries.c.status == "pending")
        .values(status="cancelled", next_attempt_at=None))


def due_deliveries(session: Session, now: datetime, limit: int) -> list[dict[str, Any]]:
    return rows(session, select(deliveries).where(
        deliveries.c.status == "pending", deliveries.c.next_attempt_at <= now)
        .order_by(deliveries.c.next_attempt_at, deliveries.c.id).limit(limit))


def lease_delivery(session: Session, delivery: Mapping[str, Any], until: datetime) -> bool:
    """Claim a pending delivery as it was read (a conditional update: two workers never both
    win it)."""
    return bool(session.execute(update(deliveries).where(
        deliveries.c.id == delivery["id"], deliveries.c.status == "pending",
        deliveries.c.next_attempt_at == delivery["next_attempt_at"])
        .values(next_attempt_at=until)).rowcount)


def update_delivery(session: Session, delivery_id: int, **values: Any) -> None:
    session.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(**values))


def pending_channels(session: Session, item_id: str, action: str, besides: int) -> list[str]:
    """Channels with a pending `action` delivery of the item, other than delivery `besides`."""
    return sorted({r["channel"] for r in rows(session, select(deliveries).where(
        deliveries.c.item_id == item_id, deliveries.c.action == action,
        deliveries.c.status == "pending", deliveries.c.id != besides))})


def item_deliveries(session: Session, item_id: str) -> list[dict[str, Any]]:
    return rows(session, select(deliveries).where(deliveries.c.item_id == item_id)
                .order_by(deliveries.c.id))


def list_deliveries(session: Session, statuses: tuple[str, ...] | None = None
                    ) -> list[dict[str, Any]]:
    query = select(deliveries).order_by(deliveries.c.id)
    if statuses is not None:
        query = query.where(deliveries.c.status.in_(statuses))
    return rows(session, query)


def pending_by_channel(session: Session) -> dict[str, int]:
    return {r["channel"]: r["n"] for r in session.execute(
        select(deliveries.c.channel, func.count().label("n"))
        .where(deliveries.c.status == "pending")
        .group_by(deliveries.c.channel)).mappings()}


def failed_by_channel(session: Session) -> dict[str, int]:
    return dict(session.execute(select(deliveries.c.channel, func.count()).where(
        deliveries.c.status == "failed").group_by(deliveries.c.channel)).all())


def deliveries_with_items(session: Session, statuses: tuple[str, ...] | None,
                          channel: str | None, limit: int) -> list[dict[str, Any]]:
    """Deliveries, newest first, each with its item's title and status (`item_status`)."""
    d, i = deliveries.c, items.c
    query = (select(deliveries, i.title, i.status.label("item_status"))
             .join(items, i.id == d.item_id).order_by(d.id.desc()).limit(limit))
    if statuses is not None:
        query = query.where(d.status.in_(statuses))
    if channel:
        query = query.where(d.channel == channel)
    return rows(session, query)


def failing_since(session: Session) -> dict[str, datetime]:
    """Per channel, the oldest delivery that failed (still retrying or given up) and was queued
    after the channel's last success."""
    d = deliveries.c
    last_ok = (select(d.channel, func.max(d.sent_at).label("at")).where(d.status == "sent")
               .group_by(d.channel).subquery())
    query = (select(d.channel, func.min(d.created_at))
             .outerjoin(last_ok, last_ok.c.channel == d.channel)
             .where(d.status.in_(("pending", "failed")), d.last_error.is_not(None),
                    or_(last_ok.c.at.is_(None), d.created_at > last_ok.c.at))
             .group_by(d.channel))
    return {channel: aware(at) for channel, at in session.execute(query).all()}


# --- the archive and the owners' notifications -------------------------------------------------

def add_archive_entry(session: Session, item_id: str, previous_status: str, reason: str,
                      snapshot: dict[str, Any], at: datetime) -> None:
    session.execute(insert(archive).values(item_id=item_id, previous_status=previous_status,
                                           reason=reason, snapshot=snapshot, archived_at=at))


def open_archive_entry(session: Session, item_id: str) -> dict[str, Any] | None:
    """The item's latest archive entry not yet restored."""
    found = rows(session, select(archive).where(
        archive.c.item_id == item_id, archive.c.restored_at.is_(None))
        .order_by(archive.c.id.desc()).limit(1))
    return found[0] if found else None


def mark_restored(session: Session, entry_id: int, at: datetime) -> None:
    session.execute(update(archive).where(archive.c.id == entry_id).values(restored_at=at))


def archive_entries(session: Session) -> list[dict[str, Any]]:
    return rows(session, select(archive.c.id, archive.c.item_id, archive.c.previous_status,
                                archive.c.reason, archive.c.archived_at, archive.c.restored_at)
                .order_by(archive.c.id.desc()))


def add_notification(session: Session, recipient: str, item_id: str | None, kind: str,
                     text: str, at: datetime) -> None:
    session.execute(insert(notifications).values(recipient=recipient, item_id=item_id,
                                                 kind=kind, text=text, created_at=at))


def list_notifications(session: Session, recipient: str | None = None, limit: int = 200
                       ) -> list[dict[str, Any]]:
    query = select(notifications).order_by(notifications.c.id.desc()).limit(limit)
    if recipient:
        query = query.where(notifications.c.recipient == recipient)
    return rows(session, query)


# --- the publicity plan -------------------------------------------------------------------------

def add_theme(session: Session, **values: Any) -> int:
    return int(session.execute(insert(plan_themes).values(**values)).inserted_primary_key[0])


def theme_exists(session: Session, theme_id: int) -> bool:
    return session.execute(select(plan_themes.c.id).where(plan_themes.c.id == theme_id)
                           ).first() is not None


def add_plan_entry(session: Session, theme_id: int, **values: Any) -> int:
    return int(session.execute(insert(plan_entries).values(theme_id=theme_id, **values))
               .inserted_primary_key[0])


def link_plan_entry(session: Session, entry_id: int, item_id: str) -> bool:
    """Link the entry to the item; False when there is no such entry."""
    return bool(session.execute(update(plan_entries).where(plan_entries.c.id == entry_id)
                                .values(item_id=item_id)).rowcount)


def month_themes(session: Session, month: str) -> list[dict[str, Any]]:
    return rows(session, select(plan_themes).where(plan_themes.c.month == month)
                .order_by(plan_themes.c.id))


def theme_entries(session: Session, theme_ids: list[int]) -> list[dict[str, Any]]:
    """The themes' entries, by due day, each with its item's status (`item_status`)."""
    return rows(session, select(plan_entries, items.c.status.label("item_status"))
                .outerjoin(items, items.c.id == plan_entries.c.item_id)
                .where(plan_entries.c.theme_id.in_(theme_ids))
                .order_by(plan_entries.c.due_on, plan_entries.c.id))


def entries_due(session: Session, first: date, before: date) -> list[dict[str, Any]]:
    """Plan entries due in `[first, before)` with their item's first publication time."""
    e, p = plan_entries.c, publications.c
    published = (select(p.item_id, func.min(p.published_at).label("published_at"))
                 .group_by(p.item_id).subquery())
    return rows(session, select(e.id, e.title, e.kind, e.owner, e.due_on, e.item_id,
                                published.c.published_at)
                .outerjoin(published, published.c.item_id == e.item_id)
                .where(e.due_on >= first, e.due_on < before).order_by(e.due_on, e.id))


# --- public comments ---------------------------------------------------------------------------

def add_comment(session: Session, **values: Any) -> bool:
    """Insert a comment; False when its (channel, external id) was seen before."""
    return insert_once(session, comments, **values)


def find_comments(session: Session, state: str, now: datetime, limit: int = 500
                  ) -> list[dict[str, Any]]:
    """`awaiting` (oldest deadline first), `overdue` (awaiting and past the deadline), `replied`."""
    query = select(comments).order_by(comments.c.reply_due_at).limit(limit)
    if state == "replied":
        query = query.where(comments.c.replied_at.is_not(None))
    else:
        query = query.where(comments.c.replied_at.is_(None))
        if state == "overdue":
            query = query.where(comments.c.reply_due_at < now)
    return rows(session, query)


def get_comment(session: Session, comment_id: int) -> dict[str, Any] | None:
    found = rows(session, select(comments).where(comments.c.id == comment_id))
    return found[0] if found else None


def answer_comment(session: Session, comment_id: int, text: str, by: str, at: datetime) -> None:
    session.execute(update(comments).where(comments.c.id == comment_id)
                    .values(reply=text, replied_by=by, replied_at=at))


def overdue_unannounced(session: Session, now: datetime, not_before: datetime, limit: int
                        ) -> list[dict[str, Any]]:
    """Unanswered comments past their reply deadline (due since `not_before`) whose overdue
    notice was not recorded yet, each with its item's title, author and correlation id; rows
    another transaction holds are skipped (it is announcing them)."""
    c, i = comments.c, items.c
    return rows(session, select(c.id, c.item_id, c.channel, c.received_at, c.reply_due_at,
                                i.title, i.author, i.correlation_id)
                .select_from(comments.outerjoin(items, i.id == c.item_id))
                .where(c.replied_at.is_(None), c.overdue_notified_at.is_(None),
                       c.reply_due_at < now, c.reply_due_at >= not_before)
                .order_by(c.reply_due_at).limit(limit)
                .with_for_update(of=comments, skip_locked=True))


def mark_overdue_announced(session: Session, comment_id: int, at: datetime) -> bool:
    """Record the overdue notice (False: another worker recorded it first)."""
    return bool(session.execute(update(comments).where(
        comments.c.id == comment_id, comments.c.overdue_notified_at.is_(None))
        .values(overdue_notified_at=at)).rowcount)


def purge_comments(session: Session, before: datetime, marker: str) -> int:
    """Comments received before `before` lose text, reply and author (set to `marker`)."""
    c = comments.c
    result = session.execute(update(comments).where(c.received_at < before, c.author != marker)
                             .values(author=marker, text="", reply=None))
    return int(result.rowcount or 0)


def comment_counts(session: Session, now: datetime) -> tuple[set[str], dict[str, int],
                                                              dict[str, int]]:
    """Channels with comments, and per channel the awaiting and the overdue counts."""
    c = comments.c
    channels = set(session.execute(select(c.channel).distinct()).scalars())
    waiting = dict(session.execute(select(c.channel, func.count()).where(
        c.replied_at.is_(None)).group_by(c.channel)).all())
    overdue = dict(session.execute(select(c.channel, func.count()).where(
        c.replied_at.is_(None), c.reply_due_at < now).group_by(c.channel)).all())
    return channels, waiting, overdue


def comments_received(session: Session, since: datetime, until: datetime,
                      columns: tuple[str, ...]) -> list[dict[str, Any]]:
    c = comments.c
    return rows(session, select(*(c[k] for k in columns))
                .where(c.received_at >= since, c.received_at < until)
                .order_by(c.received_at, c.id))

