"""Costs Rasa 3.6 pays on every message, paid once instead (issue 11).

Importing this module patches Rasa; Rasa imports it at start-up through
``bot.channels.rest`` (every channel configuration of ours loads it). Rasa
is pinned (3.6.21): on an upgrade, check that the functions patched here (each
kept below as ``rasa_*``) still do what this assumes, or whether the patch is
still needed.

**The check of action server responses.** Rasa checks every action server
response against a JSON schema (``RemoteAction.action_response_format_spec()``)
before a single event reaches the tracker, and that check is worth keeping: a
malformed response would otherwise corrupt the conversation. But Rasa does it
with ``jsonschema.validate``, which for every response first checks the schema
itself against the JSON Schema meta-schema and then builds a new validator:
under load, about half of the Rasa server's time. ``validate_action_result``
builds the check once per schema (keyed by the class's spec function) and only
tests the response, each event against the one kind of event its type names
rather than all 23 in turn (``ResponseCheck``: the same verdict, another 6% of
the server's time). A valid response passes exactly as before; an invalid
one is handed to Rasa's own method, so it raises exactly the error Rasa raises
(the same ``jsonschema.ValidationError``, best match first, with Rasa's hint
appended), at the old price but only for a broken response.

**The conversation store's SQLite connection.** ``MessageProcessor.log_message``
(the next biggest part) is the NLU parse and reading the conversation from the
SQL tracker store; saving it after the turn costs as much again. On SQLite,
SQLAlchemy 1.4 gives Rasa's engine no pool (``NullPool``), so every read and
every save opens the database file, and every close of the last connection
checkpoints the write-ahead log to disk, all inside Rasa's event loop, where
every other conversation waits. ``create_engine_kwargs`` gives an SQLite file
the pool SQLAlchemy 2.0 uses by default (``QueuePool``), so the connection is
opened once and reused. Nothing else changes: each read or save is still its
own transaction, committed (and as durable) as before, and returned connections
are rolled back, so no transaction stays open. PostgreSQL already has a pool and
keeps Rasa's settings; an in-memory SQLite database keeps its own pool.

**The session for the action server.** ``EndpointConfig.request`` makes a new
``aiohttp.ClientSession`` (and its connector) for every call (``async with
self.session()``), so every custom action opens and tears down a TCP connection,
and Python's ``json`` encodes the whole conversation it sends: together about a
tenth of the Rasa server's time (bench/results/profile-s6-start.md).
``endpoint_session`` gives each endpoint one session per event loop that ``async
with`` does not close, with the same headers, authentication and timeout as
Rasa's, encoding with ``ujson`` (Rasa's own dependency; the same JSON, several
times faster), and keeps connections alive for ``ACTION_CALL_KEEPALIVE_S``. A
kept-alive connection must never be one the action server is closing just as
Rasa writes the next call on it: that call would fail ("Cannot write to closing
transport") and a person's message would go unanswered. So the action server
keeps an idle connection for ``ACTION_SERVER_KEEPALIVE_S`` (both in
``bot.config``; ``bot.action_server`` sets Sanic's keep-alive), five times as
long: Rasa always lets go first unless it stalls for a
whole minute between reading an answer and its next call.

**The intent classifier.** ``LogisticRegressionClassifier`` scores a message
with scikit-learn's ``X @ coef_.T``. ``coef_`` (intents × n-grams) is stored row
by row, so its transpose is not contiguous and SciPy copies all of it (about
6 MB) for every message before multiplying by the message's few hundred n-grams:
a tenth of the Rasa server's time. ``load_classifier`` stores the same numbers
column by column once at load, so the transpose is used as it is. Rasa then
builds ``X``: it joins the message's features through
``Message.get_sparse_features`` (which joins every featurizer's token features as
well as its sentence features, one pair at a time, to use only the sentence ones)
and SciPy's ``hstack`` and ``vstack``, checks it, and ranks all the intents in a
list of dicts it sorts: together another tenth. ``classify`` adds up the weights
of each featurizer's sentence counts where they sit in ``X`` (its n-grams' rows
of the transpose, times their counts), takes scikit-learn's own softmax of
those scores, and ranks with NumPy's stable sort: the same ranking, intent names
and confidences, of the same types (the same to the last digit over 1,188 test
messages; a sum in another order could differ there). A classifier other than
multinomial (two intents, or one-vs-rest) is left to Rasa.

**Slot copies.** Every tracker Rasa makes (one per prediction to work out the
states, one per action run, one per form check) copies every slot with
``copy.copy``, which goes through ``__reduce_ex__`` and ``copyreg``: a
twentieth of the server's time for 27 slots. ``copy_slot`` makes the copy
``copy.copy`` makes (a new object of the slot's class with the same attributes)
directly.

**The graph runner.** Rasa runs the NLU pipeline and the policies as a graph,
and ``DaskGraphRunner.run`` hands each run to dask: for every parse and every
prediction it prunes the schema to the targets, builds a dask graph, orders it
and runs it through dask's scheduler, about a tenth of the Rasa server's time
(bench/results/profile-s6-start.md) for a graph that is the same every time.
``run_graph`` works out each set of targets' order once (the nodes they need,
each after what it needs) and then calls the same nodes with the same inputs,
one after the other, as dask's synchronous scheduler does, and returns the same
results. Training keeps dask (this module is loaded by the server only).

**The rules.** ``RulePolicy`` keeps each rule as its states in JSON and, to find
the rules that match a conversation, parses every rule's JSON again for every
turn it compares, for every prediction: some hundreds of ``json.loads`` per
action predicted. ``rule_states`` parses each rule once. Rasa's callers only read
the states they get (the tests check the same predictions either way). And to
narrow the rules down, Rasa compares every rule still in the running with every
turn of the conversation, back to its first, though a rule of n turns matches
any turn more than n back, and though a rule whose last turn follows another
action than the conversation's latest, or names another intent, can never match:
``possible_rule_keys`` compares only the rules that follow the latest action with
its intent or none (``RuleIndex``, built once per lookup) and stops at the longest
rule's length, with the same rules left.

**A conversation's states.** To predict an action the policies turn the whole
conversation into its dialogue states (``Domain.states_for_tracker_history``),
replaying every event from the start on a fresh tracker: three asks per
prediction, several predictions per message, each longer by a few events, so a
conversation's cost grew with the square of its length (an eighth of the
server's time on five-turn conversations). ``states_for_tracker_history`` keeps
each conversation's replay (``StatesSoFar``, per conversation and arguments):
when the events asked about begin with the very events already replayed (the
same objects, in order), it replays only the new ones; anything else (an undo, a
restart, a tracker read back from the store) starts again from the beginning.
Asked again with no new event, it gives the same answer without working out the
latest state again. A conversation the person asked to be forgotten has its replays
dropped with it (``forget_states``, from the tracker store). Callers change the
states they get (the latest turn's text or intent is removed), so every caller gets
its own copy.

**The applied events.** Every ask for the states above, and much else in Rasa,
first works out the conversation's applied events (``applied_events``: the
events left once undone ones are taken out), going through every event each
time, though the three asks of one prediction ask it of the same unchanged
tracker, and the next prediction's tracker has only a few events more.
``applied_events`` keeps the last answer on the tracker (``AppliedEvents``) with
the events it was worked out from (the same event list, ending in the same
event: events are only ever added at the end), gives a copy of it while they are
unchanged, and goes on through the events added since with the body of Rasa's
loop. Rasa treats an action named like any of the conversation's loops as that
loop's run, wherever the loop's event is, so an event that starts a loop of a new
name, a capped list that dropped its first events, or another list of events are
worked out from the start with Rasa's own function.

**Tracker copies.** Before every action it runs, Rasa copies the conversation's tracker
(``MessageProcessor._run_action``; a form copies it again to check what it extracted), and
``DialogueStateTracker.copy`` makes a new tracker (``init_copy``: every slot copied, then
reset) and replays every event of the conversation on it: 3.5% of the server's busy time.
``copy_tracker`` takes the state the replay would work out again from where it is already.
From the tracker, as every change to it is an event it applied as a replay applies it: its
slots, each copied (its value the same object, as a replay's is the event's; a list slot
makes a list of its own of a single value, and so does the copy), its latest action (a new
dict, as a replay's), whether it is paused, and its loop (a new one: Rasa changes it in
place). From the events: the latest message and bot utterance (a replay's are the last ones,
or new empty ones after a restart or a new session), and the follow-up action, which Rasa's
processor clears with no event before running it, and which a replay brings back. The events
are the same, in a deque with the same cap. A tracker where the two could differ is replayed
as Rasa does: one that may have dropped its earliest events (``max_event_history``), one with
a timestamp a replay stops at, an undo since its latest message or bot utterance (a replay
replays what is left), no message since a restart or a new session (a new empty message,
which ``EntitiesAdded`` may have changed), a loop started by none of its messages, a tracker
of a class of its own (which may copy otherwise) or a slot of a class of its own. Rasa's
in-memory store rebuilds a tracker from its applied events only, which can leave it an
earlier latest message than a replay has: the copy has the replay's. A seven-message
conversation (63 events) copies in a third of the time.

**Copies for debug logs.** Rasa's processor, forms, memoization and rule
policies deep-copy what a debug log line would show (the events of every action
run, every prediction's states, a form's slots) before calling the log, whether
or not debug lines are logged: about a twentieth of the server's time, mostly
copying the bot's replies and the results shown. Those four modules copy nothing
else with ``copy.deepcopy``. ``LogCopies`` takes the place of their ``copy``
module: it deep-copies as before when Rasa logs debug lines (``--debug``) and
otherwise hands the value to a log call that drops it unread. The processor also
writes out every slot's value, after every action, for a debug line
(``MessageProcessor._log_slots``; with a search's results in a slot, 1% of the
server's time), and RulePolicy every state of the conversation at every
prediction (``format_tracker_states``, for that line alone): ``log_slots`` and
``rule_states_shown`` do that only when debug lines are logged. Rasa's check of
the domain in every parse (``Domain.is_empty``) compared the whole domain, as a
dict, with an empty one built for the purpose: ``domain_is_empty`` does that once
per domain (a loaded domain does not change).

**Event types.** Every event Rasa reads (each one in an action server's response,
and every event of a conversation read back from the store) finds its class with
``Event.resolve_by_type``, which lists every subclass of ``Event`` (walking the
class tree and asking ``inspect.isabstract`` of each) and compares their type
names one by one: 3% of the server's time. ``resolve_event_type`` keeps a table
of the first class for each type name in the order Rasa's walk finds them (so the
same class Rasa's loop returns) and walks the tree again for a name it does not
hold, so an event class imported later is found as before; a name no class has
goes to Rasa's own function (the old ``topic`` events, a default, or its error).

**Forms' entity mappings.** Extracting slots at every message during a form, Rasa
checks each slot's entity mappings against the form
(``ActionExtractSlots._fails_unique_entity_mapping_check``) with a new ``FormAction``
each time, which works out the form's unique entity mappings from the domain again
(1% of the server's time). ``fails_unique_entity_mapping_check`` is the same check
with one ``FormAction`` per form of a domain (a loaded domain does not change), kept
on the domain.

**The garbage collector.** Loaded, the server holds about 560,000 objects that
live as long as it does (TensorFlow, spaCy, scikit-learn, the model), and every
full collection of Python's cyclic garbage collector walked all of them: 300 ms
or so each, about every 20 s under load, during which no conversation moved.
``load_agent_on_start`` runs Rasa's, then collects once and freezes what is
left (``gc.freeze``), so later collections look only at objects made since.
A model loaded later (``PUT /model``) is not frozen; it is collected as before.
What the server keeps between turns (up to 1,000 conversations' trackers and 512
replays of their states) is still walked by every full collection: 70-170 ms at
90,000-190,000 objects, about every 10 s with 20 conversations at once (Python
makes one per 10 collections of the middle generation), a stall that delays every
answer in progress and made the slowest 5% of them. None of those collections
found garbage to free (the server's objects go when their last reference goes),
so ``load_agent_on_start`` also has the collector make a full collection at most
once per ``FULL_COLLECTION_AFTER`` collections of the middle generation: about
every 100 s under that load.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import json
import logging
import operator
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import cache, lru_cache
from itertools import islice, repeat
from math import inf
from types import TracebackType
from typing import Any

import aiohttp
import numpy as np
import structlog
import ujson
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core import processor, run, tracker_store
from rasa.core.actions import forms
from rasa.core.actions.action import ActionExtractSlots, RemoteAction
from rasa.core.actions.forms import FormAction
from rasa.core.agent import Agent
from rasa.core.policies import memoization, rule_policy
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.constants import DEFAULT_SENDER_ID
from rasa.shared.core.constants import (
    MAPPING_TYPE,
    PREVIOUS_ACTION,
    REQUESTED_SLOT,
    SHOULD_NOT_BE_SET,
    USER,
    SlotMappingType,
)
from rasa.shared.core.domain import Domain, State
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
    StoryExported,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.slots import (
    AnySlot,
    BooleanSlot,
    CategoricalSlot,
    FloatSlot,
    ListSlot,
    Slot,
    TextSlot,
)
from rasa.shared.core.trackers import DialogueStateTracker, TrackerActiveLoop
from rasa.shared.nlu.constants import ACTION_NAME, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.utils.common import all_subclasses
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig
from rasa.utils.tensorflow.constants import RANKING_LENGTH
from sklearn.utils.extmath import softmax
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import QueuePool

from bot.config import ACTION_CALL_KEEPALIVE_S

Schema = dict[str, Any]

# Rasa's own functions, kept: the check's raises the error for an invalid response,
# the engine options are what the pool is added to, the session, the classifier's load
# and the states are called by ours, and the tests compare ours with every one.
rasa_validate_action_result = RemoteAction._validate_action_result
rasa_create_engine_kwargs = tracker_store.create_engine_kwargs
rasa_endpoint_session = EndpointConfig.session
rasa_load_classifier = LogisticRegressionClassifier.load.__func__
rasa_run_graph = DaskGraphRunner.run
rasa_classify = LogisticRegressionClassifier.process
rasa_rule_states = RulePolicy._rule_key_to_state
rasa_possible_rule_keys = RulePolicy._get_possible_keys
rasa_states_for_tracker_history = Domain.states_for_tracker_history
rasa_applied_events = DialogueStateTracker.applied_events
rasa_domain_is_empty = Domain.is_empty
rasa_tracker_copy = DialogueStateTracker.copy
rasa_resolve_by_type = Event.resolve_by_type
rasa_log_slots = processor.MessageProcessor._log_slots
rasa_format_tracker_states = RulePolicy.format_tracker_states
rasa_fails_unique_entity_mapping_check = ActionExtractSlots._fails_unique_entity_mapping_check


class ResponseCheck:
    """Whether a response is valid against an action response schema, built once.

    Rasa's schema lets each event be any one of 23 kinds (``oneOf``), each kind naming
    its ``event`` type with ``const``, so a validator tries every kind on every event.
    Where each kind names a type of its own, as in Rasa's schema, an event is valid
    exactly when it passes the rest of the schema and the one kind its type names:
    that is what is checked. A schema of any other shape is checked whole.
    """

    def __init__(self, schema: Schema) -> None:
        cls = validator_for(schema)
        cls.check_schema(schema)
        self.whole = cls(schema)
        self.outer: Validator | None = None
        self.kinds: dict[str, Validator] = {}
        items = schema.get("properties", {}).get("events", {}).get("items", {})
        kinds = items.get("oneOf") or []
        names = [kind.get("properties", {}).get("event", {}).get("const") for kind in kinds]
        if (
            kinds
            and "event" in items.get("required", ())
            and len(set(names) - {None}) == len(kinds)
        ):
            outer = copy.deepcopy(schema)
            del outer["properties"]["events"]["items"]["oneOf"]
            self.outer = cls(outer)
            self.kinds = {name: cls(kind) for name, kind in zip(names, kinds, strict=True)}

    def is_valid(self, result: Any) -> bool:
        if self.outer is None:
            return self.whole.is_valid(result)
        if not self.outer.is_valid(result):
            return False
        # Valid so far: an object whose events, if any, are objects with a string type.
        for event in result.get("events") or ():
            kind = self.kinds.get(event["event"])
            if kind is None or not kind.is_valid(event):
                return False
        return True


@cache
def response_check(spec: Callable[[], Schema]) -> ResponseCheck:
    """The check for the schema ``spec`` returns, built (and the schema checked) once.

    The same validator class ``jsonschema.validate`` picks (the schema's ``$schema``,
    else the latest draft); an invalid schema raises ``SchemaError`` here, as it does there.
    """
    return ResponseCheck(spec())


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """True for a valid action server response; Rasa's own error for an invalid one."""
    if response_check(type(self).action_response_format_spec).is_valid(result):
        return True
    return rasa_validate_action_result(self, result)


