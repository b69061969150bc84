"""Dashboard benchmark: how long each page of `trueup serve`'s dashboard takes on the demo company,
against a static file server answering the same pages' HTML from disk, under the same uvicorn.

The company is built once into /tmp/trueup-bench/<size> (`trueup demo DIR --size SIZE`, which
generates it and runs every step) and reused; a cached company without a report (say, one
`benchmarks/checks.py` built, which stops before the check step) gets the check, report and
publish steps, one without a published snapshot the publish step.

The contenders, one after the other, each in a process of its own on a free port of 127.0.0.1
(uvicorn, one worker, log level warning, no access log, the same interpreter):

- trueup: `trueup serve -w DIR`, signed in once (`POST /login` with a key from `trueup keys
  create --scope read --pii`; the session cookie is kept). Every page checks the session in the
  state store, reads the published snapshot or the findings store, and renders its template: the
  overview (the ledger, two charts, the last run), the findings queue (first page, then sorted by
  money), a finding (its detail, rule and history), a customer search, a customer (golden record,
  linked records, the whole timeline; each read of personal data is a row in the audit log),
  systems and handoffs (the system map), runs (history, steps, quarantine) and the report page.
- peer: a bare Starlette app serving those same pages, as trueup rendered them, from files on
  disk (`StaticFiles`): the floor for answering that many bytes of HTML over the same server.

The client is one keep-alive HTTP/1.1 connection (the standard library's http.client), sending
one request at a time, as a person clicking does: for each page, warm-up requests, then N timed
ones, each from the request sent to the last byte of the answer read. The goal (the issue):
every page under 300 ms at the 95th percentile on the `medium` company.

    python benchmarks/dashboard.py [--size medium] [--requests 30] [--warmup 5]
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import duckdb

CACHE = Path("/tmp/trueup-bench")
GOAL_P95_MS = 300.0

PEER = """
import sys
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

