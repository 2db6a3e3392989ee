"""How long a person's message may be, and what they are told when it is longer.

One limit for the website chat (widget, ``/chat``), the REST channel and a
navigator's live replies; SMS has its own (a gateway's per-message maximum) but
the same wording.
"""

MAX_MESSAGE_CHARS = 1000


def too_long_reply(limit: int = MAX_MESSAGE_CHARS) -> str:
    return (
        f"Sorry, that message is too long for me. Please keep each message to "
        f"{limit:,} characters or fewer: you can send it in a few parts."
    )
