"""Speaker turns of one document: its labels (`ingest.labels`), each read on its own
(`ingest.label_reading`), then resolved with what the document knows about its people.

What the document knows: the source's `speaker`, the names and offices its title gives ("Press
Briefing by Press Secretary Dana Whitfield"), a roster on its cover ("President: Mr. Dang ......
(Viet Nam)", "China ...... Mr. Wu Haitao"), header blocks ("HON. DONALD A. MANZULLO"), fuller labels
elsewhere in it ("The Prime Minister (Gordon Brown):" before "Gordon Brown:"), names in its text,
and, for "THE PRESIDENT" when nothing else names the holder, who held the office on its date
(`ingest.offices`). A label that names a person by surname ("MS. WHITFIELD") becomes the full name
when the document gives exactly one; an office ("THE PRESIDENT", "The PRESIDING OFFICER") becomes
the person last named in it; journalists' and interviewers' turns are questions.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field, replace

from ingest.label_reading import SpeakerInfo, fix_case, normalise_person, read_label
from ingest.label_words import CONNECTORS, DOC_SPEAKER_ROLES, NOT_SPEAKERS, PERSONAL_HONORIFICS, ROLE_ONLY_WORDS, ROLE_WORDS
from ingest.labels import Label, find_labels, is_label, is_shouted, strip_parentheticals
from ingest.models import Turn
from ingest.offices import guess_country, holder

__all__ = ["Label", "SpeakerInfo", "TurnContext", "find_labels", "is_label", "normalise_person", "read_label",
           "resolve_speakers", "split_turns", "strip_parentheticals"]

TITLE_NAME_RE = re.compile(r"[A-Z][\w'’.-]+(?:\s+(?:(?:of|the|van|von|der|de|al|bin|for|and)\s+)*[A-Z][\w'’.-]+)+")
ROSTER_PRESIDENT_RE = re.compile(
    r"^President:\s+(?:Mr|Ms|Mrs|Miss|Dr)\.?\s+(?P<name>[^\n]+?)\s*\.{3,}[ .]*\((?P<country>[^)\n]+)\)", re.M)
ROSTER_MEMBER_RE = re.compile(
    r"^(?:Members:\s+)?(?P<country>[A-Z][^\n.]*?)\s*\.{3,}[ .]*(?:Mr|Ms|Mrs|Miss|Dr)\.?\s+(?P<name>[^\n.]+?)\s*$", re.M)
HEADER_NAME_RE = re.compile(r"^(?:HON|Hon)\.\s+(?P<name>[A-Z][A-Za-z.'’ -]+[A-Z])\s*$", re.M)  # "HON. PETER A. DeFAZIO"
ROLE_ALIASES = {"pm": "prime minister", "presidente": "president", "presidenta": "president",
                "premier ministre": "prime minister", "chairperson": "chair", "chairman": "chair",
                "chairwoman": "chair"}
HEADS_OF = {"president": "president", "prime minister": "prime minister"}


@dataclass
class TurnContext:
    """What the document knows about its speakers before the labels are read."""

    main_speaker: str | None = None  # from the source's metadata or the title
    opening_speaker: str | None = None  # who speaks before the first label
    title: str | None = None
    is_interview: bool = False
    date: str | None = None
    main_role: str | None = None  # the main speaker's office, when the title gives it
    people: list[tuple[str, str | None]] = field(default_factory=list)  # (full name, role) the title names


def role_key(role: str | None) -> str:
    """A role compared across labels: lower case, no "the", "PM" = "prime minister"."""
    if not role:
        return ""
    key = " ".join(role.lower().replace(".", " ").split())
    key = re.sub(r"^the\s+", "", key)
    return ROLE_ALIASES.get(key, key)


def _surname(name: str | None) -> str:
    if not name or not name.split():
        return ""
    words = [w for w in name.replace("’", "'").split() if w.lower().rstrip(".") not in PERSONAL_HONORIFICS]
    return _fold(words[-1]) if words else ""


def _fold(text: str) -> str:
    """Lower case without accents: "Durán" = "duran"."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def title_people(title: str | None) -> list[tuple[str, str | None]]:
    """(full name, role) of the people a title names: "Press Briefing by Press Secretary Dana
    Whitfield" -> [("Dana Whitfield", "Press Secretary")]."""
    people: list[tuple[str, str | None]] = []
    if not title:
        return people
    for match in TITLE_NAME_RE.finditer(title):
        for part in re.split(r"\s+(?:and|for)\s+", match.group(0)):
            # "President Aldis Kalnins of the Republic of Vestria": try the phrase, then shorter
            cuts = [m.start() for m in re.finditer(r"\s+of\s+", part)]
            for candidate in [part] + [part[:c] for c in reversed(cuts)]:
                person = _person_in(candidate)
                if person:
                    people.append(person)
                    break
    return people


