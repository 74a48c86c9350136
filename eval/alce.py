"""Citation recall and precision the ALCE way (Gao et al. 2023, "Enabling Large Language Models to
Generate Text with Citations", `compute_autoais` in their code).

An answer is cut into statements, each ending with its citation markers ``[1]`` or ``[1][3]``.
- A statement is *supported* when the concatenation of its cited passages entails it; citation
  recall is the share of statements that are supported (a statement with no citation, or citing
  a passage that does not exist, is not supported).
- A citation of a supported statement with more than one citation is *irrelevant* when its
  passage alone does not entail the statement and the other cited passages still do; citation
  precision is the share of all citations that are not irrelevant and belong to a supported
  statement (a single citation of a supported statement counts as precise, one of an
  unsupported statement does not).

The entailment judge is a function ``(premise, claim) -> bool``: an NLI model or the grounding
judges of `rag.answer.grounding` at their calibrated thresholds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

Entails = Callable[[str, str], bool]

_MARKERS = re.compile(r"(?:\s*\[\d+\])+")
_NUMBER = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Statement:
    """A piece of an answer and the passage numbers it cites (in order, without repeats)."""

    text: str
    refs: tuple[int, ...]


@dataclass
class CitationScore:
    """Counts for one answer; `recall` and `precision` are the ALCE ratios (0.0 when undefined)."""

    statements: int = 0
    supported: int = 0
    citations: int = 0
    precise: int = 0
    unsupported: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        """Share of statements entailed by their cited passages."""
        return self.supported / self.statements if self.statements else 0.0

    @property
    def precision(self) -> float:
        """Share of citations that are needed and belong to a supported statement."""
        return self.precise / self.citations if self.citations else 0.0


def split_statements(answer: str) -> list[Statement]:
    """The answer's statements: text up to and including each run of ``[n]`` markers.

    Text after the last marker becomes a statement without citations, unless it is empty or a
    heading (a line ending with ":" such as "In the speakers' own words (2 quotes):"), which is
    layout rather than a claim. Markers are removed from the statement text.
    """
    out: list[Statement] = []
    pos = 0
    for m in _MARKERS.finditer(answer):
        if not _NUMBER.search(m.group(0)):
            continue
        claim = _strip_headings(answer[pos:m.start()])
        refs = tuple(dict.fromkeys(int(n) for n in _NUMBER.findall(m.group(0))))
        if claim:
            out.append(Statement(claim, refs))
        pos = m.end()
    tail = _strip_headings(answer[pos:])
    if tail:
        out.append(Statement(tail, ()))
    return out


def _strip_headings(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines()]
    kept = [ln for ln in lines if ln and not ln.endswith(":")]
    return " ".join(" ".join(kept).split()).strip(" .;,")


def score_answer(statements: Sequence[Statement], passages: Mapping[int, str],
                 entails: Entails) -> CitationScore:
    """ALCE citation recall and precision counts for one answer.

    `passages` maps a citation number to the text it stands for; a number missing from it is
    an invalid citation (the statement is then unsupported, as in ALCE).
    """
    score = CitationScore()
    for st in statements:
        score.statements += 1
        score.citations += len(st.refs)
        if not st.refs or any(r not in passages for r in st.refs):
            score.unsupported.append(st.text)
            continue
        joint = entails(_join(passages, st.refs), st.text)
        if not joint:
            score.unsupported.append(st.text)
            continue
        score.supported += 1
        if len(st.refs) == 1:
            score.precise += 1
            continue
        for ref in st.refs:
            if entails(passages[ref], st.text):
                score.precise += 1
                continue
            rest = tuple(r for r in st.refs if r != ref)
            if not entails(_join(passages, rest), st.text):
                score.precise += 1  # needed: without it the others no longer support the claim
    return score


def _join(passages: Mapping[int, str], refs: Sequence[int]) -> str:
    return "\n".join(passages[r] for r in refs)
