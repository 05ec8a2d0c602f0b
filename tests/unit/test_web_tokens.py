"""Web chat session tokens and site identities: what the server accepts and what it refuses."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.adapters.web_tokens import (
    BadToken,
    Identity,
    SessionSigner,
    identity_is_genuine,
    identity_signature,
)

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
signer = SessionSigner("server-secret", lifetime=timedelta(days=30))


def test_a_token_names_its_session_until_it_expires() -> None:
    session = signer.new_session(NOW)
    token = signer.token(session)
    assert signer.verify(token, NOW + timedelta(days=29)).session_id == session.session_id
    with pytest.raises(BadToken, match="expired"):
        signer.verify(token, NOW + timedelta(days=30))


def test_anonymous_sessions_are_unguessable_and_distinct() -> None:
    ids = {signer.new_session(NOW).session_id for _ in range(50)}
    assert len(ids) == 50 and all(len(i) >= 20 for i in ids)


def test_a_changed_claim_or_another_secret_is_refused() -> None:
    token = signer.token(signer.new_session(NOW))
    version, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["s"] = "a-session-of-someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    for bad in (
        f"{version}.{forged}.{signature}",
        SessionSigner("other", lifetime=timedelta(days=1)).token(signer.new_session(NOW)),
        "v1.garbage",
        "",
    ):
        with pytest.raises(BadToken):
            signer.verify(bad, NOW)


def test_a_known_customer_gets_the_same_session_on_every_device() -> None:
    first = signer.new_session(NOW, user_id="cust-42")
    again = signer.new_session(NOW + timedelta(days=3), user_id="cust-42")
    other = signer.new_session(NOW, user_id="cust-43")
    assert first.session_id == again.session_id != other.session_id
    assert signer.verify(signer.token(first), NOW).user_id == "cust-42"


def test_the_sites_signature_must_match_user_and_email() -> None:
    signature = identity_signature("site-secret", "cust-42", "ada@example.com")
    genuine = Identity("cust-42", "ada@example.com", "Ada", signature)
    assert identity_is_genuine("site-secret", genuine)
    assert not identity_is_genuine("site-secret", Identity("cust-43", genuine.email, "", signature))
    assert not identity_is_genuine("site-secret", Identity("cust-42", "eve@x.test", "", signature))
    assert not identity_is_genuine("", genuine)  # no site secret configured: nobody is vouched


def test_the_readme_example_signs_as_the_server_checks() -> None:
    import hashlib
    import hmac

    # the README's snippet for a site's back end, verbatim in substance
    site_secret, user_id, email = "site-secret", "cust-42", "ada@example.com"
    signature = hmac.new(
        site_secret.encode(), f"{user_id}\n{email}".encode(), hashlib.sha256
    ).hexdigest()
    assert identity_is_genuine(site_secret, Identity(user_id, email, "", signature))
