"""The settings store and the secret handling, on a real SQLite file and a real PostgreSQL."""

from __future__ import annotations

import pytest

from runner.plugins.settings import PluginSettings, SettingsError, plugin_config
from runner.redact import REDACTED
from runner.store import settings as rows
from runner.store.secrets import SecretBox


@pytest.fixture
def store(any_store):
    return any_store


def test_gitops_history_keeps_the_newest_hundred(store):
    for i in range(105):
        rows.add_gitops_history(store, operation="push" if i % 2 else "pull",
                                status="succeeded", triggered_by="admin", commit_before=None,
                                commit_after=f"c{i}", files=[f"f{i}.yaml"], message=str(i))
    history = rows.gitops_history(store)
    assert len(history) == 100
    assert history[0]["message"] == "104" and history[-1]["message"] == "5"
    assert history[0]["files"] == ["f104.yaml"]


def test_a_different_secret_key_cannot_read_secrets(store):
    PluginSettings(store, SecretBox("first-secret-key-0001")).save(
        "gitops", {"repoUrl": "https://git.example.com/c.git", "authToken": "tok-1"}, "admin")
    assert plugin_config(store, "gitops", SecretBox("first-secret-key-0001"))["authToken"] == \
        "tok-1"
    other = PluginSettings(store, SecretBox("another-secret-key-02"))
    with pytest.raises(SettingsError, match="cannot be decrypted"):
        other.config("gitops")
    assert "cannot be decrypted" in other.summary("gitops")["missingSettings"][0]
    assert other.redacted_config("gitops")["authToken"] == REDACTED
    # a new secret can be set again under the new key
    other.save("gitops", {"repoUrl": "https://git.example.com/c.git", "authToken": "tok-2"},
               "admin")
    assert other.config("gitops")["authToken"] == "tok-2"


def test_empty_string_removes_a_secret(store):
    settings = PluginSettings(store, SecretBox("first-secret-key-0001"))
    settings.save("github", {"personalAccessToken": "ghp_x1234"}, "admin")
    settings.save("github", {"personalAccessToken": ""}, "admin")
    assert settings.config("github")["personalAccessToken"] == ""
    assert settings.summary("github")["missingSettings"] == ["personalAccessToken"]
