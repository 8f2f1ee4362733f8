"""The shared catalogue: works, series, witnesses, their digitizations and pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext
from PIL import Image
from sqlalchemy import JSON, Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp import storage
from webapp.auth.models import User
from webapp.columns import CreatedAt, UTCDateTime, utcnow
from webapp.extensions import Base, db
from webapp.i18n import N_
from webapp.lifecycle import Status, WorkState
from webapp.readable import shortened

witness_works = Table(
    "witness_works",
    db.metadata,
    Column("witness_id", ForeignKey("witnesses.id", ondelete="CASCADE"), primary_key=True),
    Column("work_id", ForeignKey("works.id", ondelete="CASCADE"), primary_key=True),
)

DIGITIZATION_SOURCES = {"man": "IIIF manifest", "img": "uploaded images", "pdf": "PDF"}
WITNESS_KINDS = {"manuscript": N_("Manuscript"), "print": N_("Printed copy")}


class CatalogEntry(CreatedAt):
    """What every catalogue record has: a creator, who may edit it with the admins."""

    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    def editable_by(self, user: User) -> bool:
        return user.is_admin or self.created_by_id == user.id


class Work(CatalogEntry, Base):
    __tablename__ = "works"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300), index=True)
    author: Mapped[str] = mapped_column(String(200), default="")
    date: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(Text, default="")

    witnesses: Mapped[list[Witness]] = relationship(
        secondary=witness_works, back_populates="works", order_by="Witness.siglum"
    )

    @property
    def label(self) -> str:
        return f"{self.author}, {self.title}" if self.author else self.title


class Series(CatalogEntry, Base):
    __tablename__ = "series"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300), index=True)
    description: Mapped[str] = mapped_column(Text, default="")

    witnesses: Mapped[list[Witness]] = relationship(
        back_populates="series", order_by="Witness.siglum", passive_deletes=True
    )

    @property
    def label(self) -> str:
        return self.title


class Witness(CatalogEntry, Base):
    __tablename__ = "witnesses"

    id: Mapped[int] = mapped_column(primary_key=True)
    siglum: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="manuscript")
    place: Mapped[str] = mapped_column(String(200), default="")
    date: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("series.id", ondelete="SET NULL"), index=True
    )

    series: Mapped[Series | None] = relationship(back_populates="witnesses")
    works: Mapped[list[Work]] = relationship(
        secondary=witness_works, back_populates="witnesses", order_by="Work.title"
    )
    digitizations: Mapped[list[Digitization]] = relationship(
        back_populates="witness",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Digitization.id",
    )

    @property
    def ref(self) -> str:
        return f"wit{self.id}"

    @property
    def kind_label(self) -> str:
        return str(gettext(WITNESS_KINDS[self.kind])) if self.kind in WITNESS_KINDS else self.kind

    @property
    def label(self) -> str:
        return self.siglum


class Digitization(WorkState, CreatedAt, Base):
    """The page images of one witness. Copying imported images is background work on the
    shared lifecycle: status, progress (pages copied of the total), history, cancel."""

    __tablename__ = "digitizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    witness_id: Mapped[int] = mapped_column(
        ForeignKey("witnesses.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(3))
    label: Mapped[str] = mapped_column(String(300), default="")
    manifest_url: Mapped[str | None] = mapped_column(String(2000))
    # Uploaded and seeded digitizations are complete when made; an import starts PENDING.
    status: Mapped[str] = mapped_column(String(20), default=Status.SUCCESS, index=True)
    pages_total: Mapped[int] = mapped_column(default=0)
    pages_done: Mapped[int] = mapped_column(default=0)
    # What an import copies, kept so that a lost job can be queued again from the database.
    source_pages: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    # Why a page could not be copied, by its order (as text: JSON keys).
    page_errors: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    witness: Mapped[Witness] = relationship(back_populates="digitizations")
    pages: Mapped[list[Page]] = relationship(
        back_populates="digitization",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Page.order",
    )
    events: Mapped[list[DigitizationEvent]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="DigitizationEvent.id"
    )

    @property
    def ref(self) -> str:
        return f"wit{self.witness_id}_{self.source}{self.id}"

    @property
    def display_label(self) -> str:
        return self.label or f"{DIGITIZATION_SOURCES.get(self.source, self.source)} #{self.id}"

    def editable_by(self, user: User) -> bool:
        return user.is_admin or self.created_by_id == user.id

    def record_move(self, target: Status, text: str, cause: Any) -> None:
        db.session.add(DigitizationEvent(digitization_id=self.id, event=target.value, message=text))


class DigitizationEvent(Base):
    """The history of a digitization's import: each move of its status."""

    __tablename__ = "digitization_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    digitization_id: Mapped[int] = mapped_column(
        ForeignKey("digitizations.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Page(Base):
    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("digitization_id", "order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    digitization_id: Mapped[int] = mapped_column(
        ForeignKey("digitizations.id", ondelete="CASCADE"), index=True
    )
    order: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    file: Mapped[str] = mapped_column(String(500))
    label: Mapped[str] = mapped_column(String(200), default="")
    source_url: Mapped[str | None] = mapped_column(String(2000))
    # What its files take on disk, measured when first counted against a storage quota.
    bytes: Mapped[int | None]

    digitization: Mapped[Digitization] = relationship(back_populates="pages")

    @classmethod
    def stored(
        cls,
        digitization_id: int,
        order: int,
        image: Image.Image,
        label: str,
        source_url: str | None = None,
    ) -> Page:
        """A page whose image is saved into our storage now."""
        path, width, height = storage.save_page_image(digitization_id, order, image)
        return cls(
            digitization_id=digitization_id,
            order=order,
            width=width,
            height=height,
            file=path,
            label=shortened(label, 200),
            source_url=source_url,
        )

    @property
    def ref(self) -> str:
        return f"{self.digitization.ref}_{self.order:04d}"
