"""The fault suite's run: replay, faults, recovery, audit; ends with the `faults:` line.

    python -m tests.faults.run --nodes 1 --seed 7 --incidents 60 --work DIR

The services' PostgreSQL databases come from `FAULTS_<SERVICE>_DATABASE_URL` (made and dropped
by the pytest fixture) and the admin URL from `FAULTS_PG_ADMIN_URL`. Exit status 0 only when
nothing was lost and nothing doubled.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

from tests.faults import audit as audits
from tests.faults.harness import (
    AGENCIES,
    SERVICES,
    STAGE_ROLES,
    Api,
    Approver,
    Clock,
    Databases,
    PartnerListeners,
    Replay,
    collector_token,
    republish_shares,
    say,
    staff_token,
    start_suite,
    suite_env,
    wait_replicas_ready,
)
from tests.faults.injector import Injector, schedule
from tests.faults.rabbit import Cluster


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--nodes", type=int, default=1, help="1: one node, restarted; 3: a cluster "
                   "with quorum queues, one node stopped for good")
    p.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    p.add_argument("--incidents", type=int, default=60)
    p.add_argument("--noise", type=int, default=1500)
    p.add_argument("--replay-seconds", type=float, default=90.0)
    p.add_argument("--settle-seconds", type=float, default=240.0)
    p.add_argument("--work", type=Path, required=True)
    return p.parse_args(argv)


def databases() -> dict[str, str]:
    return {svc: os.environ[f"FAULTS_{svc.upper()}_DATABASE_URL"] for svc in SERVICES}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # pytest's timeout: still tear down
    say(f"faults: seed {args.seed}, {args.nodes} RabbitMQ node(s), {args.incidents} incidents, "
        f"2 replicas per service (rerun: --seed {args.seed})")
    cluster = Cluster(args.nodes).start()
    dbs = Databases(databases(), os.environ["FAULTS_PG_ADMIN_URL"])
    env = suite_env(cluster.uri, databases(), args.work)
    if args.nodes > 1:
        env["CIVICPULSE_QUORUM_QUEUES"] = "true"
    # Partners (like an operator's republish below) reach the broker through a node that stays
    # up: the cluster run stops the last node for good.
    partners = PartnerListeners(cluster.nodes[0].uri, args.work / "partners")
    suite = supervisor = None
    try:
        t = time.monotonic()
        suite, supervisor = start_suite(env, args.work / "logs")
        say(f"faults: {len(suite.replicas)} service processes ready in "
            f"{time.monotonic() - t:.0f}s on {cluster.uri}")
        full_env = {**os.environ, **env}
        tokens = {role: staff_token(full_env, f"fault-{role}", role) for role in STAGE_ROLES}
        api = Api(suite, tokens["principal"], collector_token(full_env, "fault-collector"))
        partners.start()
        approver = Approver(api, tokens)
        approver.start()
        return drive(args, suite, cluster, dbs, api, partners, approver)
    finally:
        t = time.monotonic()
        partners.stop()
        if supervisor is not None:
            supervisor.stop.set()
        if suite is not None:
            suite.stop(timeout=15)
        dbs.dispose()
        cluster.stop()
        say(f"faults: teardown took {time.monotonic() - t:.0f}s")


def classic_queues(cluster: Cluster) -> list[str]:
    """Queues of the suite's vhost that are not quorum queues, asked of a node still up.
    nameko's RPC queues (`rpc-<service>`, `rpc.reply-…`) are left out: nameko declares them
    itself, and they carry requests a caller times out on, never events (docs/reliability.md)."""
    listed = cluster.nodes[0].ctl("list_queues", "-q", "--no-table-headers", "name", "type").stdout
    rows = [line.split() for line in listed.splitlines() if line.strip()]
    return sorted(row[0] for row in rows if len(row) == 2 and row[1] != "quorum"
                  and not row[0].startswith(("rpc-", "rpc.reply-")))


def drive(args: argparse.Namespace, suite, cluster: Cluster, dbs: Databases, api: Api,
          partners: PartnerListeners, approver: Approver) -> int:
    clock = Clock()
    replay = Replay(args.seed, args.incidents, args.replay_seconds, noise=args.noise)
    cluster_mode = args.nodes > 1
    faults = schedule(args.seed, (5.0, args.replay_seconds),
                      [r.name for r in suite.replicas],
                      broker_restarts=1, db_kills=3, closes=0 if cluster_mode else 2,
                      nacks=0 if cluster_mode else 2,
                      broker_target="stop-one" if cluster_mode else "restart")
    injector = Injector(faults, clock, suite, cluster, dbs)
    injector.start()
    stop = threading.Event()
    posted = replay.run(api, stop)
    say(f"faults: {clock():7.1f}s replay posted {posted} mentions")
    injector.join()
    wait_replicas_ready(suite)  # the replicas killed last are back
    again = republish_shares(dbs, cluster.nodes[0].uri, 20, args.seed)
    say(f"faults: {clock():7.1f}s republished {again} shared events to their partner queues")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sum(
            partners.stats(a)["duplicates"] for a in AGENCIES) < again:
        time.sleep(0.5)
    took = audits.wait_settled(dbs, partners, replay.tags, args.settle_seconds)
    if took is not None:
        say(f"faults: {clock():7.1f}s settled ({took:.0f}s after the last fault)")
    approver.stop.set()
    findings = audit_settled(dbs, partners, replay.tags)
    findings.lost["republished events the partner client did not drop"] = max(
        0, again - findings.figures["partner redeliveries dropped"])
    restarted = [r.name for r in suite.replicas if r.restarts]
    not_restarted = [f.target for f in faults if f.kind == "kill" and f.target not in restarted]
    findings.lost["replicas not restarted after SIGKILL"] = len(not_restarted)
    classic = classic_queues(cluster) if cluster_mode else []
    if cluster_mode:  # every queue replicated: none lived on the stopped node only
        say(f"faults: classic (single-node) queues on the cluster: {classic or 'none'}")
    for line in findings.describe():
        say(line)
    say("faults: figures " + ", ".join(f"{k}={v}" for k, v in findings.figures.items()))
    for error in injector.errors:
        say(f"faults: a fault could not be injected: {error}")
    lost, dup = sum(findings.lost.values()), sum(findings.duplicated.values())
    say(f"faults: lost={lost} duplicated={dup} incidents={args.incidents} "
        f"tickets={findings.figures['tickets']} kills={injector.done['kill']} "
        f"broker_restarts={injector.done['broker']} db_kills={injector.done['db']}")
    return 0 if lost == 0 and dup == 0 and not injector.errors and not classic else 1


def audit_settled(dbs: Databases, partners: PartnerListeners, tags: list[str],
                  attempts: int = 6) -> audits.Findings:
    """The audit, once nothing is in flight: liaison keeps firing deadlines (and publishing
    their events) while the audit reads, so an unsent row or a share on its way is only a loss
    if it is still there after the suite settled again."""
    for attempt in range(attempts):
        time.sleep(3.0)  # anything still in flight would show as a duplicate now
        findings = audits.audit(dbs, partners, tags)
        if not sum(findings.lost.values()) or attempt == attempts - 1:
            return findings
        if audits.wait_settled(dbs, partners, tags, 60.0) is None:
            return findings
    raise AssertionError("unreachable")


if __name__ == "__main__":
    sys.exit(main())
