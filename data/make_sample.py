"""Regenerate the bundled sample corpus ``data/sample/`` from the real corpora.

The sample is what ``make run`` ingests and what the tests and the evaluation set run on.
It holds about 30 real, published documents, copied *unchanged* from the shared corpora
(``/work/shared/data``, see its README for formats and licences):

- ``seed/``    the seed transcript (Lavrov / Aleinik, Moscow, 17 May 2023), byte for byte,
               page furniture included (the ingest strips it);
- ``kremlin/`` 12 en.kremlin.ru transcripts (joint news conferences, press statements,
               answers to journalists' questions) as one JSONL file, source lines verbatim;
- ``pm/``      11 Australian PM press conferences / interviews / doorstops as one
               ``.jsonl.gz`` (exercises the gzip reader), source lines verbatim;
- ``miller/``  5 US presidential speeches / press conferences: 3 as bare ``.txt`` (the
               record's ``text``), 2 as JSONL records (source lines verbatim);
- ``html/``    2 raw kremlin.ru HTML pages, copied byte for byte;
- ``pdf/``     2 born-digital Statements of Administration Policy, copied byte for byte;
- ``NOTICE`` (origin and licence of every file) and ``MANIFEST.tsv`` (one row a document).

The selection is fixed: every document is named below by its record id or file name
(chosen by hand for speaker turns, quotable foreign-policy positions, and a spread of dates
and speakers). Output order is sorted, the gzip header carries no name and mtime 0, so a
re-run produces identical bytes. Standard library only.

Usage: python data/make_sample.py [--src /work/shared/data] [--out data/sample]
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
from pathlib import Path

# --- the selection ---------------------------------------------------------------------------

SEED_SRC = "seed/000_af986b76c2cac33d.txt"
SEED_DST = "seed/lavrov_belarus_2023-05-17.txt"
SEED_META = {
    "date": "2023-05-17",
    "speakers": "Sergey Lavrov; Sergey Aleinik; journalists",
    "title": (
        "Foreign Minister Sergey Lavrov's remarks and answers to media questions during a joint "
        "news conference with Foreign Minister of Belarus Sergey Aleinik following their talks, "
        "Moscow, May 17, 2023"
    ),
    "source_url": (
        "GlobalSecurity.org republication of MFA Russia statement no. 943-17-05-2023 "
        "(the shared seed file records no page URL)"
    ),
}

# kremlin_en: category "Transcripts", "Question..." turns and Vladimir Putin turns, <= 40 KB.
# (The corpus has no "Transcripts" category before 2010 and, with Putin as President and
# "Question:" turns, nothing before 2012.) id -> speakers as labelled in the text.
KREMLIN = {
    "kremlin-en-17622": "Vladimir Putin; Viktor Yanukovych; journalist",
    "kremlin-en-47104": "Vladimir Putin; Anadolu Agency interviewer",
    "kremlin-en-51551": "Vladimir Putin; Sauli Niinisto; journalists",
    "kremlin-en-52834": "Vladimir Putin; journalists",
    "kremlin-en-54511": "Vladimir Putin; Paolo Gentiloni; journalists",
    "kremlin-en-55017": "Vladimir Putin; journalists",
    "kremlin-en-56952": "Vladimir Putin; Sebastian Kurz; journalists",
    "kremlin-en-57608": "Vladimir Putin; Boyko Borissov; journalists",
    "kremlin-en-58586": "Vladimir Putin; Viktor Orban; journalists",
    "kremlin-en-59844": "Vladimir Putin; Alexander Lukashenko; journalists",
    "kremlin-en-60396": "Vladimir Putin; journalists",
    "kremlin-en-62047": "Vladimir Putin; journalists",
}

# pm_transcripts: press conferences / interviews / doorstops with PM / PRIME MINISTER turns and
# JOURNALIST (Rudd, Gillard, Turnbull) or QUESTION (Abbott) turns. id -> speakers.
PM = {
    "pmt-15830": "Kevin Rudd; journalists",
    "pmt-16535": "Kevin Rudd; journalists",
    "pmt-22729": "Kevin Rudd; journalists",
    "pmt-17482": "Julia Gillard; Stephen Smith; journalists",
    "pmt-18293": "Julia Gillard; journalists",
    "pmt-18470": "Julia Gillard; journalists",
    "pmt-23420": "Tony Abbott; journalists",
    "pmt-23663": "Tony Abbott; journalists",
    "pmt-31846": "Tony Abbott; journalists",
    "pmt-41468": "Malcolm Turnbull; Donald Trump; journalists",
    "pmt-41528": "Malcolm Turnbull; Julie Bishop; journalists",
}

# miller_center: short (< 40 KB) press conferences and foreign-policy addresses.
MILLER_TXT = [
    "miller-1981-01-29-first-press-conference",
    "miller-1995-11-27-address-bosnia",
    "miller-2017-12-18-remarks-national-security-strategy",
]
MILLER_JSONL = [
    "miller-2010-02-09-news-conference-congressional-gridlock",
    "miller-2019-09-25-press-conference",
]

# kremlin_en/html_samples: two transcripts (<= 80 KB), not duplicated in the JSONL above.
# file -> speakers (the kremlin.ru text of the Normandy summit gives Putin's part only).
HTML = {
    "kremlin_en_62277.html": "Vladimir Putin; journalists",
    "kremlin_en_62565.html": "Vladimir Putin; Angela Merkel; journalists",
}

# pdfs/sap: two short statements on foreign relations / national security.
PDF = ["2009-06-10_hr2410.pdf", "2024-02-07_hr815.pdf"]

KREMLIN_OUT = "kremlin/kremlin_transcripts.jsonl"
PM_OUT = "pm/pm_transcripts.jsonl.gz"
MILLER_JSONL_OUT = "miller/miller_speeches.jsonl"

MAX_RECORD_BYTES = 60_000
MAX_HTML_BYTES = 80_000
MAX_MILLER_BYTES = 40_000
MAX_TOTAL_BYTES = 3_000_000

LICENCES = {
    "seed": (
        "Official statement of the Ministry of Foreign Affairs of the Russian Federation "
        "(mid.ru), as republished by GlobalSecurity.org; reproduced unchanged, including "
        "GlobalSecurity.org's page furniture (banner line, newsletter footer)."
    ),
    "kremlin_en": (
        "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/). "
        "Attribution: \"Presidential Executive Office / kremlin.ru\". Texts from en.kremlin.ru, "
        "mirrored in github.com/iandennismiller/valdai-transcripts; records unchanged."
    ),
    "pm_transcripts": (
        "CC BY 3.0 AU (https://creativecommons.org/licenses/by/3.0/au/). "
        "\"Source: Licensed from the Commonwealth of Australia under a Creative Commons "
        "Attribution 3.0 Australia Licence.\" PM Transcripts, Department of the Prime Minister "
        "and Cabinet (pmtranscripts.pmc.gov.au), via github.com/wragge/pm-transcripts; "
        "records unchanged."
    ),
    "miller_center": (
        "Public domain (speeches of US Presidents, works of the US Government). Collected by "
        "the Miller Center (millercenter.org), via github.com/kfogel/presidential-speeches; "
        "texts unchanged."
    ),
    "sap": (
        "Public domain: US Government work (17 U.S.C. 105). Statements of Administration "
        "Policy, Executive Office of the President, Office of Management and Budget, via "
        "github.com/unitedstates/statements-of-administration-policy; files unchanged."
    ),
}


# --- helpers ---------------------------------------------------------------------------------


def raw_records(files: list[Path], wanted: set[str]) -> dict[str, tuple[str, dict]]:
    """Scan JSONL(.gz) files; return id -> (the source line without its newline, parsed record)."""
    found: dict[str, tuple[str, dict]] = {}
    for path in files:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", newline="") as fh:
            for line in fh:
                line = line.rstrip("\n")
                if not line:
                    continue
                rec = json.loads(line)
                if rec.get("id") in wanted:
                    if rec["id"] in found:
                        sys.exit(f"duplicate record id {rec['id']} in {path}")
                    found[rec["id"]] = (line, rec)
    missing = sorted(wanted - found.keys())
    if missing:
        sys.exit(f"records not found: {missing}")
    return found


def ordered(found: dict[str, tuple[str, dict]]) -> list[tuple[str, dict]]:
    """Records sorted by (date, id)."""
    return sorted(found.values(), key=lambda lr: (lr[1].get("date", ""), lr[1]["id"]))


def check_size(label: str, n: int, limit: int) -> None:
    if n > limit:
        sys.exit(f"{label}: {n} bytes exceeds the {limit} byte limit")


def clean(s: str) -> str:
    """One-line, tab-free value for the TSV."""
    return " ".join(str(s).split())


def write_jsonl(path: Path, lines: list[str], gz: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(line + "\n" for line in lines).encode("utf-8")
    if gz:
        with open(path, "wb") as raw, gzip.GzipFile(
            filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9
        ) as fh:
            fh.write(data)
    else:
        path.write_bytes(data)


def miller_slug(rec: dict) -> str:
    return rec["id"].removeprefix("miller-").removeprefix(rec["date"] + "-")


# --- main ------------------------------------------------------------------------------------


def main() -> None:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=Path("/work/shared/data"))
    ap.add_argument("--out", type=Path, default=here / "sample")
    args = ap.parse_args()
    src: Path = args.src
    out: Path = args.out

    # Start from a clean slate, removing only what this script writes.
    for sub in ("seed", "kremlin", "pm", "miller", "html", "pdf"):
        shutil.rmtree(out / sub, ignore_errors=True)
    for name in ("NOTICE", "NOTICE.md", "MANIFEST.tsv"):
        (out / name).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)

    manifest: list[tuple[str, str, str, str, str, int]] = []  # file, id, date, speakers, title, bytes
    notice: dict[str, list[str]] = {k: [] for k in ("seed", "kremlin_en", "pm_transcripts",
                                                     "miller_center", "sap")}

    # seed
    dst = out / SEED_DST
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src / SEED_SRC, dst)
    manifest.append((SEED_DST, dst.name, SEED_META["date"], SEED_META["speakers"],
                     SEED_META["title"], dst.stat().st_size))
    notice["seed"].append(
        f"- `{SEED_DST}`: copy of `seed/{Path(SEED_SRC).name}`; {SEED_META['title']}. "
        f"Source: {SEED_META['source_url']}."
    )

    # kremlin_en JSONL
    found = raw_records(sorted((src / "kremlin_en").glob("kremlin_en_*.jsonl.gz")), set(KREMLIN))
    lines = []
    for line, rec in ordered(found):
        n = len(line.encode("utf-8")) + 1
        check_size(rec["id"], n, MAX_RECORD_BYTES)
        if "Transcripts" not in rec.get("categories", ""):
            sys.exit(f"{rec['id']} is not in the Transcripts category")
        lines.append(line)
        manifest.append((KREMLIN_OUT, rec["id"], rec["date"], KREMLIN[rec["id"]], rec["title"], n))
        place = f", {rec['place']}" if rec.get("place") else ""
        notice["kremlin_en"].append(
            f"- `{rec['id']}` ({rec['date']}{place}): {rec['title']}. <{rec['source_url']}>"
        )
    write_jsonl(out / KREMLIN_OUT, lines)

    # pm_transcripts JSONL.gz
    found = raw_records(sorted((src / "pm_transcripts").glob("pm_transcripts_*.jsonl.gz")), set(PM))
    lines = []
    for line, rec in ordered(found):
        n = len(line.encode("utf-8")) + 1
        check_size(rec["id"], n, MAX_RECORD_BYTES)
        lines.append(line)
        manifest.append((PM_OUT, rec["id"], rec["date"], PM[rec["id"]], rec["title"], n))
        notice["pm_transcripts"].append(
            f"- `{rec['id']}` ({rec['date']}, {rec['speaker']}, release type "
            f"\"{rec['release_type']}\"): {rec['title']}. <{rec['source_url']}>"
        )
    write_jsonl(out / PM_OUT, lines, gz=True)

    # miller_center: .txt files and a JSONL
    found = raw_records([src / "miller_center" / "miller_center_speeches.jsonl.gz"],
                        set(MILLER_TXT) | set(MILLER_JSONL))
    for line, rec in ordered(found):
        n = len(line.encode("utf-8")) + 1
        check_size(rec["id"], n, MAX_MILLER_BYTES)
        if rec["id"] in MILLER_TXT:
            rel = f"miller/{rec['date']}_{miller_slug(rec)}.txt"
            dst = out / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(rec["text"].encode("utf-8"))
            manifest.append((rel, dst.name, rec["date"], rec["speaker"], rec["title"],
                             dst.stat().st_size))
            notice["miller_center"].append(
                f"- `{rel}`: the `text` of record `{rec['id']}` ({rec['date']}, {rec['speaker']}): "
                f"{rec['title']}. <{rec['source_url']}>"
            )
    lines = []
    for line, rec in ordered(found):
        if rec["id"] in MILLER_JSONL:
            lines.append(line)
            manifest.append((MILLER_JSONL_OUT, rec["id"], rec["date"], rec["speaker"],
                             rec["title"], len(line.encode("utf-8")) + 1))
            notice["miller_center"].append(
                f"- `{MILLER_JSONL_OUT}`: record `{rec['id']}` ({rec['date']}, {rec['speaker']}): "
                f"{rec['title']}. <{rec['source_url']}>"
            )
    write_jsonl(out / MILLER_JSONL_OUT, lines)

    # kremlin HTML pages
    meta = {}
    with open(src / "kremlin_en" / "html_samples" / "metadata.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                m = json.loads(line)
                meta[Path(m["file"]).name] = m
    for name in sorted(HTML):
        m = meta[name]
        if "Transcripts" not in m["categories"]:
            sys.exit(f"{name} is not a transcript")
        dst = out / "html" / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / "kremlin_en" / "html_samples" / name, dst)
        check_size(name, dst.stat().st_size, MAX_HTML_BYTES)
        manifest.append((f"html/{name}", name, m["date"], HTML[name], m["title"],
                         dst.stat().st_size))
        notice["kremlin_en"].append(
            f"- `html/{name}`: raw page of record `{m['id']}` ({m['date']}): {m['title']}. "
            f"<{m['source_url']}>"
        )

    # SAP PDFs
    meta = {}
    with open(src / "pdfs" / "metadata.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                m = json.loads(line)
                meta[m["file"]] = m
    for name in sorted(PDF):
        m = meta[f"sap/{name}"]
        dst = out / "pdf" / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / "pdfs" / "sap" / name, dst)
        manifest.append((f"pdf/{name}", name, m["date"], m["speaker"], m["title"],
                         dst.stat().st_size))
        notice["sap"].append(
            f"- `pdf/{name}` ({m['date']}, {m['administration']}, {m['pages']} page(s)): "
            f"{m['title']}. <{m['original_url']}>"
        )

    # MANIFEST.tsv
    rows = ["file\tdoc_id\tdate\tspeakers\ttitle\tbytes"]
    for file, doc_id, date, speakers, title, n in manifest:
        rows.append("\t".join([file, doc_id, date, clean(speakers), clean(title), str(n)]))
    (out / "MANIFEST.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")

    # NOTICE (no .md suffix: `rag ingest data/sample` must not index it as a statement)
    sections = [
        ("seed", "`seed/` — MFA of Russia statement (via GlobalSecurity.org)"),
        ("kremlin_en", f"`{KREMLIN_OUT}` and `html/` — kremlin_en (President of Russia website)"),
        ("pm_transcripts", f"`{PM_OUT}` — pm_transcripts (Prime Ministers of Australia)"),
        ("miller_center", "`miller/` — miller_center (US presidential speeches)"),
        ("sap", "`pdf/` — Statements of Administration Policy (US OMB)"),
    ]
    text = [
        "# Sample corpus: origin and licences",
        "",
        f"{len(manifest)} real, published documents, copied unchanged from the shared corpora "
        "(`/work/shared/data`) by `data/make_sample.py`. JSONL files hold the source records "
        "byte for byte, one per line, with all their keys (`source_url`, `source_path`, "
        "`source`); `.txt` files are a record's `text` field; HTML and PDF files are byte "
        "copies. `MANIFEST.tsv` lists every document with its date, speakers, title and size.",
        "",
    ]
    for key, heading in sections:
        text += [f"## {heading}", "", f"Licence: {LICENCES[key]}", ""] + notice[key] + [""]
    (out / "NOTICE").write_text("\n".join(text), encoding="utf-8")

    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    check_size("sample total", total, MAX_TOTAL_BYTES)
    print(f"wrote {len(manifest)} documents, {total} bytes, to {out}")


if __name__ == "__main__":
    main()