def create_engine_kwargs(url: str | URL) -> dict[str, Any]:
    """Rasa's options for the tracker store's engine, plus a pool for an SQLite file."""
    kwargs = rasa_create_engine_kwargs(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        # The pool may hand the connection to another thread than the one that opened it.
        kwargs["poolclass"] = QueuePool
        kwargs["connect_args"] = {**kwargs.get("connect_args", {}), "check_same_thread": False}
    return kwargs


class KeptSession:
    """A client session for ``async with`` that stays open after it (closed with its loop)."""

    def __init__(self, session: aiohttp.ClientSession, loop: asyncio.AbstractEventLoop) -> None:
        self.session = session
        self.loop = loop

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


def endpoint_session(self: EndpointConfig) -> KeptSession:
    """This endpoint's session for the running event loop, made as Rasa makes it."""
    loop = asyncio.get_running_loop()
    kept: KeptSession | None = getattr(self, "_kept_session", None)
    if kept is None or kept.session.closed or kept.loop is not loop:
        auth = (
            aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
            if self.basic_auth
            else None
        )
        session = aiohttp.ClientSession(
            headers=self.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=ACTION_CALL_KEEPALIVE_S),
            json_serialize=ujson.dumps,
        )
        kept = self._kept_session = KeptSession(session, loop)
    return kept


