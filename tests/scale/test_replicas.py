"""More than one replica: two Rasa servers and two action servers behind HAProxy give the
answers one gives, never interleave one conversation's messages, and deliver a
navigator's live reply to a widget connected to either of them (tests/scale/conftest.py).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import socketio
from aiohttp import ClientSession

from bot.navigator.rasa_client import RasaClient
from tests.browser.test_socketio_channel import replies, start_session
from tests.e2e.conftest import TOKEN
from tests.scale.conftest import Cluster

pytestmark = pytest.mark.e2e

# A greeting, a need with a place, a follow-up on a result, a contact question, te reo.
SCRIPT = (
    "kia ora",
    "my partner is back on the P, we're in Greymouth",
    "tell me about the second one",
    "whats their number",
    "what does whānau mean",
)
# Messages that each start a directory search, so their handling overlaps in time.
AT_ONCE = (
    "i need help with housing in greymouth",
    "my son is using meth, we're in westport",
    "we need food in hokitika",
    "my partner hits me, i'm in reefton",
    "i need a budgeting service in greymouth",
    "my boy is getting mixed up with a gang in westport",
)


def _users(events: list[dict]) -> list[str]:
    return [event["text"] for event in events if event["event"] == "user"]


def test_a_conversation_alternating_between_replicas_gets_the_answers_of_one(
    cluster: Cluster,
):
    one, alternating, balanced = (uuid.uuid4().hex for _ in range(3))
    first, second = cluster.replica_urls
    answers_one = [cluster.chat(first, one, message) for message in SCRIPT]
    answers_alternating = [
        cluster.chat(cluster.replica_urls[turn % 2], alternating, message)
        for turn, message in enumerate(SCRIPT)
    ]
    answers_balanced = [cluster.chat(cluster.balancer_url, balanced, m) for m in SCRIPT]

    assert all(answers_one), answers_one
    assert answers_alternating == answers_one
    assert answers_balanced == answers_one
    # Each replica reads the whole conversation from PostgreSQL.
    assert _users(cluster.events(second, alternating)) == list(SCRIPT)
    assert _users(cluster.events(first, alternating)) == list(SCRIPT)


def test_concurrent_messages_for_one_conversation_never_interleave(cluster: Cluster):
    sender = uuid.uuid4().hex
    cluster.chat(cluster.replica_urls[0], sender, "kia ora")
    start = threading.Barrier(len(AT_ONCE))

    def send(turn: int) -> list[str]:
        start.wait()
        return cluster.chat(cluster.replica_urls[turn % 2], sender, AT_ONCE[turn])

    with ThreadPoolExecutor(len(AT_ONCE)) as pool:
        answers = list(pool.map(send, range(len(AT_ONCE))))

    assert all(answers), answers
    events = cluster.events(cluster.replica_urls[1], sender)
    assert Counter(_users(events)) == Counter(("kia ora", *AT_ONCE))
    # Turn by turn: each message is answered and the bot listens again before the next
    # message's events begin (with a lock per replica, two replicas would write one
    # tracker at once and lose or mix events).
    turns: list[list[dict]] = []
    for event in events:
        if event["event"] == "user":
            turns.append([])
        elif turns and event["event"] == "action":
            turns[-1].append(event)
    for turn in turns:
        names = [action["name"] for action in turn]
        assert names[-1] == "action_listen", names
        assert names.count("action_listen") == 1, names
        assert len(names) > 1, "the message was answered"


def _widget(cluster: Cluster) -> socketio.SimpleClient:
    """The chat widget's connection through the balancer (socket.io long-polling)."""
    client = socketio.SimpleClient()
    client.connect(
        cluster.balancer_url,
        headers={"Origin": cluster.widget_origin},
        transports=["polling"],
        wait_timeout=15,
    )
    return client


async def _navigator_says(url: str, conversation: str, message: str) -> None:
    async with ClientSession() as http:
        rasa = RasaClient(http, url, TOKEN, timeout=60)
        await rasa.set_slots(
            conversation,
            {
                "navigator_name": "Mere",
                "navigator_org": "Poutini Waiora",
                "navigator_message": message,
            },
        )
        await rasa.execute(conversation, "action_navigator_message")


def test_a_navigator_reply_reaches_the_widget_from_either_replica(cluster: Cluster):
    client = _widget(cluster)
    try:
        session_id = start_session(client)
        client.emit("user_uttered", {"message": "kia ora", "session_id": session_id})
        assert replies(client), "the widget is answered through the balancer"
        # The socket is held by one replica; each replica in turn sends the navigator's
        # message, as the inbox would through the balancer, so one of them is the other.
        said = []
        for number, url in enumerate(cluster.replica_urls, 1):
            message = f"Kia ora, Mere here ({number})."
            asyncio.run(_navigator_says(url, session_id, message))
            said += [reply.get("text") for reply in replies(client, wait=15)]
        assert said == ["Mere: Kia ora, Mere here (1).", "Mere: Kia ora, Mere here (2)."]
    finally:
        client.client.eio.disconnect(abort=True)
