"""Speaker turns: find speaker labels at line starts and normalise the names they give.

A label is a short, name-like phrase at the start of a line followed by ":" and whitespace,
e.g. ``Question:``, ``Sergey Lavrov (speaking after Sergey Aleinik):``, ``PRIME MINISTER:``,
``President of Russia Vladimir Putin:``. Ordinary prose with a colon ("The answer is simple:")
is not a label: every word of a label is capitalised, apart from a few connectors ("of", "the").
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ingest.models import Turn

LABEL_LINE_RE = re.compile(r"^[ \t]*(?P<label>[^\s:][^\n:]{0,119}?)[ \t]*:(?=\s|$)", re.M)
PAREN_RE = re.compile(r"\s*[(\[][^()\[\]]*[)\]]")
TOKEN_RE = re.compile(r"^[\"“]?(?:(?:[a-z]{1,3}[-'’])?[A-Z0-9À-ÖØ-Þ][\w'’.&-]*|&)[\"”]?,?$")
CAMEL_RE = re.compile(r"^([A-Z][a-z]{4,})([A-Z][a-z]{2,})$")
SENTENCE_PUNCT_RE = re.compile(r"[?!;\"“”]|\.\s|\.$")

CONNECTORS = frozenset(
    "of the and for on in at to de del della da das dos du van von der den ter al el bin ibn la le y e".split()
)
NAME_PARTICLES = frozenset("de del della da das dos du van von der den ter al el bin ibn la le".split())
PLAIN_CONNECTORS = CONNECTORS - NAME_PARTICLES
MAX_LABEL_WORDS = 16

# First words of labels that are never speakers: headings, notes, form fields, salutations.
NOT_SPEAKERS = frozenset(
    """my dear to fellow fellow-citizens fellow-countrymen ladies gentlemen citizens friends
    colleagues excellencies distinguished madam madame mesdames listen look turning speaking
    looking regarding concerning declaration finally firstly secondly thirdly lastly again
    therefore however moreover for and but yes no well so now today here there then once thus
    hence why what how who when where which this that these those it we i you they he she our
    your their its let in on at as if or by with from
    text note notes nb ps p.s source sources see also example examples total subject subjects topic
    topics re date time place location venue tags transcript ends end update warning important
    attention photo photos video audio contact email e-mail tel telephone phone fax website web
    url link links reference ref title summary agenda item items step chapter section article
    annex appendix figure table part day morning afternoon evening background context keywords
    highlights embargoed embargo e&oe caption credit credits attachment attachments tweet
    statement details copyright disclaimer please related""".split()
)
# Whole labels that are never speakers.
NOT_SPEAKER_WORDS = frozenset(
    """one two three four five six seven eight nine ten first second third fourth fifth sixth
    seventh eighth ninth tenth last next""".split()
)
SALUTATION_WORDS = frozenset("ladies gentlemen fellow citizens countrymen excellencies".split())
POST_NOMINALS = frozenset("ao ac mp qc sc kc oam am cbe obe mbe kbe phd mla mlc cvo dsc csc afc apm".split())
PLACE_PREFIXES = frozenset(
    """south north new united saudi sri abu costa el san sierra burkina equatorial central czech
    dominican papua solomon marshall cabo cape east west bosnia trinidad antigua sao são""".split()
)
NOT_SPEAKER_PHRASES = frozenset(
    {"key points", "check against delivery", "media release", "media contact", "media contacts",
     "for more information", "further information", "read more", "see also", "question time",
     "press release", "editor's note", "editor’s note", "related links", "fact sheet", "joint statement"}
)

# Labels (first words, lower-cased) of questioners and hosts rather than of the statement's speakers.
QUESTION_WORDS = {
    "question": "Question", "questions": "Question", "q": "Question", "remark": "Remark",
    "remarks from the floor": "Remark", "reply": "Reply", "response": "Response",
    "comment": "Comment", "journalist": "Journalist", "journalists": "Journalist",
    "reporter": "Journalist", "reporters": "Journalist", "media": "Journalist",
    "press": "Journalist", "correspondent": "Journalist", "host": "Host", "presenter": "Host",
    "interviewer": "Interviewer", "moderator": "Moderator", "anchor": "Host", "compere": "Host",
    "caller": "Caller", "audience": "Audience", "audience member": "Audience",
    "participant": "Participant", "voice": "Voice", "unidentified": "Unidentified",
    "student": "Student", "call centre operator": "Call Centre Operator",
}
QUESTION_HEAD_RE = re.compile(
    r"^(?P<word>questions?|q|remark|reply|response|comment|journalists?|reporters?|media|press|"
    r"correspondent|host|presenter|interviewer|moderator|anchor|compere|caller|audience(?: member)?|"
    r"participant|voice|unidentified|student|call centre operator)"
    r"(?P<rest>(?:\s+(?:\d+|[A-Z]|#\d+|(?:from|to|at|in)\b.*))?)$",
    re.I,
)
ABBREV_DOT_RE = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|St|Sen|Gen|Hon|Rev|Prof|Lt|Col|Capt|Jr|Sr|[A-Z])\.")
ACRONYMS = frozenset("PM DPM MP CEO CFO US USA UK UN EU NSW ACT QLD WA SA NT VIC ABC SBS BBC CNN TV".split())
ROLE_ONLY_WORDS = frozenset(
    """president premier treasurer minister chairman chairwoman chair speaker governor mayor pm dpm ceo
    secretary ambassador chancellor senator attorney-general commissioner spokesman spokeswoman
    spokesperson leader director chief""".split()
)

# Words that name roles or institutions; a person's name is what follows the last of them.
ROLE_WORDS = frozenset(
    """president vice prime minister ministers deputy first chairman chairwoman chairperson chair
    head governor director general ceo cfo coo secretary speaker federal chancellor foreign defence
    defense finance healthcare health interior commissioner emir king queen crown prince princess
    ruling patriarch metropolitan mayor premier treasurer senator ambassador acting press
    presidential attorney-general attorney chief executive officer leader member board management
    spokesman spokeswoman spokesperson representative envoy special adviser advisor aide assistant
    commander admiral colonel lieutenant major captain sergeant marshal dr mr mrs ms sir dame lord
    lady hon honourable honorable opposition shadow state federation council committee
    corporation bank company fund agency service ministry department office chamber commission
    court academy union party group region territory republic government parliament duma
    congress assembly development trade industry affairs monitoring utilities resources
    environment energy transport education science culture sport labour social protection
    communications justice emergency emergencies economic economy agriculture construction
    housing technology digital relief civil national international public
    h.e excellency daw his her managing founder partner professor rector dean principal pm dpm mp mayor-elect
    minister-designate premier-elect treasurer-designate nsw qld vic wa sa act nt us usa uk un""".split()
)
DOC_SPEAKER_ROLES = frozenset({"prime minister", "pm", "the prime minister", "president", "the president"})

ROMAN_RE = re.compile(r"^[IVX]{2,}[,.]?$")
SURNAME_PREFIX_RE = re.compile(r"^(?:(O|D|L)['’]|(Mc))(.*)$", re.I)


@dataclass
class Label:
    """One speaker label found in a text: where it is and what it says."""

    label: str
    start: int  # start of the label (line start, after indentation)
    body_start: int  # first character after the colon


@dataclass
class SpeakerInfo:
    """A label's normalised reading."""

    speaker: str | None
    is_question: bool
    has_role: bool


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


