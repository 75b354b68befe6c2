"""The ArgoCD client on its own: TLS verification switch, login, error bodies."""

from __future__ import annotations

import pytest

from runner.plugins.argocd.client import ArgoCDClient, ArgoCDError
from runner.plugins.argocd.config import ArgoCDConfig, ConfigError, Instance, expand_env
from tests.plugins.fakes.argocd import FakeArgoCD


def test_insecure_skip_tls_accepts_a_self_signed_certificate(tmp_path):
    with FakeArgoCD(tls_dir=tmp_path) as argo:
        argo.add_app("web")
        token = argo.issue_token()
        strict = Instance(name="tls", url=argo.url, token=token)
        with ArgoCDClient(strict) as client, pytest.raises(ArgoCDError) as refused:
            client.list_applications()
        assert refused.value.status == 502 and "cannot reach ArgoCD tls" in refused.value.message
        relaxed = Instance(name="tls", url=argo.url, token=token, insecure_skip_tls=True)
        with ArgoCDClient(relaxed) as client:
            assert [a["metadata"]["name"] for a in client.list_applications()] == ["web"]


def test_password_login_and_wrong_password():
    with FakeArgoCD(username="gantry", password="right-pw") as argo:
        argo.add_app("web")
        good = Instance(name="x", url=argo.url, username="gantry", password="right-pw")
        with ArgoCDClient(good) as client:
            assert client.get_application("web")["metadata"]["name"] == "web"
        assert argo.requests[0]["path"] == "/api/v1/session"
        bad = Instance(name="x", url=argo.url, username="gantry", password="wrong")
        with ArgoCDClient(bad) as client, pytest.raises(ArgoCDError) as refused:
            client.get_application("web")
        assert refused.value.status == 401
        assert "login failed: Invalid username or password" in refused.value.message


def test_config_checks_and_environment_expansion():
    with pytest.raises(ConfigError, match="instances\\[0\\]: needs a token"):
        ArgoCDConfig.from_config({"instances": [{"name": "a", "argocdUrl": "http://x"}]})
    with pytest.raises(ConfigError, match="duplicate instance name a"):
        ArgoCDConfig.from_config({"instances": [
            {"name": "a", "argocdUrl": "http://x", "token": "t"},
            {"name": "a", "argocdUrl": "http://y", "token": "t"}]})
    expanded = expand_env({"instances": [{"token": "${T}-x"}]}, {"T": "abc"})
    assert expanded == {"instances": [{"token": "abc-x"}]}
    with pytest.raises(ConfigError, match="instances\\[0\\].token: environment variable U"):
        expand_env({"instances": [{"token": "${U}"}]}, {})
