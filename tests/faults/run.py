"""The fault suite's run: replay, faults, recovery, audit; ends with the `faults:` line.

    python -m tests.faults.run --nodes 1 --seed 7 --incidents 60 --work DIR

The services' PostgreSQL databases come from `FAULTS_<SERVICE>_DATABASE_URL` (made and dropped
by the pytest fixture) and the admin URL from `FAULTS_PG_ADMIN_URL`. Exit status 0 only when
nothing was lost and nothing doubled.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

from civicpulse.settings import SERVICES
from tests.faults import audit as audits
from tests.faults.harness import (
    STAGE_ROLES,
    Api,
    Approver,
    Clock,
    Databases,
    PartnerListeners,
    Replay,
    say,
    staff_token,
    start_suite,
    suite_env,
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
    say(f"faults: seed {args.seed}, {args.nodes} RabbitMQ node(s), {args.incidents} incidents, "
        f"2 replicas per service (rerun: --seed {args.seed})")
    cluster = Cluster(args.nodes).start()
    dbs = Databases(databases(), os.environ["FAULTS_PG_ADMIN_URL"])
    env = suite_env(cluster.uri, databases(), args.work)
    if args.nodes > 1:
        env["CIVICPULSE_QUORUM_QUEUES"] = "true"
    partners = PartnerListeners(cluster.nodes[0].uri, args.work / "partners")
    suite = None
    try:
        t = time.monotonic()
        suite = start_suite(env, args.work / "logs")
        say(f"faults: {len(suite.replicas)} service processes ready in "
            f"{time.monotonic() - t:.0f}s on {cluster.uri}")
        full_env = {**os.environ, **env}
        tokens = {role: staff_token(full_env, f"fault-{role}", role) for role in STAGE_ROLES}
        api = Api(suite, tokens["principal"])
        partners.start()
        approver = Approver(api, tokens)
        approver.start()
        return drive(args, suite, cluster, dbs, api, partners, approver)
    finally:
        partners.stop()
        if suite is not None:
            suite.stop()
        dbs.dispose()
        cluster.stop()


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
    suite.wait_ready(timeout=120)  # the replicas killed last are back
    took = audits.wait_settled(dbs, partners, replay.tags, args.settle_seconds)
    say(f"faults: {clock():7.1f}s settled ({took:.0f}s after the last fault)")
    time.sleep(3.0)  # anything still in flight would show as a duplicate now
    approver.stop.set()
    findings = audits.audit(dbs, partners, replay.tags)
    restarted = [r.name for r in suite.replicas if r.restarts]
    not_restarted = [f.target for f in faults if f.kind == "kill" and f.target not in restarted]
    findings.lost["replicas not restarted after SIGKILL"] = len(not_restarted)
    for line in findings.describe():
        say(line)
    say("faults: figures " + ", ".join(f"{k}={v}" for k, v in findings.figures.items()))
    for error in injector.errors:
        say(f"faults: a fault could not be injected: {error}")
    lost, dup = sum(findings.lost.values()), sum(findings.duplicated.values())
    say(f"faults: lost={lost} duplicated={dup} incidents={args.incidents} "
        f"tickets={findings.figures['tickets']} kills={injector.done['kill']} "
        f"broker_restarts={injector.done['broker']} db_kills={injector.done['db']}")
    return 0 if lost == 0 and dup == 0 and not injector.errors else 1


if __name__ == "__main__":
    sys.exit(main())
