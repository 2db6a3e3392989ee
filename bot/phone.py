"""Phone numbers and email addresses people type, in one canonical form.

New Zealand numbers are written many ways ("021 123 4567", "(03) 768-1234",
"+64 21 123 4567", "64211234567", "+64 (0)3 768 1234"). ``to_e164_nz`` turns
any of them into E.164 (``+64211234567``) or ``None``; ``mask`` is the only
form a number may take in a log line.

The numbering rules follow the NZ numbering plan as summarised in Google's
libphonenumber metadata (national significant number, without the leading 0):

- mobiles: ``21`` + 6 to 8 digits, or ``20``/``22``/``27``/``28``/``29`` + 7 or 8;
- landlines: area code ``3``, ``4``, ``6``, ``7`` or ``9`` + a 7-digit local
  number that starts with 2 to 9;
- free phone: ``800`` + 6 to 8 digits, ``508`` + 6 or 7 digits. These are
  returned in E.164 too (``0800 123 456`` -> ``+64800123456``) so every stored
  number has one format; ``is_mobile`` tells whether a number can get a text.

Short codes (111, 1737) are services, not personal numbers, and give ``None``.

``checked_contact`` is the one check of how a person asked to be contacted, for
the handoff form as they answer and for the request as it is stored.
"""

from __future__ import annotations

import re

from bot.text import has_controls

# Separators people put in numbers; anything else (letters, "ext", other digits
# scripts) makes the text not a phone number.
_SEPARATORS = re.compile(r"[\s\-.()/]")
_ALLOWED = re.compile(r"\+?[0-9\s\-.()/]+")
_MOBILE = re.compile(r"21\d{6,8}|2[02789]\d{7,8}")
_LANDLINE = re.compile(r"[34679][2-9]\d{6}")
_FREEPHONE = re.compile(r"800\d{6,8}|508\d{6,7}")
_E164 = re.compile(r"\+[1-9]\d{6,14}")
_MAX_INPUT = 40
ASCII_DIGITS = frozenset("0123456789")
MAX_EMAIL = 254  # the longest address SMTP can deliver to (RFC 5321 path, less the brackets)
MAX_EMAIL_LOCAL = 64

_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


def _national_significant(digits: str) -> str | None:
    """The number without country code or trunk 0, from digits that may carry either."""
    if digits.startswith("0064"):
        digits = digits[4:]
    elif digits.startswith("64") and len(digits) >= 10:
        digits = digits[2:]
    elif digits.startswith("0"):
        return digits[1:]
    else:
        return None
    # "+64 (0)21 ..." keeps the trunk 0 after the country code.
    return digits[1:] if digits.startswith("0") else digits


def to_e164_nz(text: str | None) -> str | None:
    """A New Zealand phone number in E.164 form, or ``None`` if ``text`` is not one."""
    if not text or len(text) > _MAX_INPUT:
        return None
    text = text.strip()
    if not _ALLOWED.fullmatch(text):
        return None
    plus = text.startswith("+")
    digits = _SEPARATORS.sub("", text.lstrip("+"))
    if not digits.isascii() or not digits.isdigit():
        return None
    if plus:
        if not digits.startswith("64"):
            return None
        digits = "0" + digits[2:] if not digits[2:].startswith("0") else digits[2:]
    nsn = _national_significant(digits)
    if nsn is None:
        return None
    if _MOBILE.fullmatch(nsn) or _LANDLINE.fullmatch(nsn) or _FREEPHONE.fullmatch(nsn):
        return f"+64{nsn}"
    return None


def normalise_e164(text: str | None) -> str | None:
    """Any valid E.164 number as given (a gateway's ``From``), or an NZ number in any form."""
    if not text or len(text) > _MAX_INPUT:
        return None
    stripped = text.strip()
    if _E164.fullmatch(stripped):
        return stripped if not stripped.startswith("+64") else to_e164_nz(stripped)
    return to_e164_nz(stripped)


def is_mobile(e164: str) -> bool:
    """Whether an E.164 number is an NZ mobile (or foreign, which we cannot tell apart)."""
    if not e164.startswith("+64"):
        return bool(_E164.fullmatch(e164))
    return bool(_MOBILE.fullmatch(e164[3:]))


def mask(e164: str | None) -> str:
    """The number with every digit but the last three replaced by ``*``, for logs.

    Only ``+`` and digits survive, so even a raw string never leaks more than
    three digits; fewer than four digits are masked entirely.
    """
    if not e164:
        return "***"
    digits = "".join(c for c in e164 if c in ASCII_DIGITS)  # not "¹" or "٣"
    prefix = "+" if e164.lstrip().startswith("+") else ""
    if len(digits) < 4:
        return prefix + "*" * max(len(digits), 3)
    return prefix + "*" * (len(digits) - 3) + digits[-3:]


def is_email(text: str | None) -> bool:
    """A plausible email address (one ``@``, a dotted domain with a letter TLD, no spaces)."""
    if not text or len(text) > MAX_EMAIL:
        return False
    text = text.strip()
    local = text.split("@", 1)[0]
    return len(local) <= MAX_EMAIL_LOCAL and bool(_EMAIL.fullmatch(text))


class InvalidContact(ValueError):
    """A contact detail that does not suit its method; the message says what is needed."""


def checked_contact(method: str, text: object) -> str:
    """The detail for a way of being contacted, in its one stored form: an email address
    as typed (trimmed), a phone number in E.164, a mobile for ``"text"``.

    Raises ``InvalidContact``. One set of limits whoever asks: ``is_email``'s and
    ``to_e164_nz``'s, on one line without control characters.
    """
    text = text.strip() if isinstance(text, str) else ""
    usable = bool(text) and not has_controls(text, one_line=True)
    if method == "email":
        if not (usable and is_email(text)):
            raise InvalidContact("please give a valid email address")
        return text
    if method not in ("call", "text"):
        raise InvalidContact(f"a {method!r} contact takes no number or address")
    phone = to_e164_nz(text) if usable else None
    if phone is None:
        raise InvalidContact("please give a New Zealand phone number (mobile or landline)")
    if method == "text" and not is_mobile(phone):
        raise InvalidContact("a text needs a New Zealand mobile number")
    return phone
