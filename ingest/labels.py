"""Finding speaker labels at line starts, in the conventions transcripts use.

Forms, tried at the start of every line:
- **colon**: a name-like phrase and a colon: ``Sergey Lavrov:``, ``PRIME MINISTER:``,
  ``Mr. Nebenzia (Russian Federation) (spoke in Russian):``, ``Mr MORRISON (Cook—Prime Minister)
  (14:00):`` (colons inside brackets do not end a label), ``PRESIDENTE ANDRÉS MANUEL LÓPEZ
  OBRADOR:Buenos días.`` (no space after the colon, for a label in capitals), a label alone on its
  line, ``[Senior administration official]:``.
- **stop**: a label ended by a full stop, as in the Congressional Record and older press
  conferences: ``Mr. McCONNELL.``, ``Mr. BROWN of Ohio.``, ``The PRESIDING OFFICER (Mr. Kyl).``,
  ``THE PRESIDENT.``; only surnames or whole labels in capitals, and only where a document has
  two of them or more.
- **q**: a journalist's question opened by a bare ``Q``, ``Q.`` or ``Q:`` ("Q On Russia, ...").
- **answer**: ``A.`` / ``A:`` answers of a Q-and-A interview (only beside ``Q`` labels).
- **line**: a label in capitals alone on its line with no colon (``PRESIDENTE ANDRÉS MANUEL LÓPEZ
  OBRADOR`` above the words), accepted only in documents written that way throughout: several such
  lines, few colon labels, names that repeat or ``---`` separators between turns.
A sentence that merely opens with a capitalised word, a heading, a roster line with dot leaders
("President: Mr. Dang ....... (Viet Nam)") or prose before a colon ("The answer is simple:") is not
a label.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ingest.label_words import (
    ANONYMOUS_HEADS, ABBREV_DOT_RE, MARKUP_CHARS, NUMBERED_SPEAKER_RE, CAMEL_RE, CONNECTORS, GROUP_RE, LABEL_LOWER_WORDS, MAX_LABEL_WORDS, MAX_SHOUTED_LABEL_WORDS,
    NOT_SPEAKER_PHRASES, NOT_SPEAKER_WORDS, NOT_SPEAKERS, PAREN_RE, QUESTION_HEAD_RE, ROLE_ONLY_WORDS,
    SALUTATION_WORDS, SENTENCE_PUNCT_RE, TOKEN_RE, VOICE_RE,
)

MAX_LABEL_CHARS = 220
# "Nick Hurd: indicated dissent." records a gesture, not words
STAGE_DIRECTION_RE = re.compile(r"^\(?(?:indicated (?:dissent|assent|agreement)|nodded|shook (?:his|her) head|"
                                r"rose|interjecting)[.)]*$", re.I)
DOT_LEADERS_RE = re.compile(r"\.{4,}|…{2,}|(?:\. ){4,}")
LINE_START_RE = re.compile(r"^[ \t\u200b-\u200f\u2060\ufeff]*(?=\S)", re.M)  # invisible marks count as indentation
Q_RE = re.compile(r"Q(?:[.:](?=\s|$)|(?=[ \t]+\S))")
A_RE = re.compile(r"A[.:](?=\s)")
_CAPS_NAME = r"(?:[A-Z][a-z]{1,2})?[A-ZÀ-Þ][A-ZÀ-Þ'’]+(?:-(?:[A-Z][a-z]{1,2})?[A-ZÀ-Þ][A-ZÀ-Þ'’]+)?"
STOP_RE = re.compile(
    rf"(?P<label>(?:(?:Mr|Ms|Mrs|Miss|Dr|Mister|MR|MS|MRS|DR)\.?[ \t]+{_CAPS_NAME}(?:[ \t]+{_CAPS_NAME})?"
    rf"(?:[ \t]+of[ \t]+[A-Z][a-z]+(?:[ \t]+[A-Z][a-z]+)?)?"
    rf"|(?:The|THE)[ \t]+(?:[A-Z]{{2,}}[ \t]+){{0,3}}[A-Z]{{2,}}(?:[ \t]+pro[ \t]+tempore)?"
    rf"|(?:[A-Z]{{2,}}\.?[ \t]+){{1,3}}[A-Z]{{2,}}(?:[ \t]+of[ \t]+[A-Z][a-z]+)?)"
    rf"(?:[ \t]+\((?:Mr|Ms|Mrs|Miss|Dr)\.?[ \t]+[^()\n]{{1,40}}\))?(?:[ \t]+\[[^\[\]\n]{{1,60}}\])?)\.(?=\s|$)")
HONORIFIC_STOP_RE = re.compile(rf"^(?:Mr|Ms|Mrs|Miss|Dr)\.[ \t]+{_CAPS_NAME}(?:[ \t]+of[ \t]+[A-Z][a-z]+(?:[ \t]+[A-Z][a-z]+)?)?$")
MARKUP_RE = re.compile(r"(?:>>+|\*\*|__)[ \t]*")
SEPARATOR_RE = re.compile(r"^[ \t]*(?:-{3,}|\*{3,}|_{3,})[ \t]*$", re.M)
PLACEHOLDER_RE = re.compile(
    r"^(?:(?:senior|another|second|third|unidentified|unknown)\s+)?(?:[\w.]+\s+){0,3}"
    r"(?:official|officials|spokesperson|moderator|participant|speaker|reporter|questioner|journalist|"
    r"interpreter|operator)$", re.I)


@dataclass
class Label:
    """One speaker label found in a text: where it is, what it says, and its form."""

    label: str  # the label's words as printed, without the colon or full stop that ends it
    start: int  # start of the label (line start, after indentation)
    body_start: int  # first character after the label's delimiter
    form: str = "colon"  # colon | stop | q | answer | line | caption


def strip_parentheticals(label: str) -> str:
    """Remove "(retranslated)", "(speaking after X)", "[…]" and the like."""
    return PAREN_RE.sub("", label).strip()


def drop_leading_the(core: str) -> str:
    """ "The President" -> "President", "The PRESIDING OFFICER" -> "PRESIDING OFFICER" (an office
    after "The"); anything else unchanged."""
    words = core.split()
    if len(words) >= 2 and words[0] in ("The", "THE", "Le", "LE", "La", "LA", "Les", "LES") and words[1][:1].isupper():
        return " ".join(words[1:])
    return core


def is_shouted(text: str) -> bool:
    """True if every cased letter of `text` (three at least) is a capital ("MS. PSAKI",
    "McCONNELL" counts: a "Mc"/"Mac"/"De" prefix may stay mixed)."""
    words = re.sub(r"\b(?:Mc|Mac|De|Di|La|Le|Lo|Van|Von|O')(?=[A-ZÀ-Þ]{2})", "", text)
    words = re.sub(r"\b(?:Mr|Ms|Mrs|Dr|Hon|The|of|pro|tempore|de|del|la|y)\b\.?", "", words)
    letters = [c for c in words if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def unmarked(label: str) -> str:
    """A label without the markup around it: "**GOVERNOR MARRACK" -> "GOVERNOR MARRACK", ">> MODERATOR"."""
    return label.strip().lstrip(MARKUP_CHARS).rstrip(MARKUP_CHARS)


def is_label(label: str) -> bool:
    """True if `label` (the text before a line-start colon) reads as a speaker label."""
    text = unmarked(label)
    if NUMBERED_SPEAKER_RE.match(text):
        return True
    if text.startswith("[") and text.endswith("]") and text.count("[") == 1:
        inner = text[1:-1].strip()
        return bool(PLACEHOLDER_RE.match(inner)) or is_label(inner)
    if not text or DOT_LEADERS_RE.search(text):
        return False
    stripped = re.sub(r"\s+pro\s+tempore\b", "", strip_parentheticals(text))  # "The SPEAKER pro tempore"
    if GROUP_RE.match(stripped) or VOICE_RE.match(stripped):
        return True
    core = drop_leading_the(stripped)
    if core != stripped and core.lower() in ROLE_ONLY_WORDS:
        return True  # "The President:", "The Chairman:"
    if not core or SENTENCE_PUNCT_RE.search(ABBREV_DOT_RE.sub("X", core)):
        return False
    shouted = is_shouted(core)
    if core.count(",") > (2 if shouted else 1):
        return False
    if "," in core and not shouted:
        head, tail = core.split(",", 1)
        if len(tail.split()) <= 12 and len(head.split()) >= 2 and is_label(head):
            return True  # "Mme Aurélie DESCHANEL-VOSS, directrice des Affaires consulaires": any words may say the office
    low = core.lower().rstrip(".")
    words = core.split()
    lows = {w.lower().strip(",.") for w in words}
    if low in NOT_SPEAKER_PHRASES or low in NOT_SPEAKER_WORDS or words[0].lower().rstrip(".,") in NOT_SPEAKERS:
        return False
    if lows & SALUTATION_WORDS:
        return False
    if QUESTION_HEAD_RE.match(core):
        return True
    if len(words) > (MAX_SHOUTED_LABEL_WORDS if shouted else MAX_LABEL_WORDS) or not words[0][:1].isalpha():
        return False
    if len(words) == 1 and not core.isupper() and not CAMEL_RE.match(core) \
            and core.lower().rstrip(".") not in ROLE_ONLY_WORDS | ANONYMOUS_HEADS:
        return False  # one Title-case word ("Canada:") is a heading; one-word labels are shouted or offices
    capitalised = 0
    for word in words:
        bare = word.strip(",.")
        if bare.isdigit() or (any(c.isdigit() for c in bare) and any(c.isalpha() for c in bare)):
            return False  # "Stage 2:", "Item 1:", "COVID-19:"
        if TOKEN_RE.match(word):
            capitalised += 1
        elif word.lower().rstrip(",") not in CONNECTORS and word.lower().rstrip(",") not in LABEL_LOWER_WORDS:
            return False
    if words[0].lower() in CONNECTORS or not TOKEN_RE.match(words[0]):
        return False
    if (not TOKEN_RE.match(words[-1]) and words[-1].lower() not in LABEL_LOWER_WORDS) or words[-1].endswith(","):
        return False  # "..., Editor in Chief of Ogonyok magazine" may end lower-case
    return capitalised * 2 >= len(words)


def _line_end(text: str, pos: int, end: int) -> int:
    found = text.find("\n", pos, end)
    return end if found < 0 else found


def _colon_label(text: str, pos: int, line_end: int) -> tuple[str, int] | None:
    """The label before the first colon outside brackets on this line, and the body start."""
    depth = 0
    limit = min(line_end, pos + MAX_LABEL_CHARS)
    for i in range(pos, limit):
        char = text[i]
        if char in "([":
            depth += 1
        elif char in ")]":
            depth = max(0, depth - 1)
        elif char == ":" and depth == 0:
            label = text[pos:i].rstrip()
            after = text[i + 1] if i + 1 < len(text) else "\n"
            if not label:
                return None
            if not after.isspace() and after not in "—–*_":  # "The President:—and the question", "**X:**"
                # "OBRADOR:Buenos días." only for a label in capitals; never "10:30", "http://"
                if not (is_shouted(strip_parentheticals(label)) and (after.isalpha() or after in "\"“¿¡")):
                    return None
            rest = text[i + 1:line_end]
            if DOT_LEADERS_RE.search(rest[:200]):
                return None  # a roster line: "President: Mr. Dang ........ (Viet Nam)"
            return label, i + 1
    return None


SECTION_WORDS = frozenset({"questions", "answers", "questions and answers", "questions et réponses", "preguntas"})


def _is_heading(label: str, rest: str, text: str, line_end: int, end: int) -> bool:
    """A heading with a colon ("COVID-19: National Plan", "Macquarie Electorate: Bushfires"): a
    short title-case phrase ends the line, and text follows on the next lines (for a one-word
    phrase: a speaker's label follows, and the heading is not a speaker's office or name in capitals).
    A Title-case "Questions :" alone on its line heads the questions part of a briefing."""
    if not rest.strip() and label.strip().lower() in SECTION_WORDS and not is_shouted(label):
        return True
    words = rest.split()
    if not 1 <= len(words) <= 20 or rest.rstrip()[-1:] in ".?!,;:—–-\"”'’)":
        return False
    if not all(w[:1].isupper() or w.lower() in CONNECTORS or w[:1].isdigit() for w in words):
        return False
    following = _next_line(text, line_end, end)
    if len(words) == 1:
        return (len(label.split()) >= 2 and not is_shouted(label) and bool(following)
                and starts_with_label(following))
    return bool(following)


def _next_line(text: str, pos: int, end: int) -> str:
    """The next non-blank line at or after `pos`."""
    for match in re.finditer(r"[^\n]*\S[^\n]*", text[pos:end]):
        return match.group(0).strip()
    return ""


def _candidates(text: str, start: int, end: int) -> tuple[list[Label], list[Label], list[Label]]:
    """Labels of each form at line starts: (colon, q and answer, stop), plus own-line candidates."""
    found: list[Label] = []
    stops: list[Label] = []
    lines: list[Label] = []
    for match in LINE_START_RE.finditer(text, start, end):
        pos = match.end()
        line_end = _line_end(text, pos, end)
        markup = MARKUP_RE.match(text, pos, line_end)
        if markup:  # "**GOVERNOR MARRACK:**", ">> MODERATOR:": the label starts at the markup
            colon = _colon_label(text, markup.end(), line_end)
            if colon and is_label(colon[0]):
                body = colon[1]
                while body < line_end and text[body] in "*_":
                    body += 1
                found.append(Label(text[pos:colon[1] - 1], pos, body, "colon"))
            elif text.startswith(">>", pos):
                found.append(Label(">>", pos, pos + 2, "caption"))  # live captions: a voice nobody named
            continue
        q = Q_RE.match(text, pos, line_end + 1)
        if q and not text.startswith("Q&A", pos):
            found.append(Label("Q", pos, q.end(), "q"))
            continue
        a = A_RE.match(text, pos, line_end + 1)
        if a:
            found.append(Label("A", pos, a.end(), "answer"))
            continue
        colon = _colon_label(text, pos, line_end)
        if colon and is_label(colon[0]) and not _is_heading(colon[0], text[colon[1]:line_end], text, line_end, end) \
                and not STAGE_DIRECTION_RE.match(text[colon[1]:line_end].strip()):
            found.append(Label(colon[0], pos, colon[1], "colon"))
            continue
        stop = STOP_RE.match(text, pos, line_end + 1)
        if stop and _stop_is_label(stop.group("label")):
            stops.append(Label(stop.group("label"), pos, stop.end(), "stop"))
            continue
        line = text[pos:line_end].rstrip()
        if len(line) <= MAX_LABEL_CHARS and is_shouted(strip_parentheticals(line)) and is_label(line):
            following = _next_line(text, line_end, end)
            if following and not is_shouted(following) and not SEPARATOR_RE.match(following):
                lines.append(Label(line, pos, line_end, "line"))
    return found, stops, lines


def _stop_is_label(label: str) -> bool:
    core = strip_parentheticals(label)
    words = core.split()
    if len(words) == 1:
        return bool(QUESTION_HEAD_RE.match(core))
    return is_label(core)


def find_labels(text: str, start: int = 0, end: int | None = None) -> list[Label]:
    """Speaker labels at line starts inside ``text[start:end]``, in order (see the module's
    docstring for the forms and when each is accepted)."""
    end = len(text) if end is None else end
    found, stops, lines = _candidates(text, start, end)
    labels = [lab for lab in found if lab.form != "answer"]
    if any(lab.form == "q" for lab in found):
        labels.extend(lab for lab in found if lab.form == "answer")
    if len(stops) >= 2:
        labels.extend(stops)
        if sum(HONORIFIC_STOP_RE.match(lab.label) is not None for lab in stops) >= 2:
            # the Congressional Record's manner: lines "Office: names" are lists, not turns
            labels = [lab for lab in labels if lab.form != "colon" or QUESTION_HEAD_RE.match(unmarked(lab.label))]
    elif stops and any(lab.form == "q" for lab in found):
        labels.extend(stops)  # "THE PRESIDENT." once, between "Q." questions
    else:
        # one "Mr. DeFAZIO." alone (an Extension of Remarks): an honorific and a surname in capitals
        labels.extend(lab for lab in stops if HONORIFIC_STOP_RE.match(lab.label))
    colon_count = sum(lab.form == "colon" for lab in labels)
    if len(lines) >= 3 and colon_count < len(lines) and not stops:
        repeats = max(Counter(lab.label for lab in lines).values()) >= 2
        if repeats or SEPARATOR_RE.search(text, start, end):
            labels.extend(lines)
    titled = _titled_stops(text, start, end)
    if len(titled) >= 3 and colon_count < len(titled) and not stops:
        counts = Counter(lab.label for lab in titled)
        asked = any(lab.form == "q" for lab in labels)  # "Q." and "The President." take turns
        if sum(n >= 2 for n in counts.values()) >= (1 if asked else 2):
            taken = {lab.start for lab in labels}
            labels.extend(lab for lab in titled if lab.start not in taken)
    labels.extend(_mid_line(text, start, end, labels))
    return sorted(labels, key=lambda lab: lab.start)


TITLED_STOP_RE = re.compile(
    r"(?P<label>The (?:Vice )?President|The (?:Attorney General|Secretary(?: of (?:the )?[A-Z][a-z]+)?|"
    r"Press Secretary|Chairman|Moderator)|"
    r"(?:(?:Mr|Ms|Mrs|Miss|Dr)\.|President|Governor|Senator|Vice President|Secretary|Ambassador|General)"
    r"[ \t]+[A-Z][a-z'’]+(?:-[A-Z][a-z'’]+)?|[A-Z][a-z]+[ \t]+[A-Z][a-z'’]+)\.[ \t]+(?=[A-Z\"“‘'])")


def _titled_stops(text: str, start: int, end: int) -> list[Label]:
    """Mixed-case labels ended by a full stop at line starts ("Jim Lehrer. Good evening",
    "Governor Clinton. I think ..."): kept only when several of them repeat (see `find_labels`)."""
    found = []
    for match in LINE_START_RE.finditer(text, start, end):
        stop = TITLED_STOP_RE.match(text, match.end(), end)
        if stop and is_label(stop.group("label")):
            found.append(Label(stop.group("label"), match.end(), stop.end() - 1, "stop"))
    return found


# Labels known everywhere, found even inside a line when a transcript lost its line breaks
# ("... good morning.PM: Good morning.HOST: ...").
COMMON_SHOUTED = ("PRIME MINISTER", "THE PRESIDENT", "PM", "HOST", "JOURNALIST", "QUESTION", "PRESENTER",
                  "INTERVIEWER", "REPORTER", "CALLER")


def _mid_line(text: str, start: int, end: int, labels: list[Label]) -> list[Label]:
    """Labels that start inside a line, right after the end of a sentence: a label this document
    uses at line starts, in capitals, or one of the common ones ("PM:", "HOST:")."""
    known = {lab.label for lab in labels if lab.form in ("colon", "stop") and is_shouted(strip_parentheticals(lab.label))}
    known |= set(COMMON_SHOUTED)
    known = {k for k in known if len(k) >= 2}
    if not known:
        return []
    pattern = re.compile(r"(?<=[.?!…\"”’)\-—–])[ \t]*(?P<label>" + "|".join(
        re.escape(k) for k in sorted(known, key=len, reverse=True)) + r")(?P<delim>[:.])[ \t]*(?=[\S])")
    taken = {lab.start for lab in labels}
    found = []
    for match in pattern.finditer(text, start, end):
        at = match.start("label")
        line_start = text.rfind("\n", 0, at) + 1
        if at in taken or not text[line_start:at].strip():
            continue  # at a line start: found already
        if match.group("delim") == "." and match.group("label") not in {lab.label for lab in labels}:
            continue  # "... the PM." ends a sentence; a full stop marks a label only where the document uses it
        found.append(Label(match.group("label"), at, match.end("delim"), "colon"))
    return found


def starts_with_label(line: str) -> bool:
    """True if one line opens with a label of the colon, q or stop form (a header stops there)."""
    line = line.strip()
    if Q_RE.match(line) and not line.startswith("Q&A"):
        return True
    colon = _colon_label(line, 0, len(line))
    if colon and is_label(colon[0]) and not _is_heading(colon[0], line[colon[1]:], line, len(line), len(line)):
        return True  # (a title "Live Captions: Joint Press Availability of ..." is no label)
    stop = STOP_RE.match(line)
    return bool(stop and _stop_is_label(stop.group("label")))
