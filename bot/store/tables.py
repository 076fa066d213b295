"""SQLAlchemy Core tables: the single source of truth. Portable SQL only (SQLite and PostgreSQL)."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend (SQLite keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored: times are UTC and aware")
        return value.astimezone(UTC).replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        """On SQLite, `process_result_value` after SQLAlchemy's parsing (`fromisoformat`), fused: a
        day is read in one go, and `replace(tzinfo=)` costs several times the parse."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        return _sqlite_utc


def _sqlite_utc(value: str | None) -> datetime | None:
    if value is None:
        return None
    if len(value) > 10:  # a naive date and time, as SQLAlchemy stores it: read as UTC in one step
        try:  # (not contextlib.suppress: this runs for every time read)
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:
            pass
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer, primary_key=True)


def _stamps() -> list[sa.Column[datetime]]:
    return [
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    ]


depots = sa.Table(
    "depots",
    metadata,
    _id(),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("address", sa.String(500), nullable=False, server_default=""),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    *_stamps(),
)

drivers = sa.Table(
    "drivers",
    metadata,
    _id(),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("phone", sa.String(32)),
    sa.Column("depot_id", sa.ForeignKey("depots.id", ondelete="RESTRICT"), nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("skills", sa.JSON, nullable=False),
    sa.Column("shift_start", sa.Time, nullable=False),
    sa.Column("shift_end", sa.Time, nullable=False),
    sa.Column("start_lat", sa.Float),
    sa.Column("start_lon", sa.Float),
    sa.Column("end_lat", sa.Float),
    sa.Column("end_lon", sa.Float),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("position_lat", sa.Float),
    sa.Column("position_lon", sa.Float),
    sa.Column("position_at", UtcDateTime),
    # The driver's Telegram chat, and the one-time code that links one (sha256 hex; cleared once used).
    sa.Column("telegram_chat_id", sa.String(64)),  # unique: ix_drivers_telegram_chat_id
    sa.Column("link_code_hash", sa.String(64)),
    sa.Column("link_code_expires_at", UtcDateTime),
    *_stamps(),
    sa.Index("ix_drivers_telegram_chat_id", "telegram_chat_id", unique=True),
)

recipients = sa.Table(
    "recipients",
    metadata,
    _id(),
    sa.Column("phone", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(320)),
    sa.Column("locale", sa.String(16), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("safe_drop", sa.Text),  # standing preference for every delivery
    *_stamps(),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    _id(),
    sa.Column("order_id", sa.String(100), nullable=False, unique=True),
    sa.Column("recipient_id", sa.ForeignKey("recipients.id", ondelete="RESTRICT"), nullable=False),
    # NULL: any depot's vehicles may serve it.
    sa.Column("depot_id", sa.ForeignKey("depots.id", ondelete="RESTRICT")),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("phone", sa.String(32), nullable=False),
    sa.Column("locale", sa.String(16), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("address", sa.String(500), nullable=False),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("window_start", UtcDateTime, nullable=False),
    sa.Column("window_end", UtcDateTime, nullable=False),
    sa.Column("service_s", sa.Integer, nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("skills", sa.JSON, nullable=False),
    sa.Column("notes", sa.Text, nullable=False, server_default=""),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("tracking_token", sa.String(64), nullable=False, unique=True),
    sa.Column("safe_drop", sa.Text),  # where to leave it, as the driver reads it
    sa.Column("access_code", sa.String(32)),  # shown only on the driver's stop card
    sa.Column("confirmed_at", UtcDateTime),
    sa.Column("rating", sa.Integer),
    sa.Column("rating_comment", sa.Text),
    sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false()),  # support took over
    *_stamps(),
    sa.Index("ix_deliveries_date_status", "date", "status"),
)

plans = sa.Table(
    "plans",
    metadata,
    _id(),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("matrix", sa.String(32), nullable=False),
    sa.Column("cost", sa.Integer, nullable=False),
    sa.Column("solve_ms", sa.Integer, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False, server_default="0"),  # incremental re-plans since
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("pending_checked_at", UtcDateTime),  # when new deliveries of the day were last taken in
    sa.UniqueConstraint("date", "version", name="uq_plans_date_version"),
)

routes = sa.Table(
    "routes",
    metadata,
    _id(),
    sa.Column("plan_id", sa.ForeignKey("plans.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("driver_id", sa.ForeignKey("drivers.id", ondelete="RESTRICT"), nullable=False),
    sa.Column("start_at", UtcDateTime, nullable=False),
    sa.Column("end_at", UtcDateTime, nullable=False),
    sa.Column("distance_m", sa.Integer, nullable=False),
    sa.Column("duration_s", sa.Integer, nullable=False),
    sa.UniqueConstraint("plan_id", "driver_id", name="uq_routes_plan_driver"),
)

stops = sa.Table(
    "stops",
    metadata,
    _id(),
    sa.Column("route_id", sa.ForeignKey("routes.id", ondelete="CASCADE"), nullable=False),
    sa.Column("delivery_id", sa.ForeignKey("deliveries.id", ondelete="RESTRICT"), nullable=False, index=True),
    sa.Column("sequence", sa.Integer, nullable=False),
    sa.Column("planned_arrival", UtcDateTime, nullable=False),
    sa.Column("promised_start", UtcDateTime, nullable=False),
    sa.Column("promised_end", UtcDateTime, nullable=False),
    sa.UniqueConstraint("route_id", "sequence", name="uq_stops_route_sequence"),
)

unassigned = sa.Table(
    "unassigned",
    metadata,
    _id(),
    sa.Column("plan_id", sa.ForeignKey("plans.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("delivery_id", sa.ForeignKey("deliveries.id", ondelete="RESTRICT"), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)

events = sa.Table(
    "events",
    metadata,
    _id(),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("delivery_id", sa.ForeignKey("deliveries.id", ondelete="RESTRICT")),
    sa.Column("driver_id", sa.ForeignKey("drivers.id", ondelete="RESTRICT")),
    sa.Column("plan_id", sa.ForeignKey("plans.id", ondelete="RESTRICT")),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    # a delivery's events; with kind and time, the board's "when was it reached" reads the index alone
    sa.Index("ix_events_delivery_kind_at", "delivery_id", "kind", "at"),
)

# How each recipient can be reached, per channel: the address there and whether it still works.
contacts = sa.Table(
    "contacts",
    metadata,
    _id(),
    sa.Column("recipient_id", sa.ForeignKey("recipients.id", ondelete="CASCADE"), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # active | opted_out | dead | invalid
    sa.Column("priority", sa.Integer, nullable=False),  # lower first
    *_stamps(),
    sa.UniqueConstraint("recipient_id", "channel", name="uq_contacts_recipient_channel"),
)

# The outbox: every message is a row, written in the same transaction as the change that causes it.
messages = sa.Table(
    "messages",
    metadata,
    _id(),
    sa.Column("idem_key", sa.String(200), nullable=False, unique=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("locale", sa.String(16), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),  # the reader's, for quiet hours
    sa.Column("delivery_id", sa.ForeignKey("deliveries.id", ondelete="RESTRICT"), index=True),
    sa.Column("recipient_id", sa.ForeignKey("recipients.id", ondelete="RESTRICT"), index=True),
    sa.Column("driver_id", sa.ForeignKey("drivers.id", ondelete="RESTRICT")),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("urgent", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("due_at", UtcDateTime, nullable=False),
    sa.Column("valid_until", UtcDateTime),
    sa.Column("next_attempt_at", UtcDateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),  # ours, not the provider's
    sa.Column("lease_until", UtcDateTime),
    sa.Column("lease_owner", sa.String(64)),
    sa.Column("provider_ref", sa.String(128)),
    sa.Column("provider_status", sa.String(16)),  # what the provider last reported (delivered, failed...)
    sa.Column("error", sa.Text),
    sa.Column("sent_at", UtcDateTime),
    *_stamps(),
    sa.Index("ix_messages_status_next", "status", "next_attempt_at"),
    sa.Index("ix_messages_address_ref", "address", "provider_ref"),  # a button press finds its message
    # the console's queue: has support answered this delivery, recipient or address since then?
    sa.Index("ix_messages_kind_delivery", "kind", "delivery_id", "created_at"),
    sa.Index("ix_messages_kind_recipient", "kind", "recipient_id", "created_at"),
    sa.Index("ix_messages_kind_address", "kind", "address", "channel", "created_at"),
)

# Delivery reports (Twilio status callbacks) for a provider id the outbox does not hold (yet): the
# callback can beat the dispatcher's write of the id; they are applied when it lands.
receipts = sa.Table(
    "receipts",
    metadata,
    _id(),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("provider_ref", sa.String(128), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error_code", sa.String(16)),
    sa.Column("raw", sa.JSON, nullable=False),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("channel", "provider_ref", name="uq_receipts_channel_provider_ref"),
)

# Everything that came in (SMS, Telegram, sandbox), stored before it is acted on; unique per provider id.
inbox = sa.Table(
    "inbox",
    metadata,
    _id(),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("provider_ref", sa.String(128), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("raw", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # received | done | parked | poison | ...
    sa.Column("delivery_id", sa.ForeignKey("deliveries.id", ondelete="RESTRICT"), index=True),
    sa.Column("intent", sa.String(32)),
    sa.Column("error", sa.Text),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),  # tries that failed
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Column("processed_at", UtcDateTime),
    sa.UniqueConstraint("channel", "provider_ref", name="uq_inbox_channel_ref"),
    sa.Index("ix_inbox_address_received", "address", "received_at"),  # per-sender rate limits
    sa.Index("ix_inbox_intent_received", "intent", "received_at"),  # replies the bot could not answer
    sa.Index("ix_inbox_status_received", "status", "received_at"),  # ...and those never handled
)

# One row the health check (/readyz) writes: the database takes a write right now.
health = sa.Table(
    "health",
    metadata,
    _id(),
    sa.Column("checked_at", UtcDateTime, nullable=False),
)

# The promise ledger: every window held for a recipient, in order; the highest version is the promise,
# and `told_at` says whether (and since when) the recipient knows it.
promises = sa.Table(
    "promises",
    metadata,
    _id(),
    sa.Column("delivery_id", sa.ForeignKey("deliveries.id", ondelete="RESTRICT"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("start", UtcDateTime, nullable=False),
    sa.Column("end", UtcDateTime, nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),  # planned | rescheduled | late
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("told_at", UtcDateTime),  # when a message stating this window was first queued; None: untold
    sa.UniqueConstraint("delivery_id", "version", name="uq_promises_delivery_version"),
)

# What a person on the support team has to look at.
escalations = sa.Table(
    "escalations",
    metadata,
    _id(),
    sa.Column("delivery_id", sa.ForeignKey("deliveries.id", ondelete="RESTRICT")),
    sa.Column("recipient_id", sa.ForeignKey("recipients.id", ondelete="RESTRICT")),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # open | resolved
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("resolved_at", UtcDateTime),
    # staff_users.id of who took it in the console, and who resolved it (no FK: SQLite cannot add one in
    # place, and copying escalations would break what points at it; see migration 0005)
    sa.Column("assigned_to", sa.Integer),
    sa.Column("assigned_at", UtcDateTime),
    sa.Column("resolved_by", sa.Integer),
    sa.Index("ix_escalations_status_created", "status", "created_at"),  # the console's queue
    sa.Index("ix_escalations_delivery_status", "delivery_id", "status"),  # a delivery's (open) ones
)

# The recipient's page links (bot/store/links.py): each message's link is its own token, kept only as
# its SHA-256; revoking a delivery's links revokes every one of them.
links = sa.Table(
    "links",
    metadata,
    _id(),
    sa.Column("delivery_id", sa.ForeignKey("deliveries.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime),
)

# Proof-of-delivery photos, kept here (a driver's Telegram photo is downloaded when it comes): the
# recipient's page shows the latest of a delivered parcel. `ref`: the Telegram file id, if any.
photos = sa.Table(
    "photos",
    metadata,
    _id(),
    sa.Column("delivery_id", sa.ForeignKey("deliveries.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("taken_at", UtcDateTime, nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("ref", sa.String(200)),
    sa.Column("content_type", sa.String(32), nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

# Short-lived conversation state per address and channel (e.g. "offered these slots, until 18:40").
conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("channel", sa.String(16), primary_key=True),
    sa.Column("address", sa.String(64), primary_key=True),
    sa.Column("state", sa.JSON, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
)

# Support staff who sign in to the console. Passwords are argon2 hashes (argon2-cffi's encoded form).
staff_users = sa.Table(
    "staff_users",
    metadata,
    _id(),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),  # agent | admin
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
)

# Console sign-ins: only the SHA-256 of the cookie's token is kept (the CSRF token derives from it).
staff_sessions = sa.Table(
    "staff_sessions",
    metadata,
    _id(),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("user_id", sa.ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),  # absolute end; idle end is last_seen_at + idle
    sa.Column("last_seen_at", UtcDateTime, nullable=False),
)

# Sign-in attempts by username and client address, for the rate limit (kept for the window only).
login_attempts = sa.Table(
    "login_attempts",
    metadata,
    _id(),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("ip", sa.String(64), nullable=False),
    sa.Column("succeeded", sa.Boolean, nullable=False),
    sa.Index("ix_login_attempts_username_at", "username", "at"),
    sa.Index("ix_login_attempts_ip_at", "ip", "at"),
)

# Who did what in the console, and when (user_id NULL: the CLI, or a sign-in by an unknown name).
audit_log = sa.Table(
    "audit_log",
    metadata,
    _id(),
    sa.Column("at", UtcDateTime, nullable=False, index=True),
    sa.Column("user_id", sa.ForeignKey("staff_users.id", ondelete="RESTRICT")),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("delivery_id", sa.ForeignKey("deliveries.id", ondelete="RESTRICT"), index=True),
    sa.Column("detail", sa.JSON, nullable=False),
)
