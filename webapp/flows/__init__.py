"""Flows: catalogue changes over the database, the storage folder and Redis that happen whole
or not at all, one at a time per object, each journaled so that a dead worker's is undone or
finished by the clock."""
