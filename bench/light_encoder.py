"""The numpy query encoder (rag.models.light_encoder) against the torch model it stands in for.

1. Agreement: the minimum and mean cosine between its vectors and sentence-transformers' float32
   ones over real queries and sentences: the questions of eval/datasets (statements, red team) and
   sentences of data/sample, plus edge cases (empty, whitespace, over 256 tokens, non-ASCII).
2. Speed, in this process, interleaved `--repeats` times: one query, and `--sentences` sentences
   of one sample document (what `rag ask`'s extractive answerer embeds: at most 80); the light
   encoder on one BLAS thread (what it uses) and on the default two, the torch model as
   `Embedder.embed` runs it. Optionally (`--onnx MODEL.onnx`, with onnxruntime importable, e.g.
   `--site /tmp/ortvenv/lib/python3.11/site-packages`) ONNX Runtime over an export of the same
   BertModel (see `--export`), pooled and normalised the same way.
3. Opening cost in a fresh process: importing and opening each encoder, then one query.

    nice -n 5 .venv/bin/python bench/light_encoder.py --repeats 3
    # ONNX export (needs the `onnx` package) and the comparison with onnxruntime:
    .venv/bin/python bench/light_encoder.py --export /tmp/minilm.onnx --site /tmp/ortvenv/lib/python3.11/site-packages
    .venv/bin/python bench/light_encoder.py --onnx /tmp/minilm.onnx --site /tmp/ortvenv/lib/python3.11/site-packages
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest.sentences import split_sentences  # noqa: E402
from rag.models.embedding import Embedder, _minilm_path  # noqa: E402
from rag.models.light_encoder import LightEncoder  # noqa: E402
from scale_common import machine  # noqa: E402


def real_texts() -> list[str]:
    """Questions of the evaluation sets and sentences of the sample documents, and edge cases."""
    texts = []
    for name in ("statements.jsonl", "redteam.jsonl"):
        for line in (ROOT / "eval" / "datasets" / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["question"])
    for path in sorted((ROOT / "data" / "sample").rglob("*.txt")):
        text = path.read_text(encoding="utf-8")
        texts += [text[a:b] for a, b in split_sentences(text)][:60]
    return texts + ["", "   ", "  NATO expansion  ", "security " * 400, "Émigrés — “quoted” ß 中文 😀"]


def ask_sentences(n: int) -> list[str]:
    """`n` sentences of the seed document, as the extractive answerer would embed them."""
    path = next((ROOT / "data" / "sample" / "seed").glob("*.txt"))
    text = path.read_text(encoding="utf-8")
    return [text[a:b] for a, b in split_sentences(text)][:n]


class OnnxEncoder:
    """ONNX Runtime over an exported BertModel (last_hidden_state), mean-pooled and normalised."""

    def __init__(self, model: Path, threads: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(model), so, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(Path(_minilm_path()) / "tokenizer.json"))
        self.tokenizer.enable_truncation(256)
        self.tokenizer.no_padding()

    def embed(self, texts: list[str], batch: int = 32) -> np.ndarray:
        ids = [e.ids for e in self.tokenizer.encode_batch(texts)]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = np.empty((len(ids), 384), dtype=np.float32)
        for start in range(0, len(order), batch):
            rows = order[start:start + batch]
            length = max(len(ids[i]) for i in rows)
            a = np.zeros((len(rows), length), dtype=np.int64)
            m = np.zeros_like(a)
            for j, i in enumerate(rows):
                a[j, :len(ids[i])] = ids[i]
                m[j, :len(ids[i])] = 1
            h = self.session.run(None, {"input_ids": a, "attention_mask": m, "token_type_ids": np.zeros_like(a)})[0]
            pooled = (h * m[:, :, None]).sum(1) / np.maximum(m.sum(1, keepdims=True), 1)
            out[rows] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return out


def export_onnx(target: Path) -> None:
    """Export the model folder's BertModel to ONNX (the legacy TorchScript exporter, opset 17)."""
    import torch
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(_minilm_path()).eval()

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    ids = torch.tensor([[101, 2000, 2001, 102]])
    names = ["input_ids", "attention_mask", "token_type_ids"]
    torch.onnx.export(Hidden(), (ids, torch.ones_like(ids), torch.zeros_like(ids)), str(target),
                      input_names=names, output_names=["last_hidden_state"],
                      dynamic_axes={n: {0: "batch", 1: "length"} for n in names + ["last_hidden_state"]},
                      opset_version=17, dynamo=False)


def timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


