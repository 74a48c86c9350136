"""Speaker identities across a collection: one identity per person, with every form of their name
the documents use ("Donald Trump", "President Trump", "Trump"), their roles, passages and dates.

Each document names its speakers as well as it can on its own (`ingest.turns`); this module joins
those names across documents, read-only, from what the store holds:
- the same name without accents, case, honorifics or leading office words is the same person
  ("Mr Putin" = "Putin"; "President Trump" = "Trump");
- a surname alone, or an office and a surname, joins the one full name of the collection with that
  surname whose roles or dates agree ("President Trump" -> "Donald Trump"; "Minister Smith" of
  2010 does not join a "Howard K. Smith" of 1980); two candidates leave it on its own;
- a near spelling joins the name it is one letter away from, with the same first name, when that
  name has more passages ("Angela Markel" -> "Angela Merkel");
- a name without a middle initial joins the one form with it ("Donald Manzullo" -> "Donald A.
  Manzullo"); two different middles ("George W. Bush", "George H. W. Bush") stay two people;
- offices without a name ("President", "Mr. Speaker"), anonymous officials ("Senior
  Administration Official") and group voices ("Hon. Members") are never joined to a person.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable

from ingest.label_words import ANONYMOUS_HEADS, ANONYMOUS_QUALIFIERS, GROUP_RE, NUMBERED_SPEAKER_RE, HONORIFICS, PERSONAL_HONORIFICS, ROLE_WORDS, VOICE_RE
from ingest.spelling import one_edit_apart

DATE_SLACK_YEARS = 2
UNNAMED = frozenset("senior unidentified unknown another second third other background".split())
OFFICE_CONNECTORS = frozenset("of for and the on to".split())
"""Words between the role words of an office ("Minister of State", "Minister for Foreign Affairs"). Not
ingest.label_words.CONNECTORS: that one holds name particles too ("de", "van", "al"), which begin names
("Al Gore") rather than continue offices."""


@dataclass
class SpeakerRow:
    """One stored speaker name with its roles, passages, documents and date range."""

    speaker: str
    roles: str | None  # comma-joined, as the store's GROUP_CONCAT gives them (U+001F for a comma inside one)
    passages: int
    documents: int
    first: str | None
    last: str | None


@dataclass
class Identity:
    """One person (or office, anonymous official, group) and the names the collection gives it."""

    name: str
    kind: str  # person | office | anonymous | group
    aliases: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    passages: int = 0
    documents: int = 0
    first: str | None = None
    last: str | None = None

    def to_dict(self) -> dict[str, object]:
        """The `rag speakers --json` shape."""
        return {"speaker": self.name, "kind": self.kind, "aliases": list(self.aliases), "roles": list(self.roles),
                "passages": self.passages, "documents": self.documents, "first": self.first, "last": self.last}


def fold(text: str) -> str:
    """Lower case without accents."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def name_words(name: str) -> list[str]:
    """The words of a person's name: folded, no punctuation, no honorifics or leading offices."""
    words = re.sub(r"[^\w\s'-]", " ", fold(name).replace("’", "'")).split()
    while len(words) > 1 and (words[0] in HONORIFICS or words[0] in ROLE_WORDS or words[0] in OFFICE_CONNECTORS):
        words = words[1:]
    return [w for w in words if w not in PERSONAL_HONORIFICS] or words


def kind_of(name: str) -> str:
    """person, office ("President", "Mr. Speaker"), anonymous ("Moderator") or group ("Hon. Members")."""
    if GROUP_RE.match(name) or VOICE_RE.match(name):
        return "group"
    if NUMBERED_SPEAKER_RE.match(name):
        return "anonymous"  # "Speaker 1" of a machine transcript
    words = re.sub(r"[^\w\s-]", " ", fold(name)).split()
    if words and words[-1] in ANONYMOUS_HEADS and all(w in ROLE_WORDS or w in ANONYMOUS_HEADS or w in
                                                      ANONYMOUS_QUALIFIERS for w in words):
        if (len(words) == 1 and words[0] != "speaker") or set(words[:-1]) & UNNAMED:
            return "anonymous"  # "Moderator", "Senior Administration Official", "Unidentified Speaker"
    if words and all(w in ROLE_WORDS or w in HONORIFICS or w in OFFICE_CONNECTORS for w in words):
        return "office"  # "Prime Minister", "Acting Special Minister of State"
    return "person"


def _year(date: str | None) -> int | None:
    return int(date[:4]) if date and re.match(r"^\d{4}", date) else None


def _dates_agree(a: Identity, b: Identity) -> bool:
    lo_a, hi_a, lo_b, hi_b = _year(a.first), _year(a.last), _year(b.first), _year(b.last)
    if None in (lo_a, hi_a, lo_b, hi_b):
        return True  # undated: nothing says they are different people
    return lo_a <= hi_b + DATE_SLACK_YEARS and lo_b <= hi_a + DATE_SLACK_YEARS  # type: ignore[operator]


def _roles_agree(alias_roles: Iterable[str], person: Identity) -> bool | None:
    """True/False when both sides give roles and they share a word; None when one gives none."""
    mine = {w for r in alias_roles for w in fold(r).split() if w in ROLE_WORDS and w not in ("of", "the")}
    theirs = {w for r in person.roles for w in fold(r).split() if w in ROLE_WORDS and w not in ("of", "the")}
    if not mine or not theirs:
        return None
    return bool(mine & theirs)


