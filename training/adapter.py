"""A query adapter: a residual linear map on all-MiniLM-L6-v2 query vectors,
q' = normalise(q + A q + b), trained with MultipleNegativesRankingLoss against the whole bank of
training answer passages (their all-MiniLM-L6-v2 vectors, exactly what the index holds).

It needs no gradient through the transformer: the query vectors are computed once, and training
is matrix products over a few thousand rows, seconds a pass on a CPU. Passages are never
re-embedded and a query costs one MiniLM embedding plus a 384 x 384 product.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from training.biencoder import SCALE
from training.query_encoder import DUPLICATE_COS
from training.data import epoch_examples
from training.mining import Example


def train_adapter(examples: list[Example], query_vectors: dict[str, np.ndarray], bank_pids: list[str],
                  bank: np.ndarray, out: Path, *, epochs: int = 10, batch_size: int = 256, lr: float = 1e-3,
                  weight_decay: float = 0.01, seed: int = 13, log: Callable[[str], None] = print) -> Path:
    """Train A (384 x 384, from zero) and b; `query_vectors` maps qid to its MiniLM vector."""
    import torch
    import torch.nn.functional as F
    from safetensors.torch import save_file

    random.seed(seed)
    torch.manual_seed(seed)
    row = {p: i for i, p in enumerate(bank_pids)}
    usable = [e for e in examples if e.positive in row and e.qid in query_vectors]
    log(f"adapter: {len(usable)} examples with their positive in a bank of {len(bank_pids)} passages")
    bank_t = torch.from_numpy(np.ascontiguousarray(bank, dtype=np.float32))
    dim = bank_t.shape[1]
    a = torch.zeros(dim, dim, requires_grad=True)
    b = torch.zeros(dim, requires_grad=True)
    opt = torch.optim.AdamW([a, b], lr=lr, weight_decay=weight_decay)
    start = time.perf_counter()
    steps = 0
    for epoch in range(epochs):
        chosen = epoch_examples(usable, epoch, seed)
        total, count = 0.0, 0
        for i in range(0, len(chosen) - batch_size + 1, batch_size):
            batch = chosen[i:i + batch_size]
            labels = torch.tensor([row[e.positive] for e in batch])
            q0 = torch.from_numpy(np.stack([query_vectors[e.qid] for e in batch]))
            with torch.no_grad():
                mask = (bank_t[labels] @ bank_t.T) > DUPLICATE_COS
                for r, e in enumerate(batch):
                    mask[r, [row[p] for p in e.relevant if p in row]] = True
                mask[torch.arange(len(batch)), labels] = False
            q = F.normalize(q0 + q0 @ a.T + b, dim=1)
            loss = F.cross_entropy((q @ bank_t.T * SCALE).masked_fill(mask, -math.inf), labels)
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            total, count, steps = total + loss.item(), count + 1, steps + 1
        log(f"adapter epoch {epoch + 1}/{epochs}: mean loss {total / max(1, count):.4f}, "
            f"{steps} steps, {time.perf_counter() - start:.0f} s")
    out.mkdir(parents=True, exist_ok=True)
    path = out / "final.safetensors"
    save_file({"adapter.weight": a.detach().contiguous(), "adapter.bias": b.detach().contiguous()}, str(path),
              metadata={"epochs": str(epochs), "batch_size": str(batch_size), "lr": str(lr),
                        "weight_decay": str(weight_decay), "seed": str(seed), "bank": str(len(bank_pids)),
                        "examples": str(len(usable)), "side": "query", "form": "q + A q + b, normalised"})
    return path


def apply_adapter(vectors: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """normalise(q + A q + b) for rows q."""
    out = vectors + vectors @ weight.T + bias
    return out / np.linalg.norm(out, axis=1, keepdims=True)
