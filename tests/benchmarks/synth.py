"""A seeded generator of realistic synthetic catalogs, for benchmarks and large tests.

`generate(out_dir, entities, seed)` writes exactly `entities` valid entities in the canonical
layout `<Kind>/<namespace>/<name>.yaml`: about 2% Teams, a handful of Environments, 10% APIs,
15% Infrastructure, 5% Documentation, a few Actions and Services for the rest, spread over
several namespaces, with every reference (owner, dependsOn, deployedIn, providesApis,
consumesApis, relatedTo) pointing at an entity that exists. The same seed gives the same
catalog byte for byte.

With `fmt="backstage"` the catalog is in Backstage's format instead (`backstage.io/v1alpha1`):
about 2% Groups, 4% Users, a few Domains, 3% Systems, 10% APIs, 15% Resources, one Location
whose glob targets name every file, and Components for the rest; references are strings
(`[kind:][namespace/]name`) in the short and long forms, every one resolving.

Command line: `python -m tests.benchmarks.synth OUT --entities N [--seed S]
[--format gantry|backstage]`.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

API_VERSION = "gantry.io/v1"

NAMESPACES = ["default", "payments", "platform", "data", "identity", "commerce", "growth",
              "logistics", "media", "security", "mobile", "search"]
ENVIRONMENTS = [("development", "development"), ("staging", "staging"),
                ("production", "production"), ("qa", "staging"), ("perf", "staging"),
                ("production-eu", "production"), ("sandbox", "development"),
                ("disaster-recovery", "production")]
DOMAINS = ["payment", "user", "order", "inventory", "billing", "search", "notification",
           "checkout", "catalog", "shipping", "pricing", "review", "recommendation", "auth",
           "profile", "cart", "invoice", "ledger", "fraud", "loyalty", "media", "report",
           "analytics", "audit", "session", "subscription", "refund", "tax", "warehouse",
           "delivery", "chat", "feed", "geo", "identity", "consent", "experiment", "email",
           "sms", "upload", "export"]
SERVICE_SUFFIXES = ["service", "api", "worker", "gateway", "processor", "frontend", "sync",
                    "scheduler", "indexer", "adapter"]
API_SUFFIXES = ["api", "events", "grpc", "graphql", "webhooks"]
INFRA = [("database", ["postgres", "mysql", "mongo", "cassandra"]),
         ("queue", ["kafka", "rabbitmq", "sqs"]), ("cache", ["redis", "memcached"]),
         ("storage", ["efs", "nfs", "ceph"]), ("bucket", ["s3", "gcs", "blob"])]
TEAM_WORDS = ["platform", "payments", "identity", "data", "growth", "checkout", "search",
              "mobile", "security", "infra", "reliability", "commerce", "logistics", "media",
              "insights", "core", "edge", "billing", "catalog", "messaging"]
PEOPLE = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
          "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter"]
TAGS = ["python", "go", "java", "kotlin", "typescript", "rust", "critical", "pci",
        "gdpr", "internal", "public", "legacy", "tier-1", "tier-2", "batch", "realtime"]
PROVIDERS = ["aws", "gcp", "azure", "on-prem"]
REGIONS = {"aws": ["eu-west-1", "us-east-1"], "gcp": ["europe-west1", "us-central1"],
           "azure": ["westeurope", "eastus"], "on-prem": ["dc1", "dc2"]}
LIFECYCLES = ["production"] * 6 + ["development"] * 2 + ["experimental", "deprecated"]
SERVICE_TYPES = ["backend"] * 6 + ["frontend", "fullstack", "library", "worker", "worker"]
API_TYPES = ["rest"] * 5 + ["grpc", "grpc", "graphql", "event", "event"]
DOC_TYPES = ["runbook", "wiki", "api-docs", "architecture"]
ACTION_TYPES = ["github-action", "webhook", "argocd-sync", "flux-update", "internal"]

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9 _./:@()+-]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def _scalar(value: object) -> str:
    """A YAML scalar: plain when unambiguous, a JSON (= YAML double-quoted) string otherwise."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if (_PLAIN.match(text) and text.lower() not in _RESERVED and ": " not in text
            and not text.endswith((" ", ":"))):
        return text
    return json.dumps(text, ensure_ascii=False)


