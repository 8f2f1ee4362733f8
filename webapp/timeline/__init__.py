"""The timeline: every change a user or an administrator makes, who made it, to what, when,
and how it ended; shown on the object's page, the account page and the admin area."""