def _multinomial(clf: Any) -> bool:
    """Whether scikit-learn's ``predict_proba`` is a softmax of the scores (as it is for
    three intents or more with lbfgs), the case ``classify`` computes."""
    return clf.classes_.size > 2 and (
        clf.multi_class == "multinomial"
        or (clf.multi_class == "auto" and clf.solver != "liblinear")
    )


def _scores(clf: Any, message: Message) -> Any:
    """``X @ coef_.T + intercept_`` for one message's row of Rasa's ``X`` (its sentence
    features side by side, sparse ones in the order the featurizers added them, then
    dense), or None if that row is not as wide as the classifier's weights."""
    weights = clf.coef_.T
    scores = clf.intercept_.copy()
    width = 0
    # Rasa's own choice of features (get_sparse_features makes it too), sentence ones.
    _, sentence = message._filter_sparse_features(TEXT, [])
    for features in sentence:
        counts = features.features.tocoo()
        scores += counts.data @ weights[counts.col + width]
        width += counts.shape[1]
    dense = message.get_dense_features(attribute=TEXT)[1]
    if dense:
        values = np.atleast_2d(dense.features)[0]
        scores += values @ weights[width : width + values.size]
        width += values.size
    return scores if width == weights.shape[0] else None


def classify(self: LogisticRegressionClassifier, messages: list[Message]) -> list[Message]:
    """Rasa's ``process``: each message's intent and ranking, from the classifier's scores."""
    clf = self.clf
    if not hasattr(clf, "coef_") or not _multinomial(clf):
        return rasa_classify(self, messages)
    every = [_scores(clf, message) for message in messages]
    if any(scores is None for scores in every):  # Rasa's error for a mis-shaped X
        return rasa_classify(self, messages)
    length = self.config[RANKING_LENGTH]
    for message, scores in zip(messages, every, strict=True):
        confidences = softmax(scores[np.newaxis, :], copy=False)[0]
        order = np.argsort(-confidences, kind="stable")
        ranking = [
            {"name": clf.classes_[i], "confidence": confidences[i]}
            for i in (order[:length] if length > 0 else order)
        ]
        message.set("intent", ranking[0], add_to_output=True)
        message.set("intent_ranking", ranking, add_to_output=True)
    return messages