def _person_in(phrase: str) -> tuple[str, str | None] | None:
    """(full name, role) if `phrase` reads as a person, maybe with an office before the name."""
    if not is_label(phrase):
        return None
    info = read_label(phrase)
    if info.speaker and not info.is_question and not info.role_only and not info.anonymous and not info.group \
            and len(info.speaker.split()) >= 2 and not (info.has_role and info.speaker == phrase) \
            and info.speaker.split()[0].lower() not in NOT_SPEAKERS | ROLE_WORDS:
        return info.speaker, info.role
    return None


def _roster(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """A cover roster: ({role: name}, {country: name}) from "President: Mr. Dang ..... (Viet Nam)"
    and "China ...... Mr. Wu Haitao" lines."""
    roles: dict[str, str] = {}
    members: dict[str, str] = {}
    head = text[:8000]
    for match in ROSTER_PRESIDENT_RE.finditer(head):
        name = re.split(r"\s*/\s*(?:Mr|Ms|Mrs|Miss|Dr)\.?\s+", match.group("name").strip())[0]  # "Pham Binh Minh/Mr. Dang"
        roles["president"] = name
        members[_fold(match.group("country").strip())] = name
    for match in ROSTER_MEMBER_RE.finditer(head):
        members.setdefault(_fold(match.group("country").strip()), match.group("name").strip())
    return roles, members


EXCELLENCY_RE = re.compile(
    r"\b(?:the\s+)?(?P<role>[A-Z][\w-]+(?:\s+(?:of|for|the|and|[A-Z][\w-]+)){0,6}),\s+(?:His|Her)\s+Excellency\s+"
    r"(?:(?:Mr|Ms|Mrs|Dr|Sir|Dame)\.?\s+)?(?P<name>[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){1,3})")


def _introduced_offices(text: str) -> dict[str, str]:
    """Offices introduced with their holder: "I now give the floor to the Secretary-General,
    His Excellency Mr. António Guterres" -> {"secretary-general": "António Guterres"}."""
    found: dict[str, str] = {}
    for match in EXCELLENCY_RE.finditer(text):
        words = match.group("role").split()
        while words and words[0].lower() not in ROLE_WORDS:
            words = words[1:]  # "floor to the Secretary-General" -> "Secretary-General"
        if words:
            found.setdefault(role_key(" ".join(words)), match.group("name"))
    return found


def _expand_by_honorific(name: str, text: str) -> str:
    """A name as the document gives it in full after an honorific: roster "Pham" -> "Pham Binh
    Minh" from "His Excellency Mr. Pham Binh Minh, Deputy Prime Minister"."""
    pattern = re.compile(r"\b(?:Mr|Ms|Mrs|Miss|Dr)\.?\s+" + re.escape(name) + r"((?:\s+[A-Z][\w'’-]+){1,3})\b")
    longer = Counter(m.group(1).strip() for m in pattern.finditer(text)
                     if not {w.lower() for w in m.group(1).split()} & (ROLE_WORDS | NOT_SPEAKERS))
    if longer:
        return f"{name} {longer.most_common(1)[0][0]}"
    return name


def _known_names(ctx: TurnContext, infos: list[SpeakerInfo], text: str) -> list[str]:
    """Full names (two words or more) the document gives: labels, main speaker, title, header blocks."""
    names = [i.speaker for i in infos if i.speaker and not i.is_question and not i.has_role
             and not i.anonymous and not i.group and len(i.speaker.split()) >= 2]
    names += [i.speaker for i in infos if i.speaker and i.has_role and not i.role_only and not i.surname
              and not i.anonymous and len(i.speaker.split()) >= 2]
    if ctx.main_speaker:
        names.insert(0, ctx.main_speaker)
    names.extend(name for name, _ in ctx.people)

    names.extend(fix_case(re.sub(r"\b([A-Z])\.\s*", r"\1. ", m.group("name")).strip())
                 for m in HEADER_NAME_RE.finditer(text[:20000]) if is_shouted(m.group("name")))
    return [n for n in names if len(n.split()) >= 2]


def _interviewers(ctx: TurnContext) -> set[str]:
    """Lower-cased words of the names a title gives after "Interview with/to", up to a comma:
    "Interview with Kyle and Jackie O, KIIS FM" -> {"kyle", "jackie", "o"}."""
    if not ctx.title:
        return set()
    match = re.search(r"\binterview(?:ed)?\s+(?:with|to|by)\s+([^,(]*)", ctx.title, re.I)
    if not match:
        return set()
    return {w.lower() for w in re.findall(r"\b[A-Z][\w'’-]*", match.group(1).replace("’", "'"))}


def _full_name_in_text(surname: str, text: str, role: str | None = None,
                       honorific_only: bool = False) -> str | None:
    """The most frequent "Firstname Surname" in `text` ("Barry O'Farrell" for "O'Farrell"):
    mentioned twice, or once after an office ("I am joined by Deputy Adviser Samuel Okafor")
    that agrees with the label's own office, or once and alone for a label that gives only an
    honorific ("MR. OKAFOR" after "I'm pleased to welcome Samuel Okafor")."""
    if not text or len(surname) < 2:
        return None
    pattern = re.compile(r"\b([A-Z][a-z]+(?:-[A-Z][a-z]+)?)\s+" + re.escape(surname).replace("'", "['’]") + r"\b")
    firsts: Counter[str] = Counter()
    introduced: set[str] = set()
    role_words = {w.lower() for w in (role or "").split()} - {"the", "of"}
    for match in pattern.finditer(text):
        first = match.group(1)
        if first.lower() in ROLE_WORDS | NOT_SPEAKERS | PERSONAL_HONORIFICS | CONNECTORS:
            continue  # "The Albanese Government", "President Trump"
        firsts[first] += 1
        run = re.search(r"((?:[A-Za-z][\w'-]*[ \t]+){1,4})$", text[max(0, match.start() - 60):match.start()])
        before = [w.lower() for w in run.group(1).split()] if run else []
        while before and before[0] not in ROLE_WORDS:
            before = before[1:]  # "joined by Deputy Adviser" -> "deputy adviser"
        if before and all(w in ROLE_WORDS or w in ("of", "the", "for") for w in before) \
                and (not role_words or role_words <= set(before)):
            introduced.add(first)
    if not firsts:
        return None
    first, count = firsts.most_common(1)[0]
    # one passing mention is not enough: "PRESIDENT TRUMP" is not the "Melania Trump" he thanked
    if count >= 2 or (len(firsts) == 1 and (first in introduced or honorific_only)):
        return f"{first} {surname}"
    return None


class _Resolver:
    """Resolves one document's labels, in order, with what the document knows."""

    def __init__(self, labels: list[Label], infos: list[SpeakerInfo], ctx: TurnContext, text: str) -> None:
        self.ctx, self.text = ctx, text
        self.known = _known_names(ctx, infos, text)
        roster_roles, self.members = _roster(text)
        self.global_roles: dict[str, str] = {role_key(k): (_expand_by_honorific(v, text) if len(v.split()) == 1 else v)
                                             for k, v in roster_roles.items()}
        for office, name in _introduced_offices(text).items():
            self.global_roles.setdefault(office, name)
        for name, role in ctx.people:
            if role:
                self.global_roles.setdefault(role_key(role), name)
        if ctx.main_speaker and ctx.main_role:
            self.global_roles.setdefault(role_key(ctx.main_role), ctx.main_speaker)
        self.roles: dict[str, str] = {}
        self.by_surname: dict[str, str] = {}
        self.people_roles: dict[str, str] = {name: role for name, role in ctx.people if role}
        if ctx.main_speaker and ctx.main_role:
            self.people_roles.setdefault(ctx.main_speaker, ctx.main_role)
        self._country: str | None | bool = False

    def country(self) -> str | None:
        if self._country is False:
            self._country = guess_country(self.text)
        return self._country  # type: ignore[return-value]

    def full_name(self, surname: str, info: SpeakerInfo) -> str | None:
        """The one full name the document gives for a surname."""
        if info.affiliation and _fold(info.affiliation) in self.members:
            listed = self.members[_fold(info.affiliation)]
            if _surname(listed) == _fold(surname) or _fold(listed.split()[0]) == _fold(surname):
                return listed  # "Mr. Wu (China)" -> roster "Wu Haitao"
        key = _surname(surname)
        if key in self.by_surname:
            return self.by_surname[key]  # resolved earlier in the document (by office and date)
        if self.ctx.main_speaker and _surname(self.ctx.main_speaker) == key:
            return self.ctx.main_speaker
        matches = {n for n in self.known if _surname(n) == key and len(n.split()) >= 2}
        if len(matches) == 1:
            return matches.pop()
        if not matches and surname.lower() not in ROLE_WORDS | ROLE_ONLY_WORDS:
            return _full_name_in_text(surname, self.text, info.role, honorific_only=not info.role)
        return None

    def interviewee(self, info: SpeakerInfo) -> SpeakerInfo:
        """Who answers "A." in a Q-and-A interview: the document's speaker, or the one person
        the title names with an office ("Interview with Foreign Minister Ana Ruiz")."""
        who, role = self.ctx.main_speaker or self.ctx.opening_speaker, self.ctx.main_role
        if not who:
            officials = [(name, r) for name, r in self.ctx.people if r]
            if len(officials) == 1:
                who, role = officials[0]
        return replace(info, speaker=who, role=role if who else None)

    def office_holder(self, role: str) -> str | None:
        """Who holds `role` in this document: the last label that named them, the title, the
        cover, the main speaker, or the office's holder on the document's date."""
        key = role_key(role)
        if key in self.roles:
            return self.roles[key]
        if key in self.global_roles:
            return self.global_roles[key]
        if self.ctx.main_speaker and key in DOC_SPEAKER_ROLES and (
                not self.ctx.main_role or role_key(self.ctx.main_role).endswith(key)):
            return self.ctx.main_speaker
        if key in HEADS_OF and self.ctx.date:
            country = self.country()
            if country:
                return holder(country, HEADS_OF[key], self.ctx.date)
        return None

    def resolve(self, label: Label, info: SpeakerInfo) -> SpeakerInfo:
        if info.is_question or info.group or info.anonymous or not (info.speaker or info.role_only):
            return info
        if label.form == "answer":
            return self.interviewee(info)
        if info.role_only:
            role = info.role or info.speaker or ""
            who = self.office_holder(role)
            return replace(info, speaker=who, role=info.role) if who else info
        speaker = info.speaker
        if info.surname:
            full = self.full_name(info.surname, info)
            if full:
                speaker = full
            elif info.has_role and info.role and not info.role_only:
                holder_name = self.office_holder(info.role)
                if holder_name and _surname(holder_name) == _surname(info.surname):
                    speaker = holder_name
                    self.by_surname[_surname(info.surname)] = holder_name
        if speaker and info.role and not info.role_only:
            self.roles[role_key(info.role)] = speaker
            self.global_roles.setdefault(role_key(info.role), speaker)
        return replace(info, speaker=speaker, role=info.role or self.people_roles.get(speaker or ""))


def resolve_speakers(labels: list[Label], ctx: TurnContext, bodies: list[str], text: str = "") -> list[SpeakerInfo]:
    """Read every label of one document, using the document's context to resolve role-only
    labels ("PRIME MINISTER" -> the record's speaker), surnames ("MITCHELL" -> "Neil Mitchell",
    "MS. WHITFIELD" -> the press secretary the title names) and interviewers."""
    infos = [read_label(label.label, label.form) for label in labels]
    resolver = _Resolver(labels, infos, ctx, text)
    # offices named in full anywhere ("PRESIDENT KALNINS:") resolve a bare "THE PRESIDENT:" before them
    for label, info in zip(labels, infos):
        if info.role and info.speaker and not info.role_only and not info.is_question and not info.anonymous:
            resolved = resolver.resolve(label, info)
            if resolved.speaker and (not info.surname or resolved.speaker != info.speaker):
                resolver.global_roles.setdefault(role_key(info.role), resolved.speaker)
    resolver.roles.clear()
    resolved = [resolver.resolve(label, info) for label, info in zip(labels, infos)]
    _shorten_to_bare_labels(resolved)
    _roles_named_earlier(labels, resolved)
    _join_near_spellings(resolved)
    _mark_interviewers(resolved, ctx, bodies)
    _mark_closing_journalists(resolved, bodies)
    return resolved


VOCATIVE_RE = re.compile(r"\b(?:Mr\.?|Madam|Madame)\s+(?:President|Prime Minister|Secretary|Speaker|Chairman)\b")


def _mark_closing_journalists(infos: list[SpeakerInfo], bodies: list[str]) -> None:
    """At a press conference (three questions or more), a reporter named by surname only who
    only ever says a line to the principal ("Ms. Thomas: Thank you, Mr. President.") is a
    journalist, not an official."""
    if sum(i.is_question for i in infos) < 3:
        return
    said: dict[str, list[str]] = {}
    for info, body in zip(infos, bodies):
        if info.surname and info.speaker and not info.is_question and not info.role:
            said.setdefault(info.speaker, []).append(body)
    for name, lines in said.items():
        if all(len(line) <= 200 and VOCATIVE_RE.search(line) for line in lines):
            for info in infos:
                if info.speaker == name:
                    info.is_question = True


def _roles_named_earlier(labels: list[Label], infos: list[SpeakerInfo]) -> None:
    """A bare role label takes the name it was given once in full: after
    "MINISTER FOR FOREIGN AFFAIRS, THE HONOURABLE JULIE BISHOP MP:", a later
    "MINISTER FOR FOREIGN AFFAIRS:" is Julie Bishop."""
    named: dict[str, str] = {}
    for label, info in zip(labels, infos):
        core = strip_parentheticals(label.label)
        if "," in core and info.speaker and not info.is_question and not info.role_only:
            named.setdefault(core.split(",", 1)[0].strip().lower(), info.speaker)
    for label, info in zip(labels, infos):
        name = named.get(strip_parentheticals(label.label).strip().lower())
        if name and not info.is_question:
            info.speaker = name
            info.role_only = False


def _shorten_to_bare_labels(infos: list[SpeakerInfo]) -> None:
    """Use the form a person has in the document's own bare labels: a role-stripped
    "Ossetia Leonid Tibilov" becomes "Leonid Tibilov" when that label also occurs."""
    bare = {i.speaker for i in infos if i.speaker and not i.has_role and not i.is_question and len(i.speaker.split()) >= 2}
    for info in infos:
        if info.has_role and info.speaker and info.speaker not in bare:
            for name in sorted(bare, key=len):
                if info.speaker.endswith(" " + name):
                    info.speaker = name
                    break


def _edit_distance_one(a: str, b: str) -> bool:
    """True if `a` and `b` differ by one substitution, insertion or deletion."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def _join_near_spellings(infos: list[SpeakerInfo]) -> None:
    """A misspelt name in one label ("Angela Markel") joins the same first name with a surname
    one letter away that the document uses more often ("Angela Merkel")."""
    counts = Counter(i.speaker for i in infos if i.speaker and not i.is_question and len(i.speaker.split()) >= 2)
    for name, n in list(counts.items()):
        first, last = name.split()[0], name.split()[-1]
        for other, m in counts.items():
            if other != name and m > n and other.split()[0] == first and len(last) >= 5 \
                    and len(other.split()) == len(name.split()) and _edit_distance_one(last.lower(), other.split()[-1].lower()):
                for info in infos:
                    if info.speaker == name:
                        info.speaker = other
                break


def _mark_interviewers(infos: list[SpeakerInfo], ctx: TurnContext, bodies: list[str]) -> None:
    """In interviews, the people who ask are questioners: those the title names after
    "Interview with", and people labelled by name alone (no role) who ask questions in at least
    3 of 20 of their turns (and at least 3 turns) and speak less per turn than the interviewee."""
    if not ctx.is_interview:
        return
    named = _interviewers(ctx)
    talk: Counter[str] = Counter()
    turns: Counter[str] = Counter()
    asks: Counter[str] = Counter()
    for info, body in zip(infos, bodies):
        if info.speaker and not info.is_question:
            talk[info.speaker] += len(body)
            turns[info.speaker] += 1
            asks[info.speaker] += "?" in body
    if not talk:
        return
    main = ctx.main_speaker if ctx.main_speaker in talk else talk.most_common(1)[0][0]
    main_avg = talk[main] / turns[main]
    questioners = {
        name for name in talk
        if name != main and (
            bool({w.lower() for w in name.split()} & named)
            or (turns[name] >= 3 and asks[name] * 20 >= turns[name] * 3
                and talk[name] / turns[name] < 0.8 * main_avg)
        )
    }
    for info in infos:
        if info.speaker in questioners and not info.has_role:
            info.is_question = True


def split_turns(text: str, start: int, ctx: TurnContext) -> list[Turn]:
    """Speaker turns of ``text[start:]``. Text before the first label is an opening turn
    spoken by ``ctx.opening_speaker``; each turn's span is its body, stripped of whitespace."""
    labels = find_labels(text, start)
    bounds: list[tuple[int, int]] = []
    for i, label in enumerate(labels):
        end = labels[i + 1].start if i + 1 < len(labels) else len(text)
        bounds.append(_strip(text, label.body_start, end))
    infos = resolve_speakers(labels, ctx, [text[s:e] for s, e in bounds], text)
    turns: list[Turn] = []
    opening_end = labels[0].start if labels else len(text)
    o_start, o_end = _strip(text, start, opening_end)
    if o_end > o_start and any(c.isalpha() for c in text[o_start:o_end]):  # not a lone "* * *"
        role = ctx.main_role if ctx.opening_speaker and ctx.opening_speaker == ctx.main_speaker else None
        turns.append(Turn(0, ctx.opening_speaker, None, False, o_start, o_end, role))
    roles = _roles_by_speaker(infos)
    for label, info, (b_start, b_end) in zip(labels, infos, bounds):
        role = None if info.is_question else (info.role or roles.get(info.speaker or ""))
        turns.append(Turn(len(turns), info.speaker, label.label, info.is_question, b_start, b_end, role))
    return turns


def _roles_by_speaker(infos: list[SpeakerInfo]) -> dict[str, str]:
    """The office each person is given in the document, for their turns whose label gives none
    ("The Prime Minister (Gordon Brown):" once, then "Gordon Brown:")."""
    roles: dict[str, str] = {}
    for info in infos:
        if info.speaker and info.role and not info.is_question and not info.anonymous and not info.group:
            roles.setdefault(info.speaker, info.role)
    return roles


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
