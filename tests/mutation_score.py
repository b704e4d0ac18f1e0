"""``make mutation``'s verdict: mutmut's results as a score per mutated module.

Run after ``mutmut run``; exits 1 when a module kills fewer than ``TARGET`` of its mutants (a
mutant that times out counts as killed).
Surviving mutants are listed by mutmut itself (``mutmut results``, ``mutmut show NAME``).
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

TARGET = 0.90


def main() -> int:
    listing = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    killed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for line in listing.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if not name:
            continue
        module = name.split(".x", 1)[0]  # mutmut names a mutant <module>.x<function>__mutmut_N
        total[module] += 1
        # A mutant that makes the tests hang (an endless retry loop) was caught too.
        killed[module] += status in ("killed", "timeout")
    if not total:
        print("no mutants found: run `mutmut run` first", file=sys.stderr)
        return 1
    below = []
    for module in sorted(total):
        score = killed[module] / total[module]
        print(f"{module:28} {killed[module]:4}/{total[module]:<4} {score:7.1%}")
        if score < TARGET:
            below.append(module)
    overall = sum(killed.values()) / sum(total.values())
    print(f"{'all':28} {sum(killed.values()):4}/{sum(total.values()):<4} {overall:7.1%}")
    if below:
        print(f"below {TARGET:.0%}: {', '.join(below)}", file=sys.stderr)
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main())
