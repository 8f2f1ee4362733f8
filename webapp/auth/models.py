from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.columns import CreatedAt, UTCDateTime
from webapp.extensions import Base


class User(UserMixin, CreatedAt, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    is_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    # Part of the id every session and remember cookie carries: a new one ends them all.
    session_token: Mapped[str] = mapped_column(
        String(32), default=lambda: secrets.token_urlsafe(16), server_default=""
    )
    # The language the user chose for pages and emails; empty: their browser's.
    locale: Mapped[str] = mapped_column(String(10), default="", server_default="")
    # The secret callbacks to this user's receivers are signed with; made when first needed.
    webhook_secret: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # Set by administrators (quotas.py); None: no limit.
    page_quota: Mapped[int | None]
    storage_quota_mb: Mapped[int | None]

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        """Every session and remember cookie of this user stops working."""
        self.session_token = secrets.token_urlsafe(16)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)
        self.end_sessions()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.email}>"


# What every token starts with, so that a leaked one is easy to spot: a prefix, no secret.
TOKEN_PREFIX = "sct_"  # noqa: S105


def token_digest(token: str) -> str:
    """What is stored of a token: its SHA-256. A token is 32 random bytes, so a fast hash is
    enough, and a lookup is one indexed equality."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(CreatedAt, Base):
    """A personal token a script sends as `Authorization: Bearer <token>`; only its digest is
    kept, and the token is shown once, when made."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, so that its owner can tell tokens apart.
    hint: Mapped[str] = mapped_column(String(12))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @classmethod
    def issue(cls, user: User, name: str) -> tuple[ApiToken, str]:
        """A new token for the user: the row, and the token itself, which nothing keeps."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = cls(user_id=user.id, name=name, digest=token_digest(token), hint=token[:10])
        return row, token
