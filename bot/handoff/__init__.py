"""Warm handoff to human navigators: teams and routing, accounts, requests and their events.

``service`` is the one module the Rasa actions and the navigators' inbox call;
its functions never commit (the caller's ``session_scope`` does). The errors
live here so every module of the package can raise them.
"""


class HandoffError(ValueError):
    """Bad input or configuration; the message is plain enough to show a person."""


class NotFound(HandoffError):
    """No such request, or one the navigator may not see (the two are never told apart)."""


class InvalidTransition(HandoffError):
    """The request is not in a state that allows this, or someone else holds it."""


__all__ = ["HandoffError", "InvalidTransition", "NotFound"]
