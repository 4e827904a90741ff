"""What the access line costs a cached read: `python -m bench.access_log [--rounds N]`.

The production configuration of `make bench` (seeded MariaDB, Redis, `serve --workers 2`): two
servers at once, FUNDRAISING_ACCESS_LOG off and on, and wrk on the cached detail of each in
turn, round after round. Servers started at different moments of a run say more about the
moment than about the access line; rounds seconds apart do not. Each round gives the rate and
the workers' CPU time per request (read from /proc), which what else the machine runs moves far
less than the rate. Figures are printed, never judged.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from contextlib import ExitStack

from bench.processes import cpu_seconds, workers
from bench.service import PASSWORD, call, mariadb, seeded, serving
from bench.wrk import run_wrk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--duration", type=int, default=5)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is needed (apt-get install wrk)")
    with seeded() as (database_url, env, _), ExitStack() as servers:
        username = mariadb(database_url, "SELECT username FROM users ORDER BY id LIMIT 1")[0][0]
        targets = []
        for access_log in (False, True):
            base, port = servers.enter_context(serving(env, access_log=access_log))
            token = call(f"{base}/auth/jwt/create/", {"username": username, "password": PASSWORD})
            auth = {"Authorization": f"Bearer {token['access']}"}
            url = f"{base}/api/v1/collects/1/"
            run_wrk("warm", url, 2, 32, headers=auth, warm=True)
            targets.append((url, auth, workers(port)))
        rate_costs, cpu_costs = [], []
        for number in range(1, args.rounds + 1):
            rates, cpu = [0.0, 0.0], [0.0, 0.0]
            # Which goes first alternates: the second of two runs is not always the slower one.
            for index in (0, 1) if number % 2 else (1, 0):
                url, auth, pids = targets[index]
                used = cpu_seconds(pids)
                rates[index] = run_wrk("cached detail", url, args.duration, 32, headers=auth).rps
                spent = cpu_seconds(pids) - used
                cpu[index] = spent / (rates[index] * args.duration) * 1e6
            rate_costs.append(1 - rates[1] / rates[0])
            cpu_costs.append(cpu[1] / cpu[0] - 1)
            print(
                f"round {number}: off {rates[0]:,.0f} req/s ({cpu[0]:.0f} µs CPU each), "
                f"on {rates[1]:,.0f} req/s ({cpu[1]:.0f} µs), "
                f"rate {rate_costs[-1]:.1%} lower, CPU {cpu_costs[-1]:.1%} higher"
            )
        # Medians: one round disturbed by whatever else the machine does moves a mean.
        print(
            f"the access line's cost, median of {args.rounds} rounds: "
            f"{statistics.median(rate_costs):.1%} of the rate, "
            f"{statistics.median(cpu_costs):.1%} more CPU per request"
        )


if __name__ == "__main__":
    main()
