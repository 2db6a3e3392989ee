"""The HSDS 3.0 tabular data package: its resources, and CSV cells typed per its schema."""

from __future__ import annotations

import json
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).parent / "schema"
DATAPACKAGE = SCHEMA_DIR / "datapackage.json"


@lru_cache(maxsize=1)
def resources() -> dict[str, dict[str, Any]]:
    """The HSDS 3.0 package's resources by table name (path and column schema)."""
    package = json.loads(DATAPACKAGE.read_text(encoding="utf-8"))
    return {r["name"]: r for r in package["resources"]}


@cache
def table_schema(table: str) -> dict[str, Any]:
    """The JSON schema of one HSDS table (``schema/<table>.json``)."""
    return json.loads((SCHEMA_DIR / f"{table}.json").read_text(encoding="utf-8"))


class CellError(ValueError):
    """A cell does not hold its column's type; the message says what was expected."""


def _number(text: str) -> int | float:
    try:
        value = float(text)
    except ValueError:
        raise CellError(f"expected a number, got {text!r}") from None
    return int(value) if value.is_integer() and "." not in text else value


def typed_cell(field: dict[str, Any], text: str) -> Any:
    """A CSV cell as its JSON value: numbers as numbers, the rest as text."""
    return _number(text.strip()) if field["type"] in ("number", "integer") else text


def typed_row(table: str, raw: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """A CSV row as an HSDS JSON row (empty cells left out), and the cells that failed."""
    fields = {f["name"]: f for f in resources()[table]["schema"]["fields"]}
    row: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, text in raw.items():
        if name is None or text is None:
            continue
        if text == "":
            # CSV cannot tell an empty text from a missing one: a required text is empty.
            column = fields.get(name, {})
            if column.get("type") == "string" and column.get("constraints", {}).get("required"):
                row[name] = ""
            continue
        if name not in fields:
            errors[name] = f"not a column of the HSDS {table} table"
            continue
        try:
            row[name] = typed_cell(fields[name], text)
        except CellError as exc:
            errors[name] = str(exc)
    return row, errors