def _emit(value: object, indent: int, out: list[str]) -> None:
    """Block-style YAML for the dicts and lists this generator builds."""
    pad = " " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict) and item:
                out.append(f"{pad}{key}:")
                _emit(item, indent + 2, out)
            elif isinstance(item, list) and item and isinstance(item[0], dict):
                out.append(f"{pad}{key}:")
                _emit(item, indent + 2, out)
            elif isinstance(item, list):
                out.append(f"{pad}{key}: [{', '.join(_scalar(v) for v in item)}]")
            else:
                out.append(f"{pad}{key}: {_scalar(item)}")
        return
    for item in value:  # a list of mappings
        lines: list[str] = []
        _emit(item, indent + 2, lines)
        lines[0] = f"{pad}- {lines[0][indent + 2:]}"
        out.extend(lines)


def to_yaml(document: dict) -> str:
    """One entity document as YAML text."""
    lines: list[str] = []
    _emit(document, 0, lines)
    return "\n".join(lines) + "\n"


@dataclass
class _Ref:
    kind: str
    namespace: str
    name: str


@dataclass
class _Plan:
    """Names handed out so far, per kind and namespace, so that every name is unique."""

    rng: random.Random
    taken: set[tuple[str, str, str]] = field(default_factory=set)
    refs: dict[str, list[_Ref]] = field(default_factory=dict)

    def claim(self, kind: str, namespace: str, base: str) -> _Ref:
        name = base
        counter = 2
        while (kind, namespace, name) in self.taken:
            name = f"{base}-{counter}"
            counter += 1
        self.taken.add((kind, namespace, name))
        ref = _Ref(kind, namespace, name)
        self.refs.setdefault(kind, []).append(ref)
        return ref


