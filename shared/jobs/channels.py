"""Redis channel names the gateway and the workers agree on, derived from the queue name."""


def wake_channel(queue_name: str) -> str:
    """Published after every enqueue so idle workers start the job at once instead of polling."""
    return f"{queue_name}:wake"


def done_channel(queue_name: str) -> str:
    """Published with the job token when a job reaches COMPLETE or FAILED."""
    return f"{queue_name}:done"
