"""Fuzz: over 5,000 generated messages and payloads through the REST channel, the SMS webhook
and the inbox API, against the real servers.

No 5xx, no crash, a normal question is still answered afterwards, and no row
changes that should not: the fuzzed requests hold no consent, no valid SMS
signature and no valid API token, so the handoff, opt-out, SMS and navigator
tables must be exactly as before.
"""

from __future__ import annotations

import json
import uuid

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from bot.db import session_scope
from tests.e2e.fake_gateway import ACCOUNT_SID, FROM_NUMBER, sign

pytestmark = pytest.mark.e2e

GUARDED_TABLES = (
    "handoff_request",
    "handoff_event",
    "navigator",
    "navigator_team",
    "sms_opt_out",
    "sms_inbound",
    "service",
    "phone",
)


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


INJECTIONS = [
    "'; DROP TABLE handoff_request; --",
    '" OR 1=1 --',
    "<script>alert(1)</script>",
    "{{7*7}}",
    "${jndi:ldap://x}",
    "../../../../etc/passwd",
    "%00%0a%0d",
    "/request_human",
    '/inform{"place": "x"}',
    "\u202egnp.exe",
    "whānau ☕️🔥 " * 40,
]
texts = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F), max_size=50),
    st.sampled_from(INJECTIONS),
    st.text(min_size=900, max_size=1200),
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def header_text(size: int) -> st.SearchStrategy[str]:
    """What an HTTP client can send as a header value: Latin-1, no edge whitespace."""
    alphabet = st.characters(min_codepoint=0x20, max_codepoint=0xFF)
    return st.text(alphabet=alphabet, max_size=size).map(str.strip)


def snapshot(db_url: str) -> dict[str, int]:
    with session_scope(db_url) as session:
        return {
            t: session.execute(text(f"select count(*) from {t}")).scalar() for t in GUARDED_TABLES
        }


@pytest.fixture(scope="module")
def before(stack) -> dict[str, int]:
    return snapshot(stack.db_url)


def _ok(response: requests.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:300])


@fuzz(1500)
@given(
    payload=st.one_of(
        st.fixed_dictionaries({"sender": st.text(max_size=80), "message": texts}),
        st.fixed_dictionaries({"sender": json_values, "message": json_values}),
        json_values,
    )
)
def test_rest_channel_json_payloads(stack, before, payload):
    _ok(requests.post(f"{stack.rasa_url}/webhooks/rest/webhook", json=payload, timeout=60))


@fuzz(400)
@given(body=st.binary(max_size=2000))
def test_rest_channel_raw_bodies(stack, before, body):
    _ok(requests.post(f"{stack.rasa_url}/webhooks/rest/webhook", data=body, timeout=60))


@fuzz(1200)
@given(
    form=st.dictionaries(
        st.sampled_from(["From", "To", "Body", "MessageSid", "AccountSid", "x"]),
        texts,
        max_size=6,
    ),
    signature=st.one_of(
        st.none(),
        header_text(40),
        st.just("forged"),
    ),
)
def test_sms_webhook_unsigned_or_forged(stack, before, form, signature):
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    response = requests.post(stack.sms_url, data=form, headers=headers, timeout=60)
    _ok(response)
    assert response.status_code == 403


@fuzz(300)
@given(body=texts)
def test_sms_webhook_signed_with_odd_bodies(stack, before, body):
    """Correctly signed, but the sender is not a phone number: refused before anything is stored."""
    form = {
        "From": "not-a-number",
        "To": FROM_NUMBER,
        "Body": body,
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": ACCOUNT_SID,
    }
    headers = {"X-Twilio-Signature": sign(stack.gateway.auth_token, stack.sms_public_url, form)}
    response = requests.post(stack.sms_url, data=form, headers=headers, timeout=60)
    assert response.status_code == 400, (response.status_code, response.text[:300])


API_PATHS = [
    "/api/me",
    "/api/requests",
    "/api/requests/{id}",
    "/api/requests/{id}/claim",
    "/api/requests/{id}/close",
    "/api/requests/{id}/notes",
    "/api/requests/{id}/messages",
]


@fuzz(1600)
@given(
    path=st.sampled_from(API_PATHS),
    request_id=st.one_of(st.text(max_size=80), st.sampled_from(["1", "' or 1=1", "../me", "%2e"])),
    token=st.one_of(
        st.none(),
        header_text(60),
        st.just("Bearer forged"),
    ),
    method=st.sampled_from(["GET", "POST"]),
    body=st.one_of(st.binary(max_size=500), json_values.map(lambda v: json.dumps(v).encode())),
)
def test_inbox_api_without_a_valid_token(stack, before, path, request_id, token, method, body):
    url = stack.inbox_url + path.replace("{id}", requests.utils.quote(request_id, safe=""))
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = token
    response = requests.request(method, url, data=body, headers=headers, timeout=60)
    _ok(response)
    assert response.status_code in (400, 401, 404, 405, 413, 415)


def test_nothing_changed_and_the_bot_still_answers(stack, before):
    """After the fuzzing above, and after hostile requests of its own (so it proves
    something when run alone): no guarded row changed, and the bot still answers."""
    for injection in INJECTIONS:
        _ok(
            requests.post(
                f"{stack.rasa_url}/webhooks/rest/webhook",
                json={"sender": "fuzz-" + uuid.uuid4().hex, "message": injection},
                timeout=60,
            )
        )
        form = {"From": "+64211234567", "Body": injection, "MessageSid": "SM" + uuid.uuid4().hex}
        forged = requests.post(
            stack.sms_url, data=form, headers={"X-Twilio-Signature": "forged"}, timeout=60
        )
        assert forged.status_code == 403
        claim = requests.post(
            f"{stack.inbox_url}/api/requests/{requests.utils.quote(injection, safe='')}/claim",
            headers={"Authorization": "Bearer forged"},
            timeout=60,
        )
        assert claim.status_code in (401, 404)
    assert snapshot(stack.db_url) == before
    assert "Whereabouts" in stack.texts(uuid.uuid4().hex, "my son is using ice")