def _counts(total: int) -> dict[str, int]:
    """How many entities of each kind make up a catalog of `total` entities."""
    counts = {
        "Team": max(1, round(total * 0.02)),
        "Environment": min(len(ENVIRONMENTS), max(1, 3 + total // 5000)),
        "API": round(total * 0.10),
        "Infrastructure": round(total * 0.15),
        "Documentation": round(total * 0.05),
        "Action": min(12, max(1, total // 400)) if total >= 10 else 0,
    }
    for kind in ("Action", "Documentation", "Infrastructure", "API", "Environment", "Team"):
        excess = sum(counts.values()) - total
        if excess <= 0:
            break
        counts[kind] = max(0, counts[kind] - excess)
    counts["Service"] = total - sum(counts.values())
    return counts


def _title(name: str) -> str:
    words = name.split("-")
    return " ".join(w.upper() if w in {"api", "sms", "grpc", "geo"} else w.capitalize()
                    for w in words)


def _scoped(target: _Ref, source_namespace: str) -> str:
    """A name-only reference, namespaced when the target lives elsewhere."""
    if target.namespace == source_namespace:
        return target.name
    return f"{target.namespace}/{target.name}"


def _object_ref(target: _Ref, source_namespace: str) -> dict:
    ref = {"kind": target.kind, "name": target.name}
    if target.namespace != source_namespace:
        ref["namespace"] = target.namespace
    return ref


class _Builder:
    def __init__(self, total: int, seed: int):
        self.rng = random.Random(seed)
        self.plan = _Plan(self.rng)
        self.namespaces = NAMESPACES[: max(1, min(len(NAMESPACES), 2 + total // 800))]
        self.teams_by_ns: dict[str, list[_Ref]] = {}

    def namespace(self) -> str:
        # The default namespace holds a larger share, as in most real catalogs.
        if self.rng.random() < 0.3:
            return "default"
        return self.rng.choice(self.namespaces)

    def owner(self, namespace: str) -> str:
        local = self.teams_by_ns.get(namespace) or self.teams_by_ns.get("default")
        if local:
            return self.rng.choice(local).name
        team = self.rng.choice(self.plan.refs["Team"])
        return f"{team.namespace}/{team.name}"

    def metadata(self, ref: _Ref, description: str, owner: bool = True) -> dict:
        rng = self.rng
        meta: dict = {"name": ref.name}
        if ref.namespace != "default":
            meta["namespace"] = ref.namespace
        meta["title"] = _title(ref.name)
        meta["description"] = description
        if owner and self.plan.refs.get("Team"):
            meta["owner"] = self.owner(ref.namespace)
        meta["tags"] = sorted(set(rng.sample(TAGS, rng.randint(1, 3))))
        meta["labels"] = {"tier": rng.choice(["1", "2", "3"]),
                          "cost-center": f"cc-{rng.randint(100, 999)}"}
        if rng.random() < 0.4:
            meta["annotations"] = {"gantry.io/slack": f"#{ref.name[:40]}",
                                   "backstage.io/techdocs-ref": "dir:."}
        if rng.random() < 0.3:
            meta["links"] = [{"title": "Dashboard", "icon": "dashboard",
                              "url": f"https://grafana.example.com/d/{ref.name}"}]
        return meta

    def document(self, ref: _Ref, metadata: dict, spec: dict) -> dict:
        return {"apiVersion": API_VERSION, "kind": ref.kind, "metadata": metadata, "spec": spec}

    def team(self, index: int) -> dict:
        rng = self.rng
        namespace = self.namespaces[index % len(self.namespaces)]
        base = f"{TEAM_WORDS[index % len(TEAM_WORDS)]}-team"
        ref = self.plan.claim("Team", namespace, base)
        self.teams_by_ns.setdefault(namespace, []).append(ref)
        members = [{"name": person, "email": f"{person}@example.com",
                    "role": rng.choice(["engineer", "engineer", "lead", "manager", "sre"])}
                   for person in rng.sample(PEOPLE, rng.randint(2, 6))]
        spec = {"members": members, "email": f"{ref.name}@example.com",
                "slackChannel": f"#{ref.name}", "manager": members[0]["name"]}
        meta = self.metadata(ref, f"The {_title(base)} owns its domain's services end to end.",
                             owner=False)
        return self.document(ref, meta, spec)

    def environment(self, index: int) -> dict:
        rng = self.rng
        name, env_type = ENVIRONMENTS[index]
        ref = self.plan.claim("Environment", "default", name)
        provider = rng.choice(PROVIDERS[:3])
        spec = {"type": env_type, "provider": provider, "region": rng.choice(REGIONS[provider]),
                "cluster": f"{name}-k8s", "accountId": str(rng.randint(10**11, 10**12 - 1))}
        return self.document(ref, self.metadata(ref, f"The {name} environment."), spec)

    def infrastructure(self) -> dict:
        rng = self.rng
        infra_type, engines = rng.choice(INFRA)
        domain = rng.choice(DOMAINS)
        ref = self.plan.claim("Infrastructure", self.namespace(), f"{rng.choice(engines)}-{domain}")
        spec = {"type": infra_type, "provider": rng.choice(PROVIDERS),
                "lifecycle": rng.choice(LIFECYCLES), "system": domain,
                "repoUrl": f"https://github.com/acme/{domain}-infra"}
        description = f"{_title(ref.name)} {infra_type} for the {domain} domain."
        return self.document(ref, self.metadata(ref, description), spec)

    def api(self) -> dict:
        rng = self.rng
        domain = rng.choice(DOMAINS)
        api_type = rng.choice(API_TYPES)
        ref = self.plan.claim("API", self.namespace(), f"{domain}-{rng.choice(API_SUFFIXES)}")
        spec = {"type": api_type, "lifecycle": rng.choice(LIFECYCLES), "system": domain,
                "definition": f"https://github.com/acme/{domain}/blob/main/api/{ref.name}.yaml",
                "repoUrl": f"https://github.com/acme/{domain}"}
        description = f"The {api_type} interface of the {domain} domain."
        return self.document(ref, self.metadata(ref, description), spec)

    def service(self, unprovided: list[_Ref]) -> dict:
        rng = self.rng
        domain = rng.choice(DOMAINS)
        namespace = self.namespace()
        ref = self.plan.claim("Service", namespace,
                              f"{domain}-{rng.choice(SERVICE_SUFFIXES)}")
        spec: dict = {"type": rng.choice(SERVICE_TYPES), "lifecycle": rng.choice(LIFECYCLES),
                      "system": domain, "repoUrl": f"https://github.com/acme/{ref.name}"}
        depends = []
        services = self.plan.refs["Service"]
        earlier = range(len(services) - 1)
        for index in rng.sample(earlier, min(len(earlier), rng.randint(0, 3))):
            depends.append(_object_ref(services[index], namespace))
        infra = self.plan.refs.get("Infrastructure", [])
        for index in rng.sample(range(len(infra)), min(len(infra), rng.randint(0, 2))):
            depends.append(_object_ref(infra[index], namespace))
        if depends:
            spec["dependsOn"] = depends
        environments = self.plan.refs.get("Environment", [])
        if environments:
            chosen = rng.sample(environments, min(len(environments), rng.randint(1, 3)))
            spec["deployedIn"] = [{"kind": "Environment", "name": e.name} for e in chosen]
        provides = [unprovided.pop() for _ in range(min(len(unprovided), rng.randint(0, 2)))]
        if provides:
            spec["providesApis"] = [_scoped(api, namespace) for api in provides]
        apis = self.plan.refs.get("API", [])
        consumes = rng.sample(range(len(apis)), min(len(apis), rng.randint(0, 3)))
        if consumes:
            spec["consumesApis"] = [_scoped(apis[index], namespace) for index in consumes]
        if spec["type"] != "library":
            spec["healthCheckUrl"] = f"https://{ref.name}.{namespace}.svc.example.com/healthz"
        description = f"{_title(ref.name)} handles {domain} for the {namespace} namespace."
        return self.document(ref, self.metadata(ref, description), spec)

    def documentation(self) -> dict:
        rng = self.rng
        target = rng.choice(self.plan.refs.get("Service") or self.plan.refs["Team"])
        doc_type = rng.choice(DOC_TYPES)
        ref = self.plan.claim("Documentation", target.namespace, f"{target.name}-{doc_type}")
        spec = {"type": doc_type, "url": f"https://docs.example.com/{ref.namespace}/{ref.name}",
                "format": rng.choice(["markdown", "html", "asciidoc"]),
                "relatedTo": [_object_ref(target, ref.namespace)]}
        description = f"The {doc_type} of {target.name}."
        return self.document(ref, self.metadata(ref, description), spec)

    def action(self, index: int) -> dict:
        rng = self.rng
        action_type = ACTION_TYPES[index % len(ACTION_TYPES)]
        verb = ["deploy", "rollback", "restart", "scale", "rotate-secrets", "create-service"]
        ref = self.plan.claim("Action", "default", f"{verb[index % len(verb)]}-{action_type}")
        inputs: list[dict] = [
            {"name": "service", "title": "Service Name", "type": "string",
             "description": "The service to act on", "required": True},
            {"name": "environment", "title": "Target Environment", "type": "select",
             "options": [e.name for e in self.plan.refs.get("Environment", [])] or ["staging"],
             "required": True},
            {"name": "dry_run", "title": "Dry Run", "type": "boolean", "default": False},
            {"name": "replicas", "title": "Replicas", "type": "number", "default": 2},
            {"name": "notes", "title": "Release Notes", "type": "textarea", "required": False},
        ]
        configs = {
            "github-action": {"repository": "acme/deployments", "workflow": "deploy.yml",
                              "ref": "main"},
            "webhook": {"url": "https://hooks.example.com/deploy", "method": "POST",
                        "headers": {"Authorization": "Bearer ${DEPLOY_TOKEN}"},
                        "secret": "${WEBHOOK_SECRET}", "timeout": 10, "retries": 3},
            "argocd-sync": {"appName": "payment-api", "prune": False, "wait": True},
            "flux-update": {"url": "https://flux.example.com/hook/abc123",
                            "secret": "${FLUX_TOKEN}"},
            "internal": {"operation": "update",
                         "target": {"kind": "Service", "name": "{{ inputs.service }}"},
                         "setLabels": {"restarted": "true"}},
        }
        spec = {"type": action_type, "category": rng.choice(["Deployment", "Operations"]),
                "inputs": inputs, "config": configs[action_type],
                "permissions": {"allowedRoles": ["developer", "platform-engineer", "admin"],
                                "requireApproval": index % 3 == 0}}
        if index % 3 == 0:
            spec["permissions"]["approvers"] = [self.plan.refs["Team"][0].name]
        meta = self.metadata(ref, f"{_title(ref.name)} through {action_type}.")
        return self.document(ref, meta, spec)


def documents(entities: int, seed: int = 1) -> list[dict]:
    """The catalog's documents in dependency order (targets before the entities naming them)."""
    counts = _counts(entities)
    builder = _Builder(entities, seed)
    docs = [builder.team(i) for i in range(counts["Team"])]
    docs += [builder.environment(i) for i in range(counts["Environment"])]
    docs += [builder.infrastructure() for _ in range(counts["Infrastructure"])]
    docs += [builder.api() for _ in range(counts["API"])]
    unprovided = list(builder.plan.refs.get("API", []))
    builder.rng.shuffle(unprovided)
    docs += [builder.service(unprovided) for _ in range(counts["Service"])]
    docs += [builder.documentation() for _ in range(counts["Documentation"])]
    docs += [builder.action(i) for i in range(counts["Action"])]
    return docs


BACKSTAGE_VERSION = "backstage.io/v1alpha1"
BACKSTAGE_DEFAULTS = {"owner": "Group", "system": "System", "domain": "Domain",
                      "providesApis": "API", "consumesApis": "API", "memberOf": "Group",
                      "parent": "Group", "subcomponentOf": "Component"}


def _backstage_counts(total: int) -> dict[str, int]:
    counts = {"Location": 1 if total >= 2 else 0, "Group": max(1, round(total * 0.02)),
              "User": round(total * 0.04), "Domain": max(1, round(total * 0.005)),
              "System": round(total * 0.03), "API": round(total * 0.10),
              "Resource": round(total * 0.15)}
    for kind in ("Resource", "API", "System", "User", "Domain", "Location", "Group"):
        excess = sum(counts.values()) - total
        if excess <= 0:
            break
        counts[kind] = max(0, counts[kind] - excess)
    counts["Component"] = total - sum(counts.values())
    return counts


class _BackstageBuilder:
    """Backstage documents whose every reference resolves, in several written forms."""

    def __init__(self, total: int, seed: int):
        self.rng = random.Random(seed)
        self.plan = _Plan(self.rng)
        self.namespaces = NAMESPACES[: max(1, min(len(NAMESPACES), 2 + total // 800))]

    def namespace(self) -> str:
        return "default" if self.rng.random() < 0.3 else self.rng.choice(self.namespaces)

    def ref(self, target: _Ref, field_name: str | None, namespace: str) -> str:
        """A written reference: the kind left out where the field defaults to it (sometimes
        written anyway), the namespace left out when it is the entity's own."""
        kind_written = (field_name is None or BACKSTAGE_DEFAULTS.get(field_name) != target.kind
                        or self.rng.random() < 0.2)
        text = target.name if target.namespace == namespace else \
            f"{target.namespace}/{target.name}"
        return f"{target.kind.lower()}:{text}" if kind_written else text

    def pick(self, kind: str) -> _Ref | None:
        refs = self.plan.refs.get(kind)
        return self.rng.choice(refs) if refs else None

    def document(self, ref: _Ref, description: str, spec: dict) -> dict:
        rng = self.rng
        meta: dict = {"name": ref.name}
        if ref.namespace != "default":
            meta["namespace"] = ref.namespace
        meta["title"] = _title(ref.name.replace(".", "-"))
        meta["description"] = description
        meta["tags"] = sorted(set(rng.sample(TAGS, rng.randint(1, 3))))
        meta["labels"] = {"tier": rng.choice(["1", "2", "3"]),
                          "acme.example.com/cost-center": f"cc-{rng.randint(100, 999)}"}
        if rng.random() < 0.4:
            meta["annotations"] = {"github.com/project-slug": f"acme/{ref.name}",
                                   "backstage.io/techdocs-ref": "dir:."}
        if rng.random() < 0.3:
            meta["links"] = [{"title": "Dashboard", "icon": "dashboard",
                              "url": f"https://grafana.example.com/d/{ref.name}"}]
        return {"apiVersion": BACKSTAGE_VERSION, "kind": ref.kind, "metadata": meta,
                "spec": spec}

    def owned(self, kind: str, base: str, description: str, spec: dict) -> dict:
        namespace = self.namespace()
        ref = self.plan.claim(kind, namespace, base)
        owner = self.pick("Group") if self.rng.random() < 0.9 or not self.plan.refs.get(
            "User") else self.pick("User")
        spec = {**spec, "owner": self.ref(owner, "owner", namespace)} if owner else spec
        return self.document(ref, description, spec)

    def group(self, index: int) -> dict:
        namespace = self.namespaces[index % len(self.namespaces)]
        ref = self.plan.claim("Group", namespace, f"{TEAM_WORDS[index % len(TEAM_WORDS)]}")
        spec: dict = {"type": "team" if index else "organization", "children": [],
                      "profile": {"displayName": _title(ref.name),
                                  "email": f"{ref.name}@example.com"}}
        if index:
            spec["parent"] = self.ref(self.plan.refs["Group"][0], "parent", namespace)
        return self.document(ref, f"The {_title(ref.name)} group.", spec)

    def user(self) -> dict:
        rng = self.rng
        person = rng.choice(PEOPLE)
        ref = self.plan.claim("User", self.namespace(), f"{person}.{rng.choice(PEOPLE)}")
        groups = rng.sample(self.plan.refs["Group"], min(2, len(self.plan.refs["Group"])))
        spec = {"profile": {"displayName": _title(ref.name.replace(".", "-")),
                            "email": f"{ref.name}@example.com"},
                "memberOf": [self.ref(g, "memberOf", ref.namespace) for g in groups]}
        return self.document(ref, f"{_title(person)} works at acme.", spec)

    def domain(self) -> dict:
        name = self.rng.choice(DOMAINS)
        return self.owned("Domain", name, f"Everything about {name}.", {})

    def system(self) -> dict:
        name = f"{self.rng.choice(DOMAINS)}-platform"
        made = self.owned("System", name, f"The {name} system.", {})
        domain = self.pick("Domain")
        if domain:
            made["spec"]["domain"] = self.ref(domain, "domain", made_namespace(made))
        return made

    def api(self) -> dict:
        rng = self.rng
        domain = rng.choice(DOMAINS)
        made = self.owned("API", f"{domain}-{rng.choice(API_SUFFIXES)}",
                          f"The {domain} interface.",
                          {"type": rng.choice(["openapi", "grpc", "graphql", "asyncapi"]),
                           "lifecycle": rng.choice(LIFECYCLES),
                           "definition": f"openapi: 3.0.0\ninfo:\n  title: {domain}\n"})
        system = self.pick("System")
        if system:
            made["spec"]["system"] = self.ref(system, "system", made_namespace(made))
        return made

    def resource(self) -> dict:
        rng = self.rng
        infra_type, engines = rng.choice(INFRA)
        made = self.owned("Resource", f"{rng.choice(engines)}-{rng.choice(DOMAINS)}",
                          f"A {infra_type}.", {"type": infra_type})
        system = self.pick("System")
        if system:
            made["spec"]["system"] = self.ref(system, "system", made_namespace(made))
        return made

    def component(self, unprovided: list[_Ref]) -> dict:
        rng = self.rng
        domain = rng.choice(DOMAINS)
        made = self.owned("Component", f"{domain}-{rng.choice(SERVICE_SUFFIXES)}",
                          f"Handles {domain}.",
                          {"type": rng.choice(["service", "website", "library"]),
                           "lifecycle": rng.choice(LIFECYCLES)})
        spec, namespace = made["spec"], made_namespace(made)
        system = self.pick("System")
        if system:
            spec["system"] = self.ref(system, "system", namespace)
        provides = [unprovided.pop() for _ in range(min(len(unprovided), rng.randint(0, 2)))]
        if provides:
            spec["providesApis"] = [self.ref(api, "providesApis", namespace) for api in provides]
        apis = self.plan.refs.get("API", [])
        consumes = rng.sample(apis, min(len(apis), rng.randint(0, 3)))
        if consumes:
            spec["consumesApis"] = [self.ref(api, "consumesApis", namespace) for api in consumes]
        depends = rng.sample(self.plan.refs.get("Resource", []),
                             min(len(self.plan.refs.get("Resource", [])), rng.randint(0, 2)))
        earlier = self.plan.refs["Component"][:-1]
        depends += rng.sample(earlier, min(len(earlier), rng.randint(0, 2)))
        if depends:
            spec["dependsOn"] = [self.ref(target, None, namespace) for target in depends]
        if earlier and rng.random() < 0.05:
            spec["subcomponentOf"] = self.ref(rng.choice(earlier), "subcomponentOf", namespace)
        return made


def made_namespace(document: dict) -> str:
    return document["metadata"].get("namespace", "default")


def backstage_documents(entities: int, seed: int = 1) -> list[dict]:
    """A Backstage-format catalog's documents, targets before the entities naming them."""
    counts = _backstage_counts(entities)
    builder = _BackstageBuilder(entities, seed)
    docs = [builder.group(i) for i in range(counts["Group"])]
    docs += [builder.user() for _ in range(counts["User"])]
    docs += [builder.domain() for _ in range(counts["Domain"])]
    docs += [builder.system() for _ in range(counts["System"])]
    docs += [builder.resource() for _ in range(counts["Resource"])]
    docs += [builder.api() for _ in range(counts["API"])]
    unprovided = list(builder.plan.refs.get("API", []))
    builder.rng.shuffle(unprovided)
    docs += [builder.component(unprovided) for _ in range(counts["Component"])]
    if counts["Location"]:
        ref = builder.plan.claim("Location", "default", "all")
        docs.append(builder.document(ref, "Every file of the catalog.", {
            "targets": [f"../../{kind}/**/*.yaml" for kind in sorted(counts)
                        if counts[kind] and kind != "Location"]}))
    return docs


def generate(out_dir: Path, entities: int, seed: int = 1, fmt: str = "gantry") -> None:
    """Write a valid catalog of exactly `entities` entities under `out_dir`, in Gantry's
    format or (`fmt="backstage"`) in Backstage's."""
    if entities < 0:
        raise ValueError("entities must be zero or more")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    made: set[Path] = set()
    produced = backstage_documents(entities, seed) if fmt == "backstage" else \
        documents(entities, seed)
    for document in produced:
        meta = document["metadata"]
        folder = out_dir / document["kind"] / meta.get("namespace", "default")
        if folder not in made:
            folder.mkdir(parents=True, exist_ok=True)
            made.add(folder)
        (folder / f"{meta['name']}.yaml").write_text(to_yaml(document), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.synth",
                                     description="Write a seeded synthetic catalog.")
    parser.add_argument("out", type=Path, help="folder to write the catalog into")
    parser.add_argument("--entities", type=int, default=1000, help="how many entities")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument("--format", dest="fmt", choices=("gantry", "backstage"),
                        default="gantry", help="the descriptor format to write")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    generate(args.out, args.entities, args.seed, args.fmt)
    print(f"wrote {args.entities} entities to {args.out} in "
          f"{time.perf_counter() - started:.2f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
