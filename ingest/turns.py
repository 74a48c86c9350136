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
from dataclasses import replace

from ingest.label_reading import SpeakerInfo, fix_case, normalise_person, read_label
from ingest.label_words import CONNECTORS, DOC_SPEAKER_ROLES, NOT_SPEAKERS, PERSONAL_HONORIFICS, ROLE_ONLY_WORDS, ROLE_WORDS
from ingest.labels import (
    HONORIFIC_STOP_RE, Label, find_labels, is_label, is_shouted, strip_parentheticals, unmarked,
)
from ingest.models import Turn
from ingest.offices import guess_country, holder, offices_of
from ingest.questioners import mark_questioners
from ingest.spelling import one_edit_apart
from ingest.turn_context import TurnContext

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
GENERIC_OFFICES = frozenset({"president", "prime minister", "minister", "secretary", "chair", "chairman", "speaker",
                             "governor", "director", "ambassador", "representative"})
CHAIRS = frozenset({"presiding officer", "speaker pro tempore", "president pro tempore", "acting president pro tempore",
                    "deputy speaker", "speaker", "chair", "deputy president", "chairman of committees"})


def role_key(role: str | None) -> str:
    """A role compared across labels: lower case, no "the", "PM" = "prime minister"."""
    if not role:
        return ""
    key = " ".join(role.lower().replace(".", " ").split())
    key = re.sub(r"^the\s+", "", key)
    key = re.sub(r"^minister (?:for|of) (?:the )?(\w+)$", r"\1 minister", key)  # "Minister for Defence"
    key = key.replace(" of the ", " of ")  # "Chief of the Defence Force" = "Chief of Defence Force"
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
    # "... with Senator the Hon Marise Payne, Minister for Defence and Air Chief Marshal Mark Binskin, Chief of ..."
    for segment in re.split(r"\s+(?:and|with|by|between|et|avec)\s+|;", title):
        if "," not in segment:
            continue
        head, tail = (part.strip() for part in segment.split(",", 1))
        honorific = re.search(r"\b(?:M\.|Mme|Mlle|Monsieur|Madame|Mr\.?|Mrs\.?|Ms\.?|Dr\.?)\s+[A-Z]", head)
        if honorific:
            head = head[honorific.start():]  # "Point de presse de M. Théo Arcambault" -> "M. Théo Arcambault"
        person = _person_in(head)
        if person and any(w.lower() in ROLE_WORDS for w in tail.split()) and len(tail.split()) <= 16:
            people.append((person[0], tail.split(",")[0].strip()))
    named = {name for name, _ in people}
    for match in TITLE_NAME_RE.finditer(title):
        for part in re.split(r"\s+(?:and|for)\s+", match.group(0)):
            # "President Aldis Kalnins of the Republic of Vestria": try the phrase, then shorter
            cuts = [m.start() for m in re.finditer(r"\s+of\s+", part)]
            for candidate in [part] + [part[:c] for c in reversed(cuts)]:
                person = _person_in(candidate)
                if person:
                    if person[0] not in named:
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
    pattern = re.compile(r"\b(?:Mr|Ms|Mrs|Miss|Dr)\.?[ \t]+" + re.escape(name) + r"((?:[ \t]+[A-Z][\w'’-]+){1,3})\b")
    longer = Counter(m.group(1).strip() for m in pattern.finditer(text)
                     if not {w.lower() for w in m.group(1).split()} & (ROLE_WORDS | NOT_SPEAKERS))
    if longer:
        return f"{name} {longer.most_common(1)[0][0]}"
    return name


SELF_INTRODUCED = frozenset({"moderator", "host", "chair", "presenter", "interviewer", "spokesperson",
                             "spokesman", "spokeswoman", "press secretary", "press officer"})
SELF_INTRO_RE = re.compile(r"\b(?:I am|I'm|This is|My name is)\s+(?:(?:the\s+)?(?:[A-Z][a-z]+\s+){0,2}"
                           r"(?:Spokesperson|Spokesman|Spokeswoman|Secretary|Officer|Moderator|Host)\s+)?"
                           r"(?P<name>[A-Z][a-z]+(?:\s+[A-Z]\.)*\s+[A-Z][\w'’-]+)\b")
