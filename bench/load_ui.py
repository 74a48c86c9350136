"""Load test of the web page: N simulated users ask questions for S seconds against `rag serve`.

Each user is a thread with its own `gradio_client` session calling the page's `/ask` endpoint
(the same queue and handlers as the browser), one question after another. Counts errors (an
exception, or an answer that is an error message) and records latency percentiles; appends a
section with the command and the numbers to bench/RESULTS.md.

With `--ingest PATH`, once the server is up and the users have started, one more client uploads
PATH (a file, or every supported file of a folder, in one request) through the page's Library tab
endpoint `/add_files`: the ingestion runs inside the server, as a user's upload would, while the
others ask. The section then also gives the upload's own result (files added, passages indexed,
time) and the latency of the answers that overlapped it. `--ingest-split N` cuts a JSONL file into
files of N records first (the server lets readers in between files). `--cli-ingest-wait SECONDS`
also starts `rag ingest PATH --wait SECONDS` in a separate process on the same data dir, to record
what a second writer process meets while `rag serve` holds the embedded index.

    python bench/load_ui.py --data-dir .rag            # starts `rag serve` on a free port itself
    python bench/load_ui.py --url http://127.0.0.1:7860 # against a running server
    python bench/load_ui.py --data-dir .rag --ingest more.jsonl   # 20 users while more.jsonl is ingested
"""

from __future__ import annotations

import argparse
import gzip
import html as html_lib
import json
import os
import platform
import random
import shlex
import socket
import statistics
import subprocess
import re
import sys
import tempfile
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


UPLOAD_SUFFIXES = (".jsonl.gz", ".jsonl", ".txt", ".md", ".html", ".htm", ".pdf")


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    spans: list[tuple[float, float]] = field(default_factory=list)  # (start, end) of each answer, monotonic
    errors: list[str] = field(default_factory=list)
    abstained: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class IngestRun:
    """One upload through `/add_files` during the load, and what it did."""

    files: list[Path]
    bytes: int = 0
    start: float | None = None  # monotonic, when the request was sent
    end: float | None = None  # monotonic, when the result came back
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # (file, result, details) per file
    error: str | None = None
    delay: float = 0.0

    @property
    def seconds(self) -> float | None:
        return None if self.start is None or self.end is None else self.end - self.start


@dataclass
class CliIngest:
    """`rag ingest --wait` in another process on the served data dir."""

    command: str
    returncode: int | None = None
    seconds: float | None = None
    output: str = ""


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
        began = time.monotonic()
        try:
            html = client.predict(question, speakers, [], "", "", api_name="/ask")
            elapsed = time.perf_counter() - start
            with tally.lock:
                if 'class="msg msg-error"' in html or "Traceback" in html:
                    tally.errors.append(f"{question}: error message in the answer")
                else:
                    tally.latencies.append(elapsed)
                    tally.spans.append((began, began + elapsed))
                    tally.abstained += 'class="abstain"' in html
        except Exception as exc:  # noqa: BLE001
            with tally.lock:
                tally.errors.append(f"{question}: {type(exc).__name__}: {exc}"[:300])


