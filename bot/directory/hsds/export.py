"""Writes the directory as HSDS 3.0: a CSV data package or JSON.

CSV: ``datapackage.json`` (the HSDS 3.0 package, unchanged) and one CSV per table,
with the package's columns in its order. JSON: ``services.json`` and
``organizations.json`` (lists of the compiled objects), ``taxonomy_terms.json`` and
``taxonomies.json``.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from bot.directory.hsds.objects import Directory
from bot.directory.hsds.package import DATAPACKAGE, resources
from bot.directory.hsds.tables import Tables, tables

FORMATS = ("csv", "json")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def write_csv(data: Tables, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DATAPACKAGE, out / "datapackage.json")
    written = [out / "datapackage.json"]
    for name, resource in resources().items():
        columns = [f["name"] for f in resource["schema"]["fields"]]
        path = out / resource["path"]
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(columns)
            for row in data.get(name, []):
                writer.writerow([_cell(row.get(c)) for c in columns])
        written.append(path)
    return written


def write_json(data: Tables, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    directory = Directory(data)
    documents = {
        "services.json": [directory.service(s["id"]) for s in data["service"]],
        "organizations.json": [directory.organization(o["id"]) for o in data["organization"]],
        "taxonomy_terms.json": [
            {**t, "taxonomy_detail": directory.get("taxonomy", t["taxonomy_id"])}
            for t in data["taxonomy_term"]
        ],
        "taxonomies.json": data["taxonomy"],
    }
    written = []
    for name, document in documents.items():
        path = out / name
        path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
        written.append(path)
    return written


def export(session: Session, fmt: str, out: Path) -> list[Path]:
    """Writes every directory record to ``out`` in ``fmt``; returns the files written."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    data = tables(session)
    return write_csv(data, out) if fmt == "csv" else write_json(data, out)
