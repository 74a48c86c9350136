"""Fine-tune all-MiniLM-L6-v2 as a cross-encoder (BERT with one logit over "query [SEP]
passage"), listwise: each query's positive against mined hard negatives of its own answer's
document and of other documents and one in-batch passage, softmax cross-entropy over the group."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

from training.base import base_model_path, is_frozen, trainable_optimizer
from training.biencoder import lr_at
from training.data import batches
from training.mining import Example, Passage

MAX_LENGTH = 192
"""Tokens of query + passage the cross-encoder reads (training and scoring alike)."""


def load_base_crossencoder():
    """BERT from the all-MiniLM-L6-v2 weights with a fresh one-logit head, and its tokenizer."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # "some weights newly initialised": the head, as intended
    path = str(base_model_path())
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1, local_files_only=True)
    return model, AutoTokenizer.from_pretrained(path, local_files_only=True)


def encode_pairs(tokenizer, queries: list[str], passages: list[str], max_length: int = MAX_LENGTH):
    """Tokenised (query, passage) pairs, the longer side cut first to fit `max_length`."""
    return tokenizer(queries, passages, truncation="longest_first", max_length=max_length,
                     padding=True, return_tensors="pt")


def train_crossencoder(examples: list[Example], passages: dict[str, Passage], out: Path, *, steps: int,
                       batch_size: int = 8, negatives: int = 3, lr: float = 3e-5, seed: int = 13,
                       checkpoint_every: int = 200, max_length: int = MAX_LENGTH,
                       log: Callable[[str], None] = print) -> Path:
    """Train for `steps` batches of `batch_size` queries x (1 + `negatives`) passages."""
    import torch
    import torch.nn.functional as F
    from safetensors.torch import save_file

    random.seed(seed)
    torch.manual_seed(seed)
    model, tokenizer = load_base_crossencoder()
    opt = trainable_optimizer(model, lr)
    model.train()
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    start = time.perf_counter()
    seen = 0
    step = -1

    def save(tag: str) -> Path:
        path = out / f"{tag}.safetensors"
        state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items() if not is_frozen(k)}
        save_file(state, str(path), metadata={"step": str(step + 1), "max_length": str(max_length)})
        return path

    stream = batches(examples, passages, batch_size, seed)
    for step in range(steps):
        epoch, batch = next(stream)
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps, lr)
        queries, texts = [], []
        for r, item in enumerate(batch):
            ex = item.example
            group_ids = [item.negative_id]
            for pool in (ex.neg_same, ex.neg_other):
                options = [p for p in pool if p not in group_ids]
                if options and len(group_ids) < negatives - 1:
                    group_ids.append(rng.choice(options))
            others = [b.positive_id for b in batch if b.positive_id not in item.relevant]
            while len(group_ids) < negatives and others:
                pick = rng.choice(others)
                if pick not in group_ids:
                    group_ids.append(pick)
                others.remove(pick)
            while len(group_ids) < negatives:  # tiny batches only
                group_ids.append(item.negative_id)
            queries.extend([item.query] * (1 + negatives))
            texts.extend([item.positive] + [passages[g].text for g in group_ids])
        features = encode_pairs(tokenizer, queries, texts, max_length)
        logits = model(**features).logits.view(len(batch), 1 + negatives)
        loss = F.cross_entropy(logits, torch.zeros(len(batch), dtype=torch.long))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(opt.param_groups[0]["params"], 1.0)  # the trained parameters
        opt.step()
        opt.zero_grad(set_to_none=True)
        seen += len(batch) * (1 + negatives)
        if (step + 1) % 10 == 0 or step == 0:
            spent = time.perf_counter() - start
            rate = seen / spent
            log(f"ce step {step + 1}/{steps} epoch {epoch} loss {loss.item():.4f} lr {lr_at(step, steps, lr):.2e} "
                f"{rate:.2f} pairs/s elapsed {spent / 60:.1f} min "
                f"eta {(steps - step - 1) * len(batch) * (1 + negatives) / rate / 60:.1f} min")
        if (step + 1) % checkpoint_every == 0:
            save(f"step{step + 1:05d}")
    final = save("final")
    log(f"ce done: {steps} steps, {seen} pairs in {(time.perf_counter() - start) / 60:.1f} min -> {final}")
    return final
