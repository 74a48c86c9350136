"""`rag eval` end to end on small real corpora: BEIR and QMSum layouts written here, the bundled
statements set on the sample, and the command line's errors."""

from __future__ import annotations

import gzip
import json
from pathlib import Path


from eval import tasks
from eval.report import write_report
from eval.runner import RunOptions, run_task

PNG = b"\x89PNG\r\n\x1a\n"

DOCS = {
    "d1": ("Grain corridor", "The grain corridor through the Black Sea carried wheat to Africa and Asia."),
    "d2": ("Fishing quotas", "Fishing quotas for cod in the northern waters were cut by a fifth this year."),
    "d3": ("Visa rules", "Visa rules for students were eased so that they can work part time."),
    "d4": ("Port agreement", "The port agreement gives the consortium a lease of forty years on the docks."),
    "d5": ("Energy prices", "Energy prices for households will be capped through the winter months."),
}
QUERIES = {"q1": "How long is the lease on the docks?", "q2": "cod fishing quotas cut",
           "q3": "students visa part time work"}
QRELS = {"q1": "d4", "q2": "d2", "q3": "d3"}


def _beir(folder: Path) -> Path:
    folder.mkdir(parents=True)
    with gzip.open(folder / "corpus.jsonl.gz", "wt", encoding="utf-8") as fh:
        for doc_id, (title, text) in DOCS.items():
            fh.write(json.dumps({"_id": doc_id, "title": title, "text": text}) + "\n")
    (folder / "queries_test.jsonl").write_text(
        "".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t in QUERIES.items()))
    (folder / "qrels").mkdir()
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t1\n" for q, d in QRELS.items()))
    return folder


def _check_outputs(out: Path, configs: list[str]) -> dict:
    results = json.loads((out / "results.json").read_text())
    assert list(results) == configs
    for metrics in results.values():
        for key in ("ndcg@10", "recall@10", "mrr@10", "recall@1", "recall@5", "recall@20"):
            assert 0.0 <= metrics[key] <= 1.0
    for png in ("recall_at_k.png", "configs.png", "latency.png"):
        assert (out / png).read_bytes().startswith(PNG)
    report = (out / "report.md").read_text()
    assert "| configuration | ndcg@10 |" in report and "![recall_at_k](recall_at_k.png)" in report
    return results


def test_beir_adapter_ranks_the_matching_abstract_first(tmp_path, embedder):
    task = tasks.beir_task(_beir(tmp_path / "beir"), "test", tmp_path / "data")
    run = run_task(task, RunOptions(configs=("dense", "bm25", "hybrid", "hybrid+rerank"), progress=False),
                   embedder=embedder)
    assert run["questions"] == 3 and run["collection"]["documents"] == 5
    assert "hybrid+rerank" in run["skipped"]  # no reranker ships: said, not faked
    out = tmp_path / "out"
    write_report(run, out, "rag eval beir ...")
    results = _check_outputs(out, ["dense", "bm25", "hybrid"])
    assert results["bm25"]["mrr@10"] == 1.0 and results["hybrid"]["recall@1"] == 1.0
    assert results["hybrid"]["ndcg@10"] == 1.0
    # a second run finds the corpus indexed: nothing is embedded again
    again = run_task(task, RunOptions(configs=("bm25",), progress=False), embedder=embedder)
    assert again["ingest"]["chunks_embedded"] == 0 and again["ingest"]["unchanged"] == 5


