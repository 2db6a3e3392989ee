"""Tables of anonymous demand: one row per conversation, need and week, and the week's keys.

Nothing here is about a person: no message text, no sender or conversation id,
no time finer than the week's Monday. ``tally`` lets a second search in the same
week find the first one's row; it is a keyed hash whose key is deleted, and the
hash itself cleared, once the following week is over (see bot/insights/demand.py).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Integer,
    String,
    UniqueConstraint,
    false,
)

from bot.db import Base

# What the search found for the need, nearest first (see bot.directory.query.reach).
OUTCOMES = ("local", "regional", "national", "nothing", "no_place")


class DemandRecord(Base):
    __tablename__ = "insight_demand"
    __table_args__ = (
        CheckConstraint(
            f"outcome IN ({', '.join(repr(o) for o in OUTCOMES)})",
            name="ck_insight_demand_outcome",
        ),
        UniqueConstraint("tally", name="uq_insight_demand_tally"),
    )
    id = Column(Integer, primary_key=True, autoincrement=True)
    week = Column(Date, nullable=False, index=True)  # the Monday, New Zealand time
    area = Column(String(64))  # a place key (see areas.yml); None: no place given
    need = Column(String(64))
    audience = Column(String(64))
    channel = Column(String(32), nullable=False)
    reo = Column(Boolean, nullable=False, default=False)
    outcome = Column(String(16), nullable=False)
    # The person asked for a navigator (the handoff form ran), agreed to be contacted,
    # and a request was sent.
    handoff_asked = Column(Boolean, nullable=False, default=False, server_default=false())
    handoff_consented = Column(Boolean, nullable=False, default=False, server_default=false())
    handoff = Column(Boolean, nullable=False, default=False)
    demo = Column(Boolean, nullable=False, default=False)
    tally = Column(String(64))


class WeekKey(Base):
    """The secret that keys the week's ``tally`` hashes; deleted after the next week."""

    __tablename__ = "insight_week_key"
    week = Column(Date, primary_key=True)
    key = Column(String(64), nullable=False)
