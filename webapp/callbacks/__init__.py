"""Callbacks: when a piece of work that was given a `callback_url` ends, a signed summary of it
is POSTed there, from an outbox, until the receiver takes it."""
