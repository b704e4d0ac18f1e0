"""What operators see: cluster-wide metrics, worker heartbeats and the status of the queue."""