def upload_files(path: Path, split: int = 0, workdir: Path | None = None) -> list[Path]:
    """The files an upload of `path` sends: the file itself, a folder's supported files, or a JSONL
    file cut into parts of `split` records (written to `workdir`)."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(UPLOAD_SUFFIXES))
    else:
        files = [path]
    if not files:
        raise SystemExit(f"--ingest {path}: no {', '.join(UPLOAD_SUFFIXES)} files there")
    if split <= 0:
        return files
    out: list[Path] = []
    workdir = Path(workdir or tempfile.mkdtemp(prefix="load-ui-ingest-"))
    for f in files:
        if not f.name.endswith((".jsonl", ".jsonl.gz")):
            out.append(f)
            continue
        opener = gzip.open if f.name.endswith(".gz") else open
        with opener(f, "rt", encoding="utf-8") as handle:
            lines = [line for line in handle if line.strip()]
        stem = f.name.split(".")[0]
        for k in range(0, len(lines), split):
            part = workdir / f"{stem}-part{k // split + 1:03d}.jsonl"
            part.write_text("".join(lines[k:k + split]), encoding="utf-8")
            out.append(part)
    return out


_ROW = re.compile(r'<tr class="r-[^"]*"><td class="file">(.*?)</td><td><span class="badge [^"]*">(.*?)</span></td>'
                  r"<td>(.*?)</td></tr>", re.S)


def _uploader(url: str, run: IngestRun, delay: float) -> None:
    """Wait `delay` seconds (the users are asking by then), then upload the files in one request."""
    from gradio_client import Client, handle_file

    time.sleep(delay)
    try:
        client = Client(url, verbose=False)
        run.start = time.monotonic()
        result, _ = client.predict([handle_file(str(p)) for p in run.files], api_name="/add_files")
        run.end = time.monotonic()
        run.rows = [tuple(html_lib.unescape(x) for x in m) for m in _ROW.findall(result)]  # type: ignore[misc]
        if not run.rows:
            run.error = f"no result rows in the reply: {result[:300]}"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        run.end = run.end or time.monotonic()
        run.error = f"{type(exc).__name__}: {exc}"[:500]


def _cli_ingest(data_dir: str, path: Path, wait: float, delay: float, out: CliIngest) -> None:
    """`rag ingest PATH --wait SECONDS` in a separate process while the server runs."""
    time.sleep(delay)
    cmd = [sys.executable, "-m", "rag.cli", "ingest", str(path), "--data-dir", data_dir, "--wait", str(wait), "--quiet"]
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=wait + 3600)
        out.returncode, out.output = proc.returncode, (proc.stdout + proc.stderr).strip()
    except subprocess.TimeoutExpired:
        out.output = "timed out"
    out.seconds = time.monotonic() - start


def _store_counts(data_dir: str) -> dict[str, int] | None:
    """Documents and chunks in the data dir (`rag stats --json`; only while no server holds it)."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    proc = subprocess.run([sys.executable, "-m", "rag.cli", "stats", "--json", "--data-dir", data_dir],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        return None
    return {"documents": int(data.get("documents", 0)), "chunks": int(data.get("chunks", 0))}


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def run(url: str, users: int, seconds: float, ingest: IngestRun | None = None, ingest_delay: float = 5.0,
        cli: tuple[str, Path, float, CliIngest] | None = None, ingest_timeout: float = 7200.0) -> tuple[Tally, float]:
    """Start `users` threads that ask until `seconds` have passed; returns the tally and the users'
    wall time. With `ingest`, an upload starts `ingest_delay` seconds in and is waited for (up to
    `ingest_timeout`) even when it outlasts the users; `cli` also runs `rag ingest --wait`."""
    tally = Tally()
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=_user, args=(url, deadline, tally, i), daemon=True) for i in range(users)]
    extra: list[threading.Thread] = []
    if ingest is not None:
        extra.append(threading.Thread(target=_uploader, args=(url, ingest, ingest_delay), daemon=True))
    if cli is not None:
        data_dir, path, wait, out = cli
        extra.append(threading.Thread(target=_cli_ingest, args=(data_dir, path, wait, ingest_delay, out), daemon=True))
    start = time.perf_counter()
    for t in threads + extra:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 600)
    wall = time.perf_counter() - start
    for t in extra:
        t.join(timeout=ingest_timeout)
    return tally, wall


def _loadavg() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def report(tally: Tally, wall: float, users: int, seconds: float, command: str, target: str,
           ingest: IngestRun | None = None, cli: CliIngest | None = None,
           counts: tuple[dict[str, int] | None, dict[str, int] | None] = (None, None),
           load_start: str = "") -> str:
    """The Markdown section appended to bench/RESULTS.md."""
    lat = tally.latencies
    done = len(lat)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    title = f"## Web page under load: {users} users asking for {seconds:.0f} s"
    if ingest is not None:
        title += f" while an upload of {len(ingest.files)} file{'s' * (len(ingest.files) != 1)} is ingested"
    lines = [
        f"{title} ({when})",
        "",
        f"Command: `{command}`  ",
        f"Target: {target} (`rag serve`, queue concurrency 2, Library calls serialised by a lock)  ",
        f"Machine: {os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, Python "
        f"{platform.python_version()}, load average (1 / 5 / 15 min) {load_start + ' at the start, ' if load_start else ''}"
        f"{_loadavg()} at the end (other jobs included)",
        "",
        "| users | seconds | answers | errors | abstained | answers/s | p50 s | p95 s | max s |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {users} | {wall:.0f} | {done} | {len(tally.errors)} | {tally.abstained} | {done / wall:.2f} | "
        f"{_percentile(lat, 0.5):.2f} | {_percentile(lat, 0.95):.2f} | {max(lat) if lat else float('nan'):.2f} |",
        "",
    ]
    if tally.errors:
        lines += ["Errors (first 10):", ""] + [f"- {e}" for e in tally.errors[:10]] + [""]
    if ingest is not None:
        lines += _ingest_lines(tally, ingest, counts)
    if cli is not None:
        lines += [f"Second writer process: `{cli.command}` exited with {cli.returncode} after "
                  f"{cli.seconds or 0:.0f} s: {' '.join(cli.output.split())[:400] or '(no output)'}", ""]
    if lat:
        lines += [f"Mean latency {statistics.mean(lat):.2f} s. Every answer waits for the ones queued before it: "
                  "with one shared model and Library, latency grows with the number of users, "
                  "throughput stays that of one worker.", ""]
    return "\n".join(lines)


