"""The HSDS 3.0 core tables the directory lacked: contact, cost_option, program,
accessibility and required_document (fields as in ``schema/<table>.json``).

They hang off the records in ``bot.directory.models`` and go with them (``ON DELETE
CASCADE``). A service's ``free`` stays the fact the bot reads; a source's cost
options are kept here as published.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Numeric, String, Text

from bot.db import Base
from bot.directory.models import ID


def _link(table: str, index: bool = True) -> Column:
    return Column(ID, ForeignKey(f"{table}.id", ondelete="CASCADE"), index=index)


class Contact(Base):
    __tablename__ = "contact"
    id = Column(ID, primary_key=True)
    organization_id = _link("organization")
    service_id = _link("service")
    service_at_location_id = _link("service_at_location", index=False)
    location_id = _link("location")
    name = Column(String(255))
    title = Column(String(255))
    department = Column(String(255))
    email = Column(String(255))


class CostOption(Base):
    __tablename__ = "cost_option"
    id = Column(ID, primary_key=True)
    service_id = _link("service")
    valid_from = Column(Date)
    valid_to = Column(Date)
    option = Column(Text)
    currency = Column(String(3))
    amount = Column(Numeric(12, 2, asdecimal=False))  # a float: SQLite has no decimals
    amount_description = Column(Text)


class Program(Base):
    __tablename__ = "program"
    id = Column(ID, primary_key=True)
    organization_id = _link("organization")
    name = Column(String(255), nullable=False)
    alternate_name = Column(String(255))
    description = Column(Text, nullable=False, default="")


class Accessibility(Base):
    __tablename__ = "accessibility"
    id = Column(ID, primary_key=True)
    location_id = _link("location")
    description = Column(Text)
    details = Column(Text)
    url = Column(String(500))


class RequiredDocument(Base):
    __tablename__ = "required_document"
    id = Column(ID, primary_key=True)
    service_id = _link("service")
    document = Column(Text)
    uri = Column(String(500))


# Each table's links: the field and the table it points to.
LINKS: dict[str, dict[str, str]] = {
    "contact": {
        "organization_id": "organization",
        "service_id": "service",
        "service_at_location_id": "service_at_location",
        "location_id": "location",
    },
    "cost_option": {"service_id": "service"},
    "program": {"organization_id": "organization"},
    "accessibility": {"location_id": "location"},
    "required_document": {"service_id": "service"},
}
MODELS = {
    "contact": Contact,
    "cost_option": CostOption,
    "program": Program,
    "accessibility": Accessibility,
    "required_document": RequiredDocument,
}
