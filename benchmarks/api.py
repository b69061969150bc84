"""API benchmark: `trueup serve` against a bare Starlette app that answers the same reads with the
same queries, under the same uvicorn, on the demo company; 32 clients on 127.0.0.1.

The company is built once into /tmp/trueup-bench/<size> (`trueup demo DIR --size SIZE`, which
generates it and runs every step, publish included) and reused; a cached company without
findings gets the check step, one not published by this trueup (no `.trueup/serving.current`, or
no customers file beside the snapshot) the publish step.

The contenders, each started the same way (uvicorn through `trueup.api.listen`, `--workers N`, log
level warning, no access log, the same interpreter), one after the other:

- trueup: `trueup serve -w DIR --workers N` with a key from `trueup keys create --scope read
  --pii --rate 10000000`: the key checked against the state store (then trusted for a second),
  rate limiting, masking and reach checks, Pydantic response models, Prometheus metrics and the
  audit log (each read of personal data by a `--pii` key is a row in `api_audit`, written in
  batches twice a second).
- peer: `peer()` below, a bare Starlette app over the same published files: customers and their
  timelines from the customers file the publish step writes (trueup's own `CustomerStore`), and
  findings with the same SQL on the state store that trueup sends (the same columns, the same
  order), through the standard library's sqlite3. No authentication, masking, audit, metrics or
  response models. The ratio trueup/peer is what the governance costs.

The load is wrk (Debian's `wrk`; C, a few microseconds a request, so the load generator does not
starve a 2-core server), 2 threads and 32 connections, for a fixed number of requests: each thread
sends its half of one list of paths drawn up front with a fixed seed and stops, from a Lua script,
at its quota; the seconds are from the first request sent to the last answer counted (a monotonic
clock read through LuaJIT's FFI). wrk measures latency from each request written to its answer
(closed loop, no coordinated-omission correction). Before each measurement the server gets a
warm-up of other paths drawn the same way.

The mix: 40% customer detail (`/v1/customers/{id}`, random customers), 30% timelines
(`/v1/customers/{id}/timeline?since=90d` of the 1,000 customers with most jobs: the newest 200
events, and their count when there are more, as trueup's default `limit`), 15% findings pages
(`/v1/findings?limit=50`, unfiltered or by category, first or later pages by `cursor`) and 15%
single findings (`/v1/findings/{id}`). Errors are answers that are not 2xx plus wrk's socket
errors (connect, read, write, timeout). CPU ms/req is the server's processes' CPU time (all
threads, DuckDB's too) during the measurement per answer: what a read costs, which bounds the
throughput of 2 cores. Peak MB is the high-water mark (VmHWM) of the server's
processes added up (uvicorn's supervisor and its workers when N > 1), read after the measurement.
Then, for where the time goes, each kind of read runs alone on one connection: one request at a
time, so its latency is what that read costs the server, with no queueing.

Goals (the issue): p95 under 50 ms, at least 500 requests/s on 2 cores, no errors.

16,000 requests a contender by default: 12 s at the 1,400 requests/s trueup answers with two
workers on `large`.

    python benchmarks/api.py [--size large] [--requests 16000] [--workers 1,2] [--alone 100]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from trueup.workspace import Workspace

HERE = Path(__file__).resolve().parent
CACHE = Path("/tmp/trueup-bench")
CONNECTIONS, THREADS = 32, 2
GOAL_P95_MS, GOAL_RPS = 50.0, 500.0
MIX = {"customer": 0.40, "timeline": 0.30, "findings": 0.15, "finding": 0.15}
ACTIVE = ("open", "acknowledged", "suppressed", "reopened")  # what /v1/findings lists by default
TIMELINE_LIMIT = 200  # the newest events a timeline holds unless `limit` says otherwise, as in trueup
# A page lists the first few records of each finding and how many there are, as trueup's does.
PAGE_COLUMNS = (
    "id, fingerprint, \"check\", category, severity, state, title, detail, owner, assignee, handoff, field, money,"
    " minutes, cause, cause_reason, entities_preview AS entities, entity_count, \"values\", first_seen, last_seen,"
    " first_run, last_run, suppressed_until"
)

# The wrk script: each thread sends its slice of the paths (its id from setup()), counts its
# answers and the ones that are not 2xx, and at its quota notes the time, leaves a file for the
# driver (which then stops wrk with SIGINT) and stops.
LUA = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk, bench_timespec *tp);
]]
local function now()
  local t = ffi.new("bench_timespec")
  ffi.C.clock_gettime(1, t)  -- CLOCK_MONOTONIC
  return tonumber(t.tv_sec) + tonumber(t.tv_nsec) * 1e-9
end
local threads, made = {}, 0
function setup(thread)
  thread:set("id", made)
  made = made + 1
  table.insert(threads, thread)
end
count, bad, t0, t1, sent = 0, 0, 0, 0, 0
local paths, first, quota, marker, headers = {}, 0, 0, "", {}
function init(args)
  for line in io.lines(args[1]) do table.insert(paths, line) end
  quota = tonumber(args[2])
  marker = args[3] .. "." .. id
  headers["Authorization"] = "Bearer " .. args[4]
  first = id * quota
end
function request()
  if t0 == 0 then t0 = now() end
  local path = paths[(first + sent) % #paths + 1]
  sent = sent + 1
  return wrk.format("GET", path, headers)
end
function response(status, headers, body)
  count = count + 1
  if status < 200 or status > 299 then bad = bad + 1 end
  if count == quota then
    t1 = now()
    local f = io.open(marker, "w")
    f:close()
    wrk.thread:stop()
  end
end
function done(summary, latency, requests)
  local first_sent, last_answer, counted, not_2xx = math.huge, 0, 0, 0
  for _, t in ipairs(threads) do
    counted = counted + t:get("count")
    not_2xx = not_2xx + t:get("bad")
    if t:get("t0") > 0 and t:get("t0") < first_sent then first_sent = t:get("t0") end
    local t_end = t:get("t1")
    if t_end == 0 then t_end = now() end
    if t_end > last_answer then last_answer = t_end end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"counted": %d, "requests": %d, "seconds": %.6f, "not_2xx": %d, "connect": %d, "read": %d,'
    .. ' "write": %d, "timeout": %d, "p50": %d, "p90": %d, "p95": %d, "p99": %d, "max": %d, "mean": %.1f}\n',
    counted, summary.requests, last_answer - first_sent, not_2xx, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean))
end
"""


