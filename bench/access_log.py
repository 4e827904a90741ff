"""What the access line costs a cached read: `python -m bench.access_log [--pairs N]`.

The production configuration of `make bench` (seeded MariaDB, Redis, `serve --workers 2`),
the cached detail under wrk with FUNDRAISING_ACCESS_LOG off, then on, in alternating pairs: one
comparison of two servers started at different moments of a run says more about the moment than
about the access line. Figures are printed, never judged.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys

from bench.service import PASSWORD, call, mariadb, seeded, serving
from bench.wrk import run_wrk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is needed (apt-get install wrk)")
    with seeded() as (database_url, env, _):
        username = mariadb(database_url, "SELECT username FROM users ORDER BY id LIMIT 1")
        costs = []
        for pair in range(1, args.pairs + 1):
            rates = []
            for access_log in (False, True):
                with serving(env, access_log=access_log) as (base, _):
                    login = {"username": username[0][0], "password": PASSWORD}
                    token = call(f"{base}/auth/jwt/create/", login)["access"]
                    auth = {"Authorization": f"Bearer {token}"}
                    url = f"{base}/api/v1/collects/1/"
                    label = f"access log {'on' if access_log else 'off'}"
                    row = run_wrk(label, url, args.duration, 32, headers=auth, warm=True)
                    rates.append(row.rps)
            costs.append(1 - rates[1] / rates[0])
            print(
                f"pair {pair}: off {rates[0]:,.0f} req/s, on {rates[1]:,.0f} req/s, "
                f"cost {costs[-1]:.1%}"
            )
        # The median: one pair disturbed by whatever else the machine does moves the mean.
        print(f"the access line's cost, median of the pairs: {statistics.median(costs):.1%}")


if __name__ == "__main__":
    main()
