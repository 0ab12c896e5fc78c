"""New-media interaction: channel statistics per item (views, likes, comments, posted by a
collector) and the queue of public comments awaiting a reply, each with a reply deadline."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from civicpulse.db import UnitOfWork
from civicpulse.envelope import new_event, utcnow
from civicpulse.pseudonyms import pseudonymise
from civicpulse.serialize import aware, iso, jsonable
from services.news import db, domain, items, metrics
from services.news.config import NewsConfig, pseudonym_key

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
        items.load(uow, item_id)
        db.put_stats(uow.session, item_id, data["channel"], values)
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
            accepted += db.add_comment(
                uow.session, item_id=c.get("item_id"), channel=c["channel"],
                external_id=c["external_id"], text=c["text"],
                author=pseudonymise(c["author"], key),  # never the handle itself
                received_at=received, reply_due_at=domain.reply_due(received, cfg.reply_hours))
        uow.commit()
    return {"accepted": accepted, "duplicates": len(batch) - accepted}


def list_comments(uow: UnitOfWork, state: str = "awaiting", now: datetime | None = None
                  ) -> list[dict[str, Any]]:
    """`awaiting` (oldest deadline first), `overdue` (awaiting and past the deadline), `replied`."""
    with uow:
        return [jsonable(r) for r in db.find_comments(uow.session, state, now or utcnow())]


def reply(uow: UnitOfWork, comment_id: int, text: str, by: str, now: datetime | None = None
          ) -> dict[str, Any]:
    now = now or utcnow()
    with uow:
        comment = db.get_comment(uow.session, comment_id)
        if comment is None:
            raise CommentNotFound(comment_id)
        if comment["replied_at"] is not None:
            raise AlreadyReplied(f"comment {comment_id} was answered already")
        db.answer_comment(uow.session, comment_id, text, by, now)
        uow.commit()
    received = aware(comment["received_at"])
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
    flagged = 0
    with uow:
        for row in db.overdue_unannounced(uow.session, now, now - OVERDUE_NOTICE_WINDOW, limit):
            if not db.mark_overdue_announced(uow.session, row["id"], now):
                continue
            uow.publish(new_event("news.comment.overdue", {
                "comment_id": row["id"], "item_id": row["item_id"],
                "item_title": row["title"], "owner": row["author"],
                "channel": row["channel"], "received_at": iso(row["received_at"]),
                "reply_due_at": iso(row["reply_due_at"])},
                correlation_id=row["correlation_id"] or f"comment-{row['id']}"))
            flagged += 1
        uow.commit()
    return flagged


def purge_comments(uow: UnitOfWork, retention_days: int, now: datetime | None = None) -> int:
    """Comments received before the retention period lose their text, reply and author
    pseudonym (the row, its channel, item and times stay for the statistics)."""
    now = now or utcnow()
    with uow:
        purged = db.purge_comments(uow.session, now - timedelta(days=retention_days), PURGED)
        uow.commit()
    return purged


def refresh_gauges(uow: UnitOfWork, now: datetime | None = None) -> None:
    """Awaiting and overdue comments per channel (before each scrape)."""
    with uow:
        channels, waiting, overdue = db.comment_counts(uow.session, now or utcnow())
    for channel in channels:
        metrics.comments_awaiting.labels(channel).set(waiting.get(channel, 0))
        metrics.comments_overdue.labels(channel).set(overdue.get(channel, 0))