# --- the peer ----------------------------------------------------------------------------------


def peer() -> Any:
    """The bare app (`uvicorn --factory api:peer`) over the workspace in $API_BENCH_WORKSPACE."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from trueup import lookup
    from trueup.checks.registry import all_checks
    from trueup.serving import customers_file
    from trueup.serving.customers import CustomerStore

    workspace = Workspace.open(Path(os.environ["API_BENCH_WORKSPACE"]))
    store = CustomerStore(customers_file(workspace.serving_path))  # the file trueup reads
    rules = {c.name: c.description for c in all_checks(workspace.root)}  # read once, not per request
    local = threading.local()

    def state() -> sqlite3.Connection:  # one connection per thread of the pool
        if not hasattr(local, "con"):
            local.con = sqlite3.connect(workspace.store / "state.db", check_same_thread=False)
            local.con.row_factory = sqlite3.Row
        return local.con

    def answer(data: Any, status: int = 200) -> Response:
        return Response(json.dumps(data, default=str), status, media_type="application/json")

    def finding(row: sqlite3.Row) -> dict[str, Any]:
        out = dict(row)
        for key in ("entities", "values"):
            out[key] = json.loads(out[key]) if out[key] is not None else None
        return out

    def customer(request: Request) -> Response:
        document = store.customer(request.path_params["canonical_id"])
        if document is None:
            return answer({"error": "not found"}, 404)
        return answer({k: document[k] for k in ("customer", "fields", "records", "links")})

    def timeline(request: Request) -> Response:
        canonical_id = request.path_params["canonical_id"]
        since = request.query_params.get("since")
        limit = int(request.query_params.get("limit", TIMELINE_LIMIT))
        moment = lookup.parse_since(since, workspace.as_of()) if since else None
        if store.customer(canonical_id) is None:
            return answer({"error": "not found"}, 404)
        events, total = store.timeline(canonical_id, moment, limit)
        return answer({"customer": canonical_id, "since": moment, "total": total, "events": events})

    def findings(request: Request) -> Response:
        where, params = [f"state IN ({', '.join('?' * len(ACTIVE))})"], list(ACTIVE)
        categories = request.query_params.getlist("category")
        if categories:
            where.append(f"category IN ({', '.join('?' * len(categories))})")
            params += categories
        limit = int(request.query_params.get("limit", 50))
        cursor = request.query_params.get("cursor")
        offset = int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))) if cursor else 0
        found = (
            state()
            .execute(
                f"SELECT {PAGE_COLUMNS} FROM findings WHERE {' AND '.join(where)}"
                " ORDER BY first_seen DESC, money DESC NULLS LAST, severity_rank DESC, id LIMIT ? OFFSET ?",
                [*params, limit + 1, offset],
            )
            .fetchall()
        )
        more = len(found) > limit
        items = [finding(r) for r in found[:limit]]
        return answer({"items": items, "next_cursor": encode(str(offset + limit)) if more else None})

    def one_finding(request: Request) -> Response:
        finding_id = request.path_params["finding_id"]
        db = state()
        row = db.execute("SELECT * FROM findings WHERE id = ?", [finding_id]).fetchone()
        if row is None:
            return answer({"error": "not found"}, 404)
        history = db.execute("SELECT * FROM finding_events WHERE finding_id = ? ORDER BY id", [finding_id])
        events = [{**dict(e), "detail": json.loads(e["detail"]) if e["detail"] else None} for e in history]
        return answer({**finding(row), "rule": rules.get(row["check"]), "history": events})

    def health(request: Request) -> Response:
        return answer({"status": "ok"})

    return Starlette(routes=[
        Route("/health", health),
        Route("/v1/customers/{canonical_id}", customer),
        Route("/v1/customers/{canonical_id}/timeline", timeline),
        Route("/v1/findings", findings),
        Route("/v1/findings/{finding_id:int}", one_finding),
    ])  # fmt: skip


def encode(text: str) -> str:
    """A findings cursor as the API writes it (the offset, base64url without padding)."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# --- the company and the requests --------------------------------------------------------------