ROLE_TITLE_WORDS = r"(?:(?:the\s+)?(?:Hon(?:ourable)?\.?|Senator|Air Chief Marshal|Chief Marshal|Air Marshal|General|" \
                   r"Admiral|Vice Admiral|Lieutenant General|Dr\.?|Mr\.?|Ms\.?|Mrs\.?|Professor)\s+)"


def _role_variants(role: str) -> list[str]:
    """Ways a text writes an office: "Defence Minister" = "Minister for Defence" = "Minister of Defence"."""
    words = role.split()
    variants = [role]
    low = [w.lower() for w in words]
    if len(words) == 2 and low[1] == "minister":
        variants += [f"Minister for {words[0]}", f"Minister of {words[0]}"]
    if len(words) >= 3 and low[0] == "minister" and low[1] in ("for", "of"):
        variants.append(f"{' '.join(words[2:])} Minister")
    if "of" in low:
        i = low.index("of")
        variants.append(" ".join(words[:i + 1] + ["the"] + words[i + 1:]))  # "Chief of the Defence Force"
    return variants


def _office_named_in_text(role: str, text: str) -> str | None:
    """The person the text names with an office a label gives alone: "DEFENCE MINISTER:" after
    "the Minister for Defence, Senator the Hon Marise Payne" is Marise Payne."""
    if not role or len(role.split()) < 2:
        return None
    names: Counter[str] = Counter()
    for variant in _role_variants(fix_case(role) if role.isupper() else role):
        pattern = re.compile(r"\b(?i:" + re.escape(variant).replace(r"\ ", r"\s+") + r"),?[ \t]+" + ROLE_TITLE_WORDS
                             + r"*(?P<name>[A-Z][a-z]+(?:[ \t]+[A-Z][a-z'’-]+){1,2})\b")
        for match in pattern.finditer(text[:50000]):
            name = match.group("name")
            if name.split()[0].lower() not in ROLE_WORDS | NOT_SPEAKERS and name[0].isupper():
                names[name] += 1
    return names.most_common(1)[0][0] if names else None


def _self_introductions(labels: list[Label], infos: list[SpeakerInfo], text: str) -> dict[str, str]:
    """The names anonymous chairs give themselves: a "MODERATOR" whose turns (or the unlabelled
    opening before the first label) say "I am Edwin Newman, moderator of ..." is Edwin Newman."""
    found: dict[str, str] = {}
    opening = text[:labels[0].start] if labels else ""
    for i, (label, info) in enumerate(zip(labels, infos)):
        key = role_key(info.role or (info.speaker if info.role_only else None))
        if not (info.anonymous or info.role_only) or key not in SELF_INTRODUCED or key in found:
            continue
        end = labels[i + 1].start if i + 1 < len(labels) else len(text)
        for body in (text[label.body_start:end], opening):
            match = SELF_INTRO_RE.search(body[:3000])
            if match:
                found[key] = match.group("name")
                break
    return found


def _in_document_form(name: str, text: str) -> str:
    """A name as the document writes it with middle initials: "Gerald Ford" -> "Gerald R. Ford"."""
    words = name.split()
    if len(words) != 2:
        return name
    pattern = re.compile(rf"\b{re.escape(words[0])}\s+((?:[A-Z]\.\s*)+){re.escape(words[1])}\b")
    forms = Counter(" ".join(m.group(1).split()) for m in pattern.finditer(text))
    return f"{words[0]} {forms.most_common(1)[0][0]} {words[1]}" if forms else name


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


