"""The job `bench/jobs.py` drains: nothing to do and nothing to import, so that what is
measured is what surrounds a job, not the loading of a module."""


def noop() -> None:
    """A job that does nothing."""
