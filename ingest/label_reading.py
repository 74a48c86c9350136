"""Reading one speaker label on its own: the person it names, their role, and what kind of voice
it is (an official, a journalist, an anonymous official, a group), before the document is used
to resolve surnames and offices (`ingest.turns`).

"President of Russia Vladimir Putin" -> Vladimir Putin, role "President of Russia";
"The Prime Minister (Gordon Brown)" -> Gordon Brown, role "Prime Minister";
"Mr. Nebenzia (Russian Federation) (spoke in Russian)" -> surname Nebenzia, affiliation
"Russian Federation"; "Mr MORRISON (Cook—Prime Minister) (14:00)" -> surname Morrison, role
"Prime Minister"; "MS. PSAKI" -> surname Psaki; "THE PRESIDENT" -> the office only;
"JOSÉ RAFAEL OJEDA DURÁN, SECRETARIO DE MARINA" -> José Rafael Ojeda Durán, role "Secretario de
Marina"; "SENIOR ADMINISTRATION OFFICIAL" -> anonymous; "Hon. Members" -> a group.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.label_words import (
    ACRONYMS, NUMBERED_SPEAKER_RE, SURNAME_ROLES, ANONYMOUS_HEADS, ANONYMOUS_QUALIFIERS, CAMEL_RE, CONNECTORS, GROUP_RE, NAME_PARTICLES,
    PEERAGE, PERSONAL_HONORIFICS, PLACE_PREFIXES, PLAIN_CONNECTORS, POST_NOMINALS, QUESTION_HEAD_RE,
    QUESTION_WORDS, ROLE_ONLY_WORDS, ROLE_WORDS, ROMAN_RE, SURNAME_PREFIX_RE, VOICE_RE,
)
from ingest.labels import PLACEHOLDER_RE, drop_leading_the, strip_parentheticals, unmarked
from ingest.spelling import one_edit_apart

PAREN_CONTENT_RE = re.compile(r"[(\[]([^()\[\]]*)[)\]]")
IGNORED_PAREN_RE = re.compile(
    r"^(?:spoke|speaking|speaks)\s+in\s+\w+$|^(?:re)?translated$|^retranslated$|^interpretation$|"
    r"^(?:through|via)\s+(?:an\s+)?interpret(?:er|ation)$|^via\s+video\s*(?:link|conference)?$|^inaudible$|"
    r"^cont(?:inued|inuing|'d|’d)?\.?$|^speaking\s+after\b.*$|^in\s+\w+$|^off[- ]mic(?:rophone)?$|"
    r"^\d{1,2}[:.]\d{2}(?:\s*[ap]\.?m\.?)?$|^via\s+\w+$|^interpreted$|^by\s+video$|^online$", re.I)
RUN_TOGETHER_RE = re.compile(r"^(Minister|Premier|President|Senator|Treasurer|Governor|Mayor|Secretary|Chairman)"
                             r"([a-z]{3,})$", re.I)
OF_STATE_RE = re.compile(r"^(?:Mr|Mrs|Ms|Miss|Dr)\.?\s+(?P<surname>[A-Z][\w'’-]+)\s+of\s+(?P<state>[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)$")
PERSON_PAREN_RE = re.compile(r"^(?:(?:Mr|Mrs|Ms|Miss|Dr|Sir|Dame)\.?\s+)?[A-Z][\w'’.-]+(?:\s+[A-Z][\w'’.-]+){0,4}$")


@dataclass
class SpeakerInfo:
    """A label's reading: `speaker` is what is stored when nothing better is known."""

    speaker: str | None
    is_question: bool
    has_role: bool  # the label names a role (dropped from the name, or all of it)
    role: str | None = None
    surname: str | None = None  # a person named by surname only ("MS. PSAKI", "MINISTER CONROY")
    role_only: bool = False  # an office and no name ("THE PRESIDENT", "PRIME MINISTER")
    anonymous: bool = False  # "SENIOR ADMINISTRATION OFFICIAL", "MODERATOR", "INTERPRETER"
    group: bool = False  # "Hon. Members", "VOZ MUJER"
    affiliation: str | None = None  # "(Russian Federation)", an electorate


