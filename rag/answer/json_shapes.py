"""The JSON of the `--json` outputs, which the REST API and the MCP tools return too: one definition
of each shape, and the way back to objects for a command answered by a running `rag serve`."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, Iterable

from ingest.models import Document, Turn
from rag.answer.answers import Answer, Citation
from rag.index.nodes import Hit


def dumps(value: Any) -> str:
    """The text `--json` prints: UTF-8 as it is, indented by two, anything unusual as a string."""
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def hits_json(hits: Iterable[Hit]) -> list[dict[str, Any]]:
    """Search hits as `rag search --json` prints them."""
    return [asdict(h) for h in hits]


def hits_from_json(rows: Iterable[dict[str, Any]]) -> list[Hit]:
    """Hits back from `hits_json`."""
    return [Hit(**row) for row in rows]


def answer_json(answer: Answer, passages: bool = False) -> dict[str, Any]:
    """An answer as `rag ask --json` prints it; with `passages`, also the retrieved passages
    (under "passages", as hits) that the text output lists when the answer abstains."""
    data = answer.to_dict()
    if passages:
        data["passages"] = hits_json(answer.passages)
    return data


def answer_from_json(data: dict[str, Any]) -> Answer:
    """An Answer back from `answer_json`."""
    return Answer(question=data["question"], text=data["answer"],
                  citations=[Citation(**c) for c in data.get("citations", [])],
                  abstained=bool(data.get("abstained")), answerer=data.get("answerer", "extractive"),
                  notes=list(data.get("notes", [])), passages=hits_from_json(data.get("passages", [])))


def speakers_json(identities: Iterable[dict[str, Any]], everyone: bool = False) -> list[dict[str, Any]]:
    """Speaker identities (`Library.speakers`) as `rag speakers --json` prints them: the people,
    or with `everyone` also offices without a name, anonymous officials and group voices."""
    return [p for p in identities if everyone or p.get("kind") == "person"]


def document_json(doc: Document) -> dict[str, Any]:
    """A stored document as `rag show --json` prints it (its text under "text")."""
    return asdict(doc)


def document_from_json(data: dict[str, Any]) -> Document:
    """A Document back from `document_json`."""
    return Document(**{**data, "turns": [Turn(**t) for t in data.get("turns", [])]})
