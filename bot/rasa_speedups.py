"""Rasa 3.6's check of action server responses, with its validator built once (issue 11).

Importing this module patches Rasa; Rasa imports it at start-up through
``bot.channels.rest`` (every channel configuration of ours loads it). Rasa
is pinned (3.6.21): on an upgrade, check that the function patched here
still does what this assumes, or whether the patch is still needed.

Rasa checks every action server response against a JSON schema
(``RemoteAction.action_response_format_spec()``) before a single event
reaches the tracker, and that check is worth keeping: a malformed response
would otherwise corrupt the conversation. But Rasa does it with
``jsonschema.validate``, which for every response first checks the schema
itself against the JSON Schema meta-schema and then builds a new validator:
under load, about half of the Rasa server's time. ``validate_action_result``
builds the validator once per schema (keyed by the class's spec function) and
only tests the response. A valid response passes exactly as before; an invalid
one is handed to Rasa's own method, so it raises exactly the error Rasa raises
(the same ``jsonschema.ValidationError``, best match first, with Rasa's hint
appended), at the old price but only for a broken response.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction

Schema = dict[str, Any]

# Rasa's own method, kept: it raises the error for an invalid response.
rasa_validate_action_result = RemoteAction._validate_action_result


@cache
def validator(spec: Callable[[], Schema]) -> Validator:
    """The validator for the schema ``spec`` returns, built (and the schema checked) once.

    The same class ``jsonschema.validate`` picks (the schema's ``$schema``, else
    the latest draft); an invalid schema raises ``SchemaError`` here, as it does there.
    """
    schema = spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """True for a valid action server response; Rasa's own error for an invalid one."""
    if validator(type(self).action_response_format_spec).is_valid(result):
        return True
    return rasa_validate_action_result(self, result)


RemoteAction._validate_action_result = validate_action_result