def _title_word(word: str, first: bool) -> str:
    """Title-case one upper-case word: "O'BRIEN" -> "O'Brien", "MCGUIRE" -> "McGuire"."""
    low = word.lower()
    if not first and low in CONNECTORS:
        return low
    if word.strip(",") in ACRONYMS:
        return word
    out = []
    for part in re.split(r"(-)", word):
        if part == "-" or not part:
            out.append(part)
            continue
        match = SURNAME_PREFIX_RE.match(part)
        if match and len(match.group(3)) >= 2:
            prefix = f"{match.group(1).upper()}'" if match.group(1) else match.group(2).title()
            out.append(prefix + match.group(3)[0].upper() + match.group(3)[1:].lower())
        else:
            out.append(part[:1].upper() + part[1:].lower())
    return "".join(out)


def fix_case(text: str) -> str:
    """Title-case words shouted in capitals ("KERRY O'BRIEN" -> "Kerry O'Brien", "McCONNELL" ->
    "McConnell") and split run-together names ("VladimirPutin" -> "Vladimir Putin")."""
    text = text.replace("’", "'")
    letters = [c for c in text if c.isalpha()]
    shouted = len(letters) >= 3 and all(c.isupper() for c in letters)
    words: list[str] = []
    for word in text.split():
        parts = word.split("-")
        for k, part in enumerate(parts):
            inner = re.match(r"^(Mc|Mac|De|Di|La|Le|Lo)([A-ZÀ-Þ]{2,}.*)$", part)
            if inner and all(c.isupper() for c in inner.group(2) if c.isalpha()):
                parts[k] = inner.group(1) + _title_word(inner.group(2), True)  # "McCONNELL", "DeWINE"
            elif len(parts) > 1 and sum(c.isalpha() for c in part) >= 2 and part.isupper():
                parts[k] = _title_word(part, True)  # "MILLENDER-McDONALD"
        word = "-".join(parts)
        n_letters = sum(c.isalpha() for c in word)
        caps = n_letters > 0 and all(c.isupper() for c in word if c.isalpha())
        if caps and not ROMAN_RE.match(word) and (shouted or n_letters >= 4):
            word = _title_word(word, not words)
        camel = CAMEL_RE.match(word)
        words.extend([camel.group(1), camel.group(2)] if camel else [word])
    return " ".join(words)


def _name_after_roles(words: list[str]) -> tuple[list[str], list[str], bool]:
    """(role words, trailing person name, whether a role was dropped) of a role-prefixed label.

    "Prime Minister Dmitry Medvedev" -> Dmitry Medvedev; "President of China Xi Jinping" ->
    Xi Jinping (after "of", the first word names the country, not the person).
    """
    i = len(words) - 1
    while i >= 0:
        low = words[i].lower().rstrip(".")
        is_particle = low in NAME_PARTICLES and i < len(words) - 1 and i > 0
        if not is_particle and (low in ROLE_WORDS or low in PLAIN_CONNECTORS):
            break
        i -= 1
    name = words[i + 1:]
    while name and name[0].lower() in NAME_PARTICLES:
        name = name[1:]
    if i < 0:
        return [], name, False
    if not name and len(words) == 1 and words[0].lower() not in ROLE_ONLY_WORDS:
        return [], words, False  # a surname that is also a role word: "KING", "MAJOR"
    if words[i].lower() in PLAIN_CONNECTORS:

        def real(ws: list[str]) -> int:
            return sum(w.lower() not in NAME_PARTICLES for w in ws)

        if real(name) >= 4 and name[0].lower() in PLACE_PREFIXES:
            name = name[2:]  # "of South Ossetia Leonid Tibilov"
        elif real(name) >= 3:
            name = name[1:]
        while real(name) > 3:
            name = name[1:]
        while name and name[0].lower() in NAME_PARTICLES:
            name = name[1:]
    role = words[: len(words) - len(name)]
    return role, name, True


def _has_role_word(words: list[str]) -> bool:
    return any(w.lower().strip(",.") in ROLE_WORDS for w in words)


