"""The one policy for every request made to a URL that came from outside.

The web app (manifest and image imports, result downloads) and the processor (sources,
notifications) both go through `get` and `post` here, so the rules are written once:

- http(s) only;
- the host is resolved once, and every address it resolves to must be public: loopback,
  private, link-local, shared (CGNAT), multicast, reserved, unspecified and IPv4-mapped or
  embedding IPv6 forms are refused, unless `host[:port]` is in the allowed private hosts;
- the connection goes to an address that was checked, never to a second resolution;
- every redirect hop is checked again, and may be refused by the caller's own rule;
- one time budget for the whole download and a cap on its size.

A refusal says the same thing whatever the reason, so that it tells nothing of what is
behind the address.
"""

from __future__ import annotations

from outbound.policy import HostRule, Policy, normal_host, on_hosts, parse_hosts
from outbound.redact import redacted
from outbound.transfer import (
    Fetched,
    OutboundError,
    Refused,
    TooLarge,
    Unavailable,
    Unwanted,
    get,
    post,
)

__all__ = [
    "Fetched",
    "HostRule",
    "OutboundError",
    "Policy",
    "Refused",
    "TooLarge",
    "Unavailable",
    "Unwanted",
    "get",
    "normal_host",
    "on_hosts",
    "parse_hosts",
    "post",
    "redacted",
]
