"""Navigator accounts: password hashes, sign-in, API tokens."""

from __future__ import annotations

import base64
import hashlib

import pytest

from bot.db import session_scope
from bot.handoff import accounts
from bot.handoff.accounts import (
    AccountError,
    authenticate,
    create_navigator,
    get_navigator,
    hash_password,
    issue_api_token,
    navigator_for_token,
    set_password,
    verify_password,
)
from bot.handoff.models import Navigator
from tests.handoff.conftest import PASSWORD, nav


def test_hash_format_and_per_user_salt():
    stored = hash_password("kia kaha, e hoa")
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", str(accounts.MIN_TEST_N), "8", "1")
    assert len(base64.b64decode(salt, validate=True)) == 16
    expected = hashlib.scrypt(
        b"kia kaha, e hoa", salt=base64.b64decode(salt), n=accounts.MIN_TEST_N, r=8, p=1, dklen=32
    )
    assert base64.b64decode(digest) == expected
    assert hash_password("kia kaha, e hoa") != stored  # a new salt every time


def _old_hash(password: str, n: int) -> str:
    """A hash as the accounts of before were stored (N=2^14)."""
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=8, p=1, dklen=32)
    return f"scrypt${n}$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def test_production_cost_and_an_old_hash_upgraded_on_the_next_sign_in(url, navs, monkeypatch):
    monkeypatch.delenv(accounts.TEST_COST_ENV)
    assert accounts.cost() == (2**17, 8, 1)
    with session_scope(url) as session:
        nav(session, navs, "grey").password_hash = _old_hash(PASSWORD, 2**14)
    with session_scope(url) as session:
        assert authenticate(session, "grey@example.org", "wrong password") is None
        assert nav(session, navs, "grey").password_hash.startswith("scrypt$16384$")
        assert authenticate(session, "grey@example.org", PASSWORD).id == navs["grey"]
    with session_scope(url) as session:
        stored = nav(session, navs, "grey").password_hash
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", "131072", "8", "1")
    expected = hashlib.scrypt(
        PASSWORD.encode(), salt=base64.b64decode(salt), n=2**17, r=8, p=1, dklen=32, maxmem=2**28
    )
    assert base64.b64decode(digest) == expected
    with session_scope(url) as session:
        assert authenticate(session, "grey@example.org", PASSWORD).id == navs["grey"]
        assert nav(session, navs, "grey").password_hash == stored  # not hashed again


@pytest.mark.parametrize("value", ["1000", "512", str(2**18), "lots"])
def test_a_test_cost_is_a_power_of_two_never_above_production(monkeypatch, value):
    monkeypatch.setenv(accounts.TEST_COST_ENV, value)
    with pytest.raises(ValueError):
        accounts.cost()


def test_verify_password():
    stored = hash_password("kia kaha, e hoa")
    assert verify_password("kia kaha, e hoa", stored)
    assert not verify_password("kia kaha, e hoa ", stored)
    assert not verify_password("", stored)
    assert not verify_password(None, stored)
    assert not verify_password("x" * 5000, stored)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        None,
        "scrypt",
        "bcrypt$16384$8$1$c2FsdA==$aGFzaA==",
        "scrypt$nope$8$1$c2FsdA==$aGFzaA==",
        "scrypt$1000$8$1$c2FsdA==$aGFzaA==",  # not a power of two
        "scrypt$1073741824$8$1$c2FsdA==$aGFzaA==",  # would need gigabytes
        "scrypt$16384$8$1$not base64!$aGFzaA==",
        "scrypt$16384$8$1$$",
        "scrypt$16384$0$1$c2FsdA==$aGFzaA==",
    ],
)
def test_malformed_stored_hashes_never_match(stored):
    assert verify_password("anything", stored) is False


def test_comparison_is_constant_time(monkeypatch):
    compared = []
    real = accounts.hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(accounts.hmac, "compare_digest", spy)
    assert not verify_password("wrong", hash_password("right password"))
    assert len(compared) == 1


