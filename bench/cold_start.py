"""Cold start of the command line: how long a fresh `rag search` / `rag ask` process takes to print
its first hit, against a bare interpreter that imports numpy (issue 14: within 8x of it).

Each repeat runs, in fresh processes and in turn (so that a change in the machine's load hits
every command alike): `python -c "import numpy"`, then for every code variant
`python -m rag.cli search QUERY --data-dir D` and `python -m rag.cli ask QUESTION --data-dir D`.
A variant is a checkout of the project (`--code NAME=PATH`, put first on PYTHONPATH), so one run
can time the code before and after a change under the same load. Children run with
PYTHONUNBUFFERED=1 and the time to the first hit is when the first line of a hit reaches the
pipe (`search`: the line starting " 1. ["; `ask`: the first line of the answer); the total is
when the process has exited. Every run is checked: exit code 0 and a hit printed.

Two conditions: idle (nothing started by the bench) and busy (the bench starts one Python
process spinning on one core for the length of the condition and stops it after). The machine
is shared: the load average at the start and end of each condition is recorded, and the
ratios (command / numpy) are taken within the condition.

It also runs each variant's `search` once under `python -X importtime` and sums the modules'
own import time by top-level package (what the command pays for before it does anything).

The data dir (the bundled data/sample ingested with the first variant) is made once in
`--work` and reused.

    nice -n 5 .venv/bin/python bench/cold_start.py --code before=/tmp/cold-before --code after=. \\
        --repeats 5 --append bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # scale_common, also when loaded by a test

from scale_common import machine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
QUERY = "NATO expansion"
QUESTION = "What did Lavrov say about NATO expansion?"
TARGET = 8.0  # issue 14: first hit within 8x the start of `python -c "import numpy"`
HIT_LINE = {"search": re.compile(r"^\s*1\. \["), "ask": re.compile(r"\S")}
BUSY_LOOP = "while True:\n    pass"
HEAVY = ("torch", "transformers", "sentence_transformers", "gradio", "matplotlib", "llama_index")


@dataclass
class Run:
    """One timed process: seconds to its first hit line (None: no hit) and to its exit."""

    first: float | None
    total: float
    rc: int
    output: str = field(repr=False, default="")


def child_env(code: Path | None) -> dict[str, str]:
    """The environment of a timed process: offline, unbuffered, `code` first on the path."""
    env = dict(os.environ)
    env.update(PYTHONUNBUFFERED="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               GRADIO_ANALYTICS_ENABLED="False", TOKENIZERS_PARALLELISM="false")
    if code is not None:
        env["PYTHONPATH"] = str(code)
    else:
        env.pop("PYTHONPATH", None)
    return env


def timed(cmd: list[str], env: dict[str, str], hit: re.Pattern[str] | None, cwd: Path) -> Run:
    """Start `cmd`, note when a line matching `hit` arrives on its stdout and when it exits."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd,
                            text=True, encoding="utf-8", errors="replace")
    first = None
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        if first is None and hit is not None and hit.search(line):
            first = time.perf_counter() - t0
        lines.append(line)
    err = proc.stderr.read() if proc.stderr else ""
    rc = proc.wait()
    total = time.perf_counter() - t0
    if rc != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {rc}:\n{err[-2000:]}")
    return Run(first=first, total=total, rc=rc, output="".join(lines))


def commands(python: str, data_dir: Path) -> dict[str, list[str]]:
    """The timed commands of a project variant."""
    return {
        "search": [python, "-m", "rag.cli", "search", QUERY, "--data-dir", str(data_dir)],
        "ask": [python, "-m", "rag.cli", "ask", QUESTION, "--data-dir", str(data_dir)],
    }


def ensure_data(python: str, code: Path, data_dir: Path) -> None:
    """data/sample ingested into `data_dir` (once; an ingest of an unchanged sample does nothing)."""
    cmd = [python, "-m", "rag.cli", "ingest", str(ROOT / "data" / "sample"), "--data-dir", str(data_dir),
           "--quiet"]
    out = subprocess.run(cmd, env=child_env(code), cwd=code, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"ingest failed:\n{out.stderr[-2000:]}")
    print(out.stdout.strip(), file=sys.stderr)


