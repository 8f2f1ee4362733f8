"""Which addresses a request may reach: public ones, and the private `host[:port]` allowed."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# Prefixes that carry an IPv4 address inside an IPv6 one: NAT64 (well-known and local use).
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


@dataclass(frozen=True)
class HostRule:
    """`host` (a name or an address, lower case, no brackets) and a port, or any port."""

    host: str
    port: int | None = None

    def matches(self, host: str, port: int) -> bool:
        return self.host == host and self.port in (None, port)


def normal_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def parse_hosts(entries: Iterable[str]) -> tuple[HostRule, ...]:
    """`host`, `host:port`, `[v6]` or `[v6]:port` entries; a bad one raises ValueError."""
    rules = []
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        host, port = entry, None
        if entry.startswith("["):
            inside, _, rest = entry[1:].partition("]")
            host = inside
            if rest:
                if not rest.startswith(":"):
                    raise ValueError(f"{raw!r} is not host[:port].")
                port = rest[1:]
        elif entry.count(":") == 1:
            host, port = entry.split(":")
        if port is not None and not (port.isdigit() and 0 < int(port) < 65536):
            raise ValueError(f"{raw!r} has no valid port.")
        if not normal_host(host):
            raise ValueError(f"{raw!r} has no host.")
        rules.append(HostRule(normal_host(host), int(port) if port is not None else None))
    return tuple(rules)


def on_hosts(url: str, rules: tuple[HostRule, ...]) -> bool:
    """Whether a URL's host (and port, the scheme's default if it names none) is one of
    `rules`: a caller's own rule for each hop, such as the hosts results come from."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    host = normal_host(parts.hostname or "")
    return any(rule.matches(host, port) for rule in rules)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in network for network in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: str) -> bool:
    """Whether an address is one the whole Internet reaches (and so no service of ours)."""
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
            address.split("%", 1)[0]
        )
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            if not is_public(str(embedded)):
                return False
            if ip.ipv4_mapped is not None:
                return True
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_unspecified
    )


@dataclass(frozen=True)
class Policy:
    """What a caller may reach, and how much it may take."""

    allowed_private: tuple[HostRule, ...] = ()
    max_bytes: int = 10 * 2**20
    seconds: float = 30.0
    max_redirects: int = 5
    # GETs of a server that is away (no connection, a 5xx, a 429) are tried this many more times.
    retries: int = 2
    headers: dict[str, str] = field(default_factory=dict)

    def permits(self, host: str, port: int, address: str) -> bool:
        """Whether `host:port`, resolved to `address`, may be connected to."""
        if is_public(address):
            return True
        name, ip = normal_host(host), normal_host(address)
        return any(
            rule.matches(name, port) or rule.matches(ip, port) for rule in self.allowed_private
        )
