"""The change feed of each ER collection: events written by triggers (migration 013), read in
pages or as a live stream, woken through Redis, pruned by retention."""
