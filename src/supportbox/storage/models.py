"""The tables of supportbox (spec section 8).

Times are Unix seconds as floats (UTC), so that report windows compare
numbers and the same column works on SQLite and PostgreSQL. A support
session's integer primary key doubles as its LSEQ: it grows with every
session, across nodes sharing one database.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Meta(Base):
    """Installation-wide facts: the appliance id, the schema's creator."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class PublicSite(Base):
    __tablename__ = "public_site"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    hostnames: Mapped[list[Any]] = mapped_column(default=list)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    show_reps_in_issue_menu: Mapped[bool] = mapped_column(Boolean, default=False)


class User(Base):
    """A representative or administrator who logs in at /login or /console."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    public_display_name: Mapped[str] = mapped_column(String(100))
    private_display_name: Mapped[str] = mapped_column(String(100))
    perm_support: Mapped[bool] = mapped_column(Boolean, default=True)
    perm_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    perm_reports: Mapped[bool] = mapped_column(Boolean, default=False)
    perm_api: Mapped[bool] = mapped_column(Boolean, default=False)
    show_on_rep_list: Mapped[bool] = mapped_column(Boolean, default=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    totp_secret: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[float] = mapped_column(Float)

    memberships: Mapped[list[TeamMember]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )


class Team(Base):
    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    code_name: Mapped[str] = mapped_column(String(100), unique=True)
    comments: Mapped[str] = mapped_column(Text, default="")
    routing: Mapped[str] = mapped_column(String(20), default="none")
    is_persistent: Mapped[bool] = mapped_column(Boolean, default=True)

    members: Mapped[list[TeamMember]] = relationship(
        back_populates="team", cascade="all, delete-orphan"
    )
    issues: Mapped[list[Issue]] = relationship(back_populates="team")


class TeamMember(Base):
    __tablename__ = "team_member"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("team.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20), default="member")

    team: Mapped[Team] = relationship(back_populates="members")
    user: Mapped[User] = relationship(back_populates="memberships")


class Issue(Base):
    __tablename__ = "issue"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_name: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)

    team: Mapped[Team] = relationship(back_populates="issues")


class CustomField(Base):
    """A custom session attribute, sent as ``session.custom.<code_name>``."""

    __tablename__ = "custom_field"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_name: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    show_in_console: Mapped[bool] = mapped_column(Boolean, default=True)


class SurveyQuestion(Base):
    """One question of the customer or the representative exit survey."""

    __tablename__ = "survey_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey: Mapped[str] = mapped_column(String(10))  # "customer" or "rep"
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(20))  # radio, text, textarea
    label: Mapped[str] = mapped_column(Text)
    report_header: Mapped[str] = mapped_column(String(100))
    options: Mapped[list[Any]] = mapped_column(default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("survey", "name"),)


class ApiAccount(Base):
    """An OAuth2 client of the integration APIs (spec 2.3)."""

    __tablename__ = "api_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    perm_command: Mapped[str] = mapped_column(String(20), default="deny")
    perm_reporting_support: Mapped[bool] = mapped_column(Boolean, default=False)
    perm_reporting_presentation: Mapped[bool] = mapped_column(Boolean, default=False)
    perm_reporting_license: Mapped[bool] = mapped_column(Boolean, default=False)
    perm_reporting_archive: Mapped[bool] = mapped_column(Boolean, default=False)
    perm_real_time_state: Mapped[bool] = mapped_column(Boolean, default=False)
    perm_ecm: Mapped[bool] = mapped_column(Boolean, default=False)
    perm_backup: Mapped[bool] = mapped_column(Boolean, default=False)
    perm_scim: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float)


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("api_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class SessionKey(Base):
    """A 7-digit session key and its key URL token (spec 4.3, 3.4)."""

    __tablename__ = "session_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    short_key: Mapped[str] = mapped_column(String(7), index=True)
    url_token: Mapped[str] = mapped_column(String(32), unique=True)
    queue_kind: Mapped[str] = mapped_column(String(10))
    queue_ref: Mapped[int | None] = mapped_column(Integer, default=None)
    external_key: Mapped[str] = mapped_column(Text, default="")
    custom: Mapped[dict[str, Any]] = mapped_column(default=dict)
    priority: Mapped[int] = mapped_column(Integer, default=2)
    skills: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    used_by_lsid: Mapped[str | None] = mapped_column(String(32), default=None)


class SupportSession(Base):
    """A support session; ``id`` is its LSEQ."""

    __tablename__ = "support_session"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True
    )
    lsid: Mapped[str] = mapped_column(String(32), unique=True)
    session_type: Mapped[str] = mapped_column(String(20), default="support")
    status: Mapped[str] = mapped_column(String(10), default="waiting", index=True)
    public_site_id: Mapped[int | None] = mapped_column(
        ForeignKey("public_site.id"), default=None
    )
    start_time: Mapped[float] = mapped_column(Float, index=True)
    end_time: Mapped[float | None] = mapped_column(Float, default=None, index=True)
    queue_kind: Mapped[str] = mapped_column(String(10), default="general")
    queue_ref: Mapped[int | None] = mapped_column(Integer, default=None)
    queue_name: Mapped[str] = mapped_column(String(200), default="General Queue")
    owner_gs: Mapped[int | None] = mapped_column(Integer, default=None)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issue.id"), default=None)
    external_key: Mapped[str] = mapped_column(Text, default="")
    custom: Mapped[dict[str, Any]] = mapped_column(default=dict)
    priority: Mapped[int] = mapped_column(Integer, default=2)
    start_method: Mapped[str] = mapped_column(String(20), default="issue")
    next_gsnumber: Mapped[int] = mapped_column(Integer, default=1)
    file_transfer_count: Mapped[int] = mapped_column(Integer, default=0)
    file_move_count: Mapped[int] = mapped_column(Integer, default=0)
    file_delete_count: Mapped[int] = mapped_column(Integer, default=0)

    participants: Mapped[list[Participant]] = relationship(
        back_populates="session", order_by="Participant.gsnumber"
    )


class Participant(Base):
    """One connection of a customer or representative to a session."""

    __tablename__ = "participant"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("support_session.id", ondelete="CASCADE")
    )
    gsnumber: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # customer, representative
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), default=None)
    name: Mapped[str] = mapped_column(String(100), default="")
    username: Mapped[str] = mapped_column(String(100), default="")
    private_display_name: Mapped[str] = mapped_column(String(100), default="")
    public_ip: Mapped[str] = mapped_column(String(64), default="Unknown")
    private_ip: Mapped[str] = mapped_column(String(64), default="Unknown")
    hostname: Mapped[str] = mapped_column(String(255), default="Unknown")
    os: Mapped[str] = mapped_column(String(255), default="Unknown")
    info: Mapped[dict[str, Any]] = mapped_column(default=dict)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    session_owner: Mapped[bool] = mapped_column(Boolean, default=False)
    invited: Mapped[bool] = mapped_column(Boolean, default=False)
    present: Mapped[bool] = mapped_column(Boolean, default=True)
    connected: Mapped[bool] = mapped_column(Boolean, default=True)
    teams: Mapped[list[Any]] = mapped_column(default=list)
    token_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    node_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    disconnected_at: Mapped[float | None] = mapped_column(Float, default=None)
    joined_at: Mapped[float] = mapped_column(Float)
    left_at: Mapped[float | None] = mapped_column(Float, default=None)
    seconds_involved: Mapped[int] = mapped_column(Integer, default=0)

    session: Mapped[SupportSession] = relationship(back_populates="participants")

    __table_args__ = (UniqueConstraint("session_id", "gsnumber"),)


class Node(Base):
    """A running server process; its heartbeat tells the others it is alive."""

    __tablename__ = "node"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[float] = mapped_column(Float)
    last_seen: Mapped[float] = mapped_column(Float, index=True)


class RepPresence(Base):
    """A representative who is logged in on some node, with their load."""

    __tablename__ = "rep_presence"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    logged_in_since: Mapped[float] = mapped_column(Float)
    last_seen: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20), default="available")
    connections: Mapped[int] = mapped_column(Integer, default=1)
    node_id: Mapped[str | None] = mapped_column(String(64), default=None)
    hostname: Mapped[str] = mapped_column(String(255), default="Unknown")
    os: Mapped[str] = mapped_column(String(255), default="Unknown")
    public_ip: Mapped[str] = mapped_column(String(64), default="Unknown")


class SessionEvent(Base):
    """One ``session_details/event`` (spec 5.3.1), in the order it happened."""

    __tablename__ = "session_event"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True
    )
    session_id: Mapped[int] = mapped_column(
        ForeignKey("support_session.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(Integer)
    timestamp: Mapped[float] = mapped_column(Float)
    event_type: Mapped[str] = mapped_column(String(64))
    performed_by: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    destination: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    body: Mapped[str | None] = mapped_column(Text, default=None)
    filename: Mapped[str | None] = mapped_column(Text, default=None)
    filesize: Mapped[int | None] = mapped_column(BigInteger, default=None)
    data: Mapped[list[Any]] = mapped_column(default=list)
    system_information: Mapped[list[Any] | None] = mapped_column(JSON, default=None)

    __table_args__ = (
        UniqueConstraint("session_id", "seq"),
        Index("ix_session_event_type_time", "event_type", "timestamp"),
    )


class SurveyResponse(Base):
    """An exit survey answered by a customer or a representative."""

    __tablename__ = "survey_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("support_session.id", ondelete="CASCADE"), index=True
    )
    survey: Mapped[str] = mapped_column(String(10))  # "customer" or "rep"
    gsnumber: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[float] = mapped_column(Float, index=True)
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Recording(Base):
    """A recording file of a session: a shell (asciicast) or a screen (MP4)."""

    __tablename__ = "recording"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("support_session.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # shell, screen, presentation
    instance: Mapped[int] = mapped_column(Integer, default=0)
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    size: Mapped[int | None] = mapped_column(BigInteger, default=None)
    started_at: Mapped[float] = mapped_column(Float)
    closed_at: Mapped[float | None] = mapped_column(Float, default=None)


class Presentation(Base):
    """The key of a presentation; the presentation itself is the session
    row it points at (``session_type`` "presentation"), with the presenter
    and attendees as its participants and its events and recording."""

    __tablename__ = "presentation"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("support_session.id", ondelete="CASCADE"), unique=True
    )
    short_key: Mapped[str] = mapped_column(String(7), index=True)
    url_token: Mapped[str] = mapped_column(String(32), unique=True)
    live: Mapped[bool] = mapped_column(Boolean, default=True, index=True)


class AuditEvent(Base):
    """A security-relevant action: a login, a token, an admin change."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[float] = mapped_column(Float, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(20), default="ok")
    client_ip: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


