"""Storing a batch of new statements on PostgreSQL in one statement (the common case).

Most batches hold only statements the tool has never seen. For those, one SQL statement
stores the statements and their learning events, looking up each learner and course as
it goes (the same lookups as ``xapi.normalise.learning_events``, in SQL): one round trip
instead of six (BEGIN, three statements and COMMIT, and the events' lookup). Run in
autocommit it is atomic on its own, so the batch is still all or nothing.

It stores nothing, and says so, when any statement of the batch is already stored (an
id sent again: the careful path in ``xapi.statements`` compares contents in a
transaction), or when a concurrent request stores one of the ids first: its plain INSERT
then fails on the unique key, which undoes the whole statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.database import json_text
from xapi.normalise import Draft

# The batch: [statement id, body] rows, and the events' drafts (each naming its row by
# number, so a body travels once). Learner: by platform user id, else by email; course:
# the first of the statement's contexts that is a course of this platform.
_STORE = text("""
WITH input AS MATERIALIZED (
    SELECT r.value AS row, r.n FROM jsonb_array_elements(CAST(:rows AS jsonb))
        WITH ORDINALITY AS r(value, n)
), held AS (
    SELECT 1 FROM xapi_statements  -- an index lookup per id, whatever the store's size
    WHERE registration_id = :registration_id
      AND statement_id = ANY(ARRAY(SELECT row->>0 FROM input))
), fresh AS (
    INSERT INTO xapi_statements (registration_id, statement_id, credential_id, version, body,
                                 stored)
    SELECT :registration_id, row->>0, :credential_id, :version, (row->1)::json, :stored
    FROM input WHERE NOT EXISTS (SELECT 1 FROM held) ORDER BY n
    RETURNING statement_id
), events AS (
    INSERT INTO learning_events (idempotency_key, registration_id, course_id, person_id, actor,
        verb, activity_id, activity_name, completion, success, score_raw, score_max,
        score_scaled, occurred_at, source, raw, recorded_at)
    SELECT e->>'idempotency_key', :registration_id,
        (SELECT c.id FROM courses c JOIN deployments d ON d.id = c.deployment_id
         JOIN jsonb_array_elements_text(e->'contexts') WITH ORDINALITY AS k(context_id, n)
           ON k.context_id = c.context_id
         WHERE d.registration_id = :registration_id ORDER BY k.n, c.id LIMIT 1),
        COALESCE(
            (SELECT p.id FROM people p
             WHERE p.registration_id = :registration_id AND p.subject = e->>'subject'),
            CASE WHEN e->>'email' IS NOT NULL THEN
                (SELECT p.id FROM people p
                 WHERE p.registration_id = :registration_id AND lower(p.email) = e->>'email'
                 ORDER BY p.id LIMIT 1)
            END),
        (e->'actor')::json, e->>'verb', e->>'activity_id', e->>'activity_name',
        (e->>'completion')::boolean, (e->>'success')::boolean, (e->>'score_raw')::float8,
        (e->>'score_max')::float8, (e->>'score_scaled')::float8,
        (e->>'occurred_at')::timestamptz, e->>'source', (input.row->1)::json, :stored
    FROM jsonb_array_elements(CAST(:events AS jsonb)) AS ev(e)
    JOIN input ON input.n = (e->>'n')::bigint
    JOIN fresh ON fresh.statement_id = input.row->>0
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM held), (SELECT count(*) FROM fresh), (SELECT count(*) FROM events)
""")
_EVENT_FIELDS = (
    "idempotency_key", "actor", "verb", "activity_id", "activity_name", "completion", "success",
    "score_raw", "score_max", "score_scaled", "occurred_at", "source",
)  # fmt: skip


def store_new(
    session: Session,
    connection: Connection,
    rows: Sequence[dict[str, Any]],
    drafts: Sequence[Draft],
    *,
    stored: datetime,
) -> tuple[int, int] | None:
    """Store the batch's statements and events if every statement is new: (statements,
    events) stored; None (and nothing stored) if any was not.

    ``drafts`` were made from the rows' bodies, in the rows' order.
    Runs on ``connection``: in autocommit it stands alone; in a transaction (the tests'),
    inside a savepoint, so a failed attempt leaves the transaction usable.
    """
    first = rows[0]
    events = [
        {**{name: draft.event[name] for name in _EVENT_FIELDS}, "n": draft.index + 1,
         "subject": draft.subject, "email": draft.email, "contexts": draft.contexts}
        for draft in drafts
    ]  # fmt: skip
    parameters = {
        "rows": json_text([[row["statement_id"], row["body"]] for row in rows]),
        "events": json_text(events), "registration_id": first["registration_id"],
        "credential_id": first["credential_id"], "version": first["version"], "stored": stored,
    }  # fmt: skip
    autocommit = connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
    savepoint = None if autocommit else connection.begin_nested()
    try:
        held, fresh, recorded = connection.execute(_STORE, parameters).one()
    except IntegrityError:  # another request stored one of these ids first
        if savepoint is not None:
            savepoint.rollback()
        else:
            session.rollback()
        return None
    if savepoint is not None:
        savepoint.commit()
    return None if held else (int(fresh), int(recorded))
