"""Fair share of the processing API between users: which waiting treatment is launched next.

A treatment committed as PENDING is *admitted* (`admitted_at`) before its launch is queued.
Admission serves users in turn — the one served longest ago first — and holds a user's
treatment while that user has `MAX_RUNNING_PER_USER` running, or while `MAX_RUNNING` run in
all; held ones stay PENDING and say why. Each ending admits what it freed room for, and so
does the clock. A workflow step that runs as parts holds one place, whatever its parts: it is
one treatment to the user who launched it.

Admissions are made one at a time, under a lock of the database, so that two of them racing
can never both take the last place.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import ColumnElement, exists, func, select, update

from webapp.columns import utcnow
from webapp.extensions import db
from webapp.lifecycle import Status
from webapp.live.publish import publish_treatment
from webapp.treatments.launch import enqueue_launch
from webapp.treatments.models import Treatment

# What holds a place: admitted and not ended.
HOLDING = [Status.PENDING, Status.STARTED, Status.IN_PROGRESS, Status.RETRYING]
# pg_advisory_xact_lock's key for admissions: any constant the application uses for nothing else.
_ADMISSION_LOCK = 0x5C51_AD31

WAITING_FOR_OWN = "Waiting for your earlier treatments: {limit} of yours may run at a time."
WAITING_FOR_PLACE = (
    "Waiting for a free place: the processing API is given {limit} treatments at a time."
)


def _waiting() -> list[ColumnElement[bool]]:
    return [
        Treatment.status == Status.PENDING,
        Treatment.admitted_at.is_(None),
        Treatment.container.is_(False),
    ]


def _serialize() -> None:
    """Hold the admission lock until the transaction ends. PostgreSQL has advisory locks; on
    SQLite, a write (of nothing) takes the database's lock before anything is read."""
    db.session.commit()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(_ADMISSION_LOCK)))
    else:
        db.session.execute(update(Treatment).where(Treatment.id.is_(None)).values(message=""))


@dataclass
class _Places:
    """The places taken, by whom, and the limits."""

    per_user: int
    total: int
    taken: set[str] = field(default_factory=set)
    by_owner: Counter[int] = field(default_factory=Counter)

    def refusal(self, owner: int, place: str) -> str | None:
        """Why that owner's treatment may not take that place now, or None if it may."""
        if place in self.taken:
            return None
        if self.per_user and self.by_owner[owner] >= self.per_user:
            return WAITING_FOR_OWN.format(limit=self.per_user)
        if self.total and len(self.taken) >= self.total:
            return WAITING_FOR_PLACE.format(limit=self.total)
        return None

    def take(self, owner: int, place: str) -> None:
        if place not in self.taken:
            self.taken.add(place)
            self.by_owner[owner] += 1


def _places() -> _Places:
    config = current_app.config
    places = _Places(config["MAX_RUNNING_PER_USER"], config["MAX_RUNNING"])
    held = db.session.execute(
        select(Treatment.owner_id, func.coalesce(Treatment.part_of_id, Treatment.id))
        .where(Treatment.admitted_at.is_not(None), Treatment.status.in_(HOLDING))
        .distinct()
    )
    for owner, place in held:
        places.take(owner, place)
    return places


def _in_turn() -> dict[int, deque[tuple[str, str]]]:
    """Each waiting owner's treatments (id, place) oldest first, the owners in the order they
    are served: the one admitted longest ago (or never) first."""
    waiting = db.session.execute(
        select(Treatment.owner_id, Treatment.id, Treatment.part_of_id)
        .where(*_waiting())
        .order_by(Treatment.requested_at, Treatment.id)
    ).all()
    queues: dict[int, deque[tuple[str, str]]] = {}
    for owner, ident, part_of in waiting:
        queues.setdefault(owner, deque()).append((ident, part_of or ident))
    last = dict(
        db.session.execute(
            select(Treatment.owner_id, func.max(Treatment.admitted_at))
            .where(Treatment.owner_id.in_(queues))
            .group_by(Treatment.owner_id)
        ).all()
    )
    # Python's sort is stable: owners served at the same time keep their oldest-first order.
    order = sorted(queues, key=lambda owner: (last.get(owner) is not None, last.get(owner) or 0))
    return {owner: queues[owner] for owner in order}


def _choose(places: _Places) -> tuple[list[str], dict[str, str]]:
    """Round-robin over the owners, one admission each per round: the ids admitted, and why
    each other one waits."""
    admitted: list[str] = []
    held: dict[str, str] = {}
    queues = _in_turn()
    while queues:
        for owner in list(queues):
            queue = queues[owner]
            ident, place = queue[0]
            if places.refusal(owner, place) is None:
                places.take(owner, place)
                admitted.append(ident)
                queue.popleft()
            else:
                # Nothing more of this owner's goes now, except parts of steps already running.
                for ident, place in queue:
                    reason = places.refusal(owner, place)
                    if reason is None:
                        admitted.append(ident)
                    else:
                        held[ident] = reason
                queue.clear()
            if not queue:
                del queues[owner]
    return admitted, held


def _grouped(held: dict[str, str]) -> dict[str, list[str]]:
    by_reason: dict[str, list[str]] = {}
    for ident, reason in held.items():
        by_reason.setdefault(reason, []).append(ident)
    return by_reason


def admit() -> int:
    """Admit the waiting treatments there is room for, in turn, and queue their launches; say
    on the others why they wait. Returns how many were admitted."""
    if not db.session.scalar(select(exists().where(*_waiting()))):
        db.session.commit()
        return 0
    _serialize()
    admitted, held = _choose(_places())
    if admitted:
        db.session.execute(
            update(Treatment)
            .where(Treatment.id.in_(admitted), *_waiting())
            .values(admitted_at=utcnow(), message="")
        )
    told: list[str] = []
    for reason, idents in _grouped(held).items():
        stale = list(
            db.session.scalars(
                select(Treatment.id).where(Treatment.id.in_(idents), Treatment.message != reason)
            )
        )
        if stale:
            db.session.execute(
                update(Treatment)
                .where(Treatment.id.in_(stale), *_waiting())
                .values(message=reason, updated_at=utcnow())
            )
            told += stale
    db.session.commit()
    for ident in admitted:
        enqueue_launch(ident)
    for ident in told:
        treatment = db.session.get(Treatment, ident)
        if treatment is not None:
            publish_treatment(treatment)
    return len(admitted)