def _split_comma_role(core: str) -> tuple[str, str | None]:
    """ "BRONWYN TAHA, LABOR CANDIDATE FOR DAWSON" -> ("BRONWYN TAHA", role);
    "SECRETARIA DE GOBERNACIÓN, ROSA ICELA RODRÍGUEZ VELÁZQUEZ" -> (name, "SECRETARIA DE GOBERNACIÓN")."""
    if "," not in core:
        return core, None
    head, tail = (part.strip() for part in core.split(",", 1))
    head_words, tail_words = head.split(), tail.split()
    tail_low = {w.lower().strip(",") for w in tail_words}
    if len(head_words) == 1 and 2 <= len(tail_words) <= 5 and not _has_role_word(tail_words) \
            and head.isupper() and tail.isupper():
        return tail, head  # "ESCRITOR, JUAN VILLORO": one word is an occupation, not a name
    if _has_role_word(head_words) and _has_role_word(tail_words):
        # "SENATOR THE HON. MARISE PAYNE, MINISTER FOR DEFENCE": a name after the honours, then the office
        words = [w for w in head_words if w.lower().strip(".") not in POST_NOMINALS]
        _, name, _ = _name_after_roles(words)
        if len(name) >= 2:
            return " ".join(name), tail
    if 1 <= len(head_words) <= 5 and not _has_role_word(head_words):
        if tail_low & ROLE_WORDS or tail.isupper() or (len(head_words) >= 2 and len(tail_words) <= 6):
            return head, tail  # "John Scull, ABC News"
    if _has_role_word(head_words) and 2 <= len(tail_words) <= 6 and not _has_role_word(tail_words) \
            and "," not in tail:
        return tail, head  # OFFICE, NAME
    return core, None


def _parentheticals(label: str) -> list[str]:
    return [m.group(1).strip() for m in PAREN_CONTENT_RE.finditer(label) if m.group(1).strip()]


ORDINALS = frozenset("one two three four five 1 2 3 4 5 #1 #2 #3 a b c".split())


def _named_in_parens(parens: list[str]) -> tuple[str, str | None] | None:
    """(name, role) from a bracket that names a person: "(Lise Anker, Head of Communications)"."""
    for part in parens:
        head, _, tail = part.partition(",")
        head = head.strip()
        if IGNORED_PAREN_RE.match(head) or len(head.split()) < 2 or not PERSON_PAREN_RE.match(head):
            continue
        if any(w.lower() in ROLE_WORDS for w in head.split()):
            continue
        return head, (tail.strip() or None)
    return None


def _is_anonymous(words: list[str]) -> bool:
    """ "SENIOR ADMINISTRATION OFFICIAL", "SENIOR STATE DEPARTMENT OFFICIAL TWO", "MODERATOR"."""
    lows = [w.lower().strip(",.") for w in words]
    while len(lows) > 1 and lows[-1] in ORDINALS:
        lows = lows[:-1]
    return bool(lows) and lows[-1] in ANONYMOUS_HEADS and all(
        w in ANONYMOUS_QUALIFIERS or w in ANONYMOUS_HEADS or w in CONNECTORS for w in lows)


ROLE_ABBREVIATIONS = {"pm": "Prime Minister", "dpm": "Deputy Prime Minister", "sec.": "Secretary",
                      "gen.": "General", "adm.": "Admiral", "amb.": "Ambassador", "gov.": "Governor",
                      "sen.": "Senator", "rep.": "Representative"}
ROLE_TAIL_WORDS = frozenset("the hon hon. honourable honorable mp".split())
FUZZY_QUESTION_WORDS = ("journalist", "question", "reporter", "interviewer", "moderator", "correspondent")


def misspelt_question_word(word: str) -> str | None:
    """ "JOURANLIST" -> "journalist": a questioner's label with one letter wrong."""
    low = word.lower()
    if len(low) < 6:
        return None
    return next((q for q in FUZZY_QUESTION_WORDS if one_edit_apart(low, q, swaps=True)), None)


