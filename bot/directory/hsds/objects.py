"""HSDS table rows nested as the compiled ``service`` and ``organization`` objects
(``schema/compiled-service.json``, ``compiled-organization.json``), for the JSON
export and the API; and the reverse, nested objects flattened back into table rows
for the importer."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from bot.directory.hsds.tables import Row, Tables

# A nested object's array or object key -> the HSDS table of its items.
NESTED: dict[str, str] = {
    "phones": "phone",
    "schedules": "schedule",
    "service_areas": "service_area",
    "service_at_locations": "service_at_location",
    "languages": "language",
    "organization": "organization",
    "cost_options": "cost_option",
    "attributes": "attribute",
    "taxonomy_term": "taxonomy_term",
    "taxonomy_detail": "taxonomy",
    "location": "location",
    "locations": "location",
    "addresses": "address",
    "services": "service",
    "contacts": "contact",
    "funding": "funding",
    "program": "program",
    "programs": "program",
    "required_documents": "required_document",
    "accessibility": "accessibility",
    "organization_identifiers": "organization_identifier",
    "metadata": "metadata",
}
# The parent's id field in a phone, schedule, language or contact, by parent table.
PARENT_FIELD = {
    "service": "service_id",
    "location": "location_id",
    "organization": "organization_id",
    "service_at_location": "service_at_location_id",
    "phone": "phone_id",
    "contact": "contact_id",
}
# The object a child's key names, when the parent holds its id (service.organization_id).
HELD = {"organization": "organization_id", "location": "location_id", "program": "program_id"}


class Directory:
    """HSDS tables indexed for nesting: rows by id and by the field that links them."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        self._by_id = {t: {r["id"]: r for r in rows} for t, rows in tables.items()}
        self._by_field: dict[tuple[str, str, str], list[Row]] = defaultdict(list)
        for table, rows in tables.items():
            for row in rows:
                for field, value in row.items():
                    if field.endswith("_id") and isinstance(value, str):
                        self._by_field[(table, field, value)].append(row)

    def get(self, table: str, record_id: str) -> Row | None:
        return self._by_id.get(table, {}).get(record_id)

    def linked(self, table: str, field: str, value: str) -> list[Row]:
        return self._by_field.get((table, field, value), [])

    def attributes(self, link_id: str) -> list[Row]:
        out = []
        for a in self.linked("attribute", "link_id", link_id):
            term = self.get("taxonomy_term", a.get("taxonomy_term_id", ""))
            if term is not None:
                taxonomy = self.get("taxonomy", term.get("taxonomy_id", ""))
                term = {**term, **({"taxonomy_detail": taxonomy} if taxonomy else {})}
                a = {**a, "taxonomy_term": term}
            out.append(a)
        return out

    def location(self, location_id: str) -> Row | None:
        loc = self.get("location", location_id)
        if loc is None:
            return None
        return {
            **loc,
            "addresses": self.linked("address", "location_id", location_id),
            "phones": self.linked("phone", "location_id", location_id),
            "contacts": self.linked("contact", "location_id", location_id),
            "accessibility": self.linked("accessibility", "location_id", location_id),
            "attributes": self.attributes(location_id),
        }

    def service_at_location(self, sal_id: str) -> Row | None:
        """A service at a location, with the location nested."""
        sal = self.get("service_at_location", sal_id)
        if sal is None:
            return None
        location = self.location(sal["location_id"])
        return {**sal, **({"location": location} if location else {})}

    def service(self, service_id: str) -> Row | None:
        """The compiled service: every record about it, nested."""
        s = self.get("service", service_id)
        if s is None:
            return None
        sals = [
            self.service_at_location(sal["id"])
            for sal in self.linked("service_at_location", "service_id", service_id)
        ]
        org = self.get("organization", s.get("organization_id", ""))
        return {
            **s,
            **({"organization": org} if org else {}),
            "phones": self.linked("phone", "service_id", service_id),
            "schedules": self.linked("schedule", "service_id", service_id),
            "service_areas": [
                {**a, "attributes": self.attributes(a["id"])}
                for a in self.linked("service_area", "service_id", service_id)
            ],
            "service_at_locations": sals,
            "languages": self.linked("language", "service_id", service_id),
            "cost_options": self.linked("cost_option", "service_id", service_id),
            "contacts": self.linked("contact", "service_id", service_id),
            "required_documents": self.linked("required_document", "service_id", service_id),
            "attributes": self.attributes(service_id),
        }

    def organization(self, organization_id: str, full_services: bool = False) -> Row | None:
        """The compiled organization; its services as their own fields, or compiled."""
        o = self.get("organization", organization_id)
        if o is None:
            return None
        services = self.linked("service", "organization_id", organization_id)
        return {
            **o,
            "services": [self.service(s["id"]) for s in services] if full_services else services,
            "locations": [
                self.location(loc["id"])
                for loc in self.linked("location", "organization_id", organization_id)
            ],
            "phones": self.linked("phone", "organization_id", organization_id),
            "contacts": self.linked("contact", "organization_id", organization_id),
            "programs": self.linked("program", "organization_id", organization_id),
            "attributes": self.attributes(organization_id),
        }


def flatten(
    obj: Row, table: str, parent: tuple[str, str] | None = None
) -> Iterator[tuple[str, Row]]:
    """The table rows in a nested HSDS object of ``table`` (a compiled service or
    organization, or any object inside one), each with its links to its parent filled in."""
    row = {k: v for k, v in obj.items() if k not in NESTED}
    if parent is not None:
        parent_table, parent_id = parent
        field = PARENT_FIELD.get(parent_table)
        if table == "attribute":
            row.setdefault("link_id", parent_id)
            row.setdefault("link_entity", parent_table)
        elif table == "metadata":
            row.setdefault("resource_id", parent_id)
            row.setdefault("resource_type", parent_table)
        elif field in _FIELDS_WITH_PARENT.get(table, ()):
            row.setdefault(field, parent_id)
    own_id = row.get("id")
    yield table, row
    for key, value in obj.items():
        if key not in NESTED or value is None:
            continue
        child_table = NESTED[key]
        items = value if isinstance(value, list) else [value]
        for item in items:
            if not isinstance(item, dict):
                continue
            if key in HELD and isinstance(item.get("id"), str):
                row.setdefault(HELD[key], item["id"])
            if key == "taxonomy_term" and isinstance(item.get("id"), str):
                row.setdefault("taxonomy_term_id", item["id"])
            if key == "taxonomy_detail" and isinstance(item.get("id"), str):
                row.setdefault("taxonomy_id", item["id"])
            child_parent = (table, own_id) if key not in HELD and own_id else None
            yield from flatten(item, child_table, child_parent)


# Which parent links each table has (HSDS 3.0 table schemas).
_FIELDS_WITH_PARENT: dict[str, tuple[str, ...]] = {
    "phone": (
        "service_id",
        "location_id",
        "organization_id",
        "contact_id",
        "service_at_location_id",
    ),
    "schedule": ("service_id", "location_id", "service_at_location_id"),
    "language": ("service_id", "location_id", "phone_id"),
    "contact": ("organization_id", "service_id", "service_at_location_id", "location_id"),
    "service_area": ("service_id", "service_at_location_id"),
    "service_at_location": ("service_id",),
    "cost_option": ("service_id",),
    "location": ("organization_id",),
    "address": ("location_id",),
    "service": ("organization_id",),
    "program": ("organization_id",),
    "funding": ("organization_id", "service_id"),
    "required_document": ("service_id",),
    "accessibility": ("location_id",),
    "organization_identifier": ("organization_id",),
}
