"""Abstention by clause support, on the *tuning* set (never reported as a result): a long sentence that
holds the answer in one clause ("I briefed Sergey Aleinik on the results of the meeting of the SCO Council
of Foreign Ministers held in Goa, India, and on the steps ...") has a low cosine with a short question.
Support = max(the sentence's cosine, its best clause's cosine) over the 10 best candidates (clauses of at
least 4 words between commas, semicolons, dashes, "and", "but", "which", ...); prints the best balanced-
accuracy cut for the cosine alone and with clauses, and abstention / false refusals at a few thresholds.

  python bench/clause_support.py /tmp/tuning-rag
"""
import json, re, sys, os
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
from pathlib import Path
import numpy as np
from rag.answer.asking import make_answerer, retrieve
from rag.answer.named_speaker import asked_for
from rag.library import Library
from rag.settings import Settings
SPLIT = re.compile(r"\s*(?:[,;:()–—]|\s-\s|\band\b|\bbut\b|\bwhich\b|\bwhere\b|\bwhile\b)\s*")
items = [json.loads(l) for l in open(os.path.join(ROOT, 'eval', 'datasets', 'tuning.jsonl')) if l.strip()]
out = []
with Library(Settings(data_dir=Path(sys.argv[1]), progress=False)) as lib:
    ans = make_answerer(lib, "extractive")
    for it in items:
        q = it["question"]
        asked, stranger = asked_for(lib.speaker_index(), q)
        if asked:
            hits = lib.search(q, k=20, speaker=[a for i in asked for a in i.aliases])
        else:
            hits = retrieve(lib, q, 20, speaker_hint=stranger is None)
        c = ans.candidates(q, hits); ans.score(c)
        el = sorted([x for x in c if x.eligible and x.words >= ans.min_words], key=lambda x: -x.score)[:10]
        best = max((x.support for x in el), default=-1.0)
        clauses = []
        for x in el:
            parts = [p for p in SPLIT.split(x.text) if len(p.split()) >= 4]
            clauses.extend(parts if len(parts) > 1 else [])
        bc = -1.0
        if clauses:
            v = lib.embedder.embed_queries([q] + clauses)
            bc = float(np.max(v[1:] @ v[0]))
        out.append({"id": it["id"], "answerable": it["answerable"], "cos": best, "clause": bc})
def bal(vals):
    pairs = [(v, a) for v, a in vals]
    cuts = sorted({v for v, _ in pairs}); best = (0, 0, 0, 0)
    pos = [v for v, a in pairs if a]; neg = [v for v, a in pairs if not a]
    for lo, hi in zip(cuts, cuts[1:]):
        t = (lo + hi) / 2; tpr = sum(v >= t for v in pos) / len(pos); tnr = sum(v < t for v in neg) / len(neg)
        if (tpr + tnr) / 2 > best[1]: best = (t, (tpr + tnr) / 2, tnr, 1 - tpr)
    return best
print("cos", bal([(r["cos"], r["answerable"]) for r in out]))
print("max(cos, clause)", bal([(max(r["cos"], r["clause"]), r["answerable"]) for r in out]))
for t in (0.557, 0.58, 0.60, 0.62):
    pos = [r for r in out if r["answerable"]]; neg = [r for r in out if not r["answerable"]]
    s = lambda r: max(r["cos"], r["clause"])
    print(t, "abstained %.3f FR %.3f" % (sum(s(r) < t for r in neg) / len(neg), sum(s(r) < t for r in pos) / len(pos)))