app = Starlette(routes=[Mount("/", StaticFiles(directory=sys.argv[1]))])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
"""


def trueup(*argv: str) -> str:
    done = subprocess.run([sys.executable, "-m", "trueup", *argv], check=True, capture_output=True)
    return done.stdout.decode()


def workspace(size: str) -> Path:
    """The demo company of this size with every step run and published, built once and kept."""
    from trueup.workspace import Workspace

    root = CACHE / size
    if not (root / "trueup.yaml").exists() or not (root / ".trueup" / "warehouse.duckdb").exists():
        shutil.rmtree(root, ignore_errors=True)
        trueup("demo", str(root), "--size", size)
    ws = Workspace.open(root)
    if not (root / ws.config.report.output / "report.json").exists():
        trueup("run", "-w", str(root), "--step", "check", "--step", "report", "--step", "publish")
    elif not ws.serving_pointer.exists():
        trueup("run", "-w", str(root), "--step", "publish")
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """A server process on a free port, stopped on exit."""

    def __init__(self, argv: list[str], port: int, ready: str = "/health"):
        self.port = port
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"the server stopped: {self.process.stderr.read().decode()[-800:]}")  # type: ignore[union-attr]
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", ready)
                connection.getresponse().read()
                connection.close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start in 60 s") from None
                time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Client:
    """One keep-alive connection, one request at a time."""

    def __init__(self, port: int, cookie: str | None = None):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Cookie": cookie} if cookie else {}

    def get(self, path: str) -> tuple[float, int, bytes]:
        began = time.perf_counter()
        self.connection.request("GET", path, headers=self.headers)
        response = self.connection.getresponse()
        body = response.read()
        return time.perf_counter() - began, response.status, body

    def close(self) -> None:
        self.connection.close()


def sign_in(port: int, key: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("POST", "/login", body=urlencode({"key": key, "next": "/"}),
                       headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    response = connection.getresponse()
    response.read()
    connection.close()
    cookie = response.getheader("set-cookie") or ""
    if response.status != 303 or not cookie.startswith("trueup_session="):
        raise SystemExit(f"signing in failed: {response.status}")
    return cookie.split(";")[0]


def some_customers(root: Path) -> dict[str, tuple[str, str, int]]:
    """Customers of the published snapshot by how many jobs they have: a median one, one at the 99th
    percentile and the busiest: (canonical id, name, jobs) each."""
    from trueup.workspace import Workspace

    ws = Workspace.open(root)
    snapshot = ws.serving_pointer.with_name(ws.serving_pointer.read_text().strip())
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        con.execute(
            "CREATE TEMP TABLE busy AS SELECT c.canonical_id, c.name, count(j.canonical_id) AS jobs"
            " FROM customer c LEFT JOIN job j ON j.customer = c.canonical_id WHERE c.name IS NOT NULL GROUP BY ALL"
        )
        picked = {}
        for label, q in (("median", 0.5), ("99th percentile", 0.99), ("busiest", 1.0)):
            found = con.execute(
                "SELECT canonical_id, name, jobs FROM busy WHERE jobs = (SELECT quantile_disc(jobs, $1) FROM busy)"
                " ORDER BY canonical_id LIMIT 1",
                [q],
            ).fetchone()
            assert found is not None, f"no {label} customer in the snapshot"
            picked[label] = (found[0], found[1], int(found[2]))
    finally:
        con.close()
    return picked


@dataclass
class Timed:
    seconds: list[float]
    size: int

    def quantile(self, q: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000  # nearest rank, in ms

    @property
    def worst(self) -> float:
        return max(self.seconds) * 1000


def measure(client: Client, path: str, requests: int, warmup: int) -> Timed:
    for _ in range(warmup):
        _, status, body = client.get(path)
        if status != 200:
            raise SystemExit(f"GET {path}: {status} {body[:300]!r}")
    seconds = []
    for _ in range(requests):
        took, status, body = client.get(path)
        if status != 200:
            raise SystemExit(f"GET {path}: {status}")
        seconds.append(took)
    return Timed(seconds, len(body))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="medium")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()

    root = workspace(args.size)
    made = json.loads(trueup("keys", "create", "-w", str(root), "--scope", "read", "--pii", "--rate", "10000000",
                             "--name", "dashboard benchmark", "--actor", "benchmark", "--json"))  # fmt: skip
    key = made["key"]
    chosen = some_customers(root)

    port = free_port()
    server = Served([sys.executable, "-m", "trueup", "serve", "-w", str(root), "--port", str(port)], port)
    try:
        cookie = sign_in(port, key)
        client = Client(port, cookie)
        _, _, queue = client.get("/findings")
        finding = re.search(rb'href="/findings/(\d+)"', queue)
        assert finding is not None, "no finding in the queue"
        pages = {
            "overview": "/",
            "findings queue": "/findings",
            "findings by money": "/findings?sort=money",
            "a finding": f"/findings/{finding.group(1).decode()}",
            "customer search": f"/customers?q={quote(chosen['median'][1])}",
            **{
                f"customer, {label} ({jobs:,} jobs)": f"/customers/{cid}"
                for label, (cid, _, jobs) in chosen.items()
            },
            "systems & handoffs": "/handoffs",
            "runs": "/runs",
            "report": "/report",
        }
        mine = {page: measure(client, path, args.requests, args.warmup) for page, path in pages.items()}
        folder = Path(tempfile.mkdtemp(prefix="trueup-dashboard-"))
        files = {}
        for n, (page, path) in enumerate(pages.items()):
            _, _, body = client.get(path)
            files[page] = f"/{n}.html"
            (folder / f"{n}.html").write_bytes(body)
        client.close()
    finally:
        server.stop()

    port = free_port()
    peer = Served([sys.executable, "-c", PEER, str(folder), str(port)], port, ready=files["overview"])
    try:
        client = Client(port)
        theirs = {page: measure(client, files[page], args.requests, args.warmup) for page in pages}
        client.close()
    finally:
        peer.stop()
        shutil.rmtree(folder, ignore_errors=True)

    report(args, root, pages, mine, theirs)


def report(args: argparse.Namespace, root: Path, pages: dict[str, str], mine: dict[str, Timed],
           theirs: dict[str, Timed]) -> None:  # fmt: skip
    import starlette
    import uvicorn

    print(f"demo {args.size} ({root}); {args.requests} requests a page after {args.warmup} warm-up, one at a time on"
          f" one keep-alive connection; {os.cpu_count()} cores, Python {platform.python_version()},"
          f" uvicorn {uvicorn.__version__}, starlette {starlette.__version__}, duckdb {duckdb.__version__}\n")  # fmt: skip
    header = [
        "page",
        "path",
        "KB",
        "p50 ms",
        "p95 ms",
        "max ms",
        "peer p50",
        "peer p95",
        "÷ peer p50",
        "p95 < 300",
    ]
    lines = [header]
    for page, path in pages.items():
        m, t = mine[page], theirs[page]
        lines.append([page, path if len(path) <= 34 else path[:31] + "...", f"{m.size / 1024:.0f}",
                      f"{m.quantile(0.5):.1f}", f"{m.quantile(0.95):.1f}", f"{m.worst:.1f}", f"{t.quantile(0.5):.2f}",
                      f"{t.quantile(0.95):.2f}", f"{m.quantile(0.5) / t.quantile(0.5):.0f}x",
                      "yes" if m.quantile(0.95) < GOAL_P95_MS else "NO"])  # fmt: skip
    numeric = {2, 3, 4, 5, 6, 7, 8}
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for n, line in enumerate(lines):
        cells = [
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        print("| " + " | ".join(cells) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    worst = max(pages, key=lambda p: mine[p].quantile(0.95))
    print(
        "\np50/p95/max: trueup's page, from the request sent to the last byte read. Customers: a median one, one at"
        " the 99th percentile and the busiest by jobs, each page with the customer's whole timeline. peer = the same"
        " HTML from disk through Starlette's StaticFiles under the same uvicorn. ÷ peer p50 = trueup's median / the"
        " peer's: what checking the session, reading and rendering cost over sending the bytes."
    )
    missed = [p for p in pages if mine[p].quantile(0.95) >= GOAL_P95_MS]
    verdict = "met" if not missed else f"NOT met by {len(missed)} of {len(pages)} pages: {', '.join(missed)}"
    print(f"goal: every page's p95 under {GOAL_P95_MS:.0f} ms: {verdict}"
          f" (slowest: {worst}, p95 {mine[worst].quantile(0.95):.1f} ms)")  # fmt: skip


if __name__ == "__main__":
    main()
