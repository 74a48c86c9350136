"""What `rag eval` can evaluate: a task names its corpus, its own data dir, and its questions.

- `statements_task`: the bundled statements set (and the red-team set) over `data/sample` (and
  `eval/redteam`), indexed into their own data dir, with the paraphrase set asked of the same
  collection and reported beside it;
- `beir_task`: a BEIR folder as it is (corpus, queries, qrels), retrieval only;
- `qmsum_task`: QMSum meetings as speaker turns, gold turn spans, retrieval and answers;
- `set_task`: any eval-set JSONL against a collection the user already has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal

from eval import beir, qmsum
from eval.dataset import EvalItem, load_eval_set, resolve_gold_spans

if TYPE_CHECKING:
    from rag.library import Library

ROOT = Path(__file__).resolve().parent.parent
DATASETS = Path(__file__).resolve().parent / "datasets"
STATEMENTS = DATASETS / "statements.jsonl"
REDTEAM = DATASETS / "redteam.jsonl"
PARAPHRASE = DATASETS / "paraphrase.jsonl"
SAMPLE = ROOT / "data" / "sample"
REDTEAM_DOCS = Path(__file__).resolve().parent / "redteam"

Unit = Literal["doc", "passage"]


@dataclass
class QuestionSet:
    """Further questions asked of a task's collection and reported on their own: metrics under
    ``<name>/<configuration>``, relevance at `unit` level."""

    name: str
    load_items: Callable[["Library"], list[EvalItem]]
    unit: Unit = "passage"
    notes: list[str] = field(default_factory=list)


@dataclass
class EvalTask:
    """A corpus to index (`inputs`, into `data_dir`) and a way to get its questions afterwards."""

    name: str
    data_dir: Path
    inputs: list[Path]
    load_items: Callable[["Library"], list[EvalItem]]
    unit: Unit = "doc"
    answers: bool = True
    qrels: dict[str, dict[str, int]] | None = None
    notes: list[str] = field(default_factory=list)
    extra_sets: list[QuestionSet] = field(default_factory=list)


def _existing(paths: list[Path], what: str) -> list[Path]:
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise FileNotFoundError(f"{what}: {', '.join(map(str, missing))} not found")
    return paths


def statements_task(data_dir: Path, corpus: Path | None = None, redteam: bool = True,
                    paraphrase: bool = True) -> EvalTask:
    """The bundled statements set over the bundled sample; with `redteam`, the red-team
    documents are ingested among them and the red-team questions are asked too; with
    `paraphrase`, the paraphrase set (questions that share no BM25 term with their answer) is
    asked of the same collection and reported as its own set, at passage level."""
    inputs = [corpus or SAMPLE]
    sets = [STATEMENTS]
    if redteam and REDTEAM.is_file() and REDTEAM_DOCS.is_dir():
        inputs.append(REDTEAM_DOCS)
        sets.append(REDTEAM)
    _existing(inputs, "the statements set needs the project's data/sample (run from a checkout, "
                      "or pass --corpus DIR)")

    def load(lib: "Library") -> list[EvalItem]:
        items = [item for path in sets for item in load_eval_set(path)]
        return resolve_gold_spans(items, lib)

    extra = []
    if paraphrase:
        _existing([PARAPHRASE], "the paraphrase set")
        extra.append(QuestionSet(
            "paraphrase", lambda lib: resolve_gold_spans(load_eval_set(PARAPHRASE), lib), unit="passage",
            notes=[f"file: {PARAPHRASE.name}; each question is worded without any BM25 term of its "
                   "gold sentences",
                   "relevance at passage level: a retrieved passage is relevant when it overlaps a gold "
                   "span; 'gold passage in top 5' (hit_rate@5) counts questions with one in the top 5"]))
    return EvalTask("statements", data_dir, inputs, load, unit="doc", extra_sets=extra,
                    notes=[f"questions: {', '.join(p.name for p in sets)}",
                           f"corpus: {', '.join(str(p) for p in inputs)}"])


def beir_task(folder: Path, split: str, data_dir: Path) -> EvalTask:
    """A BEIR dataset; its corpus is written as this project's JSONL into the data dir first."""
    corpus_gz, queries, qrels = beir.load_beir(Path(folder), split)
    jsonl = Path(data_dir) / "corpus.jsonl"
    if not jsonl.exists():
        beir.write_corpus_jsonl(corpus_gz, jsonl)

    def load(lib: "Library") -> list[EvalItem]:
        return [EvalItem(id=qid, question=text, answerable=True,
                         gold_docs=[d for d, rel in qrels[qid].items() if rel > 0])
                for qid, text in queries.items() if any(r > 0 for r in qrels[qid].values())]

    return EvalTask(f"beir:{Path(folder).name}/{split}", data_dir, [jsonl], load, unit="doc",
                    answers=False, qrels=qrels,
                    notes=["BEIR: retrieval only (its queries are claims or keywords, not questions "
                           "with quotable answers); document rank = best chunk of each document"])


def qmsum_task(folder: Path, split: str, data_dir: Path) -> EvalTask:
    """QMSum meetings of one split; relevance is at passage level (a chunk overlapping a gold turn)."""
    jsonl = Path(data_dir) / f"qmsum_{split}.jsonl"
    if not jsonl.exists():
        qmsum.write_corpus(Path(folder), split, jsonl)

    def load(lib: "Library") -> list[EvalItem]:
        return qmsum.eval_items(Path(folder), split, lib)

    return EvalTask(f"qmsum:{split}", data_dir, [jsonl], load, unit="passage",
                    notes=["QMSum: specific questions with gold turn spans; a passage is relevant "
                           "when it overlaps a gold turn"])


def set_task(path: Path, data_dir: Path) -> EvalTask:
    """An eval set against an existing collection (nothing is ingested)."""
    load_eval_set(path)  # fail early, naming file:line

    def load(lib: "Library") -> list[EvalItem]:
        return resolve_gold_spans(load_eval_set(path), lib)

    return EvalTask(f"set:{Path(path).name}", data_dir, [], load, unit="doc")