def _qmsum(folder: Path) -> Path:
    (folder / "val").mkdir(parents=True)
    turns = [
        {"speaker": "The Chair", "content": "I call this meeting to order. We turn to school funding."},
        {"speaker": "Ms. Lee", "content": "The ministry will give every rural school a new bus by "
                                          "September, paid from the transport budget."},
        {"speaker": "The Chair", "content": "Thank you. Next, the question of teacher pay."},
        {"speaker": "Mr. Hart", "content": "Teacher pay rises by three per cent from April, after the "
                                           "agreement with the unions last week."},
        {"speaker": "The Chair", "content": "The meeting is adjourned."},
    ]
    (folder / "val" / "edu_1.json").write_text(json.dumps({"meeting_transcripts": turns}))
    queries = [
        {"qid": "edu_1-s0", "meeting_id": "edu_1", "type": "specific",
         "query": "When will every rural school get a new bus?", "answer": "Every rural school gets one.",
         "relevant_text_span": [[1, 1]]},
        {"qid": "edu_1-s1", "meeting_id": "edu_1", "type": "specific",
         "query": "How much will teacher pay rise, and from when?", "answer": "3% from April.",
         "relevant_text_span": [[3, 3]]},
        {"qid": "edu_1-g0", "meeting_id": "edu_1", "type": "general", "query": "Summarise the meeting.",
         "answer": "...", "relevant_text_span": []},
    ]
    (folder / "queries_val.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    return folder


def test_qmsum_adapter_scores_passages_and_answers(tmp_path, embedder):
    task = tasks.qmsum_task(_qmsum(tmp_path / "qmsum"), "val", tmp_path / "data")
    run = run_task(task, RunOptions(configs=("bm25", "hybrid"), judge="lexical", progress=False),
                   embedder=embedder)
    assert run["questions"] == 2 and run["unit"] == "passage"
    out = tmp_path / "out"
    write_report(run, out, "rag eval qmsum ...")
    results = _check_outputs(out, ["bm25", "hybrid", "hybrid+extractive"])
    answers = results["hybrid+extractive"]
    assert answers["verified_quote_rate"] == 1.0
    assert answers["answered"] == 2 and answers["gold_span_hit_rate"] == 1.0
    assert (out / "answers.png").read_bytes().startswith(PNG)
    assert run["judge"]["pairs"] >= 60 and 0.5 < run["judge"]["accuracy"] <= 1.0
    assert "ALCE citation recall" in (out / "report.md").read_text()


def test_statements_set_on_the_sample(sample_library, sample_dir, tmp_path):
    task = tasks.statements_task(tmp_path / "unused", corpus=sample_dir, redteam=False)
    run = run_task(task, RunOptions(configs=("hybrid",), judge="lexical", limit=6, progress=False),
                   lib=sample_library)
    assert run["ingest"]["new"] == 0 and run["ingest"]["chunks_embedded"] == 0
    assert run["questions"] == 6
    hybrid, answers = run["configs"]["hybrid"], run["configs"]["hybrid+extractive"]
    assert hybrid["recall@10"] > 0.5
    assert answers["verified_quote_rate"] == 1.0
    assert len(run["records"]["hybrid+extractive"]) == 6
    # the paraphrase set is asked of the same collection and kept apart, at passage level
    assert run["sets"]["paraphrase"] == {"questions": 6, "answerable": 6, "unit": "passage",
                                         "notes": run["sets"]["paraphrase"]["notes"]}
    para = run["configs"]["paraphrase/hybrid"]
    assert para["queries"] == 6.0 and 0.0 <= para["hit_rate@5"] <= 1.0
    assert para["hit_rate@5"] >= para["recall@5"]  # any gold passage vs all gold passages
    assert run["configs"]["paraphrase/hybrid+extractive"]["verified_quote_rate"] in (1.0, None)
    assert [r["id"] for r in run["records"]["paraphrase/hybrid+extractive"]] == [
        f"para-{n:03d}" for n in range(1, 7)]
    out = tmp_path / "out"
    write_report(run, out, "rag eval statements --limit 6")
    results = json.loads((out / "results.json").read_text())
    assert list(results) == ["hybrid", "hybrid+extractive", "paraphrase/hybrid", "paraphrase/hybrid+extractive"]
    report = (out / "report.md").read_text()
    main, para_section = report.split("## The paraphrase set")
    assert "gold passage in top 5" not in main and "| hybrid |" in main
    assert "### paraphrase: retrieval" in para_section and "gold passage in top 5" in para_section
    assert "| hybrid+extractive | " in para_section and "![paraphrase_recall_at_k]" in para_section
    assert (out / "paraphrase_recall_at_k.png").read_bytes().startswith(PNG)
    no_para = tasks.statements_task(tmp_path / "unused", corpus=sample_dir, redteam=False, paraphrase=False)
    assert no_para.extra_sets == []


def test_cli_errors_are_one_line_and_name_the_fix(tmp_path, capsys):
    from rag.cli.commands import main

    assert main(["eval", "set", str(tmp_path / "nope.jsonl"), "--data-dir", str(tmp_path),
                 "--out", str(tmp_path / "o")]) == 2
    assert "no collection in" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "q?"}\n')
    (tmp_path / "store.sqlite3").write_bytes(b"")
    assert main(["eval", "set", str(bad), "--data-dir", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "bad.jsonl:1: missing required key(s): answerable" in capsys.readouterr().err
    assert main(["eval", "statements", "--out", str(tmp_path / "o"), "--configs", "hybrid,cosine"]) == 2
    assert "unknown configuration: cosine" in capsys.readouterr().err
    assert main(["eval", "beir", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert "is this a BEIR dataset folder?" in capsys.readouterr().err