# Outbound events (webhooks, issue 8)


class WebhookRecipient(Base):
    """An HTTP receiver of outbound events (spec 7).

    ``secret`` is kept as given: the server needs it to sign every post.
    An empty ``events`` list means every event.
    """

    __tablename__ = "webhook_recipient"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[Any]] = mapped_column(default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    secret: Mapped[str] = mapped_column(Text)
    send_custom_fields: Mapped[bool] = mapped_column(Boolean, default=False)
    retry_interval: Mapped[float] = mapped_column(Float)
    retry_duration: Mapped[float] = mapped_column(Float)
    created_at: Mapped[float] = mapped_column(Float)


class WebhookDelivery(Base):
    """One outbound event queued for one recipient; ``id`` orders the queue.

    ``status`` is pending, delivered or dead (a dead letter). A worker
    owns a pending row while ``lease_until`` lies in the future.
    """

    __tablename__ = "webhook_delivery"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True
    )
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_recipient.id", ondelete="CASCADE")
    )
    event_id: Mapped[str] = mapped_column(String(32))
    event: Mapped[str] = mapped_column(String(64))
    lsid: Mapped[str] = mapped_column(String(32), default="")
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[float] = mapped_column(Float)
    first_attempt_at: Mapped[float | None] = mapped_column(Float, default=None)
    next_attempt_at: Mapped[float] = mapped_column(Float)
    lease_owner: Mapped[str | None] = mapped_column(String(100), default=None)
    lease_until: Mapped[float | None] = mapped_column(Float, default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
    finished_at: Mapped[float | None] = mapped_column(Float, default=None)

    __table_args__ = (
        UniqueConstraint("recipient_id", "event_id"),
        Index("ix_webhook_delivery_queue", "recipient_id", "status", "id"),
    )


# --- recordings: who viewed or downloaded them (issue 6) ---


class RecordingAccess(Base):
    """One view or download of a recording, for the audit trail."""

    __tablename__ = "recording_access"

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(
        ForeignKey("recording.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[float] = mapped_column(Float, index=True)
    action: Mapped[str] = mapped_column(String(20))  # view, play, download
    actor: Mapped[str] = mapped_column(String(200))
    client_ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(Text, default="")


# --- web sessions of the admin interface and the console (issue 9) ---


class WebSession(Base):
    """A browser login; only the SHA-256 of its cookie value is stored.

    ``second_factor_due`` is true between a correct password and a correct
    TOTP code: such a session opens nothing but the code page.
    """

    __tablename__ = "web_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    second_factor_due: Mapped[bool] = mapped_column(Boolean, default=False)
    client_ip: Mapped[str] = mapped_column(String(64), default="")