def copy_slot(self: Slot) -> Slot:
    """``copy.copy(slot)`` as Python makes it for a class without a copy method of its
    own: a new object of the same class, its attributes those of the slot."""
    new = type(self).__new__(type(self))
    new.__dict__.update(self.__dict__)
    return new


@lru_cache(maxsize=4096)
def rule_states(rule_key: str) -> list[dict[str, Any]]:
    """``RulePolicy._rule_key_to_state``: a rule's states, parsed from its JSON once."""
    return json.loads(rule_key)


class RuleIndex:
    """A rule lookup's keys by what a conversation's latest state must hold for Rasa's
    ``_is_rule_applicable`` to hold the rule applicable at the latest turn: the action
    its last turn follows and the intent it names (None: any), and the longest rule."""

    def __init__(self, lookup: dict[str, str]) -> None:
        self.lookup = lookup  # held: the index is found by its id
        self.by_turn: dict[tuple[str | None, str | None], set[str]] = {}
        for key in lookup:
            self.by_turn.setdefault(self.turn_needed(key), set()).add(key)
        self.longest = max((len(rule_states(key)) for key in lookup), default=0)
        self._candidates: dict[tuple[Any, Any], frozenset[str]] = {}

    @staticmethod
    def turn_needed(key: str) -> tuple[str | None, str | None]:
        """The previous action, and the intent, a conversation's latest state must have for
        the rule to apply there. A rule whose last turn names no action (a conversation's
        start, or an action that must not be set) is compared whatever the intent."""
        last = rule_states(key)[-1]
        name = last.get(PREVIOUS_ACTION, {}).get(ACTION_NAME)
        if not isinstance(name, str) or not name or name == SHOULD_NOT_BE_SET:
            return None, None
        # Rasa compares every feature of a rule's state once its action matches: a rule
        # that names an intent matches only a state with that intent.
        intent = last.get(USER, {}).get(INTENT)
        return name, intent if isinstance(intent, str) and intent != SHOULD_NOT_BE_SET else None

    def candidates(self, latest: State) -> frozenset[str]:
        """The rules that may apply at the conversation's latest state."""
        action = latest.get(PREVIOUS_ACTION, {}).get(ACTION_NAME)
        intent = latest.get(USER, {}).get(INTENT)
        found = self._candidates.get((action, intent))
        if found is None:
            keys = set(self.by_turn.get((None, None), ()))
            if action is not None:
                keys |= self.by_turn.get((action, None), set())
                if intent is not None:
                    keys |= self.by_turn.get((action, intent), set())
            found = self._candidates[(action, intent)] = frozenset(keys)
        return found