def test_unknown_email_costs_a_hash_too(url, navs, monkeypatch):
    accounts._dummy_hash(accounts.cost())  # made once, on first use
    hashed = []
    real = accounts._scrypt
    monkeypatch.setattr(accounts, "_scrypt", lambda *a: hashed.append(a) or real(*a))
    with session_scope(url) as session:
        assert authenticate(session, "nobody@example.org", PASSWORD) is None
        assert len(hashed) == 1
        assert authenticate(session, "grey@example.org", "wrong password") is None
        assert len(hashed) == 2


def test_authenticate(url, navs):
    with session_scope(url) as session:
        assert authenticate(session, "grey@example.org", PASSWORD).id == navs["grey"]
        assert authenticate(session, "  GREY@Example.org ", PASSWORD).id == navs["grey"]
        assert authenticate(session, "grey@example.org", PASSWORD.upper()) is None
        assert authenticate(session, "grey@example.org", "") is None
        assert authenticate(session, None, PASSWORD) is None
        assert authenticate(session, "grey@example.org", None) is None
        nav(session, navs, "grey").active = False
    with session_scope(url) as session:
        assert authenticate(session, "grey@example.org", PASSWORD) is None
        assert get_navigator(session, navs["grey"]) is None
        assert get_navigator(session, navs["grey2"]).id == navs["grey2"]
        assert get_navigator(session, "nope") is None


def test_create_navigator_takes_the_team_organisation(url, navs):
    with session_scope(url) as session:
        navigator = create_navigator(
            session, " Mere@Example.ORG ", " Mere ", "west-coast-navigators", "a long passphrase"
        )
        assert navigator.email == "mere@example.org" and navigator.display_name == "Mere"
        assert navigator.organization_id == "sample-coast-whanau-navigation"
        assert navigator.active and not navigator.is_sample
        assert navigator.password_hash.startswith("scrypt$")
        assert "a long passphrase" not in navigator.password_hash
        assert navigator.created_at.tzinfo is not None
        assert navigator.actor == f"navigator:{navigator.id}"


@pytest.mark.parametrize(
    "email, name, team, password, message",
    [
        ("grey@EXAMPLE.org", "Dup", "grey-navigators", PASSWORD, "already exists"),
        ("not-an-email", "X", "grey-navigators", PASSWORD, "email"),
        ("", "X", "grey-navigators", PASSWORD, "email"),
        ("x@example.org", "", "grey-navigators", PASSWORD, "display name"),
        ("x@example.org", "A\nB", "grey-navigators", PASSWORD, "display name"),
        ("x@example.org", "x" * 65, "grey-navigators", PASSWORD, "display name"),
        ("x@example.org", "X", "no-such-team", PASSWORD, "unknown team"),
        ("x@example.org", "X", "grey-navigators", "short", "password"),
        ("x@example.org", "X", "grey-navigators", "x" * 1025, "password"),
        ("x@example.org", "X", "grey-navigators", None, "password"),
    ],
)
def test_bad_accounts_are_refused(url, navs, email, name, team, password, message):
    with session_scope(url) as session:
        count = session.query(Navigator).count()
        with pytest.raises(AccountError, match=message):
            create_navigator(session, email, name, team, password)
        assert session.query(Navigator).count() == count


def test_set_password(url, navs):
    with session_scope(url) as session:
        set_password(session, nav(session, navs, "grey"), "a brand new passphrase")
    with session_scope(url) as session:
        assert authenticate(session, "grey@example.org", PASSWORD) is None
        assert authenticate(session, "grey@example.org", "a brand new passphrase")
        with pytest.raises(AccountError):
            set_password(session, nav(session, navs, "grey"), "short")


def test_api_tokens(url, navs):
    with session_scope(url) as session:
        grey = nav(session, navs, "grey")
        token = issue_api_token(session, grey)
        assert grey.api_token_hash == hashlib.sha256(token.encode()).hexdigest() != token
        assert navigator_for_token(session, token).id == navs["grey"]
        newer = issue_api_token(session, grey)
        assert navigator_for_token(session, token) is None  # replaced
        assert navigator_for_token(session, newer).id == navs["grey"]
        for bad in ("", None, 42, "x" * 5000, grey.api_token_hash, newer + "x", "\ud800"):
            assert navigator_for_token(session, bad) is None
        grey.active = False
        session.flush()
        assert navigator_for_token(session, newer) is None
        with pytest.raises(AccountError):
            issue_api_token(session, grey)
