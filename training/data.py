"""Training batches from the mined examples: one query form per question per epoch, no two
examples with the same positive in a batch (it would be a false in-batch negative), QMSum
queries repeated, hard negatives drawn from the BM25-mined lists. Fixed seeds throughout."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from training.mining import Example, Passage

QMSUM_REPEAT = 3


def question_key(ex: Example) -> str:
    """Examples of one question (its forms) share this key."""
    return ex.qid.rsplit(":", 1)[0]


@dataclass
class Item:
    """One training example resolved to text: query, positive, one hard negative."""

    query: str
    positive: str
    negative: str
    positive_id: str
    negative_id: str
    relevant: frozenset[str]
    example: Example


def epoch_examples(examples: list[Example], epoch: int, seed: int) -> list[Example]:
    """One form per question (chosen at random per epoch), QMSum queries QMSUM_REPEAT times,
    shuffled."""
    rng = random.Random(seed * 1000 + epoch)
    by_question: dict[str, list[Example]] = {}
    for ex in examples:
        by_question.setdefault(question_key(ex), []).append(ex)
    chosen: list[Example] = []
    for key in sorted(by_question):
        forms = by_question[key]
        if forms[0].form == "qmsum":
            chosen.extend(forms * QMSUM_REPEAT)
        else:
            chosen.append(rng.choice(forms))
    rng.shuffle(chosen)
    return chosen


def hard_negative(ex: Example, rng: random.Random, passages: dict[str, Passage], pool: list[str]) -> str:
    """A BM25 negative (same document or another, half and half when both exist), else a random passage."""
    lists = [x for x in (ex.neg_same, ex.neg_other) if x]
    if lists:
        return rng.choice(rng.choice(lists))
    relevant = set(ex.relevant)
    while True:
        pid = rng.choice(pool)
        if pid not in relevant:
            return pid


def batches(examples: list[Example], passages: dict[str, Passage], batch_size: int, seed: int,
            start_epoch: int = 0) -> Iterator[tuple[int, list[Item]]]:
    """(epoch, batch) forever; a batch never holds two examples with the same positive or of the
    same question (a conflicting example waits for the next batch)."""
    pool = sorted(passages)
    epoch = start_epoch
    while True:
        rng = random.Random(seed * 7919 + epoch)
        queue = deque(epoch_examples(examples, epoch, seed))
        while queue:
            batch: list[Item] = []
            seen: set[str] = set()
            waiting: list[Example] = []
            while queue and len(batch) < batch_size:
                ex = queue.popleft()
                keys = {ex.positive, question_key(ex)}
                if keys & seen:
                    waiting.append(ex)
                    continue
                seen |= keys
                neg = hard_negative(ex, rng, passages, pool)
                batch.append(Item(ex.query, passages[ex.positive].text, passages[neg].text, ex.positive,
                                  neg, frozenset(ex.relevant), ex))
            queue.extendleft(reversed(waiting))
            if len(batch) < batch_size:
                break  # the rest conflict with each other: next epoch
            yield epoch, batch
        epoch += 1