def possible_rule_keys(self: RulePolicy, lookup: dict[str, str], states: list[State]) -> set[str]:
    """``RulePolicy._get_possible_keys``: the rules that apply to the conversation's
    latest turns. Only the rules that follow the latest action are compared (Rasa's
    ``_is_rule_applicable`` refuses the others at the latest turn), and with as many
    turns back as the longest rule has (it holds every rule applicable further back)."""
    # Kept with the policy (its rules and its loops' unhappy paths), so a new model's
    # policy builds its own and the old one's go with it.
    indexes: dict[int, RuleIndex] = vars(self).setdefault("_awhina_rule_indexes", {})
    index = indexes.get(id(lookup))
    if index is None or index.lookup is not lookup:
        index = indexes[id(lookup)] = RuleIndex(lookup)
    if not states or not index.longest:
        return set(lookup)
    possible_keys = index.candidates(states[-1])
    for i, state in enumerate(reversed(states[-index.longest :])):
        possible_keys = {key for key in possible_keys if self._is_rule_applicable(key, i, state)}
    return possible_keys


# The replays kept, least recently asked first: one per conversation and set of arguments
# (the policies use three), so those of about 170 conversations at once. A conversation
# whose replay was dropped is replayed from its start at its next ask, as Rasa does.
KEPT_CONVERSATIONS = 512
_conversations: OrderedDict[tuple[Any, ...], StatesSoFar] = OrderedDict()


def _own_copy(states: list[State]) -> list[State]:
    """States a caller may change: each state and sub-state a new dict (values are
    strings, numbers and tuples)."""
    return [{kind: dict(sub) for kind, sub in state.items()} for state in states]


class StatesSoFar:
    """Rasa's ``Domain.states_for_tracker_history`` for one conversation and arguments,
    worked out up to some event and ready to go on from there.

    Rasa replays the conversation's applied events on a fresh copy of its tracker and
    takes a state before each action and one at the end; ``step`` is the body of its
    loop, line for line. The replay and the states so far are kept, so a longer
    conversation replays only its new events.
    """

    def __init__(
        self,
        domain: Domain,
        tracker: DialogueStateTracker,
        omit_unset_slots: bool,
        ignore_rule_only_turns: bool,
        rule_only_data: dict[str, Any] | None,
    ) -> None:
        self.domain = domain
        self.omit_unset_slots = omit_unset_slots
        self.ignore_rule_only_turns = ignore_rule_only_turns
        self.rule_only_data = rule_only_data
        self.replay = tracker.init_copy()
        self.events: list[Event] = []  # the applied events replayed, in order
        self.states: list[State] = []  # the state before each of their actions
        self.last_ml_action_sub_state: Any = None
        self.turn_was_hidden = False
        self.answered: list[State] | None = None  # the answer since the last event

    def extends(self, applied: list[Event]) -> bool:
        """Whether ``applied`` begins with the very events replayed so far."""
        return len(applied) >= len(self.events) and all(map(operator.is_, self.events, applied))

    def step(self, hide_rule_turn: bool) -> tuple[State | None, Any, bool]:
        """The state of the replay now (None if the turn is hidden), and the last ML
        action's sub-state and whether the turn is hidden, as they stand after it."""
        domain, tr = self.domain, self.replay
        last_ml_action_sub_state = self.last_ml_action_sub_state
        turn_was_hidden = self.turn_was_hidden
        if self.ignore_rule_only_turns:
            if not turn_was_hidden:
                last_ml_action_sub_state = domain._get_prev_action_sub_state(tr)
            if not tr.followup_action and tr.latest_action_name != tr.active_loop_name:
                turn_was_hidden = hide_rule_turn
            if turn_was_hidden:
                return None, last_ml_action_sub_state, turn_was_hidden
        state = domain.get_active_state(tr, omit_unset_slots=self.omit_unset_slots)
        if self.ignore_rule_only_turns:
            domain._remove_rule_only_features(state, self.rule_only_data)
            if self.states:
                domain._substitute_rule_only_user_input(state, self.states[-1])
            if last_ml_action_sub_state:
                state[PREVIOUS_ACTION] = last_ml_action_sub_state
        return domain._clean_state(state), last_ml_action_sub_state, turn_was_hidden

    def replay_events(self, events: list[Event]) -> None:
        """Go on through ``events``, taking the state before each action."""
        if events:
            self.answered = None
        for event in events:
            if isinstance(event, ActionExecuted):
                state, self.last_ml_action_sub_state, self.turn_was_hidden = self.step(
                    event.hide_rule_turn
                )
                if state is not None:
                    self.states.append(state)
            self.replay.update(event)
            self.events.append(event)

    def answer(self) -> list[State]:
        """Every state so far and the one at the end, as Rasa returns them (not to be
        changed: the next ask with no new event gets it again)."""
        if self.answered is None:
            last, _, _ = self.step(False)
            self.answered = self.states if last is None else [*self.states, last]
        return self.answered