def measure(python: str, variants: dict[str, Path], data_dir: Path, repeats: int,
            what: list[str]) -> dict[str, Any]:
    """`repeats` rounds of numpy + every command of every variant, in turn; raw seconds."""
    runs: dict[str, list[dict[str, Any]]] = {"numpy": []}
    outputs: dict[str, str] = {}
    numpy_cmd = [python, "-c", "import numpy"]
    for r in range(repeats):
        n = timed(numpy_cmd, child_env(None), None, ROOT)
        runs["numpy"].append({"first": n.total, "total": n.total})
        for name, code in variants.items():
            for cmd_name, cmd in commands(python, data_dir).items():
                if cmd_name not in what:
                    continue
                run = timed(cmd, child_env(code), HIT_LINE[cmd_name], code)
                if run.first is None:
                    raise RuntimeError(f"{name} {cmd_name}: no hit printed:\n{run.output[:2000]}")
                runs.setdefault(f"{name} {cmd_name}", []).append({"first": run.first, "total": run.total})
                outputs.setdefault(f"{name} {cmd_name}", run.output)
        print(f"  repeat {r + 1}/{repeats}: " + ", ".join(
            f"{k} {v[-1]['first']:.2f}" for k, v in runs.items()), file=sys.stderr, flush=True)
    return {"runs": runs, "outputs": outputs}


def import_breakdown(python: str, code: Path, data_dir: Path, top: int = 12) -> dict[str, Any]:
    """Own import time summed by top-level package for one `rag search` under -X importtime,
    and which heavy packages it imported at all."""
    cmd = [python, "-X", "importtime", "-m", "rag.cli", "search", QUERY, "--data-dir", str(data_dir)]
    out = subprocess.run(cmd, env=child_env(code), cwd=code, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"importtime run failed:\n{out.stderr[-2000:]}")
    by_package: dict[str, int] = {}
    total = 0
    for line in out.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)", line)
        if not m:
            continue
        own, name = int(m.group(1)), m.group(4)
        root = name.split(".")[0]
        by_package[root] = by_package.get(root, 0) + own
        total += own
    ranked = sorted(by_package.items(), key=lambda kv: -kv[1])
    return {"total_s": total / 1e6, "modules": sum(1 for ln in out.stderr.splitlines()
                                                     if ln.startswith("import time:") and "|" in ln) - 1,
            "top": [(k, v / 1e6) for k, v in ranked[:top]],
            "heavy": [h for h in HEAVY if h in by_package]}


def summarize(raw: dict[str, Any]) -> dict[str, Any]:
    """Median, min and max of first-hit and total seconds per command; ratios to numpy's median."""
    out: dict[str, Any] = {}
    numpy_median = statistics.median(r["total"] for r in raw["runs"]["numpy"])
    for name, runs in raw["runs"].items():
        firsts = [r["first"] for r in runs]
        totals = [r["total"] for r in runs]
        out[name] = {"first_median": statistics.median(firsts), "first_min": min(firsts),
                     "first_max": max(firsts), "total_median": statistics.median(totals),
                     "ratio": statistics.median(firsts) / numpy_median, "n": len(runs)}
    return out


def condition(python: str, variants: dict[str, Path], data_dir: Path, repeats: int, busy: bool,
              what: list[str]) -> dict[str, Any]:
    """One condition (idle or busy), with the load average before and after."""
    spinner = subprocess.Popen([python, "-c", BUSY_LOOP]) if busy else None
    try:
        if spinner:
            time.sleep(1.0)  # let it take its core
        load_before = os.getloadavg()
        raw = measure(python, variants, data_dir, repeats, what)
        load_after = os.getloadavg()
    finally:
        if spinner:
            spinner.kill()
            spinner.wait()
    return {"busy": busy, "load_before": load_before, "load_after": load_after, "raw": raw["runs"],
            "summary": summarize(raw), "outputs": raw["outputs"]}


def versions_of(python: str) -> str:
    """Python and the packages on the read path, as the timed interpreter sees them."""
    code = ("import platform\nfrom importlib import metadata\nout=[]\n"
            "for n in ('numpy','tokenizers','safetensors','qdrant-edge-py','llama-index-core',"
            "'sentence-transformers','transformers','torch','onnxruntime'):\n"
            "    try: out.append(f'{n} {metadata.version(n)}')\n"
            "    except metadata.PackageNotFoundError: pass\n"
            "print(f'Python {platform.python_version()}; ' + ', '.join(out))")
    return subprocess.run([python, "-c", code], capture_output=True, text=True).stdout.strip()


