"""Load test of the web page: N simulated users ask questions for S seconds against `rag serve`.

Each user is a thread with its own `gradio_client` session calling the page's `/ask` endpoint
(the same queue and handlers as the browser), one question after another. Counts errors (an
exception, or an answer that is an error message) and records latency percentiles; appends a
section with the command and the numbers to bench/RESULTS.md.

    python bench/load_ui.py --data-dir .rag            # starts `rag serve` on a free port itself
    python bench/load_ui.py --url http://127.0.0.1:7860 # against a running server
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shlex
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    ("What did Lavrov say about the OSCE?", []),
    ("How has Putin described NATO expansion?", []),
    ("What was said about sanctions?", ["Vladimir Putin"]),
    ("What did Julia Gillard say about carbon pricing?", []),
    ("What did the Prime Minister say about Afghanistan?", []),
    ("What was said about the Minsk agreements?", []),
    ("What did Obama say about Iran?", []),
    ("What was said about gas supplies to Europe?", []),
    ("What did Trump say about trade with China?", ["Donald Trump"]),
    ("What was said about climate change?", []),
]


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    abstained: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, proc: subprocess.Popen | None, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"rag serve exited with {proc.returncode}")
        try:
            if httpx.get(url + "/", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def _user(url: str, deadline: float, tally: Tally, seed: int) -> None:
    from gradio_client import Client

    rng = random.Random(seed)
    try:
        client = Client(url, verbose=False)
    except Exception as exc:  # noqa: BLE001 - counted, not raised
        with tally.lock:
            tally.errors.append(f"connect: {exc}")
        return
    while time.monotonic() < deadline:
        question, speakers = rng.choice(QUESTIONS)
        start = time.perf_counter()
        try:
            html = client.predict(question, speakers, [], "", "", api_name="/ask")
            elapsed = time.perf_counter() - start
            with tally.lock:
                if 'class="msg msg-error"' in html or "Traceback" in html:
                    tally.errors.append(f"{question}: error message in the answer")
                else:
                    tally.latencies.append(elapsed)
                    tally.abstained += 'class="abstain"' in html
        except Exception as exc:  # noqa: BLE001
            with tally.lock:
                tally.errors.append(f"{question}: {type(exc).__name__}: {exc}"[:300])


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def run(url: str, users: int, seconds: float) -> tuple[Tally, float]:
    """Start `users` threads that ask until `seconds` have passed; returns the tally and wall time."""
    tally = Tally()
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=_user, args=(url, deadline, tally, i), daemon=True) for i in range(users)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 600)
    return tally, time.perf_counter() - start


def report(tally: Tally, wall: float, users: int, seconds: float, command: str, target: str) -> str:
    """The Markdown section appended to bench/RESULTS.md."""
    lat = tally.latencies
    done = len(lat)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## Web page under load: {users} users asking for {seconds:.0f} s ({when})",
        "",
        f"Command: `{command}`  ",
        f"Target: {target} (`rag serve`, queue concurrency 2, Library calls serialised by a lock)  ",
        f"Machine: {os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the end (other jobs included)",
        "",
        "| users | seconds | answers | errors | abstained | answers/s | p50 s | p95 s | max s |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {users} | {wall:.0f} | {done} | {len(tally.errors)} | {tally.abstained} | {done / wall:.2f} | "
        f"{_percentile(lat, 0.5):.2f} | {_percentile(lat, 0.95):.2f} | {max(lat) if lat else float('nan'):.2f} |",
        "",
    ]
    if tally.errors:
        lines += ["Errors (first 10):", ""] + [f"- {e}" for e in tally.errors[:10]] + [""]
    if lat:
        lines += [f"Mean latency {statistics.mean(lat):.2f} s. Every answer waits for the ones queued before it: "
                  "with one shared model and Library, latency grows with the number of users, "
                  "throughput stays that of one worker.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running `rag serve` (default: start one on --data-dir)")
    parser.add_argument("--data-dir", default=".rag", help="data dir for the server this script starts")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "RESULTS.md")
    parser.add_argument("--no-append", action="store_true", help="print the section, do not append it")
    args = parser.parse_args(argv)

    proc = None
    url = args.url
    if url is None:
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False", TOKENIZERS_PARALLELISM="false")
        proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--port", str(port),
                                 "--data-dir", args.data_dir], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(url, proc)
        from gradio_client import Client

        warm = Client(url, verbose=False)
        for question, speakers in QUESTIONS:  # warm-up: every question once, not timed
            warm.predict(question, speakers, [], "", "", api_name="/ask")
        tally, wall = run(url, args.users, args.seconds)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    command = "python bench/load_ui.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    section = report(tally, wall, args.users, args.seconds, command.strip(), url)
    print(section)
    if not args.no_append:
        with args.results.open("a") as handle:
            handle.write("\n" + section)
    return 0 if not tally.errors else 1


if __name__ == "__main__":
    sys.exit(main())