def _content_key(rule_only_data: dict[str, Any] | None) -> Any:
    """A key for RulePolicy's rule-only slots and loops, which it makes anew for each ask:
    by content (names in lists, made tuples; anything else as sorted JSON)."""
    if rule_only_data is None:
        return None
    if all(
        isinstance(v, list) and all(isinstance(n, str) for n in v) for v in rule_only_data.values()
    ):
        return tuple(sorted((k, tuple(v)) for k, v in rule_only_data.items()))
    return json.dumps(rule_only_data, sort_keys=True)


def states_for_tracker_history(
    self: Domain,
    tracker: DialogueStateTracker,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[State]:
    """Rasa's states of ``tracker``'s history, going on from where the same conversation
    was worked out before if its events are those and more; a copy the caller may change."""
    applied = tracker.applied_events()
    rule_only = _content_key(rule_only_data)
    key = (
        id(self),
        tracker.sender_id,
        tracker.is_rule_tracker,
        tracker._max_event_history,
        omit_unset_slots,
        ignore_rule_only_turns,
        rule_only,
    )
    so_far = _conversations.pop(key, None)
    if so_far is None or so_far.domain is not self or not so_far.extends(applied):
        so_far = StatesSoFar(
            self, tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data
        )
    so_far.replay_events(applied[len(so_far.events) :])
    _conversations[key] = so_far
    while len(_conversations) > KEPT_CONVERSATIONS:
        _conversations.popitem(last=False)
    return _own_copy(so_far.answer())


class AppliedEvents:
    """A tracker's applied events as Rasa's ``applied_events`` works them out, with what
    it needs to go on through events added after them."""

    def __init__(self, tracker: DialogueStateTracker) -> None:
        self.events = tracker.events  # the tracker's own list of events, held
        self.count = len(self.events)
        self.last = self.events[-1] if self.count else None
        # Rasa treats an action named like any loop of the conversation as that loop's
        # run, wherever the loop's event is, so this set must stay the same to go on.
        self.loops = {e.name for e in self.events if isinstance(e, ActiveLoop) and e.name}
        self.applied = rasa_applied_events(tracker)

    def holds(self, events: Any) -> bool:
        """Whether ``events`` are those worked out, with perhaps more after them (events
        are only added at the end; a capped list that dropped its first is not)."""
        if events is not self.events or len(events) < self.count:
            return False
        return self.count == 0 or events[self.count - 1] is self.last

    def go_on(self, tracker: DialogueStateTracker) -> bool:
        """Work the events added since into the applied events, as Rasa's loop does; False
        (nothing changed) if one of them starts a loop of a new name."""
        new = list(islice(self.events, self.count, None))
        if any(isinstance(e, ActiveLoop) and e.name and e.name not in self.loops for e in new):
            return False
        applied = self.applied
        for event in new:
            if isinstance(event, (Restarted, SessionStarted)):
                applied = []
            elif isinstance(event, ActionReverted):
                tracker._undo_till_previous(ActionExecuted, applied)
            elif isinstance(event, UserUtteranceReverted):
                tracker._undo_till_previous(UserUttered, applied)
                tracker._undo_till_previous(ActionExecuted, applied)
            elif (
                isinstance(event, ActionExecuted)
                and event.action_name in self.loops
                and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)
            ):
                tracker._undo_till_previous_loop_execution(event.action_name, applied)
            else:
                applied.append(event)
        self.applied = applied
        self.count += len(new)
        self.last = new[-1]
        return True


def applied_events(self: DialogueStateTracker) -> list[Event]:
    """Rasa's applied events of the tracker: kept, and worked on only through the events
    added since (from the start again where that could differ); each caller's own list."""
    kept = self.__dict__.get("_applied")
    unchanged_or_gone_on = kept is not None and (
        kept.holds(self.events) and (len(self.events) == kept.count or kept.go_on(self))
    )
    if not unchanged_or_gone_on:
        kept = self._applied = AppliedEvents(self)
    return list(kept.applied)


# The ``apply_to`` of each of Rasa's events that neither resets the tracker (a restart, a
# new session) nor replays what is left of it (an undo): a replay passes them on its way.
# (StoryExported's writes the conversation to a file, which Rasa's replay does again at
# every copy and ours does not; none of our actions sends one.)
GOES_ON = frozenset(
    kind.apply_to
    for kind in (
        Event,  # reminders and AgentUttered do nothing to a tracker
        UserUttered,
        BotUttered,
        ActionExecuted,
        FollowupAction,
        SlotSet,
        AllSlotsReset,
        ActiveLoop,
        LoopInterrupted,
        ActionExecutionRejected,
        EntitiesAdded,
        DefinePrevUserUtteredFeaturization,
        ConversationPaused,
        ConversationResumed,
        StoryExported,
    )
)
# What a replay leaves after an undo (it replays what is left of the events), or after an
# event of a kind of its own (its apply_to is not Rasa's): not worked out here.
UNSURE: Any = object()
# Rasa's slot classes; a ListSlot makes a list of its own of a single value it is set to.
SLOT_CLASSES = frozenset({TextSlot, BooleanSlot, FloatSlot, CategoricalSlot, AnySlot, ListSlot})