def git_rev(code: Path) -> str:
    """The commit a variant is at (with a + when its tree has changes)."""
    rev = subprocess.run(["git", "-C", str(code), "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(code), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return rev + ("+" if dirty else "") if rev else "?"


def report(result: dict[str, Any]) -> str:
    """The RESULTS.md section."""
    lines = [f"## Cold start of `rag search` / `rag ask` (issue 14) ({result['when']})", "",
             f"`{result['command']}`", "",
             f"Machine: {result['machine']['nproc']} cores ({result['machine']['cpu']}), "
             f"{result['machine']['ram_gb']} GB RAM, shared. {result['versions']}.",
             "Variants: " + ", ".join(f"**{k}** = {v}" for k, v in result["variants"].items()) + ".",
             f"Data dir: data/sample ingested ({result['chunks']}). Each repeat runs every command once in "
             "a fresh process, in turn; first hit = the first hit line on stdout (PYTHONUNBUFFERED=1); "
             "ratio = median first hit / median `python -c \"import numpy\"` of the same condition; "
             f"target: ratio <= {TARGET:g}.", ""]
    for cond in result["conditions"]:
        label = "busy (one core spinning in a second process)" if cond["busy"] else "idle (nothing started)"
        lb, la = cond["load_before"], cond["load_after"]
        lines += [f"### {label}: {cond['summary']['numpy']['n']} repeats, load average "
                  f"{lb[0]:.2f} before, {la[0]:.2f} after", "",
                  "| command | first hit median (min-max) s | total median s | first hit / numpy | target |",
                  "|---|---|---|---|---|"]
        for name, s in cond["summary"].items():
            shown = "`python -c \"import numpy\"`" if name == "numpy" else f"{name}"
            met = "" if name == "numpy" else ("met" if s["ratio"] <= TARGET else "not met")
            lines.append(f"| {shown} | {s['first_median']:.2f} ({s['first_min']:.2f}-{s['first_max']:.2f}) "
                         f"| {s['total_median']:.2f} | {s['ratio']:.1f}x | {met} |")
        same = result.get("same_hits", {}).get("idle" if not cond["busy"] else "busy")
        if same:
            lines.append("")
            lines.append("Hits printed: " + "; ".join(same))
        lines.append("")
    lines += ["### Import time of one `rag search` (`-X importtime`, own time summed by top-level "
              "package)", ""]
    for name, info in result["imports"].items():
        top = ", ".join(f"{k} {v:.2f}" for k, v in info["top"])
        heavy = ", ".join(info["heavy"]) or "none"
        lines.append(f"- **{name}**: {info['modules']} modules, {info['total_s']:.2f} s in all; "
                     f"heavy packages imported: {heavy}. Top: {top}.")
    lines.append("")
    return "\n".join(lines)


def same_hits(outputs: dict[str, str], variants: list[str]) -> list[str]:
    """Whether every variant printed the same search and ask output as the first variant."""
    if len(variants) < 2:
        return []
    notes = []
    for cmd in ("search", "ask"):
        base = outputs.get(f"{variants[0]} {cmd}")
        if base is None:
            continue
        for other in variants[1:]:
            got = outputs.get(f"{other} {cmd}")
            if got is not None:
                notes.append(f"{other} {cmd} {'identical to' if got == base else 'DIFFERS from'} "
                             f"{variants[0]}'s")
    return notes


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--code", action="append", metavar="NAME=PATH",
                    help="a checkout of the project to time (repeatable; default: this one as 'current')")
    ap.add_argument("--python", default=sys.executable, help="the interpreter of the timed processes")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--conditions", default="idle,busy", help="idle, busy or both (comma-separated)")
    ap.add_argument("--commands", default="search,ask", help="search, ask or both")
    ap.add_argument("--work", default="/tmp/cold_start", help="data dir and result.json go here")
    ap.add_argument("--append", help="append the section to this markdown file")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the conditions, print the section, optionally append it to RESULTS.md."""
    args = parse_args(argv)
    variants: dict[str, Path] = {}
    for spec in args.code or [f"current={ROOT}"]:
        name, _, path = spec.partition("=")
        if not path:
            raise SystemExit(f"--code {spec!r}: use NAME=PATH")
        variants[name] = Path(path).resolve()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    data_dir = work / "data"
    first_code = next(iter(variants.values()))
    ensure_data(args.python, first_code, data_dir)
    stats = subprocess.run([args.python, "-m", "rag.cli", "stats", "--json", "--data-dir", str(data_dir)],
                           env=child_env(first_code), cwd=first_code, capture_output=True, text=True)
    info = json.loads(stats.stdout)
    what = [c for c in args.commands.split(",") if c]
    result: dict[str, Any] = {
        "when": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python bench/cold_start.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine(), "versions": versions_of(args.python),
        "variants": {k: f"{v} @ {git_rev(v)}" for k, v in variants.items()},
        "chunks": f"{info['documents']} documents, {info['chunks']} chunks",
        "conditions": [], "imports": {}, "same_hits": {},
    }
    for cond in [c for c in args.conditions.split(",") if c]:
        print(f"{cond}:", file=sys.stderr, flush=True)
        out = condition(args.python, variants, data_dir, args.repeats, busy=cond == "busy", what=what)
        result["same_hits"][cond] = same_hits(out.pop("outputs"), list(variants))
        result["conditions"].append(out)
    for name, code in variants.items():
        result["imports"][name] = import_breakdown(args.python, code, data_dir)
    (work / "result.json").write_text(json.dumps(result, indent=2, default=str))
    section = report(result)
    print(section)
    if args.append:
        with open(args.append, "a", encoding="utf-8") as fh:
            fh.write("\n" + section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