def _full_name_in_text(surname: str, text: str, role: str | None = None,
                       honorific_only: bool = False) -> str | None:
    """The most frequent "Firstname Surname" in `text` ("Barry O'Farrell" for "O'Farrell"):
    mentioned twice, or once after an office ("I am joined by Deputy Adviser Samuel Okafor")
    that agrees with the label's own office, or once and alone for a label that gives only an
    honorific ("MR. OKAFOR" after "I'm pleased to welcome Samuel Okafor")."""
    if not text or len(surname) < 2:
        return None
    pattern = re.compile(r"\b([A-Z][a-z]+(?:-[A-Z][a-z]+)?(?:\s+[A-Z]\.)*(?:\s+(?:[Ii]bn|[Bb]in|[Aa]l|[Dd]e|[Vv]an|[Vv]on|da|di))*)\s+"
                         + re.escape(surname).replace("'", "['’]") + r"\b")
    firsts: Counter[str] = Counter()
    introduced: set[str] = set()
    role_words = {w.lower() for w in (role or "").split()} - {"the", "of"}
    for match in pattern.finditer(text):
        after = text[match.end():match.end() + 30].split("\n", 1)[0].split()  # the same line only
        if after and after[0][:1].isupper() and after[0].lower().strip(",.;:") not in ROLE_WORDS \
                and not text[match.end():match.end() + 1] in ",.;:":
            continue  # inside a list of names ("Landrieu Lautenberg Leahy Levin"), not a first name
        first = match.group(1)  # "Richard M." for "Richard M. Nixon"
        if first.split()[0].lower() in ROLE_WORDS | NOT_SPEAKERS | PERSONAL_HONORIFICS | CONNECTORS:
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
        # "MR. CARTER." beside "THE PRESIDENT." in a debate: the record's speaker has a label of
        # their own, so the office is somebody else's
        main = _surname(ctx.main_speaker)
        self.main_has_own_label = bool(main) and any(
            _surname(i.surname or i.speaker) == main for i in infos
            if i.speaker and not i.role_only and not i.is_question and not i.anonymous)
        self.introduced = _self_introductions(labels, infos, text)
        self.stop_labels = sum(label.form == "stop" and HONORIFIC_STOP_RE.match(label.label) is not None
                               for label in labels) >= 2 and (
            bool(ctx.title and re.search(r"congressional record|senate|house of representatives", ctx.title, re.I))
            or any(role_key(i.role or i.speaker) in CHAIRS for i in infos if i.role_only or i.role))
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
                # "Mr. Wu (China)" -> roster "Wu Haitao"; a roster's "Dang" -> "Dang Dinh Quy" from the text
                return _expand_by_honorific(listed, self.text) if len(listed.split()) == 1 else listed
        key = _surname(surname)
        if key in self.by_surname:
            return self.by_surname[key]  # resolved earlier in the document (by office and date)
        if self.ctx.main_speaker and _surname(self.ctx.main_speaker) == key:
            return self.ctx.main_speaker
        matches = {n for n in self.known if _surname(n) == key and len(n.split()) >= 2}
        if len(matches) == 1:
            return matches.pop()
        if not matches and surname.lower() not in ROLE_WORDS | ROLE_ONLY_WORDS and not self.stop_labels:
            # not in the Congressional Record's manner: "Mr. COLEMAN." is not the "William Coleman"
            # a senator quotes, and rolls of surnames read as first names
            return _full_name_in_text(surname, self.text, info.role, honorific_only=not info.role)
        return None

    def holder_by_surname(self, surname: str) -> str | None:
        """The full name of an office holder the text names by office and surname ("Vice
        President Nixon", "President Eisenhower") on the document's date, if the surname fits."""
        country = self.country() if self.ctx.date else None
        if not country:
            return None
        for office in sorted(offices_of(country), key=len, reverse=True):
            if not re.search(rf"\b{re.escape(office)}\s+{re.escape(surname)}\b", self.text, re.I):
                continue
            found = holder(country, office, self.ctx.date)
            if found and _surname(found) == _surname(surname):
                return _in_document_form(found, self.text)
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
        if key in CHAIRS:
            return None  # chairs change during a sitting: a name given later is not this chair's
        if key in self.global_roles:
            return self.global_roles[key]
        longer = {name for office, name in self.global_roles.items() if key and office.startswith(key + " ")}
        if len(longer) == 1 and key not in GENERIC_OFFICES:
            return longer.pop()  # "LE PORTE-PAROLE" = "M. Théo Arcambault, porte-parole du ministère ..."
        main_may_hold = self.ctx.main_speaker and key in DOC_SPEAKER_ROLES and (
            not self.ctx.main_role or role_key(self.ctx.main_role).endswith(key))
        if main_may_hold and not self.main_has_own_label:
            return self.ctx.main_speaker
        if key in HEADS_OF and self.ctx.date:
            country = self.country()
            found = holder(country, HEADS_OF[key], self.ctx.date) if country else None
            if found:
                return _in_document_form(found, self.text)
        if main_may_hold:
            return self.ctx.main_speaker  # named in a label of their own too, and no date says otherwise
        if key in self.introduced:
            return self.introduced[key]
        return _office_named_in_text(role, self.text)

    def resolve(self, label: Label, info: SpeakerInfo) -> SpeakerInfo:
        if info.anonymous and role_key(info.role) in self.introduced:
            return replace(info, speaker=self.introduced[role_key(info.role)])  # "THE MODERATOR." = Edwin Newman
        if info.anonymous and role_key(info.role) in self.roles:
            return replace(info, speaker=self.roles[role_key(info.role)])  # "MODERATOR:" after "MODERATOR (Lise Anker)"
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
            else:
                holder_name = self.holder_by_surname(info.surname)
                if holder_name:  # "MR. NIXON:" in a text that says "Vice President Nixon" in 1960
                    speaker = holder_name
                    self.by_surname[_surname(info.surname)] = holder_name
        if speaker and info.role and not info.role_only:
            self.roles[role_key(info.role)] = speaker
            if label.form != "answer" and "(" in label.label:  # "MODERATOR (Lise Anker, ...)": the outside office too
                outside = role_key(strip_parentheticals(unmarked(label.label)))
                if outside and outside != role_key(info.role):
                    self.roles.setdefault(outside, speaker)
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
    mark_questioners(resolved, ctx, bodies)
    return resolved


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


