"""Pieces of two_hosts.py that are not about the portal: the namespaces and their network, an SMTP server that
counts, nginx's configuration, stopping a process, and the job worker's log lines."""

from __future__ import annotations

import re
import socket
import subprocess
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller

# portal.jobs logs these; the JSON formatter keeps the message text intact.
JOBS_LINE = re.compile(r"job (\S+) done in")
SKIPPED_LINE = re.compile(r"job (\S+) (?:is running elsewhere|ran elsewhere within its interval); skipped")


def ip(*args: str, check: bool = True) -> None:
    subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


class Network:
    """A bridge holding the gateway x.1/24 in the root namespace, and two namespaces at x.11 and x.12 on it.

    Removed on exit whatever happened (deleting a namespace deletes its end of the veth pair, and with it the
    pair). Processes inside must be stopped before; two_hosts.py's exit stack does that in reverse order."""

    def __init__(self, subnet: str, tag: str) -> None:
        self.subnet, self.gateway = subnet, f"{subnet}.1"
        self.bridge = f"spbr{tag}"
        self.namespaces = [f"sp{tag}a", f"sp{tag}b"]
        self.addresses = [f"{subnet}.11", f"{subnet}.12"]

    def __enter__(self) -> Network:
        taken = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, check=True).stdout
        if f" {self.subnet}." in taken:
            raise RuntimeError(f"{self.subnet}.0/24 is in use here; choose another with --subnet")
        try:
            ip("link", "add", self.bridge, "type", "bridge")
            ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
            ip("link", "set", self.bridge, "up")
            for n, (netns, address) in enumerate(zip(self.namespaces, self.addresses, strict=True)):
                veth = f"{self.bridge}v{n}"
                ip("netns", "add", netns)
                ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns)
                ip("link", "set", veth, "master", self.bridge, "up")
                ip("-n", netns, "addr", "add", f"{address}/24", "dev", "eth0")
                ip("-n", netns, "link", "set", "eth0", "up")
                ip("-n", netns, "link", "set", "lo", "up")
        except BaseException:
            self.remove()
            raise
        return self

    def remove(self) -> None:
        for netns in self.namespaces:
            ip("netns", "del", netns, check=False)
        ip("link", "del", self.bridge, check=False)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.remove()


class _Counting:
    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []  # (Message-ID, the sending host's address)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        found = re.search(rb"^Message-ID:\s*(\S+)", envelope.content, re.M | re.I)
        self.received.append((found.group(1).decode() if found else "?", str(session.peer[0])))
        return "250 OK"


class SmtpCounter:
    """A real SMTP server (aiosmtpd) on the gateway address that counts what arrives, by Message-ID."""

    def __init__(self, host: str) -> None:
        with socket.socket() as sock:
            sock.bind((host, 0))
            self.port = sock.getsockname()[1]
        self.handler = _Counting()
        self.controller = Controller(self.handler, hostname=host, port=self.port)

    def __enter__(self) -> SmtpCounter:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    def counts(self) -> dict[str, Any]:
        ids = Counter(message_id for message_id, _peer in self.handler.received)
        return {
            "deliveries": len(self.handler.received),
            "distinct_message_ids": len(ids),
            "delivered_more_than_once": sum(1 for n in ids.values() if n > 1),
            "sent_from": dict(Counter(peer for _id, peer in self.handler.received)),
        }


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def nginx_config(tmp: Path, port: int, bare_port: int, hosts: Iterable[str], portal_port: int, bare_to: int) -> str:
    """One worker (two cores are shared with everything else), round robin, the client's address passed on,
    and an access log naming the host that answered each request."""
    hosts = list(hosts)
    portal = "".join(f"    server {host}:{portal_port};\n" for host in hosts)
    bare = "".join(f"    server {host}:{bare_to};\n" for host in hosts)
    temp = "".join(
        f"  {kind}_temp_path {tmp}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    proxy = """      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_read_timeout 180s;"""
    return f"""worker_processes 1;
worker_rlimit_nofile 16384;
pid {tmp}/nginx.pid;
daemon off;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 8192; }}
http {{
{temp}  log_format hosts '$msec $remote_addr "$request_method $uri" $status $upstream_addr';
  access_log {tmp}/access.log hosts;
  upstream portal {{
{portal}  }}
  upstream bare {{
{bare}  }}
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location / {{
      proxy_pass http://portal;
{proxy}
    }}
  }}
  server {{
    listen 127.0.0.1:{bare_port} backlog=4096;
    access_log off;
    location / {{
      proxy_pass http://bare;
{proxy}
    }}
  }}
}}
"""
