"""Deployment artefacts: Dockerfile, docker-compose.yml, deploy/ (RabbitMQ, Prometheus, Grafana,
Kubernetes).

Static checks run everywhere. The external tools (`docker-compose`, `promtool`; Debian packages
`docker-compose` and `prometheus`, installed by scripts/install-system-deps.sh) fail the test
under CI=true when missing and skip it elsewhere. The broker test loads the definitions into a
throw-away vhost of the test RabbitMQ (AMQP 5672 + management API 15672) and checks that
unroutable events are kept and that the services' own declarations agree with the file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import yaml

from civicpulse import deadletter, outbox, settings
from civicpulse.settings import DEFAULT_PORTS, SERVICES, STATELESS
from tests.conftest import AMQP_URI, ROOT, require

DEPLOY = ROOT / "deploy"
PROM = DEPLOY / "prometheus"
K8S = DEPLOY / "k8s"
RABBIT = DEPLOY / "rabbitmq"
CLASSES = {s: f"{s.capitalize()}Service" for s in SERVICES}
EVENT_EXCHANGES = {f"{s}.events" for s in SERVICES if s not in STATELESS}
UNROUTED = "civicpulse.unrouted"
ALERTS = {"CivicPulseServiceDown", "CivicPulseDeadLetters", "CivicPulseOutboxBacklog",
          "CivicPulseRetriesHigh"}


def tool(name: str) -> str:
    """Path of a command-line tool; missing fails under CI=true and skips elsewhere."""
    path = shutil.which(name)
    if path:
        return path
    msg = f"{name} is not installed (scripts/install-system-deps.sh installs it)"
    if os.environ.get("CI") == "true":
        pytest.fail(msg + "; required under CI=true")
    pytest.skip(msg)


def run(*cmd: str, cwd: Path = ROOT, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def command_of(svc: str) -> list[str]:
    """`nameko run` through civicpulse.serve: no dependency deprecation noise in the logs."""
    return ["python", "-m", "civicpulse.serve", "--config", f"services/{svc}/config/nameko.yaml",
            f"services.{svc}.service:{CLASSES[svc]}"]


def platform_metric_suffixes() -> set[str]:
    """`events_consumed_total`, ... as civicpulse/observability.py names them (no registry)."""
    source = (ROOT / "civicpulse" / "observability.py").read_text()
    return set(re.findall(r'f"\{p\}_(\w+)"', source))


def used_metric_suffixes(text: str) -> set[str]:
    return set(re.findall(r'civicpulse_\.\+_(\w+?)(?:_bucket)?"', text))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def definitions() -> dict[str, Any]:
    return json.loads((RABBIT / "definitions.json").read_text())


# --- image ------------------------------------------------------------------------------------

def test_dockerfile_builds_one_non_root_image_with_a_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text()
    froms = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert froms and all(f == "python:3.11-slim" for f in froms), froms
    assert "pip install -c requirements/constraints.txt ." in text
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert re.search(r"^HEALTHCHECK .*\n?.*healthcheck\.py", text, re.M)
    ignored = (ROOT / ".dockerignore").read_text().split()
    for path in (".git", ".venv", "var", "tests"):
        assert path in ignored
    # everything the Dockerfile copies from the context is there and not ignored away
    for src in re.findall(r"^COPY\s+(?!--from)(.+)\s+\S+$", text, re.M):
        for part in src.split():
            assert (ROOT / part).exists(), part


def test_run_service_script_knows_the_four_services() -> None:
    script = DEPLOY / "docker" / "run-service.sh"
    assert os.access(script, os.X_OK)
    run("sh", "-n", str(script))
    body = script.read_text()
    for svc, cls in CLASSES.items():
        assert f"{svc}) cls={cls}" in body
    bad = subprocess.run(["sh", str(script), "nosuch"], capture_output=True, text=True,
                         env={**os.environ, "CIVICPULSE_SERVICE": ""})
    assert bad.returncode == 64 and "usage" in bad.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_healthcheck_script_probes_the_service_port(tmp_path: Path) -> None:
    script = DEPLOY / "docker" / "healthcheck.py"
    ports = re.search(r"DEFAULT_PORTS = (\{.*?\})", script.read_text(), re.S).group(1)
    assert eval(ports) == DEFAULT_PORTS  # noqa: S307 - a literal of our own file
    (tmp_path / "healthz").write_text("ok")
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                               "127.0.0.1", "--directory", str(tmp_path)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "test HTTP server did not start"
                time.sleep(0.1)

        def probe(**env: str) -> int:
            return subprocess.run([sys.executable, str(script)], capture_output=True,
                                  env={"PATH": os.environ["PATH"], **env}).returncode

        assert probe(CIVICPULSE_SERVICE="news", NEWS_HTTP_PORT=str(port)) == 0
        (tmp_path / "healthz").unlink()  # now 404
        assert probe(CIVICPULSE_SERVICE="news", NEWS_HTTP_PORT=str(port)) == 1
        assert probe(CIVICPULSE_SERVICE="nosuch") == 1
        assert probe(CIVICPULSE_SERVICE="review", REVIEW_HTTP_PORT=str(_free_port())) == 1
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_service_commands_match_the_code() -> None:
    """For every service already written: its nameko.yaml exists and its class is defined."""
    written = [s for s in SERVICES if (ROOT / "services" / s / "service.py").exists()]
    assert written, "no service written yet"
    for svc in written:
        assert (ROOT / "services" / svc / "config" / "nameko.yaml").exists(), svc
        assert f"class {CLASSES[svc]}" in (ROOT / "services" / svc / "service.py").read_text()
    # the launcher's table (civicpulse.settings.SERVICE_CLASSES), where there is one
    for svc, target in getattr(settings, "SERVICE_CLASSES", {}).items():
        assert command_of(svc)[-1] == target, svc


# --- docker compose ---------------------------------------------------------------------------

def required_secrets() -> set[str]:
    """The variables compose refuses to start without (`${VAR:?...}`)."""
    return set(re.findall(r"\$\{(\w+):\?", (ROOT / "docker-compose.yml").read_text()))


def test_compose_config_is_valid_and_needs_every_secret() -> None:
    secrets = required_secrets()
    assert {"POSTGRES_PASSWORD", "RABBITMQ_ADMIN_PASSWORD", "RABBITMQ_NEWS_PASSWORD"} <= secrets
    base = {k: v for k, v in os.environ.items() if k not in secrets}
    run(tool("docker-compose"), "-f", "docker-compose.yml", "config", "-q",
        env={**base, **dict.fromkeys(secrets, "x")})
    missing = subprocess.run([tool("docker-compose"), "-f", "docker-compose.yml", "config", "-q"],
                             cwd=ROOT, capture_output=True, text=True, timeout=120,
                             env={**base, **dict.fromkeys(secrets - {"POSTGRES_PASSWORD"}, "x")})
    assert missing.returncode != 0 and "POSTGRES_PASSWORD" in missing.stderr


def test_compose_wires_the_services(compose: dict[str, Any],
                                    definitions: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(SERVICES) | {"rabbitmq", "postgres", "prometheus"} <= set(services)
    for svc in SERVICES:
        spec = services[svc]
        assert spec["build"] == "."
        assert spec["command"] == command_of(svc)
        env = spec["environment"]
        up = svc.upper()
        assert env["AMQP_URI"] == (f"amqp://{svc}:${{RABBITMQ_{up}_PASSWORD:?set "
                                   f"RABBITMQ_{up}_PASSWORD}}@rabbitmq:5672/"), "own user"
        if svc not in STATELESS:  # the console owns no database
            assert env[f"{up}_DATABASE_URL"] == (
                "postgresql://postgres:${POSTGRES_PASSWORD:?set "
                f"POSTGRES_PASSWORD}}@postgres:5432/civicpulse_{svc}")
        assert env["CIVICPULSE_ENV"] == "production"
        assert env["CIVICPULSE_VAR_DIR"] == "/var/lib/civicpulse"
        assert env["CIVICPULSE_SERVICE"] == svc
        port = DEFAULT_PORTS[svc]
        assert spec["ports"] == [f"${{CIVICPULSE_PUBLISH_ADDRESS:-127.0.0.1}}:{port}:{port}"]
        assert any(v.split(":")[1] == "/var/lib/civicpulse" for v in spec["volumes"])
        assert spec["depends_on"] == {"rabbitmq": {"condition": "service_healthy"},
                                      "postgres": {"condition": "service_healthy"}}

    rabbit = services["rabbitmq"]
    assert rabbit["image"] == "rabbitmq:3.13-management"
    mounts = {v.split(":")[0]: v.split(":")[1] for v in rabbit["volumes"]}
    assert mounts["./deploy/rabbitmq/definitions.json"] == "/etc/rabbitmq/definitions.json"
    assert mounts["./deploy/rabbitmq/rabbitmq.conf"] == "/etc/rabbitmq/rabbitmq.conf"
    assert "healthcheck" in rabbit and "passwords-set" in rabbit["healthcheck"]["test"][1]
    assert rabbit["entrypoint"] == ["/etc/rabbitmq/set-passwords.sh"]
    script = (RABBIT / "set-passwords.sh").read_text()
    users = re.search(r'^USERS="(.*)"$', script, re.M).group(1).split()
    assert users == [u["name"] for u in definitions["users"]], "set-passwords.sh knows them all"
    for user in users:
        var = f"RABBITMQ_{user.upper()}_PASSWORD"
        assert rabbit["environment"][var] == f"${{{var}:?set {var}}}", "no default password"
    conf = (RABBIT / "rabbitmq.conf").read_text()
    assert re.search(r"^definitions\.local\.path = /etc/rabbitmq/definitions\.json$", conf, re.M)

    pg = services["postgres"]
    assert pg["image"] == "postgres:16" and "healthcheck" in pg
    assert pg["environment"]["POSTGRES_HOST_AUTH_METHOD"] == "scram-sha-256" and "ports" not in pg
    assert any(v.startswith("./deploy/postgres/init.sql:/docker-entrypoint-initdb.d/")
               for v in pg["volumes"])
    init = (DEPLOY / "postgres" / "init.sql").read_text()
    for svc in set(SERVICES) - set(STATELESS):
        assert f"CREATE DATABASE civicpulse_{svc};" in init

    prom = services["prometheus"]
    assert prom["image"].startswith("prom/prometheus")
    assert any(v.startswith("./deploy/prometheus:") for v in prom["volumes"])
    assert "--web.enable-lifecycle" not in prom["command"], "anyone could POST /-/quit"
    assert all(p.startswith("127.0.0.1:") for p in prom["ports"] + services["grafana"]["ports"])


# --- RabbitMQ definitions ---------------------------------------------------------------------

def test_definitions_declare_the_topology(definitions: dict[str, Any]) -> None:
    exchanges = {e["name"]: e for e in definitions["exchanges"]}
    expected = {outbox.PARTNER_EXCHANGE: "direct", deadletter.DLX: "direct", UNROUTED: "fanout",
                **{name: "topic" for name in EVENT_EXCHANGES}}
    assert outbox.exchange_type(outbox.PARTNER_EXCHANGE) == "direct"
    for name, kind in expected.items():
        ex = exchanges[name]
        assert (ex["type"], ex["durable"], ex["auto_delete"], ex["vhost"]) == \
            (kind, True, False, "/"), name
        # nameko and the outbox relay declare these without arguments: they must match
        assert ex["arguments"] == {}, name

    queues = {q["name"]: q for q in definitions["queues"]}
    consuming = [s for s in SERVICES if s not in STATELESS]  # the console consumes nothing
    dlqs = {deadletter.dlq_name(s) for s in consuming}
    assert dlqs | {UNROUTED, "partner.cac", "sentiment.mentions"} == set(queues)
    # compose and Kubernetes run with CIVICPULSE_QUORUM_QUEUES on: every queue the definitions
    # declare is a quorum queue, as the services declare it then (queues.replicated())
    for q in queues.values():
        assert (q["durable"], q["auto_delete"], q["arguments"]) == \
            (True, False, {"x-queue-type": "quorum"}), q["name"]
    compose = (ROOT / "docker-compose.yml").read_text()
    assert "CIVICPULSE_QUORUM_QUEUES: ${CIVICPULSE_QUORUM_QUEUES:-true}" in compose
    k8s = yaml.safe_load((ROOT / "deploy" / "k8s" / "configmap.yaml").read_text())
    assert k8s["data"]["CIVICPULSE_QUORUM_QUEUES"] == "true"

    bindings = {(b["source"], b["destination"], b["routing_key"])
                for b in definitions["bindings"] if b["destination_type"] == "queue"}
    assert {(deadletter.DLX, deadletter.dlq_name(s), s) for s in consuming} <= bindings
    assert (outbox.PARTNER_EXCHANGE, "partner.cac", "cac") in bindings
    assert (UNROUTED, UNROUTED, "") in bindings

    (policy,) = [p for p in definitions["policies"]
                 if p["definition"].get("alternate-exchange") == UNROUTED]
    assert policy["apply-to"] == "exchanges" and policy["vhost"] == "/"
    matched = {n for n in exchanges if re.search(policy["pattern"], n)}
    assert matched == EVENT_EXCHANGES
    assert not re.search(policy["pattern"], "xnews.events.y")

    assert [v["name"] for v in definitions["vhosts"]] == ["/"]
    # users and permissions: tests/unit/test_broker_users.py; no password is on file
    assert all(u["password_hash"] == "" for u in definitions["users"])


def _api(method: str, path: str, **kwargs: Any) -> Any:
    import requests

    parts = urlsplit(AMQP_URI)
    base = os.environ.get("TEST_RABBITMQ_API", f"http://{parts.hostname}:15672")
    resp = requests.request(method, base + "/api" + path, timeout=30,
                            auth=(parts.username or "guest", parts.password or "guest"), **kwargs)
    assert resp.ok, f"{method} {path}: {resp.status_code} {resp.text}"
    return resp


@pytest.mark.integration
def test_definitions_load_into_rabbitmq_and_keep_unrouted_events(
        rabbitmq: str, definitions: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    import kombu

    from civicpulse import queues
    from services.liaison.partners import partner_queues

    monkeypatch.setenv("CIVICPULSE_QUORUM_QUEUES", "true")  # as compose and Kubernetes run

    require("127.0.0.1", 15672, "RabbitMQ management API")
    vhost = f"cp-deploy-{uuid.uuid4().hex[:8]}"
    user = urlsplit(rabbitmq).username or "guest"
    qv = quote(vhost, safe="")
    scoped = {key: [{k: v for k, v in item.items() if k != "vhost"} for item in definitions[key]]
              for key in ("exchanges", "queues", "bindings", "policies")}
    _api("PUT", f"/vhosts/{qv}")
    try:
        _api("PUT", f"/permissions/{qv}/{quote(user, safe='')}",
             json={"configure": ".*", "write": ".*", "read": ".*"})
        _api("POST", f"/definitions/{qv}", json=scoped)
        with kombu.Connection(rabbitmq.rstrip("/") + "/" + qv, connect_timeout=5) as conn:
            channel = conn.channel()
            # the services' own declarations are equivalent (else PRECONDITION_FAILED)
            for name in EVENT_EXCHANGES | {outbox.PARTNER_EXCHANGE}:
                channel.exchange_declare(name, outbox.exchange_type(name), durable=True,
                                         auto_delete=False)
            for svc in set(SERVICES) - set(STATELESS):
                deadletter.dlq(svc)(channel).declare()
            for partner_queue in partner_queues(["cac"]):
                partner_queue(channel).declare()
            channel.queue_declare(UNROUTED, durable=True, auto_delete=False,
                                  arguments=queues.replicated())

            producer = kombu.Producer(channel)

            def publish(exchange: str, key: str, body: str) -> None:
                producer.publish(body, exchange=exchange, routing_key=key, delivery_mode=2,
                                 retry=False)

            publish("news.events", "news.item.published", "nobody-listens")
            publish(deadletter.DLX, "review", "dead")
            publish(outbox.PARTNER_EXCHANGE, "cac", "shared")

            def get(queue: str) -> str:
                q = kombu.Queue(queue, channel=channel, no_declare=True)
                deadline = time.monotonic() + 10
                while (msg := q.get(no_ack=True)) is None:
                    assert time.monotonic() < deadline, f"nothing arrived in {queue}"
                    time.sleep(0.1)
                return msg.body.decode() if isinstance(msg.body, bytes) else msg.body

            assert get(UNROUTED) == "nobody-listens"
            assert get(deadletter.dlq_name("review")) == "dead"
            assert get("partner.cac") == "shared"

        # bounded: unrouted events (RED included) and dead letters do not stay forever
        def policy_of(queue: str) -> dict[str, Any]:
            deadline = time.monotonic() + 10
            while not (found := _api("GET", f"/queues/{qv}/{queue}").json().get(
                    "effective_policy_definition")):
                assert time.monotonic() < deadline, f"no policy on {queue}"
                time.sleep(0.2)
            return found

        assert policy_of(UNROUTED) == {"message-ttl": 7 * 86_400_000, "max-length": 10_000,
                                       "overflow": "drop-head"}
        for svc in set(SERVICES) - set(STATELESS):
            assert policy_of(deadletter.dlq_name(svc)) == {"message-ttl": 14 * 86_400_000}
    finally:
        _api("DELETE", f"/vhosts/{qv}")


# --- Prometheus -------------------------------------------------------------------------------

def test_prometheus_scrapes_the_four_services() -> None:
    config = yaml.safe_load((PROM / "prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    for svc, port in DEFAULT_PORTS.items():
        job = jobs[svc]
        assert job.get("metrics_path", "/metrics") == "/metrics"
        assert job["static_configs"][0]["targets"] == [f"{svc}:{port}"]


def test_promtool_check_config() -> None:
    out = run(tool("promtool"), "check", "config", "prometheus.yml", cwd=PROM)
    assert "SUCCESS" in out.stdout + out.stderr


def test_promtool_test_rules() -> None:
    out = run(tool("promtool"), "test", "rules", "alerts_test.yml", cwd=PROM)
    assert "SUCCESS" in out.stdout + out.stderr


def test_alerts_use_real_metrics_and_are_tested_both_ways() -> None:
    text = (PROM / "alerts.yml").read_text()
    # the plumbing group; the business group has its own test (test_business_observability.py)
    rules = [r for g in yaml.safe_load(text)["groups"] if g["name"] == "civicpulse"
             for r in g["rules"]]
    assert {r["alert"] for r in rules} == ALERTS
    used = used_metric_suffixes(text)
    assert used and used <= platform_metric_suffixes(), used - platform_metric_suffixes()

    firing: set[str] = set()
    quiet: set[str] = set()
    for case in yaml.safe_load((PROM / "alerts_test.yml").read_text())["tests"]:
        for check in case.get("alert_rule_test", []):
            (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    assert firing >= ALERTS and quiet >= ALERTS


def test_grafana_dashboard_queries_parse(tmp_path: Path) -> None:
    text = (DEPLOY / "grafana" / "civicpulse.json").read_text()
    exprs = [t["expr"] for p in json.loads(text)["panels"] for t in p["targets"]]
    used = used_metric_suffixes(text.replace('\\"', '"'))
    assert used <= platform_metric_suffixes(), used - platform_metric_suffixes()
    for needed in ("events_consumed_total", "outbox_pending_events", "dead_letters_total",
                   "http_requests_total"):
        assert needed in used
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query{i}", "expr": e} for i, e in enumerate(exprs)]}]}
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump(rules))
    run(tool("promtool"), "check", "rules", str(path))


# --- Kubernetes -------------------------------------------------------------------------------

def test_every_k8s_manifest_parses() -> None:
    files = sorted(K8S.glob("*.yaml")) + sorted(K8S.glob("*.yml"))
    assert files
    for path in files:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        assert docs, path
        for doc in docs:
            assert {"apiVersion", "kind"} <= set(doc), path
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    assert listed == {p.name for p in files} - {"kustomization.yaml"}


def test_k8s_deployments_probe_health_and_readiness() -> None:
    config_maps = {d["metadata"]["name"] for p in K8S.glob("*.yaml")
                   for d in yaml.safe_load_all(p.read_text()) if d and d["kind"] == "ConfigMap"}
    for svc, port in DEFAULT_PORTS.items():
        docs = {d["kind"]: d for d in yaml.safe_load_all((K8S / f"{svc}.yaml").read_text())}
        pod = docs["Deployment"]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["command"] == command_of(svc)
        assert container["ports"] == [{"name": "http", "containerPort": port}]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        refs = {e["configMapRef"]["name"] for e in container["envFrom"] if "configMapRef" in e}
        assert refs and refs <= config_maps
        assert pod["securityContext"]["runAsNonRoot"] is True
        service = docs["Service"]["spec"]
        assert service["selector"] == docs["Deployment"]["spec"]["selector"]["matchLabels"]
        assert service["ports"][0]["port"] == port