def trueup(*argv: str, capture: bool = False) -> str:
    done = subprocess.run([sys.executable, "-m", "trueup", *argv], check=True, text=True,
                          stdout=subprocess.PIPE if capture else subprocess.DEVNULL)  # fmt: skip
    return done.stdout or ""


def active_findings(root: Path) -> int:
    state = root / ".trueup" / "state.db"
    if not state.exists():
        return 0
    with sqlite3.connect(state) as db:
        try:
            marks = ", ".join("?" * len(ACTIVE))
            return int(
                db.execute(f"SELECT count(*) FROM findings WHERE state IN ({marks})", ACTIVE).fetchone()[0]
            )
        except sqlite3.OperationalError:
            return 0


def workspace(size: str) -> Path:
    """The demo company of this size, run and published, built once and kept."""
    root = CACHE / size
    if (root / "trueup.yaml").exists() and published(root) and active_findings(root):
        return root  # published, with findings: nothing to open for writing
    warehouse = root / ".trueup" / "warehouse.duckdb"
    ready = False
    if warehouse.exists():
        try:
            with duckdb.connect(str(warehouse), read_only=True) as con:
                built = con.execute(
                    "SELECT count(*) FROM duckdb_tables() WHERE table_name IN ('clusters', 'invoice')"
                )
                ready = built.fetchone() == (2,)
        except duckdb.IOException as exc:  # a run holds it: leave it be
            raise SystemExit(
                f"{warehouse} is held by another process ({exc}); try again when it is done"
            ) from None
    if not ready:
        print(
            f"building the {size} demo company in {root} (`trueup demo {root} --size {size}`)...", flush=True
        )
        shutil.rmtree(root, ignore_errors=True)
        trueup("demo", str(root), "--size", size)
    if not active_findings(root):  # cached by a benchmark that stopped before the check step
        trueup("run", "-w", str(root), "--step", "check", "--step", "report")
    if not published(root):
        trueup("run", "-w", str(root), "--step", "publish")
    return root