def replayed_latest(events: Sequence[Event], kind: type[Event]) -> Any:
    """The latest event of ``kind`` (by its ``apply_to``) a replay of ``events`` leaves on
    a tracker: the last one, or None (a new empty one) if a restart or a new session comes
    after it; UNSURE after an undo or an event of a kind of its own."""
    for event in reversed(events):
        apply_to = type(event).apply_to
        if apply_to is kind.apply_to:
            return event
        if apply_to is Restarted.apply_to or apply_to is SessionStarted.apply_to:
            return None
        if apply_to not in GOES_ON:
            return UNSURE
    return None


def held_by(events: Sequence[Event], name: str, value: Any) -> bool:
    """Whether one of ``events`` holds the very ``value`` (not None) as its ``name``."""
    return value is not None and any(getattr(e, name, None) is value for e in reversed(events))


def copy_tracker(self: DialogueStateTracker) -> DialogueStateTracker:
    """Rasa's ``copy``: the tracker a replay of every event on ``init_copy()`` gives, its
    state taken from the tracker and its latest events; a tracker where the two could
    differ is replayed as Rasa does."""
    events = self.events
    cap = self._max_event_history
    loop = self.active_loop
    message = replayed_latest(events, UserUttered)
    said = replayed_latest(events, BotUttered)
    if (
        type(self) is not DialogueStateTracker
        or not SLOT_CLASSES.issuperset(map(type, self.slots.values()))
        or events.maxlen != cap
        or (cap is not None and len(events) >= cap)  # earlier events may be gone
        or not all(map(operator.le, map(operator.attrgetter("timestamp"), events), repeat(inf)))
        or said is UNSURE
        or message is UNSURE
        or message is None  # a new empty message, which EntitiesAdded may have changed
        or (
            loop is not None
            and loop.trigger_message is not message.parse_data
            and not held_by(events, "parse_data", loop.trigger_message)
        )
    ):
        return rasa_tracker_copy(self)
    # init_copy(), but without copying the slots only to reset them: copied below instead
    # (each as copy.copy copies a slot of Rasa's, by copy_slot).
    new = DialogueStateTracker(
        self.sender_id or DEFAULT_SENDER_ID, (), cap, is_rule_tracker=self.is_rule_tracker
    )
    new.events.extend(events)
    for slot in self.slots.values():
        copied = new.slots[slot.name] = copy_slot(slot)
        value = slot.value
        if (
            type(slot) is ListSlot
            and value
            and value is not slot.initial_value
            and not held_by(events, "value", value)
        ):
            copied._value = list(value)  # the list the slot made of a single value
    new.latest_message = message
    if said is not None:  # else the tracker's own empty one, as a replay's
        new.latest_bot_utterance = said
    new.latest_action = dict(self.latest_action)
    # The follow-up action a replay leaves (Rasa's processor clears the tracker's own, with
    # no event, before running it): the last FollowupAction's, unless a message or an
    # action came after it (they clear it). The latest message is as far back as it goes.
    for event in reversed(events):
        apply_to = type(event).apply_to
        if apply_to is FollowupAction.apply_to:
            new.followup_action = event.action_name
            break
        if apply_to is UserUttered.apply_to or apply_to is ActionExecuted.apply_to:
            new.followup_action = None
            break
    new._paused = self._paused
    if loop is not None:
        new.active_loop = TrackerActiveLoop(
            loop.name, loop.is_interrupted, loop.rejected, loop.trigger_message
        )
    return new


def forget_states(sender_id: str) -> None:
    """Drops the replays kept of a conversation (one the person asked to be forgotten: its
    events then live nowhere in the server, not even in memory)."""
    for key in [key for key in _conversations if key[1] == sender_id]:
        del _conversations[key]


def load_classifier(
    cls: type[LogisticRegressionClassifier], *args: Any, **kwargs: Any
) -> LogisticRegressionClassifier:
    """Rasa's trained classifier, its weights stored so that their transpose is contiguous."""
    component = rasa_load_classifier(cls, *args, **kwargs)
    if hasattr(component.clf, "coef_"):  # a trained model (Rasa creates an empty one else)
        component.clf.coef_ = np.asfortranarray(component.clf.coef_)
    return component


RunOrder = tuple[tuple[str, tuple[str, ...]], ...]


def run_order(schema: GraphSchema, targets: tuple[str, ...]) -> RunOrder:
    """Each node the targets need, after every node it needs, with the names it is given.

    A name a node needs that is not a node of the schema is one of the run's inputs.
    """
    order: dict[str, tuple[str, ...]] = {}

    def visit(name: str) -> None:
        if name in order or name not in schema.nodes:
            return
        needs = tuple(schema.nodes[name].needs.values())
        for need in needs:
            visit(need)
        order[name] = needs

    for target in targets:
        visit(target)
    return tuple(order.items())


