"""Keys on both sides: platforms rotate theirs, the tool rotates its own, and launches go on."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from flask_sqlalchemy import SQLAlchemy
from jwcrypto.jwk import JWK
from sqlalchemy import select

from lti_tool import crypto
from lti_tool.lti.keys import current_key, private_pem, rotate
from lti_tool.lti.models import ToolKey, ToolKeyState
from tests.helpers.platform import PlatformDouble, launch, login

pytestmark = pytest.mark.usefixtures("registered")


def test_platform_key_set_is_fetched_once_per_ttl_not_per_launch(
    client: FlaskClient, registered: PlatformDouble
) -> None:
    for _ in range(3):
        assert launch(client, registered).status_code == 303
    assert registered.jwks_requests == 1


def test_platform_rotating_its_key_mid_flight(
    client: FlaskClient, registered: PlatformDouble
) -> None:
    """A login started before the platform rotated completes with a token signed by the new key."""
    assert launch(client, registered).status_code == 303  # key set now cached
    started = login(client, registered)
    new_key = registered.rotate()  # the platform rotates between login and launch
    token = registered.sign(registered.claims(started.nonce), key=new_key)
    response = client.post("/lti/launch", data={"id_token": token, "state": started.state})
    assert response.status_code == 303
    assert registered.jwks_requests == 2  # re-fetched once for the unknown kid
    assert launch(client, registered).status_code == 303  # and cached again
    assert registered.jwks_requests == 2


def test_an_old_platform_key_still_verifies_while_published(
    client: FlaskClient, registered: PlatformDouble
) -> None:
    old = registered.keys[-1]
    registered.rotate()
    started = login(client, registered)
    token = registered.sign(registered.claims(started.nonce), key=old)
    assert (
        client.post("/lti/launch", data={"id_token": token, "state": started.state}).status_code
        == 303
    )


def test_forged_kids_cannot_make_the_tool_hammer_the_platform(
    client: FlaskClient, registered: PlatformDouble
) -> None:
    assert launch(client, registered).status_code == 303
    for attempt in range(5):
        started = login(client, registered)
        token = registered.sign(
            registered.claims(started.nonce), headers={"kid": f"forged-{attempt}"}
        )
        assert (
            client.post("/lti/launch", data={"id_token": token, "state": started.state}).status_code
            == 401
        )
    assert registered.jwks_requests == 2  # one re-fetch, then the cooldown holds


def test_jwks_publishes_current_and_next(client: FlaskClient, db: SQLAlchemy) -> None:
    current = current_key(db.session())
    upcoming = db.session.scalars(select(ToolKey).filter_by(state=ToolKeyState.NEXT)).one()
    response = client.get("/lti/jwks")
    assert response.status_code == 200
    kids = [key["kid"] for key in response.json["keys"]]
    assert kids == [current.kid, upcoming.kid]
    for key in response.json["keys"]:
        assert set(key) >= {"kty", "n", "e", "kid", "alg", "use"}
        assert "d" not in key  # never the private part
        assert key["kid"] == JWK(**key).thumbprint()  # RFC 7638


def test_tool_rotation_switches_only_to_an_already_published_key(
    client: FlaskClient, db: SQLAlchemy, runner: FlaskCliRunner
) -> None:
    current_key(db.session())
    published_before = {key["kid"] for key in client.get("/lti/jwks").json["keys"]}
    result = runner.invoke(args=["lti", "rotate-key"])
    assert result.exit_code == 0, result.output
    new_current = current_key(db.session())
    assert new_current.kid in published_before  # platforms already had it
    published_after = {key["kid"] for key in client.get("/lti/jwks").json["keys"]}
    assert published_before <= published_after  # the old key stays for in-flight tokens
    assert len(published_after) == 3
    assert f"Now signing with {new_current.kid}" in result.output


def test_tool_rotation_mid_flight_does_not_break_a_launch(
    client: FlaskClient, registered: PlatformDouble, db: SQLAlchemy
) -> None:
    started = login(client, registered)
    rotate(db.session())
    token = registered.sign(registered.claims(started.nonce))
    assert (
        client.post("/lti/launch", data={"id_token": token, "state": started.state}).status_code
        == 303
    )


def test_private_keys_are_encrypted_at_rest(db: SQLAlchemy) -> None:
    key = current_key(db.session())
    assert b"PRIVATE KEY" not in key.private_key_encrypted
    assert private_pem(key).startswith("-----BEGIN PRIVATE KEY-----")


def test_a_wrong_secrets_key_is_a_clear_error(db: SQLAlchemy) -> None:
    key = current_key(db.session())
    other = "ZmFrZS1rZXktZm9yLXRlc3RzLW9ubHktMzJieXRlcyE="
    with pytest.raises(crypto.SecretsKeyError, match="does not contain the key"):
        crypto.decrypt(key.private_key_encrypted, keys=other)


def test_secrets_key_rotation_keeps_old_secrets_readable(db: SQLAlchemy, app: object) -> None:
    from cryptography.fernet import Fernet

    old = Fernet.generate_key().decode()
    token = crypto.encrypt(b"platform credential", keys=old)
    new = Fernet.generate_key().decode()
    assert crypto.decrypt(token, keys=f"{new},{old}") == b"platform credential"
