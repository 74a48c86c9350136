"""Fine-tune all-MiniLM-L6-v2 as a bi-encoder with MultipleNegativesRankingLoss: each query
against its positive, every other positive of the batch and every mined hard negative of the
batch (passages of the query's own answer are masked, not counted as negatives)."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from pathlib import Path

from training.base import base_model_path, is_frozen, trainable_optimizer
from training.data import batches
from training.mining import Example, Passage

SCALE = 20.0  # sentence-transformers' MNRL default (cosine similarities times 20)


def load_base_biencoder():
    """The base SentenceTransformer (Transformer, mean pooling, normalisation), offline."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(base_model_path()), device="cpu", local_files_only=True)


def lr_at(step: int, steps: int, lr: float, warmup: float = 0.1) -> float:
    """Linear warm-up over the first `warmup` share of the steps, then linear decay to 0."""
    w = max(1, int(steps * warmup))
    return lr * (step + 1) / w if step < w else lr * max(0.0, (steps - step) / max(1, steps - w))


def train_biencoder(examples: list[Example], passages: dict[str, Passage], out: Path, *, steps: int,
                    batch_size: int = 32, lr: float = 3e-5, seed: int = 13,
                    checkpoint_every: int = 100, frozen_layers: int = 0,
                    log: Callable[[str], None] = print) -> Path:
    """Train for `steps` batches (the embeddings and the first `frozen_layers` encoder layers
    left as they are); checkpoints (every weight but the word embeddings, fp32) go to `out`."""
    import torch
    import torch.nn.functional as F
    from safetensors.torch import save_file

    random.seed(seed)
    torch.manual_seed(seed)
    model = load_base_biencoder()
    bert = model[0].auto_model
    opt = trainable_optimizer(bert, lr, frozen_layers=frozen_layers)
    model.train()
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    seen = 0

    def save(tag: str) -> Path:
        path = out / f"{tag}.safetensors"
        state = {k: v.detach().clone().contiguous() for k, v in bert.state_dict().items() if not is_frozen(k)}
        save_file(state, str(path), metadata={"step": str(step + 1)})
        return path

    def embed(texts: list[str]) -> "torch.Tensor":
        features = model.tokenize(texts)
        return model(features)["sentence_embedding"]

    stream = batches(examples, passages, batch_size, seed)
    step = -1
    for step in range(steps):
        epoch, batch = next(stream)
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps, lr)
        q = embed([i.query for i in batch])
        d = embed([i.positive for i in batch] + [i.negative for i in batch])
        scores = q @ d.T * SCALE
        ids = [i.positive_id for i in batch] + [i.negative_id for i in batch]
        mask = torch.tensor([[c != r and ids[c] in item.relevant for c in range(len(ids))]
                             for r, item in enumerate(batch)])
        scores = scores.masked_fill(mask, -math.inf)
        loss = F.cross_entropy(scores, torch.arange(len(batch)))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(opt.param_groups[0]["params"], 1.0)  # the trained parameters
        opt.step()
        opt.zero_grad(set_to_none=True)
        seen += len(batch)
        if (step + 1) % 10 == 0 or step == 0:
            spent = time.perf_counter() - start
            rate = seen / spent
            log(f"bi step {step + 1}/{steps} epoch {epoch} loss {loss.item():.4f} lr {lr_at(step, steps, lr):.2e} "
                f"{rate:.2f} examples/s ({3 * rate:.1f} texts/s) elapsed {spent / 60:.1f} min "
                f"eta {(steps - step - 1) * batch_size / rate / 60:.1f} min")
        if (step + 1) % checkpoint_every == 0:
            save(f"step{step + 1:05d}")
    final = save("final")
    log(f"bi done: {steps} steps, {seen} examples in {(time.perf_counter() - start) / 60:.1f} min -> {final}")
    return final
