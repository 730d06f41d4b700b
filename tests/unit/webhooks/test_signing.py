"""Signatures verified by the official `standardwebhooks` package, never by our own code alone."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from runner.core import keys
from runner.core.tables import utcnow
from runner.core.webhooks import signing

# The test vector published with the Standard Webhooks specification and its libraries.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_published_vector() -> None:
    at = datetime.fromtimestamp(SPEC_TIMESTAMP, UTC)
    headers = signing.headers(SPEC_ID, at, SPEC_BODY, [SPEC_SECRET])
    assert headers["webhook-signature"] == SPEC_SIGNATURE
    assert headers["webhook-timestamp"] == str(SPEC_TIMESTAMP)
    assert Webhook(SPEC_SECRET).sign(SPEC_ID, at, SPEC_BODY.decode()) == SPEC_SIGNATURE


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.dictionaries(st.text(max_size=10), json_values, max_size=6),
    msg_id=st.from_regex(r"[A-Za-z0-9_-]{1,40}", fullmatch=True),
    secret_bytes=st.binary(min_size=16, max_size=64),
)
def test_random_payloads_verify_with_the_official_library(
    data: dict[str, object], msg_id: str, secret_bytes: bytes
) -> None:

    secret = "whsec_" + base64.b64encode(secret_bytes).decode()
    payload = {"event": "task_finished", "created_at": "2026-01-01T00:00:00.000Z", "data": data}
    body = signing.signed_body(payload, [secret])
    headers = signing.headers(msg_id, utcnow(), body, [secret])
    parsed = Webhook(secret).verify(body, headers)
    assert parsed["data"] == data and parsed["event"] == "task_finished"
    assert signing.verify_body_signature(parsed, secret)


def test_a_tampered_body_or_another_secret_fails() -> None:
    secret, other = keys.generate_webhook_secret(), keys.generate_webhook_secret()
    body = signing.signed_body({"event": "task_finished", "created_at": "x", "data": {"a": 1}}, [secret])
    headers = signing.headers("d-1", utcnow(), body, [secret])
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b'"a":1', b'"a":2'), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(body, headers)


def test_two_secrets_sign_during_a_rotation() -> None:
    new, old = keys.generate_webhook_secret(), keys.generate_webhook_secret()
    body = signing.signed_body({"event": "task_finished", "created_at": "x", "data": {}}, [new, old])
    headers = signing.headers("d-1", utcnow(), body, [new, old])
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(new).verify(body, headers)
    Webhook(old).verify(body, headers)
    envelope = json.loads(body)
    assert signing.verify_body_signature(envelope, new) and signing.verify_body_signature(envelope, old)


def test_the_body_signature_covers_event_time_and_data_but_not_itself() -> None:
    secret = keys.generate_webhook_secret()
    envelope = json.loads(
        signing.signed_body({"event": "task_finished", "created_at": "t", "data": {"id": "1"}}, [secret])
    )
    assert list(envelope) == ["signature", "event", "created_at", "data"]
    assert signing.verify_body_signature(envelope, secret)
    for key, value in (("event", "other"), ("created_at", "u"), ("data", {"id": "2"})):
        assert not signing.verify_body_signature({**envelope, key: value}, secret)
