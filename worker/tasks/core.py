from shared.jobs import selftest
from shared.jobs.runner import JobKind

KINDS = (JobKind(selftest.KIND, selftest.parse_request, selftest.run_selftest),)
