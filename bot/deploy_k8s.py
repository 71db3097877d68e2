"""Kubernetes manifests for one company: `salespulse deploy k8s --company NAME`.

Why one StatefulSet per company with replicas 1: SalesPulse is one process and one SQLite file. Two replicas on
one database would be two writers; more capacity for a group of companies comes from more StatefulSets, never
from scaling one. The manifests therefore pin replicas to 1, give the pod a PersistentVolumeClaim for the
database, and use the Recreate-like `OrderedReady` policy so an upgrade never runs two pods on one volume.

What is rendered (plain dicts, written as YAML documents):
- ConfigMap: bot.toml with every secret blanked (the same editor as `export`), so the config can live in git.
- Secret: the SALESPULSE_* variables, empty; the operator fills them (`kubectl create secret … --dry-run`).
- StatefulSet: non-root, read-only root filesystem, liveness on /healthz, readiness on /readyz, the volume at
  /var/lib/salespulse (the working directory, so relative database and data paths land on it).
- Service, and an Ingress routing each platform's callback path, tracked links and the telephony webhook.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.errors import SalesPulseError

NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$")
PUBLIC_PATHS = ("/wecom/", "/dingtalk/", "/feishu/", "/telephony/", "/stores/", "/d/")
SECRET_ENV = (
    "SALESPULSE_WECOM_SECRET", "SALESPULSE_WECOM_TOKEN", "SALESPULSE_WECOM_AES_KEY", "SALESPULSE_WECOM_ROBOT_KEY",
    "SALESPULSE_WECOM_ARCHIVE_SECRET", "SALESPULSE_DINGTALK_SECRET", "SALESPULSE_DINGTALK_ROBOT_TOKEN",
    "SALESPULSE_DINGTALK_ROBOT_SECRET", "SALESPULSE_FEISHU_SECRET", "SALESPULSE_FEISHU_ENCRYPT_KEY",
    "SALESPULSE_FEISHU_VERIFICATION_TOKEN", "SALESPULSE_TELEPHONY_TOKEN", "SALESPULSE_LINKS_SALT",
)
DATA_DIR = "/var/lib/salespulse"
CONFIG_DIR = "/etc/salespulse"
PORT = 8080


class DeployError(SalesPulseError):
    """A company name or option the manifests cannot use."""


@dataclass(frozen=True)
class K8sOptions:
    company: str
    image: str = "salespulse:latest"
    namespace: str = "salespulse"
    host: str = ""  # public host of the Ingress, e.g. acme.bot.example.cn; empty = <company>.bot.example.cn
    storage: str = "2Gi"
    storage_class: str = ""
    ingress_class: str = "nginx"
    bot_toml: str = ""  # secrets already blanked


def render(options: K8sOptions) -> list[dict[str, Any]]:
    """The manifests for one company, in apply order."""
    name = options.company
    if not NAME_RE.match(name):
        raise DeployError(name)
    app = f"salespulse-{name}"
    labels = {"app.kubernetes.io/name": "salespulse", "app.kubernetes.io/instance": app}
    meta = {"namespace": options.namespace, "labels": labels}
    host = options.host or f"{name}.bot.example.cn"
    config_map = {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": f"{app}-config", **meta},
        "data": {"bot.toml": options.bot_toml or "# bot.toml: see the commented example in the repository\n"},
    }
    secret = {
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": f"{app}-secrets", **meta},
        "stringData": {key: "" for key in SECRET_ENV},
    }
    probe = {"timeoutSeconds": 3, "periodSeconds": 10}
    container = {
        "name": "salespulse",
        "image": options.image,
        "args": ["-c", f"{CONFIG_DIR}/bot.toml", "serve", "--host", "0.0.0.0", "--port", str(PORT)],
        "workingDir": DATA_DIR,
        "ports": [{"name": "http", "containerPort": PORT}],
        "envFrom": [{"secretRef": {"name": f"{app}-secrets"}}],
        "volumeMounts": [
            {"name": "data", "mountPath": DATA_DIR},
            {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "initialDelaySeconds": 10,
                          "failureThreshold": 3, **probe},
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"}, "initialDelaySeconds": 5,
                           "failureThreshold": 3, **probe},
        "resources": {"requests": {"cpu": "250m", "memory": "384Mi"}, "limits": {"memory": "1Gi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}},
    }
    claim: dict[str, Any] = {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": options.storage}}},
    }
    if options.storage_class:
        claim["spec"]["storageClassName"] = options.storage_class
    stateful_set = {
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": app, **meta},
        "spec": {
            "replicas": 1,  # one writer per SQLite file: never scale this up
            "serviceName": app,
            "podManagementPolicy": "OrderedReady",
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001,
                                        "fsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
                    "terminationGracePeriodSeconds": 30,
                    "containers": [container],
                    "volumes": [
                        {"name": "config", "configMap": {"name": f"{app}-config"}},
                        {"name": "tmp", "emptyDir": {}},
                    ],
                },
            },
            "volumeClaimTemplates": [claim],
        },
    }
    service = {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": app, **meta},
        "spec": {"selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
    }
    ingress = {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": app, **meta},
        "spec": {
            "ingressClassName": options.ingress_class,
            "tls": [{"hosts": [host], "secretName": f"{app}-tls"}],
            "rules": [{"host": host, "http": {"paths": [
                {"path": path, "pathType": "Prefix",
                 "backend": {"service": {"name": app, "port": {"name": "http"}}}}
                for path in PUBLIC_PATHS
            ]}}],
        },
    }
    return [config_map, secret, stateful_set, service, ingress]


def to_yaml(documents: list[dict[str, Any]]) -> str:
    """Multi-document YAML. Each document is written as JSON, which is valid YAML (1.2) that kubectl and kustomize
    read, so no YAML library is needed at run time and multi-line strings (bot.toml) stay exact."""
    return "".join(f"---\n{json.dumps(doc, ensure_ascii=False, indent=2)}\n" for doc in documents)
