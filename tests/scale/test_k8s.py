"""deploy/k8s without a cluster: the manifests against Kubernetes' schemas
(kubernetes-validate), the Helm values against the charts' vendored values schemas, and
both against the production profile they must agree with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from bot import replicas
from bot.config import ROOT

K8S = ROOT / "deploy" / "k8s"
SCHEMAS = K8S / "schemas"
KUBERNETES = "1.28.0"
MANIFESTS = sorted(p for p in K8S.glob("*.yml") if not p.name.endswith("-values.yml"))
CHARTS = {
    "rasa-values.yml": "rasa-1.17.8.values.schema.json",
    "action-server-values.yml": "rasa-action-server-1.0.9.values.schema.json",
}
# Keys the charts' templates read that their values schemas leave out (rasa-common 1.x,
# templates/_postgresql.tpl and _redis.tpl): without them the chart would look for the
# passwords in Secrets named after the release, and fail on the Redis port.
BEYOND_SCHEMA = {
    ("postgresql", "existingSecretKey"),
    ("redis", "existingSecret"),
    ("redis", "existingSecretPasswordKey"),
    ("redis", "master"),
}
# What the production profile changes against endpoints.yml, and where the chart puts it.
STORE_SECTIONS = {"tracker_store": "trackerStore", "lock_store": "lockStore"}


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifests_are_valid_kubernetes_objects(path: Path):
    documents = _documents(path)
    assert documents
    for document in documents:
        kubernetes_validate.validate(document, KUBERNETES, strict=True)
        assert document["kind"] != "Secret", "secrets are made by hand, never committed"


def test_every_service_selects_a_deployment_s_pods():
    documents = [doc for path in MANIFESTS for doc in _documents(path)]
    pods = [
        doc["spec"]["template"]["metadata"]["labels"]
        for doc in documents
        if doc["kind"] == "Deployment"
    ]
    services = [doc for doc in documents if doc["kind"] == "Service"]
    assert services
    for service in services:
        if service["spec"].get("type") == "ExternalName":
            continue
        selector = service["spec"]["selector"].items()
        assert any(selector <= labels.items() for labels in pods), service["metadata"]["name"]


def _unknown_keys(values: Any, schema: dict[str, Any], path: tuple[str, ...] = ()) -> list:
    """Keys set in ``values`` that ``schema`` does not name, below objects it describes."""
    if not isinstance(values, dict) or "properties" not in schema:
        return []  # a free-form object (annotations, resources) or a list
    unknown = []
    for key, value in values.items():
        where = (*path, key)
        if key in schema["properties"]:
            unknown += _unknown_keys(value, schema["properties"][key], where)
        elif where not in BEYOND_SCHEMA:
            unknown.append(".".join(where))
    return unknown


@pytest.mark.parametrize("values_file", sorted(CHARTS))
def test_helm_values_match_the_chart_s_schema(values_file: str):
    values = _yaml(K8S / values_file)
    schema = _yaml(SCHEMAS / CHARTS[values_file])  # JSON is YAML
    jsonschema.validate(values, schema)
    assert _unknown_keys(values, schema) == []


def test_a_misspelt_key_is_caught():
    schema = _yaml(SCHEMAS / CHARTS["rasa-values.yml"])
    assert _unknown_keys({"replicaCount": 2, "image": {"tagg": "1"}}, schema) == ["image.tagg"]


def test_the_rasa_chart_writes_the_production_profile():
    settings = _yaml(K8S / "rasa-values.yml")["applicationSettings"]
    endpoints = settings["endpoints"]
    profile = _yaml(replicas.ENDPOINTS)
    for section, key in STORE_SECTIONS.items():
        chart = {k: v for k, v in endpoints[key].items() if k != "enabled"}
        assert chart == {k: str(v) for k, v in profile[section].items()}, section
    rest = {k: v for k, v in profile.items() if k not in {*STORE_SECTIONS, "action_endpoint"}}
    assert endpoints["additionalEndpoints"] == rest
    assert settings["credentials"]["additionalChannelCredentials"] == _yaml(
        ROOT / "credentials.yml"
    )


def test_every_process_make_run_starts_runs_in_the_cluster():
    """What the Procfile starts runs in Kubernetes too: Rasa and the action servers through
    their charts, every other ``python -m bot`` process as a Deployment of its own (the
    escalation worker once had none, so unclaimed requests would never have moved on)."""
    wanted = set()
    for line in (ROOT / "Procfile").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            words = line.split(":", 1)[1].split()
            if words[1:3] == ["-m", "bot"] and words[3] != "actions":
                wanted.add(words[3])
    deployed = {
        container["command"][3]
        for path in MANIFESTS
        for doc in _documents(path)
        if doc["kind"] == "Deployment"
        for container in doc["spec"]["template"]["spec"]["containers"]
        if container["command"][:3] == ["python", "-m", "bot"]
    }
    assert wanted == {"web", "inbox", "escalator"}
    assert wanted <= deployed
    assert set(CHARTS) == {"rasa-values.yml", "action-server-values.yml"}
