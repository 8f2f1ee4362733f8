"""Live updates: changes published once to Redis, fanned out in each web process to its open
Server-Sent Event streams (DESIGN 7)."""
