"""Who a question asks to hear from: "What did Putin say about NATO?" asks for Vladimir Putin's
own words, "How has the press secretary described ..." for nobody in particular.

A person counts as the one asked about when the question names them (full name, surname or an
alias of a collection identity, as `rag.store.speakers.SpeakerIndex` knows them) and asks what they said
(a verb of saying, "X's view/position", "according to X"). A person named only as a topic
("When did Putin meet Lukashenko?") is not: anyone's words may answer that."""

from __future__ import annotations

import re

from rag.store.speakers import Identity, SpeakerIndex, fold, name_words

SAYING = re.compile(
    r"\b(?:say|says|said|saying|tell|tells|told|describe[sd]?|describing|think|thinks|thought|view|views|"
    r"position|stance|opinion|comment(?:s|ed)?|respond(?:s|ed)?|response|react(?:s|ed)?|reaction|"
    r"call(?:s|ed)?|argue[sd]?|claim|claimed|warn(?:s|ed)?|explain(?:s|ed)?|characteri[sz]e[sd]?|"
    r"according to|stated|announce[sd]?|promise[sd]?|insist(?:s|ed)?|assess(?:ed|es|ment)?|speak|"
    r"spoke|remark(?:s|ed)?|answer(?:s|ed)?|repl(?:y|ied|ies)|mention(?:s|ed)?|discuss(?:es|ed)?|"
    r"talk|talked|emphasi[sz]e[sd]?|stress(?:es|ed)?|criticis(?:e|ed|es)|criticiz(?:e|ed|es)|"
    r"accuse[sd]?|urge[sd]?|propose[sd]?|suggest(?:s|ed)?|believe[sd]?|feel|feels|felt|words?)\b", re.I)
"""Verbs (and nouns) of saying. Left out: words that are nouns far more often in questions than verbs of
saying ("peace treaty talks", "head of state", "the United States", "asylum claims"): a person named before
one of them is not asked for their words."""
CAPITALISED = re.compile(r"\b[A-Z][\w'’.-]+(?:\s+[A-Z][\w'’.-]+)*")
NOT_NAMES = frozenset("""what when where who whom why how which did does do has have had is was were will would
    could should can may might the a an in on at of for about and or but mr mrs ms dr president prime minister
    secretary press foreign chancellor king queen""".split())


def _surnames(ident: Identity) -> set[str]:
    out = set()
    for alias in ident.aliases:
        words = name_words(alias)
        if words and len(words[-1]) >= 3:
            out.add(words[-1])
    return out


def _full_names(ident: Identity) -> set[str]:
    return {" ".join(name_words(a)) for a in ident.aliases if len(name_words(a)) >= 2}


def named_people(index: SpeakerIndex, question: str) -> list[tuple[int, Identity]]:
    """People of the collection the question names, with where it first names each, in that
    order (a surname two people share gives both, at one position)."""
    words: list[tuple[int, str]] = []
    for m in CAPITALISED.finditer(question):
        for w in re.finditer(r"[\w'’-]+", m.group(0)):
            token = re.sub(r"['’]s?$", "", fold(w.group(0)))  # "Lavrov's", "Kirsty Williams'"
            if token not in NOT_NAMES and len(token) >= 3:
                words.append((m.start() + w.start(), token))
    if not words:
        return []
    folded = " " + " ".join(re.sub(r"[^\w\s'-]", " ", fold(question)).split()) + " "
    found: list[tuple[int, Identity]] = []
    tokens = {t for _, t in words}
    for ident in index.identities:
        if ident.kind != "person":
            continue
        full = [n for n in _full_names(ident) if f" {n} " in folded or f" {n}'s " in folded or f" {n}' " in folded]
        hit = full or (_surnames(ident) & tokens)
        if not hit:
            continue
        keys = {w for n in full for w in n.split()} or set(hit)
        first = min((pos for pos, t in words if t in keys), default=len(question))
        found.append((first, ident))
    if not found:
        return []
    found.sort(key=lambda p: (p[0], -p[1].passages))
    return found


ACCORDING_RE = re.compile(r"\baccording to\b", re.I)


def _asked_among(people: list[tuple[int, Identity]], question: str) -> list[Identity]:
    """The people whose own words the question asks for, among those of the collection it names
    (`named_people`): the first person named before a verb of saying ("What did Putin say ...",
    "Putin's view of ...") or right after "according to"; empty when the question asks for no one's
    words ("What did the White House say about Putin?")."""
    if not people:
        return []
    verb = SAYING.search(question)
    if verb is None:
        return []
    chosen: int | None = None
    before = [pos for pos, _ in people if pos < verb.start()]
    if before:
        chosen = before[0]
    else:
        for m in ACCORDING_RE.finditer(question):
            after = [pos for pos, _ in people if m.end() <= pos <= m.end() + 40]
            if after:
                chosen = after[0]
                break
    if chosen is None:
        return []
    return [ident for pos, ident in people if pos == chosen]


NAME_RUN = re.compile(r"[A-Z][a-z][\w'’-]*(?:\s+[A-Z][a-z][\w'’-]*)+")
ORGANISATION_WORDS = frozenset("""ministry ministries council union house committee department office government
    party bank nations states republic federation parliament assembly agency commission service court organisation
    organization forum group summit kremlin embassy cabinet senate congress army forces times post news daily
    institute university association alliance treaty fund club league centre center administration north south east
    west middle central stream pipeline sea ocean island islands""".split())
REQUESTS = frozenset("summarize summarise describe explain list outline give name tell discuss compare".split())
"""Words that open a request ("Summarize Kirsty Williams' opinion ..."), never part of a name."""
SUBJECT_GAP = re.compile(r"^(?:['’]s)?\s*(?:\w+\s+)?$")
"""Between a name and its verb of saying: "'s" ("Aleinik's view") and at most one word ("has said")."""


def asked_for(index: SpeakerIndex, question: str) -> tuple[list[Identity], str | None]:
    """Whose own words the question asks for, the collection's people named once: the identities
    (`_asked_among`), or else, when it names none of them, the name of a person the collection does
    not know (`_unknown_name`), or neither ([], None)."""
    people = named_people(index, question)
    if people:
        return _asked_among(people, question), None
    return [], _unknown_name(question)


def _unknown_name(question: str) -> str | None:
    """The name of a person whose own words the question asks for ("What did Sergey Aleinik say
    ...", "according to Xi Jinping"), for a question that names none of the collection's people: two
    or three capitalised words, none a title, country, demonym or organisation word, right before a
    verb of saying (or right after "according to"); None when there is no such name."""
    from rag.answer.entities import find_entities

    for verb in SAYING.finditer(question):
        after = verb.group(0).lower() == "according to"
        for m in NAME_RUN.finditer(question):
            if (m.start() < verb.end()) if after else (m.end() > verb.start()):
                continue
            gap = question[verb.end():m.start()] if after else question[m.end():verb.start()]
            if not (gap.strip() == "" if after else SUBJECT_GAP.match(gap)):
                continue
            words = [re.sub(r"['’]s?$", "", w) for w in m.group(0).split()]
            while words and (fold(words[0]) in NOT_NAMES or fold(words[0]) in REQUESTS):
                words = words[1:]
            if not 2 <= len(words) <= 3 or any(fold(w) in NOT_NAMES | ORGANISATION_WORDS for w in words):
                continue
            name = " ".join(words)
            if find_entities(name):
                continue
            return name
    return None
