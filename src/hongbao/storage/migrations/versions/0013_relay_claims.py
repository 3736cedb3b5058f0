"""Indexes that fit the outbox relay's batch claim and the backlog's listings by state.

Revision ID: 0013_relay_claims
Revises: 0012_api
Create Date: 2026-11-29

Sessions on PostgreSQL plan every statement once, generically, with sequential scans priced
out, so a statement without an index that fits it reads and sorts the whole table each time
(and, priced that high, is compiled by JIT on every call).

- ``platform_outbox_deliveries_due`` holds the relay's whole claim order (due time, consumer,
  stream, sequence): a claim reads the index from its start and stops at its ``LIMIT``, where
  the index on the due time alone made it sort every due delivery for each claim.
- ``platform_outbox_deliveries_open`` holds only deliveries not yet delivered, in stream order:
  "is an earlier event of this stream still open?" and "the open deliveries of these streams"
  read a few entries, not a stream's delivered history. It replaces the index on every delivery
  by stream, which served only that question and cost a write per delivered mark.
- ``platform_outbox_deliveries_dead`` and ``platform_due_work_dead`` list dead rows for
  operators without reading the delivered (done) history.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_relay_claims"
down_revision = "0012_api"
branch_labels = None
depends_on = None

DELIVERIES = "platform_outbox_deliveries"
CLAIM_ORDER = ["next_attempt_at_us", "consumer", "stream", "stream_sequence"]
STREAM_ORDER = ["consumer", "stream", "stream_sequence"]


def _partial_index(name: str, table: str, columns: list[str], where: str) -> None:
    op.create_index(
        name, table, columns, postgresql_where=sa.text(where), sqlite_where=sa.text(where)
    )


def upgrade() -> None:
    op.drop_index("platform_outbox_deliveries_due", table_name=DELIVERIES)
    _partial_index("platform_outbox_deliveries_due", DELIVERIES, CLAIM_ORDER, "state = 'pending'")
    op.drop_index("platform_outbox_deliveries_stream", table_name=DELIVERIES)
    _partial_index(
        "platform_outbox_deliveries_open", DELIVERIES, STREAM_ORDER, "state <> 'delivered'"
    )
    _partial_index("platform_outbox_deliveries_dead", DELIVERIES, CLAIM_ORDER, "state = 'dead'")
    _partial_index(
        "platform_due_work_dead", "platform_due_work", ["due_at_us", "id"], "state = 'dead'"
    )


def downgrade() -> None:
    op.drop_index("platform_due_work_dead", table_name="platform_due_work")
    op.drop_index("platform_outbox_deliveries_dead", table_name=DELIVERIES)
    op.drop_index("platform_outbox_deliveries_open", table_name=DELIVERIES)
    op.create_index("platform_outbox_deliveries_stream", DELIVERIES, STREAM_ORDER)
    op.drop_index("platform_outbox_deliveries_due", table_name=DELIVERIES)
    _partial_index(
        "platform_outbox_deliveries_due", DELIVERIES, ["next_attempt_at_us"], "state = 'pending'"
    )
