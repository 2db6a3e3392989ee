"""bot/rasa_speedups.py: the check of action server responses accepts what Rasa accepts,
refuses what Rasa refuses with Rasa's very error, and builds its validator once; the SQL
tracker store keeps its SQLite connection open and still commits every save; calls to the
action server share one session; the graph runs node by node with dask's results."""

from __future__ import annotations

import ast
import copy
import gc
import json
import logging
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import structlog
from aiohttp import BasicAuth, web
from jsonschema import ValidationError
from rasa.core import processor
from rasa.core.actions.action import ActionExtractSlots, RemoteAction
from rasa.core.actions.forms import FormAction
from rasa.core.tracker_store import SQLTrackerStore
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    AllSlotsReset,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    DefinePrevUserUtteredFeaturization,
    EntitiesAdded,
    Event,
    FollowupAction,
    LoopInterrupted,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses
from rasa.utils.endpoints import EndpointConfig
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sqlalchemy import event
from sqlalchemy.pool import QueuePool

from bot import config, rasa_speedups
from bot.config import ROOT

VALID: list[dict[str, Any]] = [
    {},
    {"events": [], "responses": []},
    # What action_search_services sends back: slots, a follow-up and a reply with buttons.
    {
        "events": [
            {"event": "slot", "timestamp": None, "name": "need", "value": "drugs_alcohol"},
            {"event": "slot", "name": "shown_services", "value": ["a", "b"]},
            {"event": "active_loop", "name": None},
            {"event": "followup", "name": "action_listen"},
            {"event": "bot", "text": "Here are some options", "data": {}},
        ],
        "responses": [
            {"text": "Here are two services in Greymouth:", "buttons": []},
            {"response": "utter_ask_more", "buttons": [{"title": "More", "payload": "/more"}]},
        ],
    },
]
INVALID: list[Any] = [
    [],  # not an object
    {"events": {"event": "slot"}},  # events not a list
    {"events": [{"name": "need", "value": 1}]},  # an event without its type
    {"events": [{"event": "no_such_event"}]},  # a type Rasa does not know
    {"events": [{"event": "slot", "name": "need"}]},  # a slot without a value
    {"events": [{"event": "slot", "name": 3, "value": 1}]},  # a slot name that is no string
    {"events": [{"event": "user", "text": 42}]},
    {"responses": "hello"},  # responses not a list
    {"responses": ["hello"]},  # a response that is no object
]


@pytest.fixture
def action() -> RemoteAction:
    return RemoteAction("action_search_services", None)


