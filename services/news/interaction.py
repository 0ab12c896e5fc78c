"""New-media interaction: channel statistics per item (views, likes, comments, posted by a
collector) and the queue of public comments awaiting a reply, each with a reply deadline."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from civicpulse.db import UnitOfWork
from civicpulse.envelope import new_event, utcnow
from civicpulse.pseudonyms import pseudonymise
from services.news import db, domain, metrics
from services.news.config import NewsConfig, pseudonym_key
from services.news.handlers import aware, jsonable, load

PURGED = "(purged)"


class CommentNotFound(LookupError):
    pass


class AlreadyReplied(domain.NewsError):
    pass


def record_stats(uow: UnitOfWork, item_id: str, data: dict[str, Any],
                 now: datetime | None = None) -> dict[str, Any]:
    """The collector's latest counts for one item on one channel (they replace the previous)."""
    now = now or utcnow()
    values = {"views": data["views"], "likes": data["likes"], "comments": data["comments"],
              "collected_at": data.get("collected_at") or now}
    with uow:
        load(uow, item_id)
        where = (db.channel_stats.c.item_id == item_id,
                 db.channel_stats.c.channel == data["channel"])
        if not uow.session.execute(update(db.channel_stats).where(*where)
                                   .values(**values)).rowcount:
            uow.session.execute(insert(db.channel_stats).values(
                item_id=item_id, channel=data["channel"], **values))
        uow.commit()
    return jsonable({"item_id": item_id, "channel": data["channel"], **values})


def receive_comments(uow: UnitOfWork, batch: list[dict[str, Any]], cfg: NewsConfig,
                     now: datetime | None = None) -> dict[str, int]:
    """Public comments from a collector; a comment seen before (channel, external id) is
    skipped."""
    now = now or utcnow()
    accepted = 0
    key = pseudonym_key()
    with uow:
        for c in batch:
            received = c.get("received_at") or now
            try:
                with uow.session.begin_nested():
                    uow.session.execute(insert(db.comments).values(
                        item_id=c.get("item_id"), channel=c["channel"],
                        external_id=c["external_id"], text=c["text"],
                        author=pseudonymise(c["author"], key),  # never the handle itself
                        received_at=received,
                        reply_due_at=domain.reply_due(received, cfg.reply_hours)))
                accepted += 1
            except IntegrityError:
                continue
        uow.commit()
    return {"accepted": accepted, "duplicates": len(batch) - accepted}


def list_comments(uow: UnitOfWork, state: str = "awaiting", now: datetime | None = None
                  ) -> list[dict[str, Any]]:
    """`awaiting` (oldest deadline first), `overdue` (awaiting and past the deadline), `replied`."""
    now = now or utcnow()
    query = select(db.comments).order_by(db.comments.c.reply_due_at).limit(500)
    if state == "replied":
        query = query.where(db.comments.c.replied_at.is_not(None))
    else:
        query = query.where(db.comments.c.replied_at.is_(None))
        if state == "overdue":
            query = query.where(db.comments.c.reply_due_at < now)
    with uow:
        return [jsonable(r) for r in db.rows(uow.session, query)]


def reply(uow: UnitOfWork, comment_id: int, text: str, by: str, now: datetime | None = None
          ) -> dict[str, Any]:
    now = now or utcnow()
    with uow:
        found = db.rows(uow.session, select(db.comments).where(db.comments.c.id == comment_id))
        if not found:
            raise CommentNotFound(comment_id)
        comment = found[0]
        if comment["replied_at"] is not None:
            raise AlreadyReplied(f"comment {comment_id} was answered already")
        uow.session.execute(update(db.comments).where(db.comments.c.id == comment_id)
                            .values(reply=text, replied_by=by, replied_at=now))
        uow.commit()
    received = aware(comment["received_at"])
    assert received is not None
    metrics.comment_reply_seconds.observe(max((now - received).total_seconds(), 0.0))
    return jsonable({**comment, "reply": text, "replied_by": by, "replied_at": now})


# an overdue comment first seen later than this past its deadline (a backlog when the feature
# is first deployed, news down for days) is not announced: its reply is long overdue anyway
# and the overdue gauge shows it
OVERDUE_NOTICE_WINDOW = timedelta(days=1)


def flag_overdue_comments(uow: UnitOfWork, now: datetime | None = None, limit: int = 200
                          ) -> int:
    """`news.comment.overdue` once for each comment past its reply deadline and not answered
    (marked `overdue_notified_at` in the same transaction: a concurrent sweep skips it)."""
    now = now or utcnow()
    c, i = db.comments.c, db.items.c
    due = (select(c.id, c.item_id, c.channel, c.received_at, c.reply_due_at, i.title,
                  i.author, i.correlation_id)
           .select_from(db.comments.outerjoin(db.items, i.id == c.item_id))
           .where(c.replied_at.is_(None), c.overdue_notified_at.is_(None),
                  c.reply_due_at < now, c.reply_due_at >= now - OVERDUE_NOTICE_WINDOW)
           .order_by(c.reply_due_at).limit(limit).with_for_update(of=db.comments,
                                                                   skip_locked=True))
    flagged = 0
    with uow:
        for row in db.rows(uow.session, due):
            if not uow.session.execute(update(db.comments).where(
                    c.id == row["id"], c.overdue_notified_at.is_(None))
                    .values(overdue_notified_at=now)).rowcount:
                continue
            uow.publish(new_event("news.comment.overdue", {
                "comment_id": row["id"], "item_id": row["item_id"],
                "item_title": row["title"], "owner": row["author"],
                "channel": row["channel"], "received_at": aware(row["received_at"]).isoformat(),
                "reply_due_at": aware(row["reply_due_at"]).isoformat()},
                correlation_id=row["correlation_id"] or f"comment-{row['id']}"))
            flagged += 1
        uow.commit()
    return flagged


def purge_comments(uow: UnitOfWork, retention_days: int, now: datetime | None = None) -> int:
    """Comments received before the retention period lose their text, reply and author
    pseudonym (the row, its channel, item and times stay for the statistics)."""
    now = now or utcnow()
    cutoff = now - timedelta(days=retention_days)
    c = db.comments.c
    with uow:
        result = uow.session.execute(update(db.comments).where(
            c.received_at < cutoff, c.author != PURGED).values(
            author=PURGED, text="", reply=None))
        uow.commit()
    return int(result.rowcount or 0)


def refresh_gauges(uow: UnitOfWork, now: datetime | None = None) -> None:
    """Awaiting and overdue comments per channel (before each scrape)."""
    now = now or utcnow()
    c = db.comments.c
    with uow:
        channels = set(uow.session.execute(select(c.channel).distinct()).scalars())
        waiting = dict(uow.session.execute(select(c.channel, func.count()).where(
            c.replied_at.is_(None)).group_by(c.channel)).all())
        overdue = dict(uow.session.execute(select(c.channel, func.count()).where(
            c.replied_at.is_(None), c.reply_due_at < now).group_by(c.channel)).all())
    for channel in channels:
        metrics.comments_awaiting.labels(channel).set(waiting.get(channel, 0))
        metrics.comments_overdue.labels(channel).set(overdue.get(channel, 0))