def _role_text(words: list[str]) -> str | None:
    """A role in normal case: "PRIME MINISTER" -> "Prime Minister", "PM" -> "Prime Minister",
    without "The", honorifics or a trailing "the Honourable"."""
    while words and words[0].lower().rstrip(".") in {"the"} | PERSONAL_HONORIFICS:
        words = words[1:]
    while words and (words[-1].lower() in PLAIN_CONNECTORS or words[-1].lower().strip(",") in ROLE_TAIL_WORDS):
        words = words[:-1]
    if not words:
        return None
    if len(words) == 1 and words[0].lower() in ROLE_ABBREVIATIONS:
        return ROLE_ABBREVIATIONS[words[0].lower()]
    text = " ".join(words).strip(" ,")
    return fix_case(text) if text.isupper() or any(w.isupper() and len(w) > 3 for w in words) else text


def read_label(label: str, form: str = "colon") -> SpeakerInfo:
    """Normalise one label on its own, without document context."""
    if form == "q":
        return SpeakerInfo(speaker="Question", is_question=True, has_role=False)
    if form == "answer":
        return SpeakerInfo(speaker=None, is_question=False, has_role=False, role_only=True)
    if form == "caption":  # ">>" alone: the captioner did not name the voice, so it is nobody's answer
        return SpeakerInfo(speaker=None, is_question=True, has_role=False)
    text = unmarked(label)
    numbered = NUMBERED_SPEAKER_RE.match(text)
    if numbered:  # "Speaker 1": somebody, not known who
        name = " ".join(w.capitalize() for w in text.split())
        return SpeakerInfo(speaker=name, is_question=False, has_role=True, role=None, anonymous=True)
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1].strip()
        if PLACEHOLDER_RE.match(text) and not QUESTION_HEAD_RE.match(text):
            name = " ".join(w if w.isupper() and len(w) <= 4 else w.capitalize() for w in text.split())
            return SpeakerInfo(speaker=name, is_question=False, has_role=True, role=name, anonymous=True)
    parens = _parentheticals(text)
    core = strip_parentheticals(text)
    if GROUP_RE.match(core) or VOICE_RE.match(core):
        return SpeakerInfo(speaker=fix_case(core), is_question=False, has_role=False, group=True)
    core = fix_case(drop_leading_the(core))
    of_state = OF_STATE_RE.match(core)
    if of_state:  # "Mr. BROWN of Ohio": a surname told apart by the member's state
        return SpeakerInfo(speaker=of_state.group("surname"), is_question=False, has_role=True,
                           surname=of_state.group("surname"), affiliation=of_state.group("state"))
    qmatch = QUESTION_HEAD_RE.match(core)
    if qmatch:
        word = qmatch.group("word").lower()
        return SpeakerInfo(speaker=QUESTION_WORDS.get(word, word.title()), is_question=True, has_role=False)
    first = core.split()[0] if core.split() else ""
    if len(core.split()) >= 3 and first.lower() not in ROLE_WORDS and len(first) >= 7:
        fixed = next((r for r in ROLE_WORDS if len(r) >= 7 and one_edit_apart(first.lower(), r, swaps=True)), None)
        if fixed:  # "RESIDENTE ANDRÉS MANUEL LÓPEZ OBRADOR": a misprinted office
            core = fixed.capitalize() + core[len(first):]
    run_together = RUN_TOGETHER_RE.match(core) if len(core.split()) == 1 else None
    if run_together and run_together.group(1).lower() in ROLE_ONLY_WORDS:
        core = f"{run_together.group(1)} {run_together.group(2).capitalize()}"  # "MINISTERGAY" -> "Minister Gay"
    fuzzy = misspelt_question_word(core) if len(core.split()) == 1 else None
    if fuzzy:
        return SpeakerInfo(speaker=QUESTION_WORDS[fuzzy], is_question=True, has_role=False)
    core, comma_role = _split_comma_role(core)
    words = core.replace(",", " ").split()
    named = _named_in_parens(parens)
    if named and _is_anonymous(words):
        # "MODERATOR (Lise Anker, Head of Communications)": the chair, named
        return SpeakerInfo(speaker=named[0], is_question=False, has_role=True, role=named[1] or core)
    if _is_anonymous(words):
        return SpeakerInfo(speaker=core, is_question=False, has_role=True, role=core, anonymous=True)
    while len(words) > 2 and words[-1].lower().strip(".") in POST_NOMINALS:
        words = words[:-1]  # "GEOFF BROWN AO", "WILL HODGMAN MP"
    info = _read_parts(words, parens)
    if comma_role and not info.role:
        info.role = _role_text(comma_role.split())
        info.has_role = True
    return info


