"""Validation against the official HSDS 3.0 schemas (``tests/hsds/official/schema``, copied
unchanged from Open Referral: see its README), with jsonschema's Draft 2020-12 validator
and its format checks (uuid, email, ...)."""

from __future__ import annotations

import csv
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, RefResolver

from bot.directory.hsds.package import resources, typed_row

OFFICIAL = Path(__file__).parent / "official"
SCHEMAS = OFFICIAL / "schema"


@cache
def validator(name: str) -> Draft202012Validator:
    """The validator of ``schema/<name>.json`` (``compiled-service``, ``phone``, ...)."""
    schema = json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
    resolver = RefResolver(base_uri=SCHEMAS.as_uri() + "/", referrer=schema)
    return Draft202012Validator(schema, resolver=resolver, format_checker=FormatChecker())


def errors(name: str, document: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator(name).iter_errors(document)
    ]


def csv_errors(package: Path) -> list[str]:
    """Every problem in a CSV package: headers other than the official package's, and
    rows (typed per its table schema) that their table's JSON schema rejects."""
    official = json.loads((OFFICIAL / "datapackage.json").read_text(encoding="utf-8"))
    found = []
    for resource in official["resources"]:
        path = package / resource["path"]
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            expected = [field["name"] for field in resource["schema"]["fields"]]
            if reader.fieldnames != expected:
                found.append(f"{path.name}: header {reader.fieldnames} is not {expected}")
            for line, raw in enumerate(reader, start=2):
                row, bad = typed_row(resource["name"], raw)
                found += [f"{path.name}:{line}: {field}: {msg}" for field, msg in bad.items()]
                found += [f"{path.name}:{line}: {e}" for e in errors(resource["name"], row)]
    assert set(resources()) == {r["name"] for r in official["resources"]}
    return found
