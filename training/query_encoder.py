"""Fine-tune the *query* side of all-MiniLM-L6-v2 against passage vectors the index already
holds (all-MiniLM-L6-v2 on the contextualised passages): MultipleNegativesRankingLoss where every
query of a batch is scored against the whole bank of training answer passages (its positive,
the other positives of the batch, every other answer of its own press conference and of all
other documents). Passages are never re-embedded: the index stays as it is, only queries are
embedded by the fine-tuned model.

Passages of the query's own answer and near-duplicates of its positive (cosine > DUPLICATE_COS
to it: the same talking points repeated in another interview) are masked, not negatives.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from training.base import is_frozen, trainable_optimizer
from training.biencoder import SCALE, load_base_biencoder, lr_at
from training.data import epoch_examples, question_key
from training.mining import Example

DUPLICATE_COS = 0.95


def bank_order(examples: list[Example], seed: int) -> list[str]:
    """Training positives in the order they are embedded: kremlin_en, miller_center and QMSum
    documents first (few and closest to the product's genre), then pm_transcripts documents in a
    seeded random order; a partial bank is then a random subset of documents."""
    by_doc: dict[str, list[str]] = {}
    source: dict[str, str] = {}
    for e in examples:
        if e.split != "train":
            continue
        source[e.doc_id] = e.source
        pids = by_doc.setdefault(e.doc_id, [])
        if e.positive not in pids:
            pids.append(e.positive)
    first = sorted(d for d in by_doc if source[d] != "pm_transcripts")
    rest = sorted(d for d in by_doc if source[d] == "pm_transcripts")
    random.Random(seed).shuffle(rest)
    return [p for d in first + rest for p in by_doc[d]]


def query_batches(examples: list[Example], batch_size: int, seed: int) -> Iterator[tuple[int, list[Example]]]:
    """(epoch, batch) forever; no two examples of a batch share a positive or a question."""
    epoch = 0
    while True:
        pending = epoch_examples(examples, epoch, seed)
        while pending:
            batch, seen, waiting = [], set(), []
            for ex in pending:
                keys = {ex.positive, question_key(ex)}
                if len(batch) < batch_size and not keys & seen:
                    batch.append(ex)
                    seen |= keys
                else:
                    waiting.append(ex)
            pending = waiting
            if len(batch) < batch_size:
                break
            yield epoch, batch
        epoch += 1


def train_query_encoder(examples: list[Example], bank_pids: list[str], bank: np.ndarray, out: Path, *,
                        steps: int, batch_size: int = 64, lr: float = 3e-5, seed: int = 13,
                        checkpoint_every: int = 200, log: Callable[[str], None] = print) -> Path:
    """Train for `steps` batches of queries against the fixed bank (rows = `bank_pids`)."""
    import torch
    import torch.nn.functional as F
    from safetensors.torch import save_file

    random.seed(seed)
    torch.manual_seed(seed)
    row = {p: i for i, p in enumerate(bank_pids)}
    usable = [e for e in examples if e.positive in row]
    log(f"query encoder: {len(usable)} examples with their positive in a bank of {len(bank_pids)} passages")
    bank_t = torch.from_numpy(np.ascontiguousarray(bank, dtype=np.float32))
    model = load_base_biencoder()
    bert = model[0].auto_model
    opt = trainable_optimizer(bert, lr)
    model.train()
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    seen = 0
    step = -1

    def save(tag: str) -> Path:
        path = out / f"{tag}.safetensors"
        state = {k: v.detach().clone().contiguous() for k, v in bert.state_dict().items() if not is_frozen(k)}
        save_file(state, str(path), metadata={"step": str(step + 1), "side": "query"})
        return path

    stream = query_batches(usable, batch_size, seed)
    for step in range(steps):
        epoch, batch = next(stream)
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps, lr)
        labels = torch.tensor([row[e.positive] for e in batch])
        with torch.no_grad():
            mask = (bank_t[labels] @ bank_t.T) > DUPLICATE_COS
            for r, e in enumerate(batch):
                mask[r, [row[p] for p in e.relevant if p in row]] = True
            mask[torch.arange(len(batch)), labels] = False
        q = model(model.tokenize([e.query for e in batch]))["sentence_embedding"]
        scores = (q @ bank_t.T * SCALE).masked_fill(mask, -math.inf)
        loss = F.cross_entropy(scores, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(opt.param_groups[0]["params"], 1.0)  # the trained parameters
        opt.step()
        opt.zero_grad(set_to_none=True)
        seen += len(batch)
        if (step + 1) % 10 == 0 or step == 0:
            spent = time.perf_counter() - start
            rate = seen / spent
            log(f"query step {step + 1}/{steps} epoch {epoch} loss {loss.item():.4f} lr {lr_at(step, steps, lr):.2e} "
                f"{rate:.1f} queries/s elapsed {spent / 60:.1f} min eta {(steps - step - 1) * batch_size / rate / 60:.1f} min")
        if (step + 1) % checkpoint_every == 0:
            save(f"step{step + 1:05d}")
    final = save("final")
    log(f"query done: {steps} steps, {seen} queries in {(time.perf_counter() - start) / 60:.1f} min -> {final}")
    return final
