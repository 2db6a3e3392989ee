"""A synthetic history of demand, so the insights page is not empty on a fresh machine.

Every row it writes has ``demo`` set, and the page says so while any are shown.
The mix (which needs, which districts, how often nothing is local) is made up to
look plausible for the Coast; it is not a measurement of anything.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from bot.insights.models import DemandRecord

NEED_WEIGHTS = {
    "drugs_alcohol": 22,
    "mental_health": 16,
    "money_food": 14,
    "housing": 13,
    "family_harm": 9,
    "youth_gangs": 6,
    "threats_intimidation": 4,
    "legal": 5,
    "prison": 3,
    "health": 4,
    "education_work": 3,
    "cultural": 1,
}
AREA_WEIGHTS = {"grey": 40, "buller": 28, "westland": 22, "west-coast": 4, None: 6}
# How likely a need is to have nothing in the district (Westland and Buller are thinner).
THIN = {"buller": 0.35, "westland": 0.45, "grey": 0.15, "west-coast": 0.1}
CHANNEL_WEIGHTS = {"socketio": 55, "sms": 35, "rest": 10}
AUDIENCES = (None, None, None, "rangatahi", "whanau", "wahine", "tane", "kaumatua")


def _pick(rng: random.Random, weights: dict) -> object:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def write(session: Session, today: date, weeks: int = 52, seed: int = 13) -> int:
    """Replaces the demo rows with ``weeks`` weeks of them up to ``today``'s week."""
    rng = random.Random(seed)
    session.execute(delete(DemandRecord).where(DemandRecord.demo.is_(True)))
    monday = today - timedelta(days=today.weekday())
    rows = []
    for back in range(weeks):
        week = monday - timedelta(weeks=back)
        # A slow rise towards today, and more in winter (June to August).
        volume = 110 + (weeks - back) + (25 if week.month in (6, 7, 8) else 0)
        for _ in range(rng.randint(volume - 15, volume + 15)):
            need = _pick(rng, NEED_WEIGHTS)
            area = _pick(rng, AREA_WEIGHTS)
            if area is None:
                outcome = "no_place"
            elif rng.random() < THIN[area] * (1.6 if need in ("youth_gangs", "prison") else 1):
                outcome = rng.choice(("regional", "national", "national", "nothing"))
            else:
                outcome = "local"
            rows.append(
                dict(
                    week=week,
                    area=area,
                    need=need,
                    audience=rng.choice(AUDIENCES),
                    channel=_pick(rng, CHANNEL_WEIGHTS),
                    reo=rng.random() < 0.18,
                    outcome=outcome,
                    handoff_asked=(asked := rng.random() < 0.2),
                    handoff_consented=(consented := asked and rng.random() < 0.75),
                    handoff=consented and rng.random() < 0.9,
                    demo=True,
                )
            )
    # One insert of every row: the ORM adding thousands of objects one by one took a second.
    session.execute(insert(DemandRecord), rows)
    return len(rows)
