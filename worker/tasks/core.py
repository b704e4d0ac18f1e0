from shared.jobs import selftest
from shared.jobs.runner import JobKind

KINDS = [JobKind(selftest.KIND, selftest.run_selftest)]