def published(root: Path) -> bool:
    """A snapshot is published, with the customers file of this trueup."""
    from trueup.serving import customers_file

    workspace = Workspace.open(root)
    return workspace.serving_pointer.exists() and customers_file(workspace.serving_path).exists()


@dataclass
class Pools:
    """What the requests are drawn from."""

    customers: list[str]
    busy: list[str]  # the customers with most jobs, for timelines
    jobs: tuple[int, int]  # the fewest and most jobs among them
    findings: list[int]  # the ids of open findings
    categories: dict[str, int]  # open findings per category
    open: int = 0


def pools(root: Path) -> Pools:
    with duckdb.connect(str(Workspace.open(root).serving_path), read_only=True) as con:
        customers = [r[0] for r in con.execute("SELECT canonical_id FROM customer ORDER BY 1").fetchall()]
        busy = con.execute(
            "SELECT customer, count(*) FROM job WHERE customer IS NOT NULL GROUP BY customer"
            " ORDER BY count(*) DESC, customer LIMIT 1000"
        ).fetchall()
    with sqlite3.connect(root / ".trueup" / "state.db") as db:
        marks = ", ".join("?" * len(ACTIVE))
        ids = [
            r[0] for r in db.execute(f"SELECT id FROM findings WHERE state IN ({marks}) ORDER BY id", ACTIVE)
        ]
        categories = dict(db.execute(
            f"SELECT category, count(*) FROM findings WHERE state IN ({marks}) GROUP BY 1 ORDER BY 1", ACTIVE
        ).fetchall())  # fmt: skip
    return Pools(customers, [c for c, _ in busy], (busy[-1][1], busy[0][1]), ids, categories, len(ids))


def path(kind: str, p: Pools, rng: random.Random) -> str:
    if kind == "customer":
        return f"/v1/customers/{rng.choice(p.customers)}"
    if kind == "timeline":
        return f"/v1/customers/{rng.choice(p.busy)}/timeline?since=90d"
    if kind == "finding":
        return f"/v1/findings/{rng.choice(p.findings)}"
    # a page of the queue: half unfiltered, half by one category; half the first page, half a later one
    category = rng.choice(sorted(p.categories)) if rng.random() < 0.5 else None
    pages = (p.categories[category] if category else p.open) // 50
    page = rng.randint(1, min(pages, 20)) if pages and rng.random() < 0.5 else 0
    query = (
        "limit=50"
        + (f"&category={category}" if category else "")
        + (f"&cursor={encode(str(page * 50))}" if page else "")
    )
    return f"/v1/findings?{query}"


def draw(p: Pools, count: int, seed: int, kinds: dict[str, float] = MIX) -> list[str]:
    """`count` paths in these proportions, in a random order."""
    rng = random.Random(seed)
    wanted = {k: round(count * share / sum(kinds.values())) for k, share in kinds.items()}
    first = next(iter(wanted))
    wanted[first] += count - sum(wanted.values())
    paths = [path(kind, p, rng) for kind, n in wanted.items() for _ in range(n)]
    rng.shuffle(paths)
    return paths


