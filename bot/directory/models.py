"""Directory tables, following Open Referral HSDS 3.0.

Mission-specific facts live either as columns on ``service`` (``kaupapa_maori``,
``free``, ``referral``, ``source``, ``last_verified``) or as HSDS ``attribute``
rows linking a service to a ``taxonomy_term`` (need categories, audiences).
``service_area.place_key`` ties a service to a place of the gazetteer in
``data/directory/places.yml`` (``nz`` for national services).

``service_search`` and ``service_words`` are derived from those records by
``bot.directory.seed.index_services`` (the loader calls it), so that a search and
a follow-up read a few index entries instead of every service.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship
from sqlalchemy.sql import text

from bot.db import Base
from bot.directory.hsds.ids import hsds_id

ID = String(64)


def _hsds_id(table: str) -> Column:
    """The record's HSDS id (``hsds_id`` of its own), written with it, so that the HSDS
    API finds a record by the id it published through an index (migration 0017)."""

    def of(context: Any) -> str:
        return hsds_id(table, context.get_current_parameters()["id"])

    return Column(String(36), unique=True, default=of)


class Organization(Base):
    __tablename__ = "organization"
    id = Column(ID, primary_key=True)
    hsds_id = _hsds_id("organization")
    name = Column(String(255), nullable=False)
    description = Column(Text, nullable=False, default="")
    alternate_name = Column(String(255))
    email = Column(String(255))
    website = Column(String(500))
    legal_status = Column(String(100))
    uri = Column(String(500))
    parent_organization_id = Column(ID, ForeignKey("organization.id"))

    services = relationship("Service", back_populates="organization")


class Service(Base):
    __tablename__ = "service"
    id = Column(ID, primary_key=True)
    hsds_id = _hsds_id("service")
    organization_id = Column(ID, ForeignKey("organization.id"), nullable=False, index=True)
    name = Column(String(255), nullable=False)
    alternate_name = Column(String(255))
    description = Column(Text)
    url = Column(String(500))
    email = Column(String(255))
    status = Column(String(32), nullable=False, default="active")
    interpretation_services = Column(Text)
    application_process = Column(Text)
    fees_description = Column(Text)
    eligibility_description = Column(Text)
    minimum_age = Column(Integer)
    maximum_age = Column(Integer)
    alert = Column(Text)
    last_modified = Column(DateTime)
    # Mission columns.
    kaupapa_maori = Column(Boolean, nullable=False, default=False)
    free = Column(Boolean)  # None: cost not known
    referral = Column(String(16))  # self, referral, either; None: not known
    source = Column(Text, nullable=False)
    last_verified = Column(Date)  # None: details not yet checked by a person
    # Who last checked them with the organisation (HSDS ``assurer_email``); None: not known.
    assurer_email = Column(String(255))
    # Bumped by every curation change: a coordinator's save is a compare-and-set on it.
    version = Column(Integer, nullable=False, default=0, server_default="0")

    organization = relationship("Organization", back_populates="services")
    phones = relationship("Phone", back_populates="service", order_by="Phone.position")
    schedules = relationship("Schedule", back_populates="service")
    service_areas = relationship("ServiceArea", back_populates="service")
    languages = relationship("Language", back_populates="service")
    service_at_locations = relationship("ServiceAtLocation", back_populates="service")
    attributes = relationship(
        "Attribute",
        primaryjoin="and_(Service.id == foreign(Attribute.link_id), "
        "Attribute.link_entity == 'service')",
        viewonly=True,
    )


class Location(Base):
    __tablename__ = "location"
    id = Column(ID, primary_key=True)
    location_type = Column(String(16), nullable=False, default="physical")
    organization_id = Column(ID, ForeignKey("organization.id"), index=True)
    name = Column(String(255))
    description = Column(Text)
    latitude = Column(String(32))
    longitude = Column(String(32))
    place_key = Column(String(64), index=True)

    addresses = relationship("Address", back_populates="location")


class ServiceAtLocation(Base):
    __tablename__ = "service_at_location"
    id = Column(ID, primary_key=True)
    hsds_id = _hsds_id("service_at_location")
    service_id = Column(
        ID, ForeignKey("service.id", ondelete="CASCADE"), nullable=False, index=True
    )
    location_id = Column(ID, ForeignKey("location.id", ondelete="CASCADE"), nullable=False)
    description = Column(Text)

    service = relationship("Service", back_populates="service_at_locations")
    location = relationship("Location")


class Address(Base):
    __tablename__ = "address"
    id = Column(ID, primary_key=True)
    location_id = Column(
        ID, ForeignKey("location.id", ondelete="CASCADE"), nullable=False, index=True
    )
    address_1 = Column(String(255), nullable=False)
    address_2 = Column(String(255))
    city = Column(String(100), nullable=False)
    region = Column(String(100))
    state_province = Column(String(100), nullable=False, default="")
    postal_code = Column(String(16), nullable=False, default="")
    country = Column(String(2), nullable=False, default="NZ")
    address_type = Column(String(16), nullable=False, default="physical")

    location = relationship("Location", back_populates="addresses")


class Phone(Base):
    __tablename__ = "phone"
    id = Column(ID, primary_key=True)
    service_id = Column(ID, ForeignKey("service.id", ondelete="CASCADE"), index=True)
    location_id = Column(ID, ForeignKey("location.id", ondelete="CASCADE"))
    organization_id = Column(ID, ForeignKey("organization.id", ondelete="CASCADE"))
    number = Column(String(64), nullable=False)
    extension = Column(String(16))
    type = Column(String(16), nullable=False, default="voice")  # voice, text, ...
    description = Column(Text)
    position = Column(Integer, nullable=False, default=0)

    service = relationship("Service", back_populates="phones")


class Schedule(Base):
    """Weekly opening hours, iCal style: ``byday`` like ``MO,TU``; times local to ``timezone``.

    Hours a source gives only as text ("by appointment") are a row with ``description``
    and no days or times; searches and "open now" read only rows with days and times.
    """

    __tablename__ = "schedule"
    id = Column(ID, primary_key=True)
    service_id = Column(ID, ForeignKey("service.id", ondelete="CASCADE"), index=True)
    location_id = Column(ID, ForeignKey("location.id", ondelete="CASCADE"))
    service_at_location_id = Column(ID, ForeignKey("service_at_location.id", ondelete="CASCADE"))
    freq = Column(String(16), nullable=False, default="WEEKLY")
    byday = Column(String(32))
    opens_at = Column(Time)
    closes_at = Column(Time)
    timezone = Column(String(64), nullable=False, default="Pacific/Auckland")
    valid_from = Column(Date)
    valid_to = Column(Date)
    description = Column(Text)
    notes = Column(Text)

    service = relationship("Service", back_populates="schedules")


class ServiceArea(Base):
    __tablename__ = "service_area"
    id = Column(ID, primary_key=True)
    service_id = Column(ID, ForeignKey("service.id", ondelete="CASCADE"), index=True)
    name = Column(String(255), nullable=False)
    description = Column(Text)
    extent = Column(Text)
    extent_type = Column(String(32))
    place_key = Column(String(64), nullable=False, index=True)

    service = relationship("Service", back_populates="service_areas")


class Language(Base):
    __tablename__ = "language"
    id = Column(ID, primary_key=True)
    service_id = Column(ID, ForeignKey("service.id", ondelete="CASCADE"), index=True)
    name = Column(String(64), nullable=False)
    code = Column(String(8), nullable=False)

    service = relationship("Service", back_populates="languages")


class Taxonomy(Base):
    __tablename__ = "taxonomy"
    id = Column(ID, primary_key=True)
    name = Column(String(255), nullable=False)
    description = Column(Text, nullable=False, default="")


class TaxonomyTerm(Base):
    __tablename__ = "taxonomy_term"
    __table_args__ = (UniqueConstraint("taxonomy_id", "code"),)
    id = Column(ID, primary_key=True)
    taxonomy_id = Column(ID, ForeignKey("taxonomy.id"), nullable=False)
    code = Column(String(64), nullable=False)
    name = Column(String(255), nullable=False)
    description = Column(Text, nullable=False, default="")
    parent_id = Column(ID, ForeignKey("taxonomy_term.id"))


class Attribute(Base):
    """Ties a taxonomy term (a need, an audience) to a record, as HSDS does."""

    __tablename__ = "attribute"
    __table_args__ = (UniqueConstraint("link_id", "link_entity", "taxonomy_term_id"),)
    id = Column(Integer, primary_key=True, autoincrement=True)
    link_id = Column(ID, nullable=False, index=True)
    link_type = Column(String(32), nullable=False)  # need, audience
    link_entity = Column(String(32), nullable=False, default="service")
    taxonomy_term_id = Column(ID, ForeignKey("taxonomy_term.id"), nullable=False, index=True)
    value = Column(String(64))  # for needs: "primary" or "also"

    taxonomy_term = relationship("TaxonomyTerm")


class ServiceSearch(Base):
    """What a search filters and ranks on: one row per active service, place it serves,
    need it meets and facet it is in (``bot.directory.query.facets``: every service, for
    everyone or for an audience, each with the filters kaupapa Māori and free it meets),
    with the service's facts copied in.

    The primary key starts with the place, the need and the facet; on SQLite the table
    is that index (``WITHOUT ROWID``). A search reads each place's rows for the need (or
    each place's main-need rows when no need is asked) in the facet asked, already in
    the order it ranks them, through ``ix_service_search_need_order``
    (``..._main_order``), and stops after the rows it keeps (migrations 0016, 0018).
    """

    __tablename__ = "service_search"
    __table_args__ = (
        Index("ix_service_search_service_id", "service_id"),
        Index(
            "ix_service_search_need_order",
            "place_key",
            "need",
            "facet",
            "need_rank",
            text("has_contact DESC"),
            "sort_name",
            "service_id",
        ),
        Index(
            "ix_service_search_main_order",
            "place_key",
            "facet",
            "need_rank",
            text("has_contact DESC"),
            "sort_name",
            "service_id",
        ),
        {"sqlite_with_rowid": False},
    )
    place_key = Column(String(64), primary_key=True)
    need = Column(String(64), primary_key=True)
    facet = Column(String(80), primary_key=True)  # "*/", "/k", "tane/kf"...
    service_id = Column(ID, ForeignKey("service.id", ondelete="CASCADE"), primary_key=True)
    locality = Column(SmallInteger, nullable=False)  # LOCALITY of the place's kind
    need_rank = Column(SmallInteger, nullable=False)  # 0: the service's main need, 1: also
    # name.lower(), compared by code point: SQLite's BINARY, PostgreSQL's "C" collation.
    sort_name = Column(Text().with_variant(Text(collation="C"), "postgresql"), nullable=False)
    audiences = Column(String(255), nullable=False)  # ",tane,rangatahi," or "" for everyone
    kaupapa_maori = Column(Boolean, nullable=False)
    free = Column(Boolean)
    has_contact = Column(Boolean, nullable=False)
    has_hours = Column(Boolean, nullable=False)
    always_open = Column(Boolean, nullable=False)  # 24/7
    # The service's schedule row when it has one alone, in New Zealand time (the zone a
    # search compares), as numbers "open now" compares in the row itself instead of reading
    # the schedule (migrations 0018, 0019; ``bot.directory.query.opening_numbers``): the days
    # it opens on (bit i for ``hours.DAYS[i]``), and the second of the day it opens and
    # closes, closing counted into the next day (past 86,400) when it runs past midnight.
    open_days = Column(SmallInteger)
    opens_second = Column(Integer)
    closes_second = Column(Integer)


class ServiceWords(Base):
    """The words a message is matched against, for each active service: its name and
    alternate name as ``bot.reo.match_key`` folds them (indexed: a follow-up looks up
    the runs of words in the message) and its name, organisation and description."""

    __tablename__ = "service_words"
    __table_args__ = (
        # Most services have no alternate name: an index of the ones that do, so that a
        # planner counting the others never takes it for useless.
        Index(
            "ix_service_words_alternate_key",
            "alternate_key",
            sqlite_where=text("alternate_key IS NOT NULL"),
            postgresql_where=text("alternate_key IS NOT NULL"),
        ),
    )
    service_id = Column(ID, ForeignKey("service.id", ondelete="CASCADE"), primary_key=True)
    name_key = Column(String(512), nullable=False, index=True)
    alternate_key = Column(String(512))
    words = Column(SmallInteger, nullable=False, index=True)  # of the longer name
    text_key = Column(Text, nullable=False)
