"""Status logs: one record per item per transaction, the target of every tracker URL."""
