"""The replies Āwhina's custom actions and form questions say, kept out of the domain.

Rasa's ``rasa data validate`` reports every domain response that no story or rule
names, even one a custom action sends with ``dispatcher.utter_message(response=...)``
(RasaHQ/rasa#4200). Those replies live in ``data/replies.yml`` instead, in the same
format as the domain's responses (variants, ``channel: sms``, buttons, ``{slots}``).
:class:`ReplyGenerator` is Rasa's own templated generator over both sets, named in
``endpoints.yml`` under ``nlg``; the domain keeps only what stories and rules say, so
the validator's check means something again. The action server never reads this file:
it names replies, and the Rasa server words them.

Form questions are replies too: a form asks for a slot through ``action_ask_<slot>``
(``actions/asks.py``), which sends ``utter_ask_<slot>`` from here.

One addition to the format: ``buttons_of: <domain response>`` reuses another
response's buttons, from its variant for the same channel if it has one (YAML anchors
cannot reach across files).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain

from bot.config import DATA_DIR, ROOT

REPLIES_FILE = DATA_DIR / "replies.yml"
DOMAIN_FILE = ROOT / "domain.yml"
Responses = dict[str, list[dict[str, Any]]]


def load_replies(path: Path, domain_responses: Mapping[str, list[dict[str, Any]]]) -> Responses:
    """The replies in ``path``, with ``buttons_of`` resolved against the domain's responses.

    A reply with the same name as a domain response is an error: which one is said
    would depend on load order.
    """
    replies: Responses = yaml.safe_load(path.read_text(encoding="utf-8"))["replies"]
    clashes = sorted(set(replies) & set(domain_responses))
    if clashes:
        raise ValueError(f"{path.name}: also in the domain: {', '.join(clashes)}")
    for name, variants in replies.items():
        for variant in variants:
            source = variant.pop("buttons_of", None)
            if source is None:
                continue
            if source not in domain_responses:
                raise ValueError(f"{path.name}: {name}: buttons_of names no domain response")
            same_channel = [
                v for v in domain_responses[source] if v.get("channel") == variant.get("channel")
            ]
            variant["buttons"] = (same_channel or domain_responses[source])[0]["buttons"]
    return replies


def with_replies(domain_responses: Responses) -> Responses:
    """The domain's responses and the replies file's (none before a model is loaded)."""
    if not domain_responses:
        return {}
    return {**domain_responses, **load_replies(REPLIES_FILE, domain_responses)}


@lru_cache(maxsize=1)
def all_responses() -> Responses:
    """Every response the assistant can say: the domain's and the replies file's."""
    return with_replies(yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))["responses"])


class ReplyGenerator(TemplatedNaturalLanguageGenerator):
    """Rasa's templated generator over the model's domain responses and the replies file.

    Rasa builds the generator before it loads a model (with an empty domain) and then
    assigns the model's domain responses to ``responses``; the setter adds the replies
    each time, so a model loaded later (or reloaded) keeps them.
    """

    def __init__(self, endpoint_config: Any = None, domain: Domain | None = None) -> None:
        super().__init__(dict(domain.responses) if domain else {})

    @property
    def responses(self) -> Responses:
        return self._responses

    @responses.setter
    def responses(self, domain_responses: Responses) -> None:
        self._responses = with_replies(domain_responses)
