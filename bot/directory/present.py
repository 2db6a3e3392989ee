"""How the bot words directory facts for a phone screen.

Only fields of a ``ServiceView`` are used (of a ``ServiceSummary`` for a page of
results), so every fact comes from the database; a record nobody has checked says
so instead of being presented as certain.
"""

from __future__ import annotations

from datetime import datetime

from bot import clock
from bot.directory import hours as hours_mod
from bot.directory.places import gazetteer
from bot.directory.query import ServiceQuery, ServiceSummary, ServiceView
from bot.directory.taxonomy import taxonomies

UNCHECKED = "(details not yet checked: confirm with them first)"


def contact_line(view: ServiceSummary) -> str | None:
    parts = []
    for phone in view.phones:
        verb = "Text" if phone.type == "text" else "Call"
        parts.append(
            f"{verb} {phone.number}" + (f" ({phone.description})" if phone.description else "")
        )
    if view.email:
        parts.append(f"Email {view.email}")
    if view.website:
        parts.append(view.website)
    return " · ".join(parts) if parts else None


def hours_line(view: ServiceSummary, at: datetime | None = None) -> str | None:
    """``"24/7"``, ``"Open now (Mon–Fri 9am–5pm)"``, ``"Closed now, opens tomorrow at 9am"``,
    or the hours as text when only text is known (``"By appointment"``)."""
    at = at or clock.now()
    described = hours_mod.describe(view.hours)
    if described is None:
        return view.hours_text
    if view.is_24_7:
        return "Open 24/7"
    if view.is_open(at):
        return f"Open now ({described})"
    opening = hours_mod.next_opening(view.hours, at)
    when = f", opens {hours_mod.describe_opening(opening, at)}" if opening else ""
    return f"Closed now{when} ({described})"


def cost_line(view: ServiceSummary) -> str | None:
    if view.free:
        return "Free"
    if view.fees_description:
        return view.fees_description
    return None


def tags(view: ServiceSummary, at: datetime | None = None) -> str:
    parts = [hours_line(view, at), cost_line(view)]
    if view.kaupapa_maori:
        parts.append("Kaupapa Māori")
    return " · ".join(p for p in parts if p)


def summary(view: ServiceSummary, number: int | None = None, at: datetime | None = None) -> str:
    title = f"{number}. {view.name}" if number else view.name
    lines = [title]
    if view.description:
        lines.append(view.description)
    contact = contact_line(view)
    lines.append(contact or "No checked contact details yet.")
    extra = tags(view, at)
    if extra:
        lines.append(extra)
    if not view.verified:
        lines.append(UNCHECKED)
    return "\n".join(lines)


def summaries(views: list[ServiceSummary], start: int = 1, at: datetime | None = None) -> str:
    return "\n\n".join(summary(v, start + i, at) for i, v in enumerate(views))


REFERRAL = {
    "self": "You can contact them yourself, no referral needed.",
    "referral": "You need a referral (e.g. from a GP or agency).",
    "either": "Contact them yourself or get referred.",
}


def detail(view: ServiceView, at: datetime | None = None) -> str:
    lines = [view.name]
    if view.organization and view.organization != view.name:
        lines.append(f"Run by {view.organization}.")
    if view.description:
        lines.append(view.description)
    if view.eligibility:
        lines.append(f"Who for: {view.eligibility}")
    lines.append(f"Contact: {contact_line(view) or 'no checked contact details yet'}")
    if view.addresses:
        lines.append("Where: " + "; ".join(view.addresses))
    hours = hours_line(view, at)
    if hours:
        lines.append(f"Hours: {hours}")
    cost = cost_line(view)
    if cost:
        lines.append(f"Cost: {cost}")
    if view.kaupapa_maori:
        lines.append("Kaupapa Māori service.")
    if view.referral in REFERRAL:
        lines.append(REFERRAL[view.referral])
    if view.alert:
        lines.append(f"Note: {view.alert}")
    checked = f"checked {view.last_verified:%-d %b %Y}" if view.last_verified else "not yet checked"
    lines.append(f"Source: {view.source} ({checked})")
    return "\n".join(lines)


FILTER_WORDS = {"kaupapa_maori": "kaupapa Māori", "free": "free", "open_now": "open now"}


def search_label(need_label: str | None, filters: tuple[str, ...]) -> str:
    """What a search was for, in a sentence: "free services for housing"."""
    kinds = " ".join(FILTER_WORDS[f] for f in filters if f != "open_now")
    label = f"{kinds} services" if kinds else "services"
    if need_label:
        label = f"{label} for {need_label}"
    return f"{label} open now" if "open_now" in filters else label


def search_wording(asked: ServiceQuery) -> dict[str, str]:
    """The words a search answer's intro fills in (``data/replies.yml``: results intros)."""
    needs = taxonomies().needs
    place = gazetteer().get(asked.place)
    return {
        "need_label": search_label(needs[asked.need].label if asked.need else None, asked.filters),
        "place_phrase": f" in {place.display_name}" if place else "",
        "place": place.display_name if place else "",
        "place_name": place.name if place else "",  # shorter, for SMS
        "filters": filter_words(asked.filters),  # for SMS
        "region": region_name(asked.place),
    }


def filter_words(filters: tuple[str, ...]) -> str:
    """The filters alone, as a short SMS says them: "kaupapa Māori and free"."""
    words = [FILTER_WORDS[f] for f in filters]
    return " and ".join(filter(None, [", ".join(words[:-1]), words[-1]])) if words else ""


def region_name(place_key: str | None) -> str:
    """The region a place is in, as people say it ("the West Coast"), or ""."""
    region = gazetteer().get(gazetteer().region_of(place_key)) if place_key else None
    return f"the {region.name}" if region else ""


def now_line(view: ServiceView) -> str:
    """One short line to reach a service now: "Alcohol Drug Helpline: call 0800 787 797 (free)"."""
    how = " or ".join(
        dict.fromkeys(f"{'text' if p.type == 'text' else 'call'} {p.number}" for p in view.phones)
    )
    facts = ", ".join(
        f for f in ("free" if view.free else None, "24/7" if view.is_24_7 else None) if f
    )
    return f"{view.name}: {how}" + (f" ({facts})" if facts else "")


def open_now_line(view: ServiceView, at: datetime | None = None) -> str:
    return f"{view.name}: {hours_line(view, at) or 'I do not have their hours'}"


def contact_answer(view: ServiceView) -> str:
    contact = contact_line(view)
    line = f"{view.name}: {contact or 'I do not have checked contact details for them yet'}"
    return line if view.verified or not contact else f"{line} {UNCHECKED}"


def cost_answer(view: ServiceView) -> str:
    return f"{view.name}: {cost_line(view) or 'I do not know what it costs; ask them'}"


def kaupapa_answer(view: ServiceView) -> str:
    if view.kaupapa_maori:
        return f"{view.name}: yes, a kaupapa Māori service"
    return f"{view.name}: not listed as kaupapa Māori"
