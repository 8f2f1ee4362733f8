"""Per-user quotas, set by administrators (None: no limit): pages processed in a month and
storage held."""
