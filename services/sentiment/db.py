"""Sentiment tables (SQLAlchemy Core). Raw mentions are purged of text after the retention
period; `topic_buckets` (per-topic, per-minute aggregates) and `stories` stay."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

metadata = MetaData()

mentions = Table(
    "mentions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("channel", String(64), nullable=False, default="web"),
    Column("author_hash", String(64), nullable=True),
    Column("text", Text, nullable=True),
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("ingested_at", DateTime(timezone=True), nullable=False),
    Column("reach", Integer, nullable=False, default=0),
    Column("score", Float, nullable=False),
    Column("label", String(16), nullable=False),
    Column("url", String(1024), nullable=True),
    Column("reposts", Integer, nullable=False, server_default="0"),
    Column("likes", Integer, nullable=False, server_default="0"),
    Column("comments", Integer, nullable=False, server_default="0"),
    Column("story_id", Integer, nullable=True),
    Column("purged_at", DateTime(timezone=True), nullable=True),
    Column("collector", String(64), nullable=True),  # who sent it (None: imported, feeds)
    UniqueConstraint("source", "external_id", name="uq_mentions_source_external"),
    Index("ix_mentions_published_at", "published_at"),
    Index("ix_mentions_story_id", "story_id"),
)

collectors = Table(
    "collectors", metadata,
    Column("name", String(64), primary_key=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("rotated_at", DateTime(timezone=True), nullable=True),
    Column("disabled_at", DateTime(timezone=True), nullable=True),
)

mention_topics = Table(
    "mention_topics", metadata,
    Column("mention_id", Integer, primary_key=True),
    Column("topic", String(64), primary_key=True),
    Column("label", String(16), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False, index=True),
)

stories = Table(
    "stories", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("simhash", BigInteger, nullable=False),
    Column("band0", Integer, nullable=False, index=True),
    Column("band1", Integer, nullable=False, index=True),
    Column("band2", Integer, nullable=False, index=True),
    Column("band3", Integer, nullable=False, index=True),
    Column("first_mention_id", Integer, nullable=True),
    Column("mention_count", Integer, nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False, index=True),
)

topic_buckets = Table(
    "topic_buckets", metadata,
    Column("topic", String(64), primary_key=True),
    Column("bucket", DateTime(timezone=True), primary_key=True),
    Column("volume", Integer, nullable=False),
    Column("negative", Integer, nullable=False),
    Column("positive", Integer, nullable=False),
    Column("weight", Float, nullable=False),
    Column("negative_weight", Float, nullable=False),
)

topic_baselines = Table(
    "topic_baselines", metadata,
    Column("topic", String(64), primary_key=True),
    Column("mean", Float, nullable=False),
    Column("var", Float, nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("folded_until", DateTime(timezone=True), nullable=True),
)

incidents = Table(
    "incidents", metadata,
    Column("id", String(64), primary_key=True),
    Column("topic", String(64), nullable=False, index=True),
    Column("level", String(4), nullable=False),
    Column("status", String(16), nullable=False),
    Column("detected_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("status_since", DateTime(timezone=True), nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("peak_level", String(4), nullable=True),
    Column("peak_negative", Integer, nullable=True),
    Column("evidence", Text, nullable=True),  # JSON: top mentions by reach, sentiment curve
)

# The incident's lifecycle, one row per event it went through (the level history).
incident_history = Table(
    "incident_history", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", String(64), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("event", String(16), nullable=False),
    Column("level", String(4), nullable=False),
    Column("status", String(16), nullable=False),
    Column("negative_count", Integer, nullable=True),
    Column("negative_ratio", Float, nullable=True),
)


def upsert(session: Session, table: Table):  # noqa: ANN201 - dialect-specific Insert
    """INSERT with ON CONFLICT support for the session's dialect (PostgreSQL or SQLite)."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table))


_PG_ARRAY = {"integer": "int4[]", "big_integer": "int8[]", "float": "float8[]",
             "datetime": "timestamptz[]", "string": "text[]", "text": "text[]"}


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]], *,
                conflict: Sequence[str] = (), add_on_conflict: Sequence[str] = (),
                returning: Sequence[str] = ()) -> list[Any]:
    """Insert many rows in one statement; on a conflict on `conflict` columns do nothing, or add
    the `add_on_conflict` columns to the existing row. Returns the `returning` columns of the
    inserted rows, in insertion order.

    On PostgreSQL this is ONE `INSERT ... SELECT FROM unnest(<one array per column>)`: the SQL
    text is the same for every batch (parsed once, cached), and the data travels as arrays.
    Elsewhere (SQLite) it is an executemany of a multi-row INSERT."""
    if not rows:
        return []
    cols = list(rows[0])
    if session.get_bind().dialect.name != "postgresql":
        stmt = upsert(session, table)
        if add_on_conflict:
            stmt = stmt.on_conflict_do_update(index_elements=list(conflict), set_={
                c: table.c[c] + stmt.excluded[c] for c in add_on_conflict})
        elif conflict:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict))
        if returning:
            stmt = stmt.returning(*[table.c[c] for c in returning], sort_by_parameter_order=True)
            return list(session.execute(stmt, rows))
        session.execute(stmt, rows)
        return []
    # Columns with one value for the whole batch travel once; timestamps as epoch seconds
    # (a float8 array is much cheaper to send than a timestamptz one).
    same = [c for c in cols[1:] if all(r[c] == rows[0][c] for r in rows)]
    varying = [c for c in cols if c not in same]  # never empty: unnest needs an array
    params: dict[str, Any] = {f"k_{c}": rows[0][c] for c in same}
    select_list = []
    for c in cols:
        if c in same:
            select_list.append(f"CAST(:k_{c} AS {_pg_array(table.c[c])[:-2]})")
        elif table.c[c].type.__visit_name__ == "datetime":
            params[c] = [r[c].timestamp() if r[c] is not None else None for r in rows]
            select_list.append(f"to_timestamp({c})")
        else:
            params[c] = [r[c] for r in rows]
            select_list.append(c)
    arrays = ", ".join(f"CAST(:{c} AS {_pg_array(table.c[c], epoch=True)})" for c in varying)
    sql = (f"INSERT INTO {table.name} ({', '.join(cols)}) SELECT {', '.join(select_list)} FROM "
           f"unnest({arrays}) WITH ORDINALITY AS u({', '.join(varying)}, _ord) ORDER BY _ord")
    if add_on_conflict:
        sql += (f" ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET " + ", ".join(
            f"{c} = {table.name}.{c} + EXCLUDED.{c}" for c in add_on_conflict))
    elif conflict:
        sql += f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
    if returning:
        sql += f" RETURNING {', '.join(returning)}"
    result = session.execute(text(sql), params)
    if not returning:
        return []
    out = list(result)
    return sorted(out, key=lambda r: r[0]) if returning[0] == "id" else out


def _pg_array(column: Column, epoch: bool = False) -> str:
    kind = column.type.__visit_name__
    return "float8[]" if epoch and kind == "datetime" else _PG_ARRAY[kind]
