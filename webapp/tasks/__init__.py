"""Background tasks: typed work with progress, messages, artifacts and children (DESIGN 9)."""