def _read_parts(words: list[str], parens: list[str]) -> SpeakerInfo:
    """A label's outside words and its bracketed parts, read together."""
    person_in_paren: str | None = None
    affiliation: str | None = None
    paren_role: str | None = None
    for part in parens:
        if IGNORED_PAREN_RE.match(part):
            continue
        if re.search(r"[—–]| - ", part):
            seat, office = re.split(r"\s*[—–]\s*|\s+-\s+", part, maxsplit=1)
            affiliation, paren_role = seat.strip() or None, office.strip() or None
        elif PERSON_PAREN_RE.match(part) and not affiliation:
            person_in_paren = part
        else:
            affiliation = part
    if words and words[0].lower() in PEERAGE:
        return SpeakerInfo(speaker=" ".join(words), is_question=False, has_role=False)  # "Lord Bach"
    if len(words) >= 2 and words[0].lower().rstrip(".") in PERSONAL_HONORIFICS \
            and (not any(w.lower().strip(",.") in ROLE_WORDS for w in words[1:])
                 or (len(words) == 2 and words[1].lower() in SURNAME_ROLES)):
        # "Mr. Al Hassan (Oman)", "Mrs. Van Vlierberge (Belgium)", "Mr. Pecsteen de Buytswerve"
        name_words = words[1:]
        if person_in_paren and not affiliation:
            affiliation = person_in_paren
        return SpeakerInfo(speaker=" ".join(name_words), is_question=False, has_role=True, role=paren_role,
                           surname=" ".join(name_words), affiliation=affiliation)
    role_words, name, dropped = _name_after_roles(words)
    honorific_only = bool(role_words) and all(w.lower().rstrip(".") in PERSONAL_HONORIFICS for w in role_words)
    role = None if honorific_only else _role_text(role_words)
    if person_in_paren and (not name or (dropped and not honorific_only and len(name) <= 1)):
        # "The Prime Minister (Gordon Brown)", "The PRESIDING OFFICER (Mr. Kyl)"
        inner = person_in_paren.split()
        if inner[0].lower().rstrip(".") in PERSONAL_HONORIFICS:
            inner = inner[1:]
        office = _role_text(words) if not name else role
        person = " ".join(inner)
        return SpeakerInfo(speaker=person, is_question=False, has_role=True, role=office,
                           surname=person if len(inner) == 1 else None)
    if person_in_paren and not affiliation:
        affiliation = person_in_paren  # "Mr. Wu (China)": a one-word country read as a name
    if not name or (len(name) == 1 and dropped):
        if honorific_only and name:  # "MS. PSAKI", "Mr. Nebenzia (Russian Federation)"
            return SpeakerInfo(speaker=name[0], is_question=False, has_role=True, role=paren_role,
                               surname=name[0], affiliation=affiliation)
        surname = name[0] if name else None
        return SpeakerInfo(speaker=" ".join(words), is_question=False, has_role=True,
                           role=paren_role or role, surname=surname, role_only=not name, affiliation=affiliation)
    if len(name) == 1 and not dropped and words == name:
        return SpeakerInfo(speaker=name[0], is_question=False, has_role=False, role=paren_role, surname=name[0],
                           affiliation=affiliation)  # "GILLARD", "Mr MORRISON" read above
    return SpeakerInfo(speaker=" ".join(name), is_question=False, has_role=dropped, role=paren_role or role,
                       affiliation=affiliation)


def normalise_person(name: str) -> str:
    """ "Abbott, Tony" -> "Tony Abbott"; "KERRY O'BRIEN" -> "Kerry O'Brien"; "Mr. X Y" -> "X Y".

    A name that is all role (an office, an organisation) comes back as given, case fixed.
    """
    name = " ".join(name.split())
    if name.count(",") == 1:
        last, first = (part.strip() for part in name.split(","))
        if first and last and len(first.split()) <= 3 and len(last.split()) <= 3:
            name = f"{first} {last}"
    info = read_label(name)
    if not info.speaker or (info.has_role and len(info.speaker.split()) == len(name.split())):
        return fix_case(name)
    return info.speaker
