"""Near-duplicate reposts grouped into stories: SimHash bands find candidates in one query per
batch, a Hamming distance of at most 3 bits makes a repost."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from services.sentiment import db, domain

LOOKBACK = timedelta(days=7)  # reposts of a story older than this start a new story


def assign(session: Session, hashes: list[int], now: datetime) -> tuple[list[int], int]:
    """Story id for each hash (new stories created); and how many joined an existing story."""
    candidates = _candidates(session, hashes, now)
    new_reps: list[int] = []  # representative hashes of stories created in this batch
    per_story: dict[int, int] = {}
    pending: list[int] = []  # index into new_reps for each hash that starts/joins a new story
    assigned: list[int | None] = []
    for h in hashes:
        sid = _match(h, candidates)
        if sid is not None:
            assigned.append(sid)
            per_story[sid] = per_story.get(sid, 0) + 1
            pending.append(-1)
            continue
        j = next((i for i, r in enumerate(new_reps) if domain.near_duplicate(h, r)), None)
        if j is None:
            new_reps.append(h)
            j = len(new_reps) - 1
        assigned.append(None)
        pending.append(j)
    new_ids = _create(session, new_reps, pending, now)
    if per_story:
        for sid, n in per_story.items():
            session.execute(update(db.stories).where(db.stories.c.id == sid).values(
                mention_count=db.stories.c.mention_count + n, last_seen=now))
    out = [a if a is not None else new_ids[p] for a, p in zip(assigned, pending, strict=True)]
    reposts = len(hashes) - len(new_reps)
    return out, reposts


def _candidates(session: Session, hashes: list[int], now: datetime) -> list[tuple[int, int]]:
    if not hashes:
        return []
    bands = [set() for _ in range(domain.BANDS)]
    for h in hashes:
        for i, b in enumerate(domain.bands(h)):
            bands[i].add(b)
    cols = [db.stories.c.band0, db.stories.c.band1, db.stories.c.band2, db.stories.c.band3]
    rows = session.execute(select(db.stories.c.id, db.stories.c.simhash).where(
        db.stories.c.last_seen >= now - LOOKBACK,
        or_(*[c.in_(sorted(b)) for c, b in zip(cols, bands, strict=True)]))).all()
    return [(int(r.id), domain.from_signed64(int(r.simhash))) for r in rows]


def _match(h: int, candidates: list[tuple[int, int]]) -> int | None:
    for sid, other in candidates:
        if domain.near_duplicate(h, other):
            return sid
    return None


def _create(session: Session, reps: list[int], pending: list[int], now: datetime) -> list[int]:
    if not reps:
        return []
    counts = [0] * len(reps)
    for p in pending:
        if p >= 0:
            counts[p] += 1
    rows = []
    for h, n in zip(reps, counts, strict=True):
        b = domain.bands(h)
        rows.append({"simhash": domain.to_signed64(h), "band0": b[0], "band1": b[1],
                     "band2": b[2], "band3": b[3], "mention_count": n, "first_seen": now,
                     "last_seen": now})
    result = session.execute(insert(db.stories).returning(db.stories.c.id, db.stories.c.simhash,
                                                           sort_by_parameter_order=True), rows)
    return [int(r.id) for r in result]