# --- servers and load --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    found, frontier = [], [pid]
    while frontier:
        children = [c for c, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time of these processes (all their threads) so far."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{pid}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def high_water(pids: list[int]) -> int:
    """The VmHWM of these processes added up, in bytes."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


class Server:
    """`trueup serve` or the peer under uvicorn, on a port of its own."""

    def __init__(self, contender: str, root: Path, workers: int, logs: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        common = ["--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers)]
        env = dict(os.environ)
        if contender == "trueup":  # uvicorn.run(..., log_level="warning", access_log=False)
            argv = [sys.executable, "-m", "trueup", "serve", "-w", str(root), *common]
        else:
            # the same uvicorn set-up as `trueup serve` (its listening socket included, see listen.py)
            argv = [sys.executable, "-c", "import sys; from trueup.api.listen import run;"
                    " run(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), 'api:peer', factory=True)",
                    "127.0.0.1", str(self.port), str(workers)]  # fmt: skip
            env["API_BENCH_WORKSPACE"] = str(root)
            env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), env.get("PYTHONPATH")) if p)
        self.log = logs / f"{contender}-{workers}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{contender} exited {self.process.returncode}: {self.tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{contender} did not answer /health in 180 s: {self.tail()}")
            time.sleep(0.2)

    def tail(self) -> str:
        return " / ".join(self.log.read_text().strip().splitlines()[-3:])[-600:]

    def processes(self) -> list[int]:
        return [self.process.pid, *descendants(self.process.pid)]

    def peak(self) -> int:
        return high_water(self.processes())

    def cpu(self) -> float:
        return cpu_seconds(self.processes())

    def stop(self) -> None:
        family = {pid: started(pid) for pid in descendants(self.process.pid)}
        self.process.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown, workers included
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for pid, since in family.items():  # a worker left behind (the same process, not a reused id)
            if since is not None and started(pid) == since:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def started(pid: int) -> int | None:
    """When a process started (clock ticks since boot), to tell it from a later one with its id."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2 :].split()[19])


def fetch(url: str, key: str) -> tuple[int, int]:
    """Status and body size of one GET."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, len(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, len(exc.read())


@dataclass
class Load:
    requests: int = 0
    seconds: float = 0.0
    p50: float = 0.0  # milliseconds
    p95: float = 0.0
    p99: float = 0.0
    max: float = 0.0
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    short: bool = False  # stopped by the time limit before the count
    cpu: float = 0.0  # the server's CPU seconds meanwhile

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_request(self) -> float:  # milliseconds
        return self.cpu * 1e3 / self.requests if self.requests else 0.0


def load(url: str, key: str, paths: list[str], count: int, work: Path, limit: int, connections: int = CONNECTIONS,
         threads: int = THREADS) -> Load:  # fmt: skip
    """wrk with 32 connections until `count` answers (or `limit` seconds)."""
    listing, script, marker = work / "paths.txt", work / "bench.lua", work / f"done-{time.monotonic_ns()}"
    listing.write_text("\n".join(paths) + "\n")
    script.write_text(LUA)
    quota = count // threads
    argv = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{limit}s", "--timeout", "30s", "--latency",
            "-s", str(script), url, "--", str(listing), str(quota), str(marker), key]  # fmt: skip
    with tempfile.TemporaryFile() as out:
        wrk = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        markers = [Path(f"{marker}.{t}") for t in range(threads)]
        while wrk.poll() is None:
            if all(m.exists() for m in markers):
                wrk.send_signal(signal.SIGINT)  # wrk then stops and prints its summary
                break
            time.sleep(0.01)
        wrk.wait()
        out.seek(0)
        text = out.read().decode()
    for m in markers:
        m.unlink(missing_ok=True)
    line = next((x for x in text.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result (exit {wrk.returncode}): {text[-600:]}")
    got = json.loads(line[6:])
    kinds = {k: got[k] for k in ("not_2xx", "connect", "read", "write", "timeout") if got[k]}
    return Load(got["counted"], got["seconds"], got["p50"] / 1e3, got["p95"] / 1e3, got["p99"] / 1e3,
                got["max"] / 1e3, sum(kinds.values()), kinds, got["counted"] < threads * quota)  # fmt: skip


# --- the run -----------------------------------------------------------------------------------


@dataclass
class Row:
    contender: str
    workers: int
    load: Load
    peak: int = 0
    note: str = ""


@dataclass
class Alone:
    kind: str
    contender: str
    workers: int
    load: Load
    size: float  # mean bytes of an answer, over a sample


def bench(contender: str, workers: int, root: Path, key: str, plan: dict[str, Any], args: argparse.Namespace,
          work: Path) -> tuple[Row, list[Alone]]:  # fmt: skip
    server = Server(contender, root, workers, work)
    try:
        sizes = {}
        for kind, sample in plan["samples"].items():
            answers = [fetch(server.url + p, key) for p in sample]
            bad = [(p, s) for p, (s, _) in zip(sample, answers, strict=True) if s != 200]
            if bad:
                raise RuntimeError(f"{contender}: {bad[0][0]} answered {bad[0][1]}")
            sizes[kind] = sum(n for _, n in answers) / len(answers)
        load(server.url, key, plan["warmup"], args.warmup, work, args.max_seconds)
        before = server.cpu()
        measured = load(server.url, key, plan["mixed"], args.requests, work, args.max_seconds)
        measured.cpu = server.cpu() - before
        row = Row(contender, workers, measured, server.peak())
        alone = []
        if args.alone:
            for kind, paths in plan["alone"].items():
                before = server.cpu()
                one = load(server.url, key, paths, args.alone, work, args.max_seconds, 1, 1)
                one.cpu = server.cpu() - before
                alone.append(Alone(kind, contender, workers, one, sizes[kind]))
        return row, alone
    finally:
        server.stop()


def ms(value: float) -> str:
    return f"{value:.1f}"


def table(header: list[str], lines: list[list[str]]) -> None:
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
    for n, line in enumerate([header, *lines]):
        cells = [c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))]
        print("| " + " | ".join(cells) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def report(rows: list[Row], alone: list[Alone]) -> None:
    peers = {r.workers: r for r in rows if r.contender == "peer"}
    lines = []
    for r in rows:
        ref = peers.get(r.workers)
        x = r.load
        ratios = ["", ""]
        if ref and ref.load.rate and ref.load.p95:
            ratios = [f"{x.rate / ref.load.rate:.2f}x", f"{x.p95 / ref.load.p95:.2f}x"]
        lines.append([
            "trueup serve" if r.contender == "trueup" else "peer (bare Starlette)", str(r.workers),
            f"{x.requests:,}" + (" (cut)" if x.short else ""), f"{x.seconds:.2f}", f"{x.rate:,.0f}", ms(x.p50),
            ms(x.p95), ms(x.p99), ms(x.max), f"{x.errors:,}", ms(x.cpu_per_request), f"{r.peak / 1e6:.0f}",
            *ratios,
        ])  # fmt: skip
    print()
    table(["server", "workers", "requests", "seconds", "requests/s", "p50 ms", "p95 ms", "p99 ms", "max ms",
           "errors", "CPU ms/req", "peak MB", "req/s ÷ peer", "p95 ÷ peer"], lines)  # fmt: skip
    for r in rows:
        if r.load.error_kinds:
            print(f"errors of {r.contender} with {r.workers} workers: {r.load.error_kinds}")
    if alone:
        by = {(a.kind, a.contender, a.workers): a for a in alone}
        lines = []
        for a in alone:
            ref = by.get((a.kind, "peer", a.workers))
            x = a.load
            ratio = f"{x.p50 / ref.load.p50:.2f}x" if ref and ref.load.p50 else ""
            lines.append([a.kind, "trueup" if a.contender == "trueup" else "peer", str(a.workers),
                          f"{x.requests:,}", f"{x.rate:,.0f}", ms(x.p50), ms(x.p95), ms(x.p99), f"{x.errors:,}",
                          ms(x.cpu_per_request), f"{a.size / 1e3:.1f}", ratio])  # fmt: skip
        print("\neach kind of read alone, one connection (one request at a time), after the mixed load:\n")
        table(["read", "server", "workers", "requests", "requests/s", "p50 ms", "p95 ms", "p99 ms", "errors",
               "CPU ms/req", "KB/answer", "p50 ÷ peer"], lines)  # fmt: skip


def goals(rows: list[Row]) -> None:
    print(
        f"\ngoals (trueup serve; p95 under {GOAL_P95_MS:.0f} ms, at least {GOAL_RPS:.0f} requests/s, no errors):"
    )
    for r in rows:
        if r.contender != "trueup":
            continue
        x = r.load
        checks = [
            (f"p95 {x.p95:.1f} ms", x.p95 < GOAL_P95_MS),
            (f"{x.rate:,.0f} requests/s", x.rate >= GOAL_RPS and not x.short),
            (f"{x.errors:,} errors", x.errors == 0),
        ]
        print(
            f"  --workers {r.workers}: " + "; ".join(f"{t} -> {'PASS' if ok else 'MISS'}" for t, ok in checks)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="large", choices=["small", "medium", "large"])
    parser.add_argument("--requests", type=int, default=16_000, help="measured requests per contender")
    parser.add_argument("--warmup", type=int, default=200, help="requests before measuring")
    parser.add_argument("--workers", default="1,2", help="uvicorn worker counts to try")
    parser.add_argument("--alone", type=int, default=100, help="requests per kind of read alone (0: skip)")
    parser.add_argument("--max-seconds", type=int, default=600, help="stop a measurement after this long")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print(
            "wrk is not installed: `apt-get install -y wrk` (Debian), or `brew install wrk`.", file=sys.stderr
        )
        sys.exit(2)
    root = workspace(args.size)
    p = pools(root)
    plan: dict[str, Any] = {
        "mixed": draw(p, args.requests, args.seed),
        "warmup": draw(p, args.warmup, args.seed + 1),
        "alone": {k: draw(p, max(args.alone, 1), args.seed + 2 + n, {k: 1.0}) for n, k in enumerate(MIX)},
        "samples": {k: draw(p, 20, args.seed + 10 + n, {k: 1.0}) for n, k in enumerate(MIX)},
    }
    issued = json.loads(trueup("keys", "create", "-w", str(root), "--scope", "read", "--pii", "--rate", "10000000",
                               "--name", "api benchmark", "--json", capture=True))  # fmt: skip
    import fastapi
    import starlette
    import uvicorn

    git = ["git", "-C", str(HERE.parent)]
    commit = subprocess.run(
        [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "src"], capture_output=True).stdout.strip()
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split(" [")[0]
    print(f"demo {args.size} ({root}): {len(p.customers):,} customers, {p.open:,} open findings; trueup at {commit}"
          f"{' with src/ modified' if dirty else ''}; duckdb {duckdb.__version__}, fastapi {fastapi.__version__},"
          f" starlette {starlette.__version__}, uvicorn {uvicorn.__version__}, {wrk}; {os.cpu_count()} cores,"
          f" load average {os.getloadavg()[0]:.1f} at the start", flush=True)  # fmt: skip
    print(
        f"timelines of the {len(p.busy):,} customers with most jobs ({p.jobs[0]:,} to {p.jobs[1]:,} jobs each)"
    )
    print(
        f"{args.requests:,} requests ({', '.join(f'{v:.0%} {k}' for k, v in MIX.items())}), {CONNECTIONS}"
        f" connections, {THREADS} wrk threads, after {args.warmup:,} warm-up requests; seed {args.seed}",
        flush=True,
    )
    rows: list[Row] = []
    alone: list[Alone] = []
    try:
        with tempfile.TemporaryDirectory(prefix="trueup-api-bench-") as tmp:
            for workers in [int(w) for w in args.workers.split(",")]:
                for contender in ("trueup", "peer"):
                    row, kinds = bench(contender, workers, root, issued["key"], plan, args, Path(tmp))
                    rows.append(row)
                    alone += kinds
                    x = row.load
                    print(f"  {contender} --workers {workers}: {x.rate:,.0f} requests/s, p95 {x.p95:.1f} ms,"
                          f" {x.errors} errors", flush=True)  # fmt: skip
    finally:
        trueup("keys", "revoke", issued["id"], "-w", str(root))
    report(rows, alone)
    print(
        "\nrequests/s = requests answered / seconds from the first sent to the last answered. p50/p95/p99/max ="
        " wrk's latency of an answer (from the request written to the answer read). errors = answers not 2xx"
        " and socket errors. CPU ms/req = the server's processes' user and system CPU time (every thread,"
        " DuckDB's included) while measuring, per answer. peak MB = the server's processes' high-water marks"
        " (VmHWM) added up, read after the mixed load (uvicorn's supervisor and workers when workers > 1)."
        " ÷ peer = trueup / the bare Starlette app with the same worker count (req/s below 1 or p95 and p50"
        " above 1: trueup is slower). KB/answer = the mean body of 20 sample answers of that kind."
    )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    goals(rows)


if __name__ == "__main__":
    main()