def _fix_case(text: str) -> str:
    """Title-case words shouted in capitals ("KERRY O'BRIEN" -> "Kerry O'Brien") and split
    run-together names ("VladimirPutin" -> "Vladimir Putin"); other words stay as they are."""
    text = text.replace("’", "'")
    letters = [c for c in text if c.isalpha()]
    shouted = len(letters) >= 3 and all(c.isupper() for c in letters)
    words: list[str] = []
    for word in text.split():
        n_letters = sum(c.isalpha() for c in word)
        caps = n_letters > 0 and all(c.isupper() for c in word if c.isalpha())
        if caps and not ROMAN_RE.match(word) and (shouted or n_letters >= 4):
            word = _title_word(word, not words)
        camel = CAMEL_RE.match(word)
        words.extend([camel.group(1), camel.group(2)] if camel else [word])
    return " ".join(words)


def strip_parentheticals(label: str) -> str:
    """Remove "(retranslated)", "(speaking after X)" and the like."""
    return PAREN_RE.sub("", label).strip()


def _drop_leading_the(core: str) -> str:
    """ "The President" -> "President" (a role after "The"); anything else unchanged."""
    words = core.split()
    if len(words) >= 2 and words[0] in ("The", "THE") and words[1].lower().rstrip(".,") in ROLE_WORDS:
        return " ".join(words[1:])
    return core


