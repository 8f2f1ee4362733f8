"""The outbound policy against the server-side request forgeries a penetration test tried: a
real listener on loopback counts what reaches it, and nothing may."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from outbound import Policy, Refused, TooLarge, Unavailable, get, parse_hosts, post
from outbound.policy import is_public
from tests.listener import Listener

INTERNAL = [
    "http://127.0.0.1:{port}/",
    "http://localhost:{port}/",
    "http://LOCALHOST.:{port}/",
    "http://127.1:{port}/",
    "http://127.0.1:{port}/",
    "http://2130706433:{port}/",
    "http://0x7f000001:{port}/",
    "http://0177.0.0.1:{port}/",
    "http://0.0.0.0:{port}/",
    "http://0:{port}/",
    "http://[::1]:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://[::ffff:7f00:1]:{port}/",
    "http://[0:0:0:0:0:ffff:127.0.0.1]:{port}/",
    "http://[::]:{port}/",
    "https://127.0.0.1:{port}/",
    "http://user:pass@127.0.0.1:{port}/",
    "http://127.0.0.1:{port}#@example.org/",
]


def test_every_internal_form_is_refused_and_nothing_arrives(listener: Listener) -> None:
    messages = set()
    for template in INTERNAL:
        url = template.format(port=listener.port)
        with pytest.raises(Refused) as refused:
            get(url, Policy(seconds=5))
        messages.add(str(refused.value).replace(url, "<url>"))
    assert listener.hits == []
    # One message for every reason: it tells nothing of what is behind the address.
    assert len(messages) == 1


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "224.0.0.1",
        "255.255.255.255",
        "0.0.0.0",  # noqa: S104 - an address checked, not bound
        "fc00::1",
        "fe80::1",
        "ff02::1",
        "::ffff:10.0.0.1",
        "64:ff9b::a00:1",
        "2002:a00:1::",
    ],
)
def test_private_ranges_are_not_public(address: str) -> None:
    assert not is_public(address)


def test_public_addresses_are() -> None:
    for address in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "::ffff:8.8.8.8"):
        assert is_public(address), address


def test_a_redirect_to_an_internal_address_is_refused(listener: Listener) -> None:
    allowed = Policy(parse_hosts([f"localhost:{listener.port}"]), seconds=5)
    listener.redirect("/hop", f"http://127.0.0.1:{listener.port}/secret")
    listener.redirect("/hop2", "/hop")
    for path in ("/hop", "/hop2"):
        with pytest.raises(Refused):
            get(f"http://localhost:{listener.port}{path}", allowed)
    assert [path for _, path, _ in listener.hits] == ["/hop", "/hop2", "/hop"]


def test_an_allowed_private_host_matches_its_port_only(listener: Listener) -> None:
    allowed = Policy(parse_hosts([f"127.0.0.1:{listener.port}"]), seconds=5)
    assert get(f"http://127.0.0.1:{listener.port}/ok", allowed).body == b"SECRET"
    with pytest.raises(Refused):
        get(f"http://127.0.0.1:{listener.port + 1}/", allowed)
    assert len(listener.hits) == 1


def test_dns_rebinding_reaches_only_the_checked_address(
    listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name that resolves first to an allowed address, then to a refused one: each request
    resolves once, connects to the address it checked, and the refused one gets nothing."""
    allowed = Listener("127.0.0.2")
    real = socket.getaddrinfo
    answers = [("127.0.0.2", allowed.port), ("127.0.0.1", listener.port)]
    calls: list[str] = []

    def rebinding(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.example":
            return real(host, port, *args, **kwargs)
        calls.append(host)
        address, _ = answers.pop(0)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    policy = Policy(parse_hosts([f"127.0.0.2:{allowed.port}"]), seconds=5, retries=0)
    try:
        assert get(f"http://rebind.example:{allowed.port}/", policy).body == b"SECRET"
        assert calls == ["rebind.example"]
        with pytest.raises(Refused):
            get(f"http://rebind.example:{listener.port}/", policy)
        assert calls == ["rebind.example", "rebind.example"]
        assert len(allowed.hits) == 1
        assert listener.hits == []
    finally:
        allowed.close()


def test_headers_go_to_the_first_origin_only(listener: Listener) -> None:
    other = Listener()
    try:
        allowed = Policy(parse_hosts(["localhost"]), seconds=5)
        listener.redirect("/away", f"http://localhost:{other.port}/landing")
        get(f"http://localhost:{listener.port}/away", allowed, headers={"Authorization": "t"})
        assert listener.hits[0][2].get("Authorization") == "t"
        assert "Authorization" not in other.hits[0][2]
    finally:
        other.close()


def test_size_cap_and_time_budget(listener: Listener) -> None:
    allowed = Policy(parse_hosts(["localhost"]), max_bytes=3, seconds=5)
    with pytest.raises(TooLarge):
        get(f"http://localhost:{listener.port}/", allowed)
    # A server that accepts the connection and never answers: the budget ends the wait.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    try:
        started = time.monotonic()
        with pytest.raises(Unavailable):
            get(
                f"http://localhost:{silent.getsockname()[1]}/",
                Policy(parse_hosts(["localhost"]), seconds=1, retries=0),
            )
        assert time.monotonic() - started < 5
    finally:
        silent.close()


def test_a_post_is_refused_alike_and_never_follows_a_redirect(listener: Listener) -> None:
    with pytest.raises(Refused):
        post(f"http://127.0.0.1:{listener.port}/notify", Policy(), data=b"{}", headers={})
    listener.redirect("/notify", f"http://localhost:{listener.port}/elsewhere")
    answer = post(
        f"http://localhost:{listener.port}/notify",
        Policy(parse_hosts(["localhost"])),
        data=b"{}",
        headers={},
    )
    assert answer.status == 302
    assert [path for _, path, _ in listener.hits] == ["/notify"]


def test_bad_host_entries_are_refused_at_start() -> None:
    assert parse_hosts(["[::1]:5000", "Example.org", "a:1"]) == (
        parse_hosts(["[::1]:5000"])[0],
        parse_hosts(["example.org"])[0],
        parse_hosts(["a:1"])[0],
    )
    for bad in ("a:b", "[::1]x", ":80", "a:70000"):
        with pytest.raises(ValueError, match=r"port|host"):
            parse_hosts([bad])