COLD = {
    "light": ("from rag.models.embedding import _minilm_path\nfrom rag.models.light_encoder import LightEncoder\n"
              "e = LightEncoder.open(_minilm_path())"),
    "torch": "from rag.models.embedding import Embedder\ne = Embedder(precision='fp32'); e.model",
    "onnx": ("import sys; sys.path.insert(0, {bench!r}); sys.path.insert(0, {site!r})\n"
             "from light_encoder import OnnxEncoder\nfrom pathlib import Path\n"
             "e = OnnxEncoder(Path({onnx!r}), 1)"),
}


def cold_open(kind: str, args: argparse.Namespace) -> dict[str, float]:
    """A fresh process: import + open the encoder, then embed one query; seconds of each."""
    code = ("import time; t0 = time.perf_counter()\n"
            + COLD[kind].format(bench=str(Path(__file__).parent), site=args.site or "", onnx=str(args.onnx)) + "\n"
            "t1 = time.perf_counter(); e.embed(['NATO expansion']); t2 = time.perf_counter()\n"
            "print(t1 - t0, t2 - t1)")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - t0
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    opened, first = (float(x) for x in out.stdout.split()[-2:])
    return {"open": opened, "first": first, "wall": wall}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sentences", type=int, default=80)
    ap.add_argument("--onnx", type=Path, help="an ONNX export of the model to compare (needs onnxruntime)")
    ap.add_argument("--site", help="a site-packages folder with onnxruntime (and onnx for --export)")
    ap.add_argument("--export", type=Path, help="write the ONNX export here and stop")
    args = ap.parse_args(argv)
    if args.site:
        sys.path.insert(0, args.site)
    if args.export:
        export_onnx(args.export)
        print(f"exported to {args.export} ({args.export.stat().st_size:,} bytes)")
        return 0
    from threadpoolctl import threadpool_limits

    light = LightEncoder.open(_minilm_path())
    torch_model = Embedder(precision="fp32")
    texts = real_texts()
    ours, theirs = light.embed(texts), torch_model.embed(texts)
    cos = (ours * theirs).sum(axis=1)
    print(f"agreement with torch float32 over {len(texts)} real queries and sentences: "
          f"min cosine {cos.min():.7f}, mean {cos.mean():.7f}")
    encoders: dict[str, Callable[[list[str]], Any]] = {"light, 1 BLAS thread": light.embed}

    def two_threads(batch: list[str]) -> Any:
        with threadpool_limits(2, user_api="blas"):
            ids = light.token_ids(batch)
            order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
            return [light._forward([ids[i] for i in order[s:s + 32]]) for s in range(0, len(order), 32)]

    encoders["light, 2 BLAS threads"] = two_threads
    encoders["torch (Embedder.embed)"] = torch_model.embed
    if args.onnx:
        onnx = OnnxEncoder(args.onnx, 1)
        oc = (onnx.embed(texts) * theirs).sum(axis=1)
        print(f"onnxruntime agreement: min cosine {oc.min():.7f}")
        encoders["onnxruntime, 1 thread"] = onnx.embed
        encoders["onnxruntime, 2 threads"] = OnnxEncoder(args.onnx, 2).embed
    sentences = ask_sentences(args.sentences)
    tokens = sum(len(x) for x in light.token_ids(sentences))
    for fn in encoders.values():  # warm up
        fn(["warm up"])
        fn(sentences[:4])
    times: dict[str, dict[str, list[float]]] = {name: {"query": [], "sentences": []} for name in encoders}
    load0 = os.getloadavg()
    for _ in range(args.repeats):
        for name, fn in encoders.items():
            times[name]["query"].append(timed(lambda: fn(["What did Lavrov say about NATO expansion?"])))
            times[name]["sentences"].append(timed(lambda: fn(sentences)))
    cold = {kind: cold_open(kind, args) for kind in (["light", "torch"] + (["onnx"] if args.onnx else []))}
    load1 = os.getloadavg()
    m = machine()
    print(f"\nmachine: {m['nproc']} cores ({m['cpu']}), load average {load0[0]:.2f} before, {load1[0]:.2f} after; "
          f"{args.repeats} repeats, medians")
    print(f"| encoder | one query ms | {len(sentences)} sentences ({tokens} tokens) s |")
    print("|---|---|---|")
    for name, t in times.items():
        print(f"| {name} | {statistics.median(t['query']) * 1000:.1f} | {statistics.median(t['sentences']):.2f} |")
    print("\n| fresh process | import + open s | first query ms | process wall s |")
    print("|---|---|---|---|")
    for kind, c in cold.items():
        print(f"| {kind} | {c['open']:.2f} | {c['first'] * 1000:.0f} | {c['wall']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