def is_label(label: str) -> bool:
    """True if `label` (the text before a line-start colon) reads as a speaker label."""
    stripped = strip_parentheticals(label)
    core = _drop_leading_the(stripped)
    if core != stripped and core.lower() in ROLE_ONLY_WORDS:
        return True  # "The President:", "The Chairman:"
    if not core or SENTENCE_PUNCT_RE.search(ABBREV_DOT_RE.sub("X", core)) or core.count(",") > 1:
        return False
    low = core.lower().rstrip(".")
    words = core.split()
    lows = {w.lower().strip(",.") for w in words}
    if low in NOT_SPEAKER_PHRASES or low in NOT_SPEAKER_WORDS or words[0].lower().rstrip(".,") in NOT_SPEAKERS:
        return False
    if lows & SALUTATION_WORDS:
        return False
    if QUESTION_HEAD_RE.match(core):
        return True
    if len(words) > MAX_LABEL_WORDS or not words[0][:1].isalpha():
        return False
    if len(words) == 1 and not core.isupper() and not CAMEL_RE.match(core):
        return False  # one Title-case word ("Canada:") is a heading; one-word labels are shouted
    capitalised = 0
    for word in words:
        if word.strip(",").isdigit():
            return False  # "Stage 2:", "Item 1:"
        if TOKEN_RE.match(word):
            capitalised += 1
        elif word.lower().rstrip(",") not in CONNECTORS:
            return False
    if words[0].lower() in CONNECTORS or not TOKEN_RE.match(words[0]):
        return False
    if not TOKEN_RE.match(words[-1]) or words[-1].endswith(","):
        return False
    return capitalised * 2 >= len(words)


def find_labels(text: str, start: int = 0, end: int | None = None) -> list[Label]:
    """Speaker labels at line starts inside ``text[start:end]``, in order."""
    end = len(text) if end is None else end
    labels = []
    for match in LABEL_LINE_RE.finditer(text, start, end):
        label = match.group("label")
        if is_label(label):
            labels.append(Label(label=label, start=match.start("label"), body_start=match.end()))
    return labels


