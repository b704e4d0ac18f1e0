"""Finished imports' summaries, kept for the dashboard (``brickyard import`` reports them)."""