@pytest.mark.processes
def test_importing_the_rest_channel_applies_them() -> None:
    """Rasa loads bot.channels.rest at start-up (credentials.yml); that is what patches."""
    code = (
        "import bot.channels.rest\n"
        "from rasa.core import tracker_store\n"
        "from rasa.core.actions.action import RemoteAction\n"
        "print(RemoteAction._validate_action_result.__module__)\n"
        "print(tracker_store.create_engine_kwargs.__module__)\n"
        "from rasa.utils.endpoints import EndpointConfig\n"
        "print(EndpointConfig.session.__module__)\n"
        "from rasa.nlu.classifiers.logistic_regression_classifier import "
        "LogisticRegressionClassifier as C\n"
        "print(C.load.__func__.__module__)\n"
        "from rasa.engine.runner.dask import DaskGraphRunner\n"
        "print(DaskGraphRunner.run.__module__)\n"
        "from rasa.core.policies.rule_policy import RulePolicy\n"
        "print(RulePolicy._rule_key_to_state.__module__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["bot.rasa_speedups"] * 6


def test_the_kept_functions_are_rasas_own() -> None:
    original = rasa_speedups.rasa_validate_action_result
    assert original.__module__ == "rasa.core.actions.action"
    assert original.__qualname__ == "RemoteAction._validate_action_result"
    assert RemoteAction._validate_action_result is rasa_speedups.validate_action_result
    assert rasa_speedups.rasa_create_engine_kwargs.__module__ == "rasa.core.tracker_store"
    assert rasa_speedups.rasa_endpoint_session.__qualname__ == "EndpointConfig.session"
    assert rasa_speedups.rasa_load_classifier.__qualname__ == "LogisticRegressionClassifier.load"
    assert rasa_speedups.rasa_run_graph.__qualname__ == "DaskGraphRunner.run"
    assert rasa_speedups.rasa_applied_events.__qualname__ == "DialogueStateTracker.applied_events"
    assert rasa_speedups.rasa_domain_is_empty.__qualname__ == "Domain.is_empty"
    assert rasa_speedups.rasa_tracker_copy.__qualname__ == "DialogueStateTracker.copy"
    assert rasa_speedups.rasa_resolve_by_type.__qualname__ == "Event.resolve_by_type"
    assert Event.resolve_by_type is rasa_speedups.resolve_event_type
    assert rasa_speedups.rasa_log_slots.__qualname__ == "MessageProcessor._log_slots"
    assert rasa_speedups.rasa_format_tracker_states.__qualname__ == "Policy.format_tracker_states"
    assert (
        rasa_speedups.rasa_fails_unique_entity_mapping_check.__qualname__
        == "ActionExtractSlots._fails_unique_entity_mapping_check"
    )


@pytest.mark.parametrize("result", VALID)
def test_valid_responses_pass(action: RemoteAction, result: dict[str, Any]) -> None:
    assert action._validate_action_result(result) is True
    assert rasa_speedups.rasa_validate_action_result(action, result) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_responses_raise_rasas_error(action: RemoteAction, result: Any) -> None:
    with pytest.raises(ValidationError) as ours:
        action._validate_action_result(result)
    with pytest.raises(ValidationError) as rasas:
        rasa_speedups.rasa_validate_action_result(action, result)
    assert type(ours.value) is type(rasas.value)
    assert ours.value.message == rasas.value.message
    assert "Failed to validate Action server response" in ours.value.message
    assert str(ours.value) == str(rasas.value)
    assert list(ours.value.path) == list(rasas.value.path)
    assert ours.value.validator == rasas.value.validator


def test_the_validator_is_built_once(action: RemoteAction, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[dict[str, Any]] = []
    real_validator_for = rasa_speedups.validator_for

    def counting_validator_for(schema: dict[str, Any]) -> Any:
        built.append(schema)
        return real_validator_for(schema)

    rasa_speedups.response_check.cache_clear()
    monkeypatch.setattr(rasa_speedups, "validator_for", counting_validator_for)
    try:
        for _ in range(3):
            for result in VALID:
                assert action._validate_action_result(result)
        assert len(built) == 1
        assert built[0] == RemoteAction.action_response_format_spec()
    finally:
        rasa_speedups.response_check.cache_clear()


def test_an_sqlite_file_gets_a_pool_and_nothing_else_changes() -> None:
    kwargs = rasa_speedups.create_engine_kwargs("sqlite:///var/awhina.db")
    assert kwargs["poolclass"] is QueuePool
    assert kwargs["connect_args"] == {"check_same_thread": False}
    for url in ("sqlite://", "sqlite:///:memory:", "postgresql://user:pw@127.0.0.1/awhina"):
        assert rasa_speedups.create_engine_kwargs(url) == (
            rasa_speedups.rasa_create_engine_kwargs(url)
        )


@pytest.mark.asyncio
async def test_the_tracker_store_reuses_one_connection(tmp_path: Path) -> None:
    """Rasa's SQL tracker store on an SQLite file opens it once for many reads and saves,
    and each save is committed: another connection sees every event."""
    domain = Domain.from_dict({"intents": ["greet"], "slots": {}, "responses": {}})
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    assert isinstance(store.engine.pool, QueuePool)
    connects: list[object] = []
    event.listen(store.engine, "connect", lambda connection, record: connects.append(record))
    for turn in range(10):
        tracker = await store.get_or_create_tracker("person", append_action_listen=False)
        tracker.update(UserUttered(f"message {turn}", {"name": "greet", "confidence": 1.0}))
        tracker.update(ActionExecuted("action_listen"))
        await store.save(tracker)
    assert len(connects) <= 1
    with sqlite3.connect(tmp_path / "tracker.db") as other:
        (count,) = other.execute("SELECT count(*) FROM events WHERE type_name = 'user'").fetchone()
    assert count == 10
    assert len((await store.retrieve("person")).events) == 20


@pytest.mark.asyncio
async def test_calls_to_the_action_server_share_a_session_and_a_connection() -> None:
    """Rasa's ``EndpointConfig.request``, as a custom action calls it: every answer comes
    back, with Rasa's headers and authentication and the JSON as sent, through one session
    and one kept-alive connection; a session someone closed is replaced."""
    peers: set[tuple[str, int]] = set()
    seen: list[tuple[str | None, str | None]] = []

    async def webhook(request: web.Request) -> web.Response:
        peers.add(request.transport.get_extra_info("peername"))
        seen.append((request.headers.get("Authorization"), request.headers.get("X-Bot")))
        return web.json_response({"events": [], "echo": (await request.json())["n"]})

    text = 'whānau "ngā" \\ / \u2028 🙂'
    sent = {"n": {"text": text, "confidence": 0.1 + 0.2, "none": None, "list": [1, 2.5e-08]}}

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        endpoint = EndpointConfig(
            f"http://127.0.0.1:{port}/webhook",
            headers={"X-Bot": "awhina"},
            basic_auth={"username": "rasa", "password": "pw"},
        )
        answers = [(await endpoint.request(json={"n": n}))["echo"] for n in range(5)]
        assert answers == list(range(5))
        assert (await endpoint.request(json=sent))["echo"] == sent["n"]
        assert len(peers) == 1
        sessions = set()
        for _ in range(2):
            async with endpoint.session() as session:
                sessions.add(id(session))
        assert len(sessions) == 1
        assert set(seen) == {(BasicAuth("rasa", "pw").encode(), "awhina")}
        async with endpoint.session() as session:
            await session.close()
        assert (await endpoint.request(json={"n": 9}))["echo"] == 9
        assert len(peers) == 2
        async with endpoint.session() as session:
            await session.close()
    finally:
        await runner.cleanup()


def test_the_action_server_keeps_an_idle_connection_longer_than_rasa(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rasa lets go of an idle connection first, so it never writes on one being closed."""
    import rasa_sdk.endpoint
    from sanic.config import Config

    from bot import action_server
    from bot.handoff import forgetting, outbox

    kept: list[float] = []
    # Set here so that the test's end puts back what was there before main() changed it.
    monkeypatch.setenv("SANIC_KEEP_ALIVE_TIMEOUT", "5")
    monkeypatch.setenv("SANIC_HOST", "127.0.0.1")
    monkeypatch.setattr(outbox, "keep_retrying", lambda stop: None)
    monkeypatch.setattr(forgetting, "keep_retrying", lambda stop: None)
    monkeypatch.setattr(
        rasa_sdk.endpoint, "run", lambda *a, **k: kept.append(Config().KEEP_ALIVE_TIMEOUT)
    )
    action_server.main(port=0)
    assert kept == [config.ACTION_SERVER_KEEPALIVE_S]
    assert kept[0] >= 60 + config.ACTION_CALL_KEEPALIVE_S


def test_the_classifier_s_weights_load_column_by_column_with_the_same_probabilities(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A trained classifier as Rasa loads it, then as the patch leaves it: the transposed
    weights need no copy, and every probability is exactly the same."""
    rng = np.random.default_rng(42)
    features = sparse.random(60, 3000, density=0.02, format="csr", random_state=rng)
    trained = LogisticRegression(max_iter=300).fit(features, rng.integers(0, 5, 60))
    as_rasa_loads = copy.deepcopy(trained)
    component = SimpleNamespace(clf=trained)
    monkeypatch.setattr(rasa_speedups, "rasa_load_classifier", lambda cls, *a, **k: component)

    assert not trained.coef_.T.flags["C_CONTIGUOUS"]
    loaded = LogisticRegressionClassifier.load({}, None, None, None)
    assert loaded is component and loaded.clf.coef_.T.flags["C_CONTIGUOUS"]
    messages = sparse.random(20, 3000, density=0.02, format="csr", random_state=rng)
    assert np.array_equal(loaded.clf.predict_proba(messages), as_rasa_loads.predict_proba(messages))


def test_an_untrained_classifier_loads_as_rasa_leaves_it(monkeypatch: pytest.MonkeyPatch) -> None:
    component = SimpleNamespace(clf=LogisticRegression())
    monkeypatch.setattr(rasa_speedups, "rasa_load_classifier", lambda cls, *a, **k: component)
    assert LogisticRegressionClassifier.load({}, None, None, None) is component
    assert not hasattr(component.clf, "coef_")


def _node(needs: dict[str, str]) -> Any:
    return SimpleNamespace(needs=needs)


def test_the_run_order_puts_each_node_after_what_it_needs() -> None:
    schema = SimpleNamespace(
        nodes={
            "tokens": _node({"messages": "__message__"}),
            "features": _node({"messages": "tokens"}),
            "intent": _node({"messages": "features", "more": "tokens"}),
            "unused": _node({"messages": "tokens"}),
        }
    )
    order = rasa_speedups.run_order(schema, ("intent",))  # type: ignore[arg-type]
    assert order == (
        ("tokens", ("__message__",)),
        ("features", ("tokens",)),
        ("intent", ("features", "tokens")),
    )


def test_an_input_named_like_a_node_is_refused_as_rasa_refuses_it(agent: Any) -> None:
    from rasa.engine.exceptions import GraphRunError

    runner = agent.processor.graph_runner
    target = agent.processor.model_metadata.nlu_target
    node = next(iter(runner._graph_schema.nodes))
    for run in (rasa_speedups.rasa_run_graph, rasa_speedups.run_graph):
        with pytest.raises(GraphRunError, match="clashes with a node name"):
            run(runner, inputs={"__message__": node}, targets=[target])


TEXTS = (
    "kia ora",
    "i need help with housing in greymouth",
    "my boy is getting into gangs in westport",
    "whats their number",
    "what does whaanau mean",
    "i want to kill myself",
    "2",
)


@pytest.mark.parametrize("text", TEXTS)
def test_the_graph_parses_as_dask_runs_it(agent: Any, text: str) -> None:
    """The NLU pipeline run node by node, with our classifier's scoring, gives exactly
    what Rasa's dask run with Rasa's classifier gives."""
    from rasa.core.channels import UserMessage
    from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER

    runner = agent.processor.graph_runner
    target = agent.processor.model_metadata.nlu_target
    inputs = {PLACEHOLDER_MESSAGE: [UserMessage(text)], PLACEHOLDER_TRACKER: None}
    ours = rasa_speedups.run_graph(runner, inputs, [target])[target][0]
    with pytest.MonkeyPatch.context() as rasas:
        rasas.setattr(LogisticRegressionClassifier, "process", rasa_speedups.rasa_classify)
        inputs = {PLACEHOLDER_MESSAGE: [UserMessage(text)], PLACEHOLDER_TRACKER: None}
        theirs = rasa_speedups.rasa_run_graph(runner, inputs, [target])[target][0]
    parsed = [m.as_dict(only_output_properties=True) for m in (theirs, ours)]
    assert parsed[0] == parsed[1]
    assert parsed[1]["intent"]["name"]


@pytest.mark.asyncio
async def test_the_graph_predicts_as_rasa_does(agent: Any) -> None:
    """Every action prediction over a conversation is the same, with the same confidences,
    as with Rasa's dask run, Rasa's parsing and matching of the rules and Rasa's states."""
    from rasa.core.channels import UserMessage
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.engine.constants import PLACEHOLDER_TRACKER

    runner = agent.processor.graph_runner
    target = agent.processor.model_metadata.core_target
    tracker = await agent.processor.fetch_tracker_with_initial_session("graph-runner")
    predicted = 0
    for text in TEXTS[:5]:
        await agent.processor._handle_message_with_tracker(UserMessage(text), tracker)
        for _ in range(3):
            inputs = {PLACEHOLDER_TRACKER: tracker}
            ours = rasa_speedups.run_graph(runner, inputs, [target])[target]
            with pytest.MonkeyPatch.context() as rasas:
                rasa_rule_states = staticmethod(rasa_speedups.rasa_rule_states)
                rasas.setattr(RulePolicy, "_rule_key_to_state", rasa_rule_states)
                rasas.setattr(
                    RulePolicy, "_get_possible_keys", rasa_speedups.rasa_possible_rule_keys
                )
                rasas.setattr(
                    Domain,
                    "states_for_tracker_history",
                    rasa_speedups.rasa_states_for_tracker_history,
                )
                theirs = rasa_speedups.rasa_run_graph(runner, inputs, [target])[target]
            assert ours.probabilities == theirs.probabilities
            assert ours.policy_name == theirs.policy_name
            assert ours.events == theirs.events
            predicted += 1
            action = agent.domain.action_names_or_texts[int(np.argmax(ours.probabilities))]
            tracker.update(ActionExecuted(action))
            if action == "action_listen":
                break
    assert predicted >= len(TEXTS[:5])
    assert rasa_speedups.rule_states.cache_info().hits > 0


def test_a_rule_s_states_are_parsed_once() -> None:
    key = '[{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}}]'
    rasa_speedups.rule_states.cache_clear()
    first = rasa_speedups.rule_states(key)
    assert first == rasa_speedups.rasa_rule_states(key)
    assert rasa_speedups.rule_states(key) is first
    assert rasa_speedups.rule_states.cache_info().misses == 1


def _rule(*turns: tuple[str, str | None]) -> str:
    """A rule's key as RulePolicy keeps it: its states (previous action, intent) in JSON."""
    states = []
    for action, intent in turns:
        state: dict[str, Any] = {"prev_action": {"action_name": action}}
        if intent:
            state["user"] = {"intent": intent}
        states.append(state)
    return json.dumps(states)


def test_rules_are_narrowed_down_as_rasa_does_with_fewer_comparisons(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rules of one to three turns (one for a conversation's start, one with an action
    that should not be set, one for any intent) against conversations of every length up
    to twelve turns: the same rules left as Rasa's, comparing at the latest turn only the
    rules that may follow its action with its intent, and each rule with at most as many
    turns as the longest has."""
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.shared.core.constants import SHOULD_NOT_BE_SET

    rules = [
        _rule(("action_listen", "greet")),
        _rule(("action_listen", "bye")),
        _rule(("utter_hi", None), ("action_listen", "greet")),
        _rule(("action_listen", "greet"), ("utter_hi", None), ("action_listen", "bye")),
        _rule(("action_listen", "ask_help"), ("utter_hi", None), ("action_listen", "greet")),
        json.dumps([{"user": {"intent": "greet"}}]),  # conversation_start: true
        json.dumps([{"prev_action": {"action_name": SHOULD_NOT_BE_SET}}]),
        _rule(("utter_hi", None), ("action_listen", None)),
    ]
    # The rules whose last turn follows an action with an intent (besides the two above).
    follow = {
        ("action_listen", "greet"): 4,
        ("action_listen", "bye"): 3,
        ("action_listen", "ask_help"): 1,
        ("utter_hi", None): 0,
        (None, None): 0,
    }
    lookup = {key: "utter_answer" for key in rules}
    policy = RulePolicy.__new__(RulePolicy)
    compared: list[int] = []
    real = RulePolicy._is_rule_applicable

    def counting(self: Any, key: str, turn: int, state: Any) -> bool:
        compared.append(turn)
        return real(self, key, turn, state)

    monkeypatch.setattr(RulePolicy, "_is_rule_applicable", counting)
    intents = ["greet", "bye", "ask_help"]
    conversation: list[Any] = [{}]
    for turn in range(12):
        conversation.append({"prev_action": {"action_name": "action_listen"}})
        conversation[-1]["user"] = {"intent": intents[turn % 3]}
        conversation.append({"prev_action": {"action_name": "utter_hi"}})
        for length in range(len(conversation) + 1):
            states = conversation[:length]
            compared.clear()
            ours = rasa_speedups.possible_rule_keys(policy, lookup, states)
            assert compared == [] or max(compared) < 3
            if states:
                latest = states[-1].get("prev_action", {}).get("action_name")
                turn_key = (latest, states[-1].get("user", {}).get("intent"))
                assert compared.count(0) == follow[turn_key] + 2
            else:
                assert compared == []
            assert ours == rasa_speedups.rasa_possible_rule_keys(policy, lookup, states)
    goodbye = [
        *conversation,
        {"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}},
        {"prev_action": {"action_name": "utter_hi"}},
        {"prev_action": {"action_name": "action_listen"}, "user": {"intent": "bye"}},
    ]
    assert rasa_speedups.possible_rule_keys(policy, lookup, goodbye) == {
        rules[1],
        rules[3],
        rules[7],
    }
    assert rasa_speedups.possible_rule_keys(policy, {}, conversation) == set()


def _events_to_check() -> list[Any]:
    """Each kind of event bare, with a wrong type in each of its properties, and with a
    property of another kind; plus events that name no kind or are no object."""
    spec = RemoteAction.action_response_format_spec()
    events: list[Any] = [{}, {"event": 3}, {"event": "no_such_event"}, "slot", None]
    for kind in spec["properties"]["events"]["items"]["oneOf"]:
        name = kind["properties"]["event"]["const"]
        events += [{"event": name}, {"event": name, "timestamp": "noon"}]
        for prop in kind["properties"]:
            if prop != "event":
                events += [{"event": name, prop: {"not": "this"}}, {"event": name, prop: 7}]
    return events + [e for result in VALID for e in result.get("events", [])]


def test_each_event_is_judged_as_the_whole_schema_judges_it() -> None:
    spec = RemoteAction.action_response_format_spec()
    check = rasa_speedups.ResponseCheck(spec)
    assert check.outer is not None and len(check.kinds) == 23
    verdicts = []
    for one in _events_to_check():
        for result in ({"events": [one]}, {"events": [VALID[2]["events"][0], one]}):
            verdict = check.is_valid(result)
            assert verdict == check.whole.is_valid(result), result
            verdicts.append(verdict)
    assert True in verdicts and False in verdicts


def test_a_schema_of_another_shape_is_checked_whole() -> None:
    schema = {"type": "object", "properties": {"events": {"type": "array"}}}
    check = rasa_speedups.ResponseCheck(schema)
    assert check.outer is None
    assert check.is_valid({"events": [1]}) and not check.is_valid({"events": 1})


def _message(*features: tuple[str, str, Any]) -> Any:
    from rasa.shared.nlu.training_data.features import Features
    from rasa.shared.nlu.training_data.message import Message

    message = Message(data={"text": "kia ora"})
    for kind, attribute, matrix in features:
        message.add_features(
            Features(matrix, kind, attribute, f"featurizer{len(message.features)}")
        )
    return message


def _classifier(width: int, intents: int, **config: Any) -> LogisticRegressionClassifier:
    """Rasa's classifier trained on random rows ``width`` wide, its weights as loaded."""
    rng = np.random.default_rng(intents)
    rows = sparse.random(80, width, density=0.3, format="csr", random_state=rng)
    component = LogisticRegressionClassifier(config, "classifier", None, None)  # type: ignore[arg-type]
    component.clf.fit(rows, [f"intent_{i % intents}" for i in range(80)])
    component.clf.coef_ = np.asfortranarray(component.clf.coef_)
    return component


def _classified(classify: Any, component: Any, messages: list[Any]) -> list[Any]:
    for message in messages:
        message.data.pop("intent", None)
        message.data.pop("intent_ranking", None)
    classify(component, messages)
    return [(m.get("intent"), m.get("intent_ranking")) for m in messages]


def test_the_classifier_ranks_as_rasa_does() -> None:
    """Sentence features from three featurizers (and token features and another
    attribute's, which are not used), with a dense one and without, one message or two:
    the same ranking of the same length as Rasa's, the same names and confidences to
    1e-12, of the same types, and the intent its first entry."""
    rng = np.random.default_rng(7)

    def sparse_row(width: int, dtype: Any) -> Any:
        return sparse.random(1, width, density=0.4, random_state=rng, dtype=dtype).tocoo()

    def plain() -> Any:
        return _message(
            ("sequence", "text", sparse_row(5, np.float64)),
            ("sentence", "text", sparse_row(4, np.int64)),
            ("sentence", "intent", sparse_row(3, np.float64)),
            ("sentence", "text", sparse_row(6, np.float32).tocsr()),
            ("sentence", "text", sparse_row(2, np.float64)),
        )

    def dense() -> Any:
        return _message(
            ("sentence", "text", sparse_row(4, np.float64)),
            ("sentence", "text", rng.random((1, 3))),
        )

    cases = [
        (_classifier(12, 5), [plain()]),
        (_classifier(12, 5, ranking_length=0), [plain(), plain()]),
        (_classifier(12, 4, ranking_length=2), [plain()]),
        (_classifier(7, 3), [dense()]),
    ]
    for component, messages in cases:
        ours = _classified(rasa_speedups.classify, component, messages)
        rasas = _classified(rasa_speedups.rasa_classify, component, messages)
        for (intent, ranking), (rasa_intent, rasa_ranking) in zip(ours, rasas, strict=True):
            assert [e["name"] for e in ranking] == [e["name"] for e in rasa_ranking]
            intents = len(component.clf.classes_)
            assert len(ranking) == min(component.config["ranking_length"] or intents, intents)
            assert np.allclose(
                [e["confidence"] for e in ranking],
                [e["confidence"] for e in rasa_ranking],
                rtol=1e-12,
                atol=0,
            )
            assert intent is ranking[0] and intent["name"] == rasa_intent["name"]
            assert type(intent["name"]) is type(rasa_intent["name"])
            assert type(intent["confidence"]) is type(rasa_intent["confidence"])


def test_a_classifier_it_does_not_compute_is_left_to_rasa() -> None:
    """Two intents, and a message whose features are not as wide as the weights: Rasa's
    own process runs (and raises Rasa's error for the second)."""
    two = _classifier(6, 2)
    message = _message(("sentence", "text", sparse.random(1, 6, density=0.5).tocoo()))
    ranking = _classified(rasa_speedups.classify, two, [message])[0][1]
    assert ranking == _classified(rasa_speedups.rasa_classify, two, [message])[0][1]
    narrow = _message(("sentence", "text", sparse.random(1, 4, density=0.5).tocoo()))
    with pytest.raises(ValueError, match="features"):
        rasa_speedups.classify(_classifier(6, 4), [narrow])


def test_a_slot_copy_is_the_copy_python_makes() -> None:
    """Every kind of slot: a new object of the same class with the same attributes, as
    Python's own copy (through ``__reduce_ex__``) makes it, and changing it leaves the
    original as it was."""
    from rasa.shared.core.slots import (
        AnySlot,
        BooleanSlot,
        CategoricalSlot,
        FloatSlot,
        ListSlot,
        TextSlot,
    )

    slots = [
        TextSlot("place", [], initial_value="Hokitika"),
        BooleanSlot("consent", []),
        FloatSlot("age", [], max_value=120.0),
        ListSlot("shown_services", [], initial_value=["a"]),
        CategoricalSlot("need", [], values=["housing", "drugs_alcohol"]),
        AnySlot("context", []),
        *Domain.load(str(ROOT / "domain.yml")).slots,
    ]
    for slot in slots:
        python_s = copy._reconstruct(slot, None, *slot.__reduce_ex__(4)[:3])  # type: ignore[attr-defined]
        ours = copy.copy(slot)
        assert ours is not slot and type(ours) is type(python_s) is type(slot)
        assert ours.__dict__ == python_s.__dict__ == slot.__dict__
        ours.value = None
        assert slot.__dict__ == python_s.__dict__


# The end of the test domains' slots, with a consent form asking its one slot, and replies.
CONSENT_FORM = """  requested_slot:
    type: categorical
    values: [consent]
    mappings: [{type: custom}]
forms:
  consent_form:
    required_slots: [consent]
responses:
  utter_hi: [{text: hi}]
  utter_ask_consent: [{text: "ok?"}]
  utter_bye: [{text: bye}]
"""


STATES_DOMAIN = (
    """
intents: [greet, ask_help, affirm, bye]
entities: [place]
slots:
  place:
    type: text
    mappings: [{type: from_entity, entity: place}]
  consent:
    type: bool
    influence_conversation: true
    mappings: [{type: custom}]
"""
    + CONSENT_FORM
)

STATES_ARGUMENTS = [
    {},
    {"omit_unset_slots": True},
    {"ignore_rule_only_turns": True},
    {
        "ignore_rule_only_turns": True,
        "rule_only_data": {"rule_only_slots": ["consent"], "rule_only_loops": ["consent_form"]},
    },
    {"rule_only_data": {"rule_only_slots": ["place"], "rule_only_loops": []}},
    # The same arguments but the rule-only slots: kept apart by their content.
    {
        "ignore_rule_only_turns": True,
        "rule_only_data": {"rule_only_slots": ["place"], "rule_only_loops": ["consent_form"]},
    },
]


def _said(intent: str, *entities: dict[str, Any]) -> list[Any]:
    """A message: listening, then the person's words with ``intent`` and ``entities``."""
    return [
        ActionExecuted("action_listen"),
        UserUttered(intent, {"name": intent}, list(entities)),
    ]


def _conversation() -> list[Any]:
    """Events of a conversation with a form, rule-only turns, a follow-up, an undone
    message, an undone action, a restart and a new session."""
    return [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        *_said("greet"),
        ActionExecuted("utter_hi", hide_rule_turn=True),
        *_said("ask_help", {"entity": "place", "value": "Greymouth"}),
        SlotSet("place", "Greymouth"),
        ActionExecuted("consent_form"),
        ActiveLoop("consent_form"),
        SlotSet("requested_slot", "consent"),
        ActionExecuted("utter_ask_consent", hide_rule_turn=True),
        *_said("affirm"),
        ActionExecuted("consent_form"),
        SlotSet("consent", True),
        ActiveLoop(None),
        FollowupAction("utter_bye"),
        ActionExecuted("utter_bye"),
        *_said("bye"),
        UserUtteranceReverted(),
        *_said("greet"),
        ActionExecuted("utter_hi"),
        ActionReverted(),
        ActionExecuted("utter_bye"),
        Restarted(),
        *_said("greet"),
        ActionExecuted("action_session_start"),
        SessionStarted(),
        *_said("ask_help"),
        ActionExecuted("utter_hi", hide_rule_turn=True),
    ]


def test_a_conversation_s_states_are_rasas_after_every_event() -> None:
    """The conversation's tracker asked (twice) after each of its events, with each set
    of arguments RulePolicy and MemoizationPolicy use: the states Rasa works out."""

    domain = Domain.from_yaml(STATES_DOMAIN)
    tracker = DialogueStateTracker("states", domain.slots)
    for happened in _conversation():
        tracker.update(happened)
        for arguments in STATES_ARGUMENTS:
            rasas = rasa_speedups.rasa_states_for_tracker_history(domain, tracker, **arguments)
            for _ in range(2):  # asked again with no new event: the same
                ours = domain.states_for_tracker_history(tracker, **arguments)
                assert ours == rasas, (happened, arguments)
                ours[-1].clear()


@pytest.mark.parametrize("max_event_history", [None, 5])
def test_a_tracker_s_applied_events_are_rasas_and_worked_out_from_the_start_only_if_needed(
    monkeypatch: pytest.MonkeyPatch, max_event_history: int | None
) -> None:
    """After every event of a conversation (undone messages and actions, a loop whose
    action comes before its loop event, a restart), with or without a cap on the events
    kept: Rasa's applied events, however often asked, each caller's list its own; worked
    out from the start only at the first ask, when a loop of a new name starts, and when
    the cap drops the first events (otherwise through the new events only)."""
    worked_out: list[int] = []
    rasas = rasa_speedups.rasa_applied_events

    def counted(tracker: DialogueStateTracker) -> list[Any]:
        worked_out.append(1)
        return rasas(tracker)

    monkeypatch.setattr(rasa_speedups, "rasa_applied_events", counted)
    domain = Domain.from_yaml(STATES_DOMAIN)
    tracker = DialogueStateTracker("applied", domain.slots, max_event_history=max_event_history)
    expected_from_start, loops = 0, set()
    for n, happened in enumerate(_conversation(), start=1):
        tracker.update(happened)
        loop = happened.name if isinstance(happened, ActiveLoop) else None
        new_loop = bool(loop) and loop not in loops
        loops |= {loop} if loop else set()
        capped = max_event_history is not None and n > max_event_history
        expected_from_start += n == 1 or new_loop or capped
        expected = rasas(tracker)
        for _ in range(3):
            ours = tracker.applied_events()
            assert ours == expected, happened
            ours.clear()
        assert len(worked_out) == expected_from_start, happened
    assert expected_from_start < len(_conversation())
    tracker.events = type(tracker.events)(list(tracker.events)[:3], maxlen=max_event_history)
    assert tracker.applied_events() == rasas(tracker)


def test_a_longer_conversation_replays_only_its_new_events(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Asked again as the conversation grows, a conversation is replayed from the start
    once per set of arguments; an undone message, another tracker with equal but other
    events, and other arguments start again. Each caller gets states of its own."""

    domain = Domain.from_yaml(STATES_DOMAIN)
    starts: list[int] = []
    real_init_copy = DialogueStateTracker.init_copy

    def counted(tracker: DialogueStateTracker) -> DialogueStateTracker:
        starts.append(1)
        return real_init_copy(tracker)

    monkeypatch.setattr(DialogueStateTracker, "init_copy", counted)
    events = _conversation()[:14]  # up to the form's second run, which undoes its first
    tracker = DialogueStateTracker("growing", domain.slots)
    for happened in events:
        tracker.update(happened)
        domain.states_for_tracker_history(tracker)
    assert len(starts) == 2  # the first event, then the session's start, which drops it
    first = domain.states_for_tracker_history(tracker)
    first[-1]["user"].pop("intent")  # as Rasa's featurizer does to the latest state
    again = domain.states_for_tracker_history(tracker)
    assert "intent" in again[-1]["user"] and len(starts) == 2
    domain.states_for_tracker_history(tracker, omit_unset_slots=True)
    assert len(starts) == 3
    tracker.update(UserUtteranceReverted())
    undone = domain.states_for_tracker_history(tracker)
    assert len(starts) == 4
    assert undone == rasa_speedups.rasa_states_for_tracker_history(domain, tracker)
    stored = [e.as_dict() for e in tracker.events]
    read_back = DialogueStateTracker.from_dict("growing", stored, domain.slots)
    domain.states_for_tracker_history(read_back)
    assert len(starts) == 6  # Rasa's own (above) made one too


def test_only_the_latest_conversations_replays_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """With room for two replays, a third conversation drops the least recently asked;
    that conversation is replayed from its start again, with Rasa's states."""

    domain = Domain.from_yaml(STATES_DOMAIN)
    monkeypatch.setattr(rasa_speedups, "KEPT_CONVERSATIONS", 2)
    monkeypatch.setattr(rasa_speedups, "_conversations", type(rasa_speedups._conversations)())
    trackers = {
        name: DialogueStateTracker.from_events(name, _conversation()[:8], domain.slots)
        for name in ("first", "second", "third")
    }
    for tracker in trackers.values():
        domain.states_for_tracker_history(tracker)
    kept = {key[1] for key in rasa_speedups._conversations}
    assert kept == {"second", "third"}
    assert domain.states_for_tracker_history(trackers["first"]) == (
        rasa_speedups.rasa_states_for_tracker_history(domain, trackers["first"])
    )
    assert {key[1] for key in rasa_speedups._conversations} == {"third", "first"}


@pytest.mark.asyncio
async def test_what_the_server_loaded_is_frozen_out_of_the_collectors_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rasa's server loads its agent through ours, which freezes every object alive then
    (a full collection no longer walks the model and libraries) and makes full
    collections rarer, the younger generations collected as before."""
    from rasa.core import run

    assert run.load_agent_on_start is rasa_speedups.load_agent_on_start
    agent = object()
    loaded: list[tuple[Any, ...]] = []

    async def rasa_load(*args: Any) -> object:
        loaded.append(args)
        return agent

    monkeypatch.setattr(rasa_speedups, "rasa_load_agent_on_start", rasa_load)
    # The suite froze what collection made (tests/conftest.py); this test's objects are new.
    frozen_before = gc.get_freeze_count()
    thresholds = gc.get_threshold()
    try:
        answer = await run.load_agent_on_start("models/x.tar.gz", None, None, "app", "loop")
        assert gc.get_threshold() == (*thresholds[:2], rasa_speedups.FULL_COLLECTION_AFTER)
    finally:
        gc.set_threshold(*thresholds)
    assert thresholds[2] < rasa_speedups.FULL_COLLECTION_AFTER
    assert answer is agent
    assert loaded == [("models/x.tar.gz", None, None, "app", "loop")]
    assert gc.get_freeze_count() > frozen_before


def _copy_calls(tree: ast.AST) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "copy"
    ]


@pytest.mark.parametrize("module", rasa_speedups.LOG_COPYING_MODULES, ids=lambda m: m.__name__)
def test_the_modules_copy_only_for_debug_lines(module: Any) -> None:
    """In the Rasa modules whose ``copy`` is replaced, every use of it is a deep copy given
    to a debug log call (checked again on any upgrade of Rasa): nothing else loses a copy."""
    tree = ast.parse(Path(module.__file__).read_text())
    for_debug = {
        id(keyword.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "debug"
        for keyword in node.keywords
    }
    copies = _copy_calls(tree)
    assert copies, "Rasa no longer copies anything here: the patch can go"
    for call in copies:
        assert call.func.attr == "deepcopy" and id(call) in for_debug, ast.unparse(call)
    uses = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and node.id == "copy" and isinstance(node.ctx, ast.Load)
    ]
    assert len(uses) == len(copies)
    assert module.copy is rasa_speedups.LogCopies


@pytest.fixture
def restored_structlog() -> Any:
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


@pytest.mark.parametrize("level", [logging.INFO, logging.WARNING, logging.ERROR])
def test_nothing_is_copied_for_a_debug_line_that_is_dropped(
    level: int, restored_structlog: None
) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(level))
    events = [UserUttered("kia ora", {"name": "greet"}), ActionExecuted("action_greet")]
    assert not rasa_speedups.debug_logged()
    assert rasa_speedups.LogCopies.deepcopy(events) is events


def test_a_debug_line_that_is_logged_gets_its_copy(
    restored_structlog: None, caplog: pytest.LogCaptureFixture
) -> None:
    """With ``--debug``, Rasa's log line shows the events as they were when logged, as
    before: a deep copy, not the list the tracker goes on changing."""
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.DEBUG)
    assert rasa_speedups.debug_logged()
    events = [UserUttered("kia ora", {"name": "greet"})]
    copied = rasa_speedups.LogCopies.deepcopy(events)
    assert copied == events and copied is not events and copied[0] is not events[0]
    parse = {"text": "kia ora", "entities": [{"entity": "place", "value": "greymouth"}]}
    with caplog.at_level(logging.DEBUG):
        structlog.get_logger().debug("test.copy", entities=processor.copy.deepcopy(parse))
    parse["entities"].clear()
    assert "greymouth" in caplog.text


class _Shown:
    """A slot value that counts how often it is written out."""

    def __init__(self) -> None:
        self.shown = 0

    def __format__(self, spec: str) -> str:
        self.shown += 1
        return "shown"


def _tracker_with(value: Any) -> DialogueStateTracker:
    domain = Domain.from_yaml("slots:\n  results:\n    type: any\n    mappings: []\n")
    tracker = DialogueStateTracker("s", domain.slots)
    tracker.slots["results"].value = value
    return tracker


@pytest.mark.parametrize("level", [logging.INFO, logging.WARNING])
def test_the_slots_are_not_written_out_for_a_debug_line_that_is_dropped(
    level: int, restored_structlog: None
) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(level))
    value = _Shown()
    processor.MessageProcessor._log_slots(_tracker_with(value))
    assert value.shown == 0


def test_with_debug_lines_rasa_writes_the_slots_out(restored_structlog: None) -> None:
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.DEBUG)
    value = _Shown()
    processor.MessageProcessor._log_slots(_tracker_with(value))
    assert value.shown == 1


def test_rule_policy_s_states_are_written_out_only_for_a_debug_line_that_is_logged(
    restored_structlog: None,
) -> None:
    from rasa.core.policies.policy import Policy
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.utils.log_utils import configure_structlog

    states = [{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}}]
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    assert RulePolicy.format_tracker_states(states) == ""
    assert Policy.format_tracker_states(states) != ""
    configure_structlog(logging.DEBUG)
    assert RulePolicy.format_tracker_states(states) == Policy.format_tracker_states(states)
    assert "greet" in RulePolicy.format_tracker_states(states)


def test_a_slot_s_entity_mappings_are_checked_against_the_form_as_rasa_checks_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every mapping of every slot of our domain and of a form whose two slots map the same
    entity, with no form or each form active and each slot (or none) requested: the same
    verdict; each form's unique mappings worked out once."""
    for domain in (Domain.load(ROOT / "domain.yml"), Domain.from_yaml(TRIP_DOMAIN)):
        _check_entity_mappings(domain, monkeypatch)


TRIP_DOMAIN = """
entities: [city]
slots:
  departure:
    type: text
    mappings:
    - {type: from_entity, entity: city}
  arrival:
    type: text
    mappings:
    - {type: from_entity, entity: city}
  note:
    type: text
    mappings:
    - {type: from_text}
forms:
  trip_form:
    required_slots: [departure, arrival, note]
  note_form:
    required_slots: [note]
"""


def _check_entity_mappings(domain: Domain, monkeypatch: pytest.MonkeyPatch) -> None:
    action = ActionExtractSlots(None)
    slots = [slot for slot in domain.slots if slot.name != "requested_slot"]
    assert len(domain.form_names) >= 2
    cases = []
    for form in [None, *domain.form_names]:
        for requested in [None, *(slot.name for slot in slots)]:
            tracker = DialogueStateTracker("s", domain.slots)
            events = [ActiveLoop(form), SlotSet("requested_slot", requested)]
            tracker.update_with_events(events, domain)
            cases += [(slot.name, mapping, tracker) for slot in slots for mapping in slot.mappings]
    rasas = rasa_speedups.rasa_fails_unique_entity_mapping_check
    expected = [rasas(action, name, mapping, tracker, domain) for name, mapping, tracker in cases]
    assert not all(expected)

    worked_out: list[str] = []
    rasas_mappings = FormAction._create_unique_entity_mappings

    def counted(form: FormAction, domain: Domain) -> set[str]:
        worked_out.append(form.name())
        return rasas_mappings(form, domain)

    monkeypatch.setattr(FormAction, "_create_unique_entity_mappings", counted)
    ours = [
        action._fails_unique_entity_mapping_check(name, mapping, tracker, domain)
        for name, mapping, tracker in cases
    ]
    assert ours == expected
    assert sorted(worked_out) == sorted(set(worked_out))
    if domain.entities == ["city"]:
        assert any(expected) and worked_out == ["trip_form"]
    monkeypatch.undo()


def test_each_event_type_resolves_to_rasas_class_and_the_tree_is_walked_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rasas = rasa_speedups.rasa_resolve_by_type
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert {"user", "bot", "action", "slot", "active_loop", "session_started"} <= names
    for name in names:
        assert Event.resolve_by_type(name) is rasas(name)
        assert Event.resolve_by_type(name, SlotSet) is rasas(name, SlotSet)
    walks: list[type] = []

    def counted(cls: type) -> list[type]:
        walks.append(cls)
        return all_subclasses(cls)

    monkeypatch.setattr(rasa_speedups, "all_subclasses", counted)
    for name in names:
        assert Event.resolve_by_type(name) is rasas(name)
    assert walks == []
    # Names no class has: Rasa's answers (the old "topic" events, a default, its error).
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        Event.resolve_by_type("no_such_event")
    assert len(walks) == 3


def test_an_event_class_imported_later_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    # A table of this test's own, so the class is not kept for other tests.
    monkeypatch.setattr(rasa_speedups, "_event_types", {})
    assert Event.resolve_by_type("slot") is SlotSet

    class LaterEvent(SlotSet):
        type_name = "awhina_test_later_event"

    assert Event.resolve_by_type("awhina_test_later_event") is LaterEvent


def test_whether_a_domain_is_empty_is_rasas_answer_worked_out_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ours = Domain.load(ROOT / "domain.yml")
    empty = Domain.empty()
    asked: list[Domain] = []
    rasas = rasa_speedups.rasa_domain_is_empty

    def counted(domain: Domain) -> bool:
        asked.append(domain)
        return rasas(domain)

    monkeypatch.setattr(rasa_speedups, "rasa_domain_is_empty", counted)
    for _ in range(3):
        assert ours.is_empty() is rasas(ours) is False
        assert empty.is_empty() is rasas(empty) is True
    # Each worked out once at most (loading our domain may have asked already).
    ids = [id(domain) for domain in asked]
    assert len(ids) == len(set(ids)) and id(empty) in ids and set(ids) <= {id(ours), id(empty)}


COPY_DOMAIN = (
    """
intents: [greet, ask_help, affirm, deny, bye]
entities: [place, need]
slots:
  place:
    type: text
    initial_value: Hokitika
    mappings: [{type: from_entity, entity: place}]
  results:
    type: list
    mappings: [{type: custom}]
  shown:
    type: list
    initial_value: [a]
    mappings: [{type: custom}]
  consent:
    type: bool
    influence_conversation: true
    mappings: [{type: custom}]
  offset:
    type: float
    mappings: [{type: custom}]
  need:
    type: categorical
    values: [food, housing]
    mappings: [{type: custom}]
  context:
    type: any
    mappings: [{type: custom}]
"""
    + CONSENT_FORM
)


def _copy_conversation() -> list[Any]:
    """Events of a conversation touching every part of a tracker's state: a loop started
    before any message, messages with entities (and entities added), every kind of slot
    (a list slot set to a single value), a form asking, rejected, interrupted and done, a
    follow-up, a pause, undone messages and actions, slots reset, a restart, a new session."""
    return [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        SlotSet("context", {"channel": "web"}),
        ActionExecuted("consent_form"),
        ActiveLoop("consent_form"),  # its trigger: the empty message a new tracker has
        *_said("greet"),
        BotUttered("hi", {"buttons": [{"title": "Help", "payload": "/ask_help"}]}),
        ActiveLoop(None),
        *_said(
            "ask_help",
            {"entity": "place", "value": "Greymouth"},
            {"entity": "need", "value": "food"},
        ),
        EntitiesAdded([{"entity": "place", "value": "Runanga"}]),
        DefinePrevUserUtteredFeaturization(True),
        SlotSet("place", "Greymouth"),
        SlotSet("need", "food"),
        SlotSet("results", ["a", "b"]),
        SlotSet("shown", "b"),  # the slot makes a list of it
        SlotSet("offset", 2.0),
        ActionExecuted("consent_form"),
        ActiveLoop("consent_form"),
        SlotSet("requested_slot", "consent"),
        BotUttered("ok?"),
        *_said("bye"),
        ActionExecutionRejected("consent_form"),
        LoopInterrupted(True),
        ActionExecuted("utter_bye"),
        BotUttered("bye"),
        *_said("affirm"),
        ActionExecuted("consent_form"),
        SlotSet("consent", True),
        SlotSet("requested_slot", None),
        ActiveLoop(None),
        FollowupAction("utter_hi"),
        ActionExecuted("utter_hi"),
        ConversationPaused(),
        *_said("greet"),
        ConversationResumed(),
        ActionExecuted("utter_hi"),
        BotUttered("hi again"),
        *_said("deny"),
        UserUtteranceReverted(),
        *_said("affirm"),
        ActionExecuted("utter_hi"),
        BotUttered("hi"),
        ActionReverted(),
        SlotSet("shown", None),
        AllSlotsReset(),
        ActionExecuted("utter_bye"),
        BotUttered("bye"),
        Restarted(),
        ActionExecuted("action_session_start"),
        SessionStarted(),
        *_said("greet"),
        ActionExecuted("utter_hi"),
        BotUttered("hi"),
    ]


def _same(ours: Any, rasas: Any, sources: Any) -> bool:
    """Equal, and the source's own object exactly where Rasa's is."""
    return bool(ours == rasas) and (ours is sources) == (rasas is sources)


def _same_event(ours: Any, rasas: Any, source: Any, name: str) -> bool:
    """The same event of the source's, or each a (new, empty) one of its own."""
    if any(rasas is event for event in source.events):
        return ours is rasas
    own = [
        {key: value for key, value in vars(event).items() if key != "timestamp"}
        for event in (ours, rasas)
    ]
    return (
        type(ours) is type(rasas)
        and own[0] == own[1]
        and ours is not getattr(source, name)
        and not any(ours is event for event in source.events)
    )


def _same_slot(ours: Any, rasas: Any, sources: Any) -> bool:
    """A slot of its own, of the same class, each attribute as Rasa's copy has it."""
    mine = vars(sources) if sources is not None else {}
    return (
        type(ours) is type(rasas)
        and ours is not sources
        and vars(ours).keys() == vars(rasas).keys()
        and all(_same(value, vars(rasas)[key], mine.get(key)) for key, value in vars(ours).items())
    )


def _differences(ours: Any, rasas: Any, source: Any) -> list[str]:
    """What tells ``ours``, a copy of ``source``, from ``rasas``, Rasa's copy of it: every
    attribute but our memo of the applied events (slots attribute by attribute, events by
    identity and order, the deque's cap), and the current state."""
    from rasa.shared.core.trackers import EventVerbosity

    found = [] if type(ours) is type(rasas) else ["type"]
    names = vars(ours).keys() - {"_applied"}
    if names != vars(rasas).keys() - {"_applied"}:
        found.append("__dict__")
    for name in sorted(names & vars(rasas).keys()):
        a, b, mine = getattr(ours, name), getattr(rasas, name), vars(source).get(name)
        if name == "events":
            same = (
                type(a) is type(b)
                and a is not mine
                and a.maxlen == b.maxlen
                and len(a) == len(b)
                and all(x is y for x, y in zip(a, b, strict=True))
            )
        elif name == "slots":
            same = type(a) is type(b) and a is not mine and list(a) == list(b)
            same = same and all(_same_slot(a[key], b[key], mine.get(key)) for key in a)
        elif name in ("latest_message", "latest_bot_utterance"):
            same = _same_event(a, b, source, name)
        elif name == "active_loop":
            same = _same(a, b, mine) and (
                a is None
                or _same(a.trigger_message, b.trigger_message, getattr(mine, "trigger_message", 0))
            )
        else:
            same = _same(a, b, mine)
        if not same:
            found.append(name)
    if ours.current_state(EventVerbosity.ALL) != rasas.current_state(EventVerbosity.ALL):
        found.append("current_state")
    return found


def _left_as_it_was(copied: Any, source: Any) -> bool:
    """Whether changing the copy (its latest action, its loop rejected and interrupted, every
    slot set, new events) leaves the source as it was."""
    from rasa.shared.core.trackers import EventVerbosity

    def state() -> Any:
        slots = {name: dict(vars(slot)) for name, slot in source.slots.items()}
        return source.current_state(EventVerbosity.ALL), slots, len(source.events)

    before = state()
    copied.latest_action["action_name"] = "changed"
    if copied.active_loop is not None:
        copied.reject_action(copied.active_loop.name)
        copied.active_loop.is_interrupted = not copied.active_loop.is_interrupted
    for name in list(copied.slots):
        copied.update(SlotSet(name, "changed"))
    copied.update(ActionExecuted("utter_bye"))
    copied.update(UserUttered("bye", {"name": "bye"}))
    return state() == before


def _replays(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The trackers our copy leaves to Rasa's replay, from now on."""
    rasas = rasa_speedups.rasa_tracker_copy
    replayed: list[Any] = []

    def counted(tracker: Any) -> Any:
        replayed.append(tracker)
        return rasas(tracker)

    monkeypatch.setattr(rasa_speedups, "rasa_tracker_copy", counted)
    return replayed


def _asking_tracker() -> Any:
    """The copy conversation's tracker as the form asks: a loop active (started by the
    latest message), a bot utterance, and a list slot's list made of a single value."""

    events = _copy_conversation()
    asked = next(i for i, e in enumerate(events) if getattr(e, "text", None) == "ok?")
    return DialogueStateTracker.from_events(
        "asking", events[: asked + 1], Domain.from_yaml(COPY_DOMAIN).slots
    )


COPIED_TRACKERS = [
    pytest.param(_conversation, STATES_DOMAIN, {}, id="states-conversation"),
    pytest.param(_copy_conversation, COPY_DOMAIN, {}, id="copy-conversation"),
    pytest.param(
        _copy_conversation,
        COPY_DOMAIN,
        {"is_rule_tracker": True, "sender_id": ""},  # init_copy names it "default"
        id="rule-tracker",
    ),
    pytest.param(_copy_conversation, COPY_DOMAIN, {"max_event_history": 30}, id="capped"),
]


@pytest.mark.parametrize(("conversation", "domain_yaml", "arguments"), COPIED_TRACKERS)
def test_a_tracker_s_copy_is_rasas_replay_after_every_event(
    monkeypatch: pytest.MonkeyPatch, conversation: Any, domain_yaml: str, arguments: dict[str, Any]
) -> None:
    """After every event, and again once the follow-up action is cleared as Rasa's processor
    clears it (with no event) before running it: our copy is the one Rasa's replay makes,
    and changing it leaves the tracker as it was. Most copies are made without a replay;
    a tracker with as many events as its cap (the earliest may be gone) is replayed."""

    rasas = rasa_speedups.rasa_tracker_copy
    replayed = _replays(monkeypatch)
    slots = Domain.from_yaml(domain_yaml).slots
    tracker = DialogueStateTracker(**{"sender_id": "copied", "slots": slots, **arguments})
    cap = arguments.get("max_event_history")
    copies = 0
    for happened in conversation():
        tracker.update(happened)
        for _ in range(1 + bool(tracker.followup_action)):
            before = len(replayed)
            assert _differences(tracker.copy(), rasas(tracker), tracker) == [], happened
            assert _left_as_it_was(tracker.copy(), tracker), happened
            assert cap is None or len(tracker.events) < cap or len(replayed) == before + 2
            tracker.clear_followup_action()
            copies += 2
    assert cap is not None or len(replayed) < copies / 2


def test_a_copy_is_left_to_rasa_where_a_replay_could_give_another_tracker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rasa's replay, exactly, for a tracker whose events a replay stops at (a timestamp
    that is not a number) or cannot replay (none: Rasa's error), one that may have dropped
    its earliest events, one of a class that copies otherwise, and one with a slot of a
    class of its own, which may keep its value otherwise. A tracker whose slots are made on
    demand is copied without a replay."""
    from collections import deque

    from rasa.shared.core.slots import AnySlot

    rasas = rasa_speedups.rasa_tracker_copy
    replayed = _replays(monkeypatch)
    slots = Domain.from_yaml(COPY_DOMAIN).slots

    class OwnTracker(DialogueStateTracker):
        def init_copy(self) -> OwnTracker:
            return OwnTracker(self.sender_id, self.slots.values(), self._max_event_history)

    class CopyingSlot(AnySlot):
        @AnySlot.value.setter  # type: ignore[attr-defined,misc]
        def value(self, value: Any) -> None:
            AnySlot.value.fset(self, copy.copy(value))  # type: ignore[attr-defined]

    def asking(sender_id: str, kind: Any = DialogueStateTracker, **arguments: Any) -> Any:
        events = list(_asking_tracker().events)  # events of its own
        return kind.from_events(sender_id, events, arguments.get("slots", slots))

    stopped = asking("stopped")
    stopped.events[12].timestamp = float("nan")
    shortened = asking("shortened")
    shortened.events = deque(shortened.events, maxlen=12)  # without the first slot set
    copying = asking("copying", slots=[*slots, CopyingSlot("copying", [])])
    copying.update(SlotSet("copying", {"kept": "a copy"}))
    for tracker in (stopped, shortened, asking("own", OwnTracker), copying):
        assert _differences(tracker.copy(), rasas(tracker), tracker) == [], tracker.sender_id
        assert replayed[-1] is tracker
    assert len(rasas(stopped).events) == 12
    on_demand = asking("on demand", slots=None)
    assert _differences(on_demand.copy(), rasas(on_demand), on_demand) == []
    assert replayed[-1] is copying
    unstamped = asking("unstamped")
    unstamped.events[12].timestamp = None
    with pytest.raises(TypeError, match="'<=' not supported"):
        rasas(unstamped)
    with pytest.raises(TypeError, match="'<=' not supported"):
        unstamped.copy()


def test_a_tracker_rebuilt_from_its_applied_events_is_copied_as_rasa_replays_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rasa's in-memory store rebuilds a tracker from its applied events only, where a form
    asking again drops the message it answers (``applied_events``): its latest message is
    then an earlier one, and Rasa's copy (every event replayed) has the latest. So has ours,
    without a replay: it takes the latest message from the events."""
    from rasa.shared.core.conversation import Dialogue

    events = _conversation()[:16]  # up to the form's second run, which undoes its first
    tracker = DialogueStateTracker("rebuilt", Domain.from_yaml(STATES_DOMAIN).slots)
    tracker.recreate_from_dialogue(Dialogue("rebuilt", events))
    rasas = rasa_speedups.rasa_tracker_copy(tracker)
    replayed = _replays(monkeypatch)
    assert tracker.latest_message is events[6] and rasas.latest_message is events[13]
    assert _differences(tracker.copy(), rasas, tracker) == [] and not replayed


def _share(name: str) -> Callable[[Any, Any], None]:
    return lambda copied, tracker: setattr(copied, name, getattr(tracker, name))


WRONG_COPIES: dict[str, tuple[Callable[[Any, Any], None], list[str]]] = {
    "no bot utterance": (
        lambda c, t: setattr(c, "latest_bot_utterance", type(t.latest_bot_utterance).empty()),
        ["latest_bot_utterance"],
    ),
    "no latest message": (
        lambda c, t: setattr(c, "latest_message", type(t.latest_message).empty()),
        ["latest_message", "current_state"],
    ),
    "the loop shared": (_share("active_loop"), ["active_loop"]),
    "the latest action shared": (_share("latest_action"), ["latest_action"]),
    "the source's follow-up": (
        lambda c, t: setattr(c, "followup_action", "utter_bye"),
        ["followup_action", "current_state"],
    ),
    "a slot shared": (lambda c, t: c.slots.update(place=t.slots["place"]), ["slots"]),
    "a slot's own list shared": (
        lambda c, t: setattr(c.slots["shown"], "_value", t.slots["shown"].value),
        ["slots"],
    ),
    "a slot's value copied": (
        lambda c, t: setattr(c.slots["results"], "_value", list(t.slots["results"].value)),
        ["slots"],
    ),
    "an event missing": (lambda c, t: c.events.pop(), ["events", "current_state"]),
    "an event copied": (
        lambda c, t: c.events.append(copy.copy(c.events.pop())),
        ["events"],
    ),
    "another cap": (
        lambda c, t: setattr(c, "events", type(c.events)(c.events, maxlen=100)),
        ["events"],
    ),
    "an attribute more": (lambda c, t: setattr(c, "extra", None), ["__dict__"]),
}


@pytest.mark.parametrize("wrong", WRONG_COPIES)
def test_the_comparison_notices_a_wrong_copy(wrong: str) -> None:
    """A copy that misses or shares a part of the state Rasa's copy has of its own is told
    from Rasa's; our memo of the applied events is no part of it."""
    tracker = _asking_tracker()
    rasas = rasa_speedups.rasa_tracker_copy(tracker)
    assert tracker.active_loop is not None and tracker.slots["shown"].value == ["b"]
    ours = tracker.copy()
    ours.applied_events()
    assert "_applied" in vars(ours) and _differences(ours, rasas, tracker) == []
    change, differences = WRONG_COPIES[wrong]
    change(ours, tracker)
    assert _differences(ours, rasas, tracker) == differences
