"""Schema releases: the built-in Brick versions, published bundles, and their catalog."""
