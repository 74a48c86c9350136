"""What kind of answer a question asks for, and whether a sentence holds one: "when" wants a
date or time, "how many/how much" a number or amount, "who" a person or organisation, "where" a
place. A quote that has the words of the question but not the kind of thing it asks for is
related, not an answer."""

from __future__ import annotations

import re

from rag.answer.entities import find_entities

_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
          r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?")
DATE_RE = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}"
    rf"(?:,?\s+\d{{4}})?|{_MONTH}\s+\d{{4}}|(?:in|since|until|by|from|before|after|during|of)\s+(?:the\s+)?"
    rf"(?:early\s+|late\s+|mid-?)?\d{{4}}s?|\d{{4}}-\d{{2}}-\d{{2}}|(?:last|next|this|on)\s+(?:Monday|Tuesday|"
    rf"Wednesday|Thursday|Friday|Saturday|Sunday|week|month|year|spring|summer|autumn|fall|winter)|"
    rf"(?:yesterday|today|tomorrow|tonight)|\d{{1,2}}[:.]\d{{2}}\s*(?:a\.?m\.?|p\.?m\.?)|(?:in|by|until)\s+"
    rf"{_MONTH}|(?:a|one|two|three|four|five|six|several|few)\s+(?:days?|weeks?|months?|years?)\s+ago)\b", re.I)
NUMBER_WORDS = (r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|"
                r"fifty|sixty|seventy|eighty|ninety|hundred|hundreds|thousand|thousands|million|millions|billion|"
                r"billions|trillion|dozen|dozens|half|third|quarter|twice|double|percent|per cent|majority|all|"
                r"most|none|several|few)")
NUMBER_RE = re.compile(rf"(?:\b\d[\d,.]*\b|[$€£¥₽]\s?\d|\b{NUMBER_WORDS}\b|%)", re.I)
PERSON_RE = re.compile(r"\b[A-Z][a-z]+(?:\s+(?:[A-Z]\.\s+)?[A-Z][a-z'’-]+)+\b")
PLACE_CUE_RE = re.compile(r"\b(?:in|at|to|from|near|held in|took place in|hosted by)\s+(?:the\s+)?[A-Z][\w'’-]+")

QUESTION_TYPES = [
    ("when", re.compile(r"^\s*(?:when|on what date|what date|what day|what year|in what year|since when|"
                        r"how long ago|at what time|by when|until when)\b|\bwhen (?:did|was|were|will|is|does)\b", re.I)),
    ("number", re.compile(r"\bhow (?:many|much|big|large|high|low|far|long)\b|\bwhat (?:share|percentage|proportion|"
                          r"amount|number|sum|volume|figure|level|rate|size|cost|price|value)\b|\bwhat was the "
                          r"(?:total|figure)\b", re.I)),
    ("where", re.compile(r"^\s*(?:where|in what (?:city|country|place)|in which (?:city|country|place)|at what "
                         r"(?:venue|place))\b|\bwhere (?:did|was|were|will|is|does)\b", re.I)),
    ("who", re.compile(r"^\s*(?:who|whom|which (?:country|countries|organisation|organization|leader|leaders|"
                       r"official|minister|company|companies|states?)|what (?:country|countries|organisation|"
                       r"organization|company|companies))\b", re.I)),
]


def question_type(question: str) -> str | None:
    """ "when", "number", "where", "who", or None for an open question ("What did X say about Y?")."""
    for name, pattern in QUESTION_TYPES:
        if pattern.search(question):
            return name
    return None


def holds_answer_type(sentence: str, kind: str | None) -> bool:
    """True if `sentence` contains the kind of thing the question asks for (True when it asks for
    no particular kind)."""
    if kind is None:
        return True
    if kind == "when":
        return bool(DATE_RE.search(sentence))
    if kind == "number":
        return bool(NUMBER_RE.search(sentence))
    if kind == "where":
        return bool(PLACE_CUE_RE.search(sentence) or any(e.kind == "country" for e in find_entities(sentence)))
    if kind == "who":
        return bool(PERSON_RE.search(sentence[1:]) or find_entities(sentence))
    return True
