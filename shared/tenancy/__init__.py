"""Per-principal limits (admission control): requests per second, unfinished jobs, queued items."""