def _name_after_roles(words: list[str]) -> tuple[list[str], bool]:
    """The trailing person name of a role-prefixed label, and whether a role was dropped.

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
    name = words[i + 1 :]
    while name and name[0].lower() in NAME_PARTICLES:
        name = name[1:]
    if i < 0:
        return name, False
    if not name and len(words) == 1 and words[0].lower() not in ROLE_ONLY_WORDS:
        return words, False  # a surname that is also a role word: "KING", "MAJOR"
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
    return name, True


def _split_comma_role(core: str) -> str:
    """ "BRONWYN TAHA, LABOR CANDIDATE FOR DAWSON" -> "BRONWYN TAHA"."""
    if "," not in core:
        return core
    head, tail = core.split(",", 1)
    head_words = head.split()
    tail_low = {w.lower().strip(",") for w in tail.split()}
    if 1 <= len(head_words) <= 4 and not {w.lower() for w in head_words} & ROLE_WORDS:
        if tail_low & ROLE_WORDS or tail.strip().isupper() or (len(head_words) >= 2 and len(tail.split()) <= 6):
            return head.strip()  # "John Scull, ABC News"
    return core


def read_label(label: str) -> SpeakerInfo:
    """Normalise one label on its own, without document context."""
    core = _fix_case(_split_comma_role(_drop_leading_the(strip_parentheticals(label))))
    qmatch = QUESTION_HEAD_RE.match(core)
    if qmatch:
        word = qmatch.group("word").lower()
        return SpeakerInfo(speaker=QUESTION_WORDS.get(word, word.title()), is_question=True, has_role=False)
    words = core.replace(",", " ").split()
    while len(words) > 2 and words[-1].lower().strip(".") in POST_NOMINALS:
        words = words[:-1]  # "GEOFF BROWN AO", "WILL HODGMAN MP"
    name, dropped = _name_after_roles(words)
    if not name or (len(name) == 1 and dropped):
        return SpeakerInfo(speaker=" ".join(words), is_question=False, has_role=True)  # "Minister Conroy"
    return SpeakerInfo(speaker=" ".join(name), is_question=False, has_role=dropped)


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
        return _fix_case(name)
    return info.speaker


def _surname(name: str | None) -> str:
    return name.replace("’", "'").split()[-1].lower() if name and name.split() else ""


@dataclass
class TurnContext:
    """What the document knows about its speakers before the labels are read."""

    main_speaker: str | None = None  # from the source's metadata or the title
    opening_speaker: str | None = None  # who speaks before the first label
    title: str | None = None
    is_interview: bool = False


TITLE_NAME_RE = re.compile(r"[A-Z][\w'’-]+(?:\s+(?:(?:of|the|van|von|der|de|al|bin)\s+)*[A-Z][\w'’-]+)+")


def _known_names(ctx: TurnContext, infos: list[SpeakerInfo]) -> list[str]:
    """Full names (two words or more) the document gives: labels, main speaker, title."""
    names = [i.speaker for i in infos if i.speaker and not i.is_question and not i.has_role and len(i.speaker.split()) >= 2]
    if ctx.main_speaker:
        names.insert(0, ctx.main_speaker)
    if ctx.title:
        names.extend(normalise_person(m.group(0)) for m in TITLE_NAME_RE.finditer(ctx.title))
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


def _full_name_in_text(surname: str, text: str) -> str | None:
    """The most frequent "Firstname Surname" in `text` ("Barry O'Farrell" for "O'Farrell")."""
    if not text or len(surname) < 2:
        return None
    pattern = re.compile(r"\b([A-Z][a-z]+(?:-[A-Z][a-z]+)?)\s+" + re.escape(surname).replace("'", "['’]") + r"\b")
    firsts = Counter(m.group(1) for m in pattern.finditer(text) if m.group(1).lower() not in ROLE_WORDS | NOT_SPEAKERS)
    if not firsts:
        return None
    first, count = firsts.most_common(1)[0]
    # one passing mention is not enough: "PRESIDENT TRUMP" is not the "Melania Trump" he thanked
    return f"{first} {surname}" if count >= 2 else None


def _resolve_one(label: Label, info: SpeakerInfo, ctx: TurnContext, known: list[str], text: str) -> str | None:
    speaker = info.speaker
    if info.is_question or not speaker:
        return speaker
    words = speaker.split()
    if ctx.main_speaker and strip_parentheticals(label.label).lower() in DOC_SPEAKER_ROLES:
        return ctx.main_speaker  # "PRIME MINISTER", "PM"
    role_and_surname = len(words) >= 2 and any(w.lower().rstrip(".") in ROLE_WORDS for w in words)
    if len(words) == 1 or role_and_surname:
        surname = _surname(speaker)
        if ctx.main_speaker and surname == _surname(ctx.main_speaker):
            return ctx.main_speaker  # "PM RUDD", "GILLARD"
        for name in known:
            if name != speaker and _surname(name) == surname:
                return name  # "MITCHELL" -> "Neil Mitchell"
        if words[-1].lower() not in ROLE_WORDS | ROLE_ONLY_WORDS:
            return _full_name_in_text(words[-1], text) or speaker  # "Premier O'Farrell", "BRUMBY"
    return speaker


def resolve_speakers(labels: list[Label], ctx: TurnContext, bodies: list[str], text: str = "") -> list[SpeakerInfo]:
    """Read every label of one document, using the document's context to resolve
    role-only labels ("PRIME MINISTER" -> the record's speaker), surnames ("MITCHELL" ->
    "Neil Mitchell") and interviewers."""
    infos = [read_label(label.label) for label in labels]
    known = _known_names(ctx, infos)
    cache: dict[str, str | None] = {}
    resolved = []
    for label, info in zip(labels, infos):
        if label.label not in cache:
            cache[label.label] = _resolve_one(label, info, ctx, known, text)
        resolved.append(SpeakerInfo(cache[label.label], info.is_question, info.has_role))
    _shorten_to_bare_labels(resolved)
    _roles_named_earlier(labels, resolved)
    _mark_interviewers(resolved, ctx, bodies)
    return resolved


def _roles_named_earlier(labels: list[Label], infos: list[SpeakerInfo]) -> None:
    """A bare role label takes the name it was given once in full: after
    "MINISTER FOR FOREIGN AFFAIRS, THE HONOURABLE JULIE BISHOP MP:", a later
    "MINISTER FOR FOREIGN AFFAIRS:" is Julie Bishop."""
    named: dict[str, str] = {}
    for label, info in zip(labels, infos):
        core = strip_parentheticals(label.label)
        if "," in core and info.speaker and not info.is_question:
            named.setdefault(core.split(",", 1)[0].strip().lower(), info.speaker)
    for label, info in zip(labels, infos):
        name = named.get(strip_parentheticals(label.label).strip().lower())
        if name and not info.is_question:
            info.speaker = name


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
    if o_end > o_start:
        turns.append(Turn(0, ctx.opening_speaker, None, False, o_start, o_end))
    for label, info, (b_start, b_end) in zip(labels, infos, bounds):
        turns.append(Turn(len(turns), info.speaker, label.label, info.is_question, b_start, b_end))
    return turns


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