def _join_near_spellings(infos: list[SpeakerInfo]) -> None:
    """A misspelt name in one label ("Angela Markel") joins the same first name with a surname
    one letter away that the document uses more often ("Angela Merkel")."""
    counts = Counter(i.speaker for i in infos if i.speaker and not i.is_question and len(i.speaker.split()) >= 2)
    for name, n in list(counts.items()):
        first, last = name.split()[0], name.split()[-1]
        for other, m in counts.items():
            if other != name and m > n and other.split()[0] == first and len(last) >= 5 \
                    and len(other.split()) == len(name.split()) and one_edit_apart(last.lower(), other.split()[-1].lower()):
                for info in infos:
                    if info.speaker == name:
                        info.speaker = other
                break


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
        opening = text[o_start:o_end]
        speaker = ctx.opening_speaker if _is_speech(opening) else None  # header lines are nobody's words
        if speaker is None and _is_speech(opening):
            intro = SELF_INTRO_RE.search(opening[:400])
            speaker = intro.group("name") if intro else None  # "Good afternoon, I am Spokesperson Teodora Vell"
        role = ctx.main_role if speaker and speaker == ctx.main_speaker else None
        turns.append(Turn(0, speaker, None, False, o_start, o_end, role))
    roles = _roles_by_speaker(infos)
    for label, info, (b_start, b_end) in zip(labels, infos, bounds):
        role = None if info.is_question else (info.role or roles.get(info.speaker or ""))
        turns.append(Turn(len(turns), info.speaker, label.label, info.is_question, b_start, b_end, role))
    return turns


def _is_speech(text: str) -> bool:
    """True if `text` holds a spoken sentence (a line of five words or more ending in . ! ? or …),
    not only header lines: "Defence Staff Headquarters" / "Press Room B" / "2:00 P.M."."""
    return any(len(line.split()) >= 5 and line.rstrip()[-1:] in ".!?…\"”" for line in text.splitlines() if line.strip())


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