class SpeakerIndex:
    """The collection's identities and a map from every stored name to its identity."""

    def __init__(self, rows: Iterable[SpeakerRow]) -> None:
        self.identities: list[Identity] = []
        self.by_alias: dict[str, Identity] = {}
        self._build(list(rows))

    def _merge(self, into: Identity, other: Identity) -> None:
        for alias in other.aliases:
            if alias not in into.aliases:
                into.aliases.append(alias)
            self.by_alias[alias] = into
        for role in other.roles:
            if role not in into.roles:
                into.roles.append(role)
        into.passages += other.passages
        into.documents += other.documents
        dates = [d for d in (into.first, other.first) if d]
        into.first = min(dates) if dates else None
        dates = [d for d in (into.last, other.last) if d]
        into.last = max(dates) if dates else None

    def _build(self, rows: list[SpeakerRow]) -> None:
        groups: dict[tuple[str, ...], Identity] = {}
        for row in rows:
            kind = kind_of(row.speaker)
            key = (kind, *name_words(row.speaker)) if kind == "person" else (kind, fold(row.speaker))
            ident = groups.get(key)
            if ident is None:
                ident = groups[key] = Identity(name=row.speaker, kind=kind)
            if row.speaker not in ident.aliases:
                ident.aliases.append(row.speaker)
            for role in (row.roles or "").split(","):
                role = role.replace("\x1f", ",").strip()
                if role and role not in ident.roles:
                    ident.roles.append(role)
            ident.passages += row.passages
            ident.documents += row.documents
            ident.first = min(d for d in (ident.first, row.first) if d) if (ident.first or row.first) else None
            ident.last = max(d for d in (ident.last, row.last) if d) if (ident.last or row.last) else None
        for ident in groups.values():
            for alias in ident.aliases:
                self.by_alias[alias] = ident
        people = [i for i in groups.values() if i.kind == "person"]
        full = [i for i in people if len(name_words(i.name)) >= 2]
        merged: set[int] = set()
        # a name without a middle joins the one form with a middle ("Donald Manzullo" -> "Donald A. Manzullo")
        for ident in sorted(full, key=lambda i: len(name_words(i.name))):
            words = name_words(ident.name)
            if len(words) != 2 or id(ident) in merged:
                continue
            longer = [o for o in full if o is not ident and id(o) not in merged and len(name_words(o.name)) > 2
                      and name_words(o.name)[0] == words[0] and name_words(o.name)[-1] == words[-1]]
            if len(longer) == 1 and _dates_agree(ident, longer[0]):
                self._merge(longer[0], ident)
                merged.add(id(ident))
        full = [i for i in full if id(i) not in merged]
        # near spellings: same first name, surname one letter away, the bigger one wins
        for ident in sorted(full, key=lambda i: i.passages):
            if id(ident) in merged:
                continue
            words = name_words(ident.name)
            for other in sorted(full, key=lambda i: -i.passages):
                o_words = name_words(other.name)
                if other is ident or id(other) in merged or other.passages <= ident.passages:
                    continue
                if len(o_words) == len(words) and o_words[0] == words[0] and o_words[:-1] == words[:-1] \
                        and len(words[-1]) >= 5 and one_edit_apart(words[-1], o_words[-1]):
                    self._merge(other, ident)
                    merged.add(id(ident))
                    break
        full = [i for i in full if id(i) not in merged]
        # surnames alone (or after an office) join the one agreeing full name with that surname
        for ident in people:
            if id(ident) in merged or len(name_words(ident.name)) != 1:
                continue
            surname = name_words(ident.name)[0]
            candidates = [o for o in full if name_words(o.name)[-1] == surname and _dates_agree(ident, o)
                          and _roles_agree(ident.roles, o) is not False]
            if len(candidates) > 1:
                agreeing = [o for o in candidates if _roles_agree(ident.roles, o)]
                candidates = agreeing if len(agreeing) == 1 else candidates
            if len(candidates) == 1:
                self._merge(candidates[0], ident)
                merged.add(id(ident))
        self.identities = sorted((i for i in groups.values() if id(i) not in merged),
                                 key=lambda i: (-i.passages, i.name))
        for ident in self.identities:
            best = max((a for a in ident.aliases if len(name_words(a)) == max(len(name_words(x)) for x in ident.aliases)),
                       key=lambda a: (a == ident.name, len(a)), default=ident.name)
            if ident.kind == "person":
                ident.name = best
            ident.aliases.sort(key=lambda a: (a != ident.name, a))

    def canonical(self, name: str | None) -> str | None:
        """The identity's name for a stored speaker name (the name itself when unknown)."""
        if not name:
            return name
        ident = self.by_alias.get(name)
        return ident.name if ident else name

    def identity(self, name: str) -> Identity | None:
        """The identity a stored name belongs to."""
        return self.by_alias.get(name)

    def match(self, query: str) -> list[Identity]:
        """Identities a filter value names: an exact name or alias, a surname, or a substring of
        a name or alias (case and accents ignored)."""
        needle = fold(query.strip())
        if not needle:
            return []
        exact = [i for i in self.identities if any(fold(a) == needle for a in i.aliases)]
        if exact:
            return exact
        words = needle.split()
        by_surname = [i for i in self.identities if i.kind == "person" and len(words) == 1
                      and any(name_words(a)[-1:] == words for a in i.aliases)]
        if by_surname:
            return by_surname
        return [i for i in self.identities if any(needle in fold(a) for a in i.aliases)]
