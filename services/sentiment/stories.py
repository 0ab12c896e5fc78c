"""Near-duplicate reposts grouped into stories: SimHash bands find candidates in one query per
batch, a Hamming distance of at most 3 bits makes a repost."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select, text, update
from sqlalchemy.orm import Session

from services.sentiment import db, domain

LOOKBACK = timedelta(days=7)  # reposts of a story older than this start a new story


class _BandIndex:
    """Hashes indexed by each of their 16-bit bands: near duplicates share at least one."""

    def __init__(self) -> None:
        self._bands: list[dict[int, list[tuple[int, int]]]] = [{} for _ in range(domain.BANDS)]

    def add(self, key: int, h: int, bands: tuple[int, ...] | None = None,
            only: list[set[int]] | None = None) -> None:
        for i, b in enumerate(bands or domain.bands(h)):
            if only is None or b in only[i]:
                self._bands[i].setdefault(b, []).append((key, h))

    def find(self, h: int) -> int | None:
        for i, b in enumerate(domain.bands(h)):
            for key, other in self._bands[i].get(b, ()):
                if domain.near_duplicate(h, other):
                    return key
        return None


def assign(session: Session, hashes: list[int], now: datetime) -> tuple[list[int], int]:
    """Story id for each hash (new stories created); and how many joined an existing story."""
    if session.get_bind().dialect.name == "postgresql":
        matches = _matches_pg(session, hashes, now)
        known = None
    else:
        matches = {}
        known = _BandIndex()
        wanted: list[set[int]] = [set() for _ in range(domain.BANDS)]
        for h in hashes:
            for i, b in enumerate(domain.bands(h)):
                wanted[i].add(b)
        for sid, h, bands in _candidates(session, wanted, now):
            known.add(sid, h, bands, wanted)  # only the bands a hash of this batch looks up
    fresh = _BandIndex()  # stories created by this batch, keyed by their index in new_reps
    new_reps: list[int] = []
    per_story: dict[int, int] = {}
    pending: list[int] = []  # index into new_reps for each hash that starts/joins a new story
    assigned: list[int | None] = []
    for k, h in enumerate(hashes):
        sid = matches.get(k) if known is None else known.find(h)
        if sid is not None:
            assigned.append(sid)
            per_story[sid] = per_story.get(sid, 0) + 1
            pending.append(-1)
            continue
        j = fresh.find(h)
        if j is None:
            new_reps.append(h)
            j = len(new_reps) - 1
            fresh.add(j, h)
        assigned.append(None)
        pending.append(j)
    new_ids = _create(session, new_reps, pending, now)
    if per_story:
        session.execute(update(db.stories).where(db.stories.c.id == bindparam("sid")).values(
            mention_count=db.stories.c.mention_count + bindparam("n"), last_seen=now),
            [{"sid": sid, "n": n} for sid, n in sorted(per_story.items())])
    out = [a if a is not None else new_ids[p] for a, p in zip(assigned, pending, strict=True)]
    reposts = len(hashes) - len(new_reps)
    return out, reposts


def _matches_pg(session: Session, hashes: list[int], now: datetime) -> dict[int, int]:
    """Index in `hashes` -> an existing story within 3 bits, computed by PostgreSQL: one join
    per band (each on its index), Hamming distance with bit_count."""
    if not hashes:
        return {}
    bands = [domain.bands(h) for h in hashes]
    params: dict[str, object] = {"h": [domain.to_signed64(h) for h in hashes],
                                 "since": now - LOOKBACK, "bits": domain.NEAR_DUPLICATE_BITS}
    for i in range(domain.BANDS):
        params[f"b{i}"] = [b[i] for b in bands]
    joins = " UNION ALL ".join(
        f"SELECT q.i, s.id FROM q JOIN stories s ON s.band{i} = q.b{i} "
        f"WHERE s.last_seen >= :since AND bit_count((s.simhash # q.h)::bit(64)) <= :bits"
        for i in range(domain.BANDS))
    rows = session.execute(text(
        "WITH q AS (SELECT * FROM unnest(CAST(:h AS int8[]), CAST(:b0 AS int4[]), "
        "CAST(:b1 AS int4[]), CAST(:b2 AS int4[]), CAST(:b3 AS int4[])) WITH ORDINALITY "
        f"AS q(h, b0, b1, b2, b3, i)) SELECT i, min(id) FROM ({joins}) m GROUP BY i"), params)
    return {int(i) - 1: int(sid) for i, sid in rows}


def _candidates(session: Session, bands: list[set[int]], now: datetime
                ) -> list[tuple[int, int, tuple[int, ...]]]:
    if not bands[0]:
        return []
    cols = [db.stories.c.band0, db.stories.c.band1, db.stories.c.band2, db.stories.c.band3]
    cond = or_(*[c.in_(sorted(b)) for c, b in zip(cols, bands, strict=True)])
    rows = session.execute(select(db.stories.c.id, db.stories.c.simhash, *cols).where(
        db.stories.c.last_seen >= now - LOOKBACK, cond)).all()
    return [(r[0], domain.from_signed64(r[1]), (r[2], r[3], r[4], r[5])) for r in rows]


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
    return [int(r.id) for r in db.bulk_insert(session, db.stories, rows, returning=("id",))]
