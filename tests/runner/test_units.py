"""Small pure parts of the runner core: settings, redaction, secrets, events, SSRF rules."""

from __future__ import annotations

import ipaddress

import pytest

from runner.auth import roles
from runner.auth.passwords import hash_password, verify_password
from runner.config import ConfigError, Settings
from runner.events import EventBus, channel_of
from runner.healthcheck import UnsafeTarget, parse, refusal_reason
from runner.redact import REDACTED, redact
from runner.store.secrets import SecretBox, SecretError


def test_settings_from_env_defaults_and_values() -> None:
    defaults = Settings.from_env({})
    assert (str(defaults.catalog), str(defaults.data_dir), defaults.port) == \
        ("catalog", ".gantry", 8080)
    assert defaults.max_body_bytes == 1024 * 1024
    custom = Settings.from_env({"GANTRY_PORT": "9000", "GANTRY_TRUSTED_PROXIES": "10.0.0.0/8, ::1",
                                "GANTRY_SECRET_KEY": "k" * 16})
    assert custom.port == 9000 and len(custom.trusted_proxies) == 2
    custom.check_secret_key()


@pytest.mark.parametrize("env, needle", [
    ({"GANTRY_PORT": "0"}, "GANTRY_PORT"), ({"GANTRY_PORT": "x"}, "GANTRY_PORT"),
    ({"GANTRY_TRUSTED_PROXIES": "nope"}, "GANTRY_TRUSTED_PROXIES"),
    ({"GANTRY_MAX_BODY_BYTES": "-1"}, "GANTRY_MAX_BODY_BYTES"),
])
def test_bad_settings_name_the_variable(env: dict, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        Settings.from_env(env)


def test_short_secret_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="16"):
        Settings.from_env({"GANTRY_SECRET_KEY": "short"}).check_secret_key()


def test_redact_hides_secret_keys_and_known_values() -> None:
    data = {"token": "t0k3n", "nested": {"privateKey": "pk", "apiKey": "", "name": "ok"},
            "headers": [{"Authorization": "Bearer abc"}], "url": "https://x/?s=hunter22",
            "personalAccessToken": "ghp_x", "count": 3}
    out = redact(data, secret_values=["hunter22", "ab"])
    assert out["token"] == REDACTED and out["nested"]["privateKey"] == REDACTED
    assert out["nested"]["apiKey"] == "" and out["nested"]["name"] == "ok"
    assert out["headers"][0]["Authorization"] == REDACTED
    assert out["url"] == f"https://x/?s={REDACTED}" and out["count"] == 3
    assert out["personalAccessToken"] == REDACTED
    assert data["token"] == "t0k3n"  # the input is not changed


def test_secret_box_round_trip_and_wrong_key() -> None:
    box = SecretBox("a" * 16)
    sealed = box.encrypt("s3cret-value")
    assert "s3cret" not in sealed and box.decrypt(sealed) == "s3cret-value"
    with pytest.raises(SecretError, match="GANTRY_SECRET_KEY"):
        SecretBox("b" * 16).decrypt(sealed)


def test_event_bus_channels_and_subscriptions() -> None:
    bus = EventBus()
    everything, actions = bus.subscribe(), bus.subscribe()
    actions.subscribe("actions")
    bus.publish("entity.created", {"name": "x"})
    bus.publish("action.run.updated", {"id": "1"})
    assert everything.get(0.1)["type"] == "entity.created"
    assert everything.get(0.1)["type"] == "action.run.updated"
    assert actions.get(0.1) == {"type": "action.run.updated", "payload": {"id": "1"}}
    assert actions.get(0.01) is None
    assert channel_of("entity.deleted") == "entities"
    bus.unsubscribe(everything)
    assert bus.subscriber_count() == 1


def test_roles_order() -> None:
    assert roles.at_least("admin", "viewer") and not roles.at_least("developer", "admin")
    assert roles.lower_of("admin", "developer") == "developer"
    assert not roles.at_least("nobody", "viewer")
    with pytest.raises(ValueError):
        roles.at_least("admin", "emperor")


def test_password_hashes_are_salted_and_verified() -> None:
    first, second = hash_password("password-1"), hash_password("password-1")
    assert first != second
    assert verify_password("password-1", first) and not verify_password("password-2", first)
    assert not verify_password("password-1", "garbage")


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "100.64.1.1", "169.254.0.1",
                                     "::1", "::ffff:192.168.0.1", "64:ff9b::a00:1",
                                     "2002:a00:1::", "ff02::1", "0.0.0.0", "198.18.0.1"])
def test_non_public_addresses_have_a_reason(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946",
                                     "::ffff:93.184.216.34"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) is None


def test_parse_keeps_path_and_query_and_default_ports() -> None:
    assert parse("https://example.com/health?x=1") == ("https", "example.com", 443,
                                                       "/health?x=1")
    assert parse("http://example.com") == ("http", "example.com", 80, "/")
    with pytest.raises(UnsafeTarget):
        parse("http://a@example.com/")