def _ingest_lines(tally: Tally, ingest: IngestRun,
                  counts: tuple[dict[str, int] | None, dict[str, int] | None]) -> list[str]:
    lines = [f"Upload through `/add_files` ({len(ingest.files)} file{'s' * (len(ingest.files) != 1)}, "
             f"{ingest.bytes / 2**20:.1f} MB), sent {ingest.delay:g} s after the users started:", ""]
    if ingest.error:
        lines += [f"- **failed**: {ingest.error}"]
    results: dict[str, int] = {}
    for _, result, _ in ingest.rows:
        results[result] = results.get(result, 0) + 1
    if ingest.rows:
        lines += [f"- result per file: {', '.join(f'{n} {r}' for r, n in sorted(results.items()))}; "
                  f"first file: {ingest.rows[0][0]}: {ingest.rows[0][2]}"]
        if len(ingest.rows) > 1:
            lines += [f"- last file: {ingest.rows[-1][0]}: {ingest.rows[-1][2]}"]
    if ingest.seconds is not None:
        lines += [f"- upload and ingestion took {ingest.seconds:.0f} s (request sent to result received)"]
    before, after = counts
    if before and after:
        lines += [f"- store before → after: {before['documents']} → {after['documents']} documents "
                  f"(+{after['documents'] - before['documents']}), {before['chunks']} → {after['chunks']} passages "
                  f"(+{after['chunks'] - before['chunks']})"]
    if ingest.start is not None and ingest.end is not None:
        during = [e - s for s, e in tally.spans if s < ingest.end and e > ingest.start]
        outside = [e - s for s, e in tally.spans if not (s < ingest.end and e > ingest.start)]
        for name, values in (("overlapping the ingestion", during), ("not overlapping it", outside)):
            if values:
                lines += [f"- answers {name}: {len(values)}, p50 {_percentile(values, 0.5):.2f} s, "
                          f"p95 {_percentile(values, 0.95):.2f} s, max {max(values):.2f} s"]
            else:
                lines += [f"- answers {name}: none"]
    return lines + [""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running `rag serve` (default: start one on --data-dir)")
    parser.add_argument("--data-dir", default=".rag", help="data dir for the server this script starts")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "RESULTS.md")
    parser.add_argument("--no-append", action="store_true", help="print the section, do not append it")
    parser.add_argument("--ingest", type=Path, metavar="PATH",
                        help="upload PATH (file or folder) through /add_files while the users ask")
    parser.add_argument("--ingest-split", type=int, default=0, metavar="N",
                        help="cut a JSONL file into files of N records before uploading (default: one file)")
    parser.add_argument("--ingest-delay", type=float, default=5.0, metavar="SECONDS",
                        help="start the upload this long after the users (default 5)")
    parser.add_argument("--cli-ingest-wait", type=float, metavar="SECONDS",
                        help="also run `rag ingest PATH --wait SECONDS` in another process on --data-dir")
    args = parser.parse_args(argv)
    if args.cli_ingest_wait is not None and (args.ingest is None or args.url):
        parser.error("--cli-ingest-wait needs --ingest PATH and a server this script starts (--data-dir)")

    ingest = None
    if args.ingest is not None:
        files = upload_files(args.ingest, args.ingest_split)
        ingest = IngestRun(files=files, bytes=sum(f.stat().st_size for f in files), delay=args.ingest_delay)
    cli = None
    if args.cli_ingest_wait is not None:
        cli = CliIngest(command=f"rag ingest {args.ingest} --data-dir {args.data_dir} --wait {args.cli_ingest_wait:g}")
    counts_before = _store_counts(args.data_dir) if ingest is not None and args.url is None else None
    counts_after = None
    load_start = _loadavg()

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
        tally, wall = run(url, args.users, args.seconds, ingest, args.ingest_delay,
                          (args.data_dir, args.ingest, args.cli_ingest_wait, cli) if cli else None)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    if counts_before is not None:
        counts_after = _store_counts(args.data_dir)
    command = "python bench/load_ui.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    section = report(tally, wall, args.users, args.seconds, command.strip(), url, ingest, cli,
                     (counts_before, counts_after), load_start)
    print(section)
    if not args.no_append:
        with args.results.open("a") as handle:
            handle.write("\n" + section)
    failed = bool(tally.errors) or (ingest is not None and (ingest.error is not None or not ingest.rows
                                                            or any(r == "failed" for _, r, _ in ingest.rows)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