def run_graph(
    self: DaskGraphRunner,
    inputs: dict[str, Any] | None = None,
    targets: list[str] | None = None,
) -> dict[str, Any]:
    """Rasa's graph run (same nodes, inputs and results) without building a dask graph each time."""
    run_targets = tuple(targets if targets else self._graph_schema.target_names)
    orders: dict[tuple[str, ...], RunOrder] = self.__dict__.setdefault("_run_orders", {})
    order = orders.get(run_targets)
    if order is None:
        order = orders[run_targets] = run_order(self._graph_schema, run_targets)
    # As Rasa passes them to its nodes: every value is a (name, output) pair.
    results: dict[str, tuple[str, Any]] = {}
    for name, value in (inputs or {}).items():
        if isinstance(value, str) and (value in results or any(value == n for n, _ in order)):
            raise GraphRunError(
                f"Input value '{name}' clashes with a node name. Make sure that none of the "
                f"input names passed to the `run` method are the same as node names in the "
                f"graph schema."
            )
        results[name] = (name, value)
    try:
        for name, needs in order:
            results[name] = self._instantiated_nodes[name](*(results[need] for need in needs))
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e
    return dict(results[target] for target in run_targets)


# What a filtering logger calls for a level it drops (the same function for every level).
_DROPPED = structlog.make_filtering_bound_logger(logging.CRITICAL).debug
# Rasa's modules whose every ``copy.deepcopy`` is of a debug log line's values.
LOG_COPYING_MODULES = (processor, forms, memoization, rule_policy)


def debug_logged() -> bool:
    """Whether Rasa's structured logger writes debug lines (``rasa run --debug``)."""
    return getattr(structlog.get_config()["wrapper_class"], "debug", None) is not _DROPPED


class LogCopies:
    """The ``copy`` module as ``LOG_COPYING_MODULES`` use it: a deep copy only for a debug
    line that is logged; otherwise the value itself, which the log call drops unread."""

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        return copy.deepcopy(value, memo) if debug_logged() else value


# Each event type name's class, as Rasa's ``Event.resolve_by_type`` finds it.
_event_types: dict[str, type[Event]] = {}


def resolve_event_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    """Rasa's ``Event.resolve_by_type`` from a table, the subclasses walked again only for
    a name the table lacks."""
    found = _event_types.get(type_name)
    if found is None:
        _event_types.clear()
        for cls in all_subclasses(Event):
            _event_types.setdefault(cls.type_name, cls)
        found = _event_types.get(type_name)
    return found if found is not None else rasa_resolve_by_type(type_name, default)


def log_slots(tracker: DialogueStateTracker) -> None:
    """Rasa's ``MessageProcessor._log_slots``, only when it would log (``--debug``)."""
    if debug_logged():
        rasa_log_slots(tracker)


FROM_ENTITY = str(SlotMappingType.FROM_ENTITY)


def fails_unique_entity_mapping_check(
    self: ActionExtractSlots,
    slot_name: str,
    mapping: dict[str, Any],
    tracker: DialogueStateTracker,
    domain: Domain,
) -> bool:
    """Rasa's ``ActionExtractSlots._fails_unique_entity_mapping_check`` with the form's
    unique entity mappings worked out once per form and domain."""
    if mapping[MAPPING_TYPE] != FROM_ENTITY:
        return False
    form_name = tracker.active_loop_name
    if not form_name or tracker.get_slot(REQUESTED_SLOT) == slot_name:
        return False
    forms_kept: dict[str, FormAction] = domain.__dict__.setdefault("_awhina_forms", {})
    form = forms_kept.get(form_name)
    if form is None:
        form = forms_kept[form_name] = FormAction(form_name, None)
    return slot_name in form.required_slots(domain) and not form.entity_mapping_is_unique(
        mapping, domain
    )


def rule_states_shown(states: list[State]) -> str:
    """Rasa's ``format_tracker_states`` for RulePolicy's debug line, only when it is logged
    (nothing else of RulePolicy's calls it)."""
    return rasa_format_tracker_states(states) if debug_logged() else ""


def domain_is_empty(self: Domain) -> bool:
    """Rasa's ``Domain.is_empty``, worked out once per domain."""
    empty = self.__dict__.get("_is_empty")
    if empty is None:
        empty = self._is_empty = rasa_domain_is_empty(self)
    return empty


# Collections of the middle generation between two full collections (Python's: 10).
FULL_COLLECTION_AFTER = 100


async def load_agent_on_start(*args: Any, **kwargs: Any) -> Agent:
    """Rasa's ``load_agent_on_start``, then what it loaded kept out of the collector's way,
    and full collections made rarer."""
    agent = await rasa_load_agent_on_start(*args, **kwargs)
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_AFTER)
    return agent


rasa_load_agent_on_start = run.load_agent_on_start
run.load_agent_on_start = load_agent_on_start
RemoteAction._validate_action_result = validate_action_result
DaskGraphRunner.run = run_graph
LogisticRegressionClassifier.load = classmethod(load_classifier)
LogisticRegressionClassifier.process = classify
Slot.__copy__ = copy_slot
RulePolicy._rule_key_to_state = staticmethod(rule_states)
RulePolicy._get_possible_keys = possible_rule_keys
Domain.states_for_tracker_history = states_for_tracker_history
DialogueStateTracker.applied_events = applied_events
DialogueStateTracker.copy = copy_tracker
tracker_store.create_engine_kwargs = create_engine_kwargs
EndpointConfig.session = endpoint_session
Domain.is_empty = domain_is_empty
Event.resolve_by_type = staticmethod(resolve_event_type)
processor.MessageProcessor._log_slots = staticmethod(log_slots)
RulePolicy.format_tracker_states = staticmethod(rule_states_shown)
ActionExtractSlots._fails_unique_entity_mapping_check = fails_unique_entity_mapping_check
for module in LOG_COPYING_MODULES:
    module.copy = LogCopies
