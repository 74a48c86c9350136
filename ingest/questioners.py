"""Who asks: telling journalists, interviewers and audience members from the officials who answer,
when their labels name them like anybody else ("Henry Foy:", "MR. RATHER.", "Editor-in-chief of
the Kommersant newspaper Sergei Yakovlev:").

A speaker is a questioner when
- their label gives a media role (editor, correspondent, journalist, anchor, a newspaper, a news
  agency, a radio or TV channel...), or the title names them after "Interview with";
- the document is an interview or a meeting with the media, students or an audience, and they
  are not its principal and hold no office;
- or, in any document, their turns are mostly questions, shorter than those of the people who
  answer them, and followed by someone else's longer answer (the structure of a press conference,
  a debate panel or a forum's moderator), and they hold no office;
- or, at a press conference, a reporter named by surname alone only ever says a line to the
  principal ("Ms. Thomas: Thank you, Mr. President.").
Once a questioner, always a questioner within the document. Offices ("President", "Minister")
are never questioners: officials ask rhetorical questions too.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import TYPE_CHECKING

from ingest.label_reading import SpeakerInfo
from ingest.label_words import NUMBERED_SPEAKER_RE

if TYPE_CHECKING:
    from ingest.turn_context import TurnContext

MEDIA_WORDS = frozenset(
    """journalist journalists correspondent correspondents reporter reporters editor editors editor-in-chief
    chief-editor anchor anchorman anchorwoman host hosts presenter presenters interviewer columnist commentator
    newspaper newspapers magazine agency agencies news radio television tv channel broadcaster broadcasting
    broadcast network gazette gazeta daily weekly times post journal herald tribune bureau""".split()
)
# offices that are not media roles even in a media company ("Chairman of the Russian Union of Journalists" is media)
OFFICE_WORDS = frozenset(
    """president minister premier treasurer governor mayor senator ambassador chancellor secretary
    prime deputy vice king queen prince emir spokesman spokeswoman spokesperson""".split()
)
# A chair who gives the floor: a parliament or a council, where members ask and ministers answer
# and nobody is a journalist (the structure of questions then proves nothing).
CHAIR_ROLES = frozenset({"speaker", "deputy speaker", "presiding officer", "speaker pro tempore",
                         "president pro tempore", "lord speaker", "chairman of committees", "deputy president"})
PARLIAMENT_RE = re.compile(r"\b(?:house of (?:commons|lords|representatives)|senate|hansard|parliament|"
                           r"question time|questions without notice|congressional record|security council|"
                           r"general assembly|westminster hall|legislative (?:council|assembly))\b", re.I)
MEDIA_MEETING_RE = re.compile(
    r"\b(?:meeting|meets|conversation|discussion|session)\s+with\b[^,:]*\b(?:media|journalists?|editors?|"
    r"press|news agencies|students|audience|readers|bloggers)\b|\b(?:q\s*&\s*a|questions and answers|phone-in|"
    r"call-in|talkback|town hall|townhall)\b", re.I)
VOCATIVE_RE = re.compile(r"\b(?:Mr\.?|Madam|Madame)\s+(?:President|Prime Minister|Secretary|Speaker|Chairman)\b")


def _words(text: str | None) -> set[str]:
    return {w.strip(".,()") for w in (text or "").lower().split()}


def is_media_role(role: str | None) -> bool:
    """True for a journalist's role: "Editor-in-chief of the Kommersant newspaper", "CNN anchor"."""
    words = _words(role)
    return bool(words & MEDIA_WORDS) and not (words & OFFICE_WORDS and not words & {"journalists"})


OUTLETS = frozenset(
    """associated press|ap|reuters|afp|agence france-presse|upi|united press international|bloomberg|cnn|bbc|
    abc|abc news|nbc|nbc news|cbs|cbs news|fox news|npr|pbs|sky news|al jazeera|tass|itar-tass|ria novosti|ria|
    interfax|xinhua|kyodo|yonhap|dpa|efe|anadolu|rt|new york times|washington post|wall street journal|
    financial times|the times|the guardian|le monde|der spiegel|kommersant|izvestia|sbs|channel nine|channel seven|
    channel ten|sky""".replace("\n", "").split("|"))


OUTLET_WORDS = MEDIA_WORDS | frozenset("presse agence quotidien télévision chaîne hebdomadaire radiodiffusion".split())


def is_moderator(role: str | None) -> bool:
    """A debate's or a briefing's moderator, who gives the floor rather than asks."""
    return bool(role) and _words(role) & {"moderator", "moderators"} != set() and not is_media_role(role)


def is_outlet(name: str | None) -> bool:
    """A news organisation named beside a label: "FRANK CORMIER [Associated Press].",
    "M. Piet VANDERHAEGEN (Agence Lysmont Presse) :"."""
    if not name:
        return False
    low = " ".join(name.lower().split())
    return low in {o.strip() for o in OUTLETS} or bool(_words(low) & OUTLET_WORDS)


def is_media_meeting(title: str | None) -> bool:
    """A meeting with the media, students or an audience, a Q&A, a phone-in, a town hall."""
    return bool(title and MEDIA_MEETING_RE.search(title))


def _interviewers_named(ctx: "TurnContext") -> set[str]:
    """Lower-cased words of the names a title gives after "Interview with/to", up to a comma:
    "Interview with Kyle and Jackie O, KIIS FM" -> {"kyle", "jackie", "o"}."""
    if not ctx.title:
        return set()
    match = re.search(r"\binterview(?:ed)?\s+(?:with|to|by)\s+([^,(]*)", ctx.title, re.I)
    if not match:
        return set()
    return {w.lower() for w in re.findall(r"\b[A-Z][\w'’-]*", match.group(1).replace("’", "'"))}


def _holds_office(info: SpeakerInfo) -> bool:
    """A public office ("President of Finland", "Minister"), not a media or company role."""
    return bool(_words(info.role) & OFFICE_WORDS) and not is_media_role(info.role)


def mark_questioners(infos: list[SpeakerInfo], ctx: "TurnContext", bodies: list[str]) -> None:
    """Mark the turns of journalists, interviewers and audience members as questions (in place)."""
    stats = _Stats(infos, bodies)
    if not stats.talk:
        return
    principal = ctx.main_speaker if ctx.main_speaker in stats.talk else stats.talk.most_common(1)[0][0]
    asking: set[str] = set()
    named = _interviewers_named(ctx) if ctx.is_interview else set()
    meeting = ctx.is_interview or is_media_meeting(ctx.title)
    chamber = _is_chamber(infos, ctx)
    for name in stats.talk:
        mine = stats.infos[name]
        if any(is_moderator(i.role) for i in mine):
            continue  # "QUINCY HOWE, MODERATOR:" gives the floor; the panel's journalists ask
        if any(is_media_role(i.role) or is_outlet(i.affiliation) for i in mine):
            asking.add(name)
            continue
        numbered = bool(NUMBERED_SPEAKER_RE.match(name))
        if name == principal or any(_holds_office(i) for i in mine) or any(i.group for i in mine) \
                or (any(i.anonymous for i in mine) and not numbered):
            continue  # ("Speaker 2" of a machine transcript may still be a reporter)
        if named and {w.lower() for w in name.split()} & named:
            asking.add(name)
        elif meeting and stats.asks[name] and stats.asks[name] * 2 >= stats.turns[name]:
            asking.add(name)  # mostly questions, in an interview or a meeting with the press
        elif not chamber and stats.looks_like_questions(name):
            asking.add(name)
        elif not chamber and _introduces_self(name, stats.bodies[name]):
            asking.add(name)  # "Anastasia Levashova from Blackfriars Fund, London. I ..."
        elif not chamber and numbered and _asks_like_a_reporter(stats.bodies[name]):
            asking.add(name)  # "Speaker 3: Minister, people here were promised ...?"
        elif not chamber and all("?" in body for body in stats.bodies[name]) \
                and any(ADDRESS_RE.match(body) for body in stats.bodies[name]):
            asking.add(name)  # "MR. FLEMING: Mr. Vice President, do I take it then ...?" (one question, no outlet)
        elif not chamber and ctx.is_interview and any(OPENS_WITH_OFFICE_RE.match(body) for body in stats.bodies[name]):
            asking.add(name)  # a co-host: "BUCHAN: Prime Minister we saw you right out front ..."
        elif not chamber and is_press_event(ctx.title) and any(i.affiliation for i in mine) \
                and all("?" in body for body in stats.bodies[name]):
            asking.add(name)  # "Mme Solène KERVAREC (L'Écho du Lys) : ... ?" at a press briefing
    asking |= _closing_reporters(infos, bodies)
    for info in infos:
        if info.speaker in asking and not info.is_question:
            info.is_question = True


def _is_chamber(infos: list[SpeakerInfo], ctx: "TurnContext") -> bool:
    """A parliament or council: a chair labelled by office, or a title that says so."""
    if ctx.title and PARLIAMENT_RE.search(ctx.title):
        return True
    for info in infos:
        role = " ".join((info.role or (info.speaker if info.role_only else "") or "").lower().replace(".", "").split())
        role = role.removeprefix("the ").removeprefix("mr ").removeprefix("madam ")
        if role in CHAIR_ROLES:
            return True
    return False


class _Stats:
    """Per speaker: characters spoken, turns, turns with a question mark, and who speaks next."""

    def __init__(self, infos: list[SpeakerInfo], bodies: list[str]) -> None:
        self.talk: Counter[str] = Counter()
        self.turns: Counter[str] = Counter()
        self.asks: Counter[str] = Counter()
        self.answered_by_longer: Counter[str] = Counter()
        self.infos: dict[str, list[SpeakerInfo]] = defaultdict(list)
        self.bodies: dict[str, list[str]] = defaultdict(list)
        order: list[tuple[str | None, int, bool]] = []
        for info, body in zip(infos, bodies):
            who = info.speaker if not info.is_question else None
            order.append((who, len(body), info.is_question))
            if who:
                self.talk[who] += len(body)
                self.turns[who] += 1
                self.asks[who] += "?" in body
                self.infos[who].append(info)
                self.bodies[who].append(body)
        self._order = order

    def avg(self, name: str) -> float:
        return self.talk[name] / self.turns[name] if self.turns[name] else 0.0

    def looks_like_questions(self, name: str) -> bool:
        """Mostly questions, each followed by another speaker's longer answer (one short question
        is enough when it is all the speaker says: an audience member at a forum)."""
        if self.asks[name] * 2 < self.turns[name] or not self.asks[name]:
            return False
        if self.asks[name] == 1 and (self.turns[name] > 1 or self.avg(name) > 600):
            return False
        followed = 0
        for (who, length, _), (nxt, nxt_len, nxt_q) in zip(self._order, self._order[1:]):
            if who == name and nxt and nxt != name and not nxt_q and nxt_len > 1.5 * length:
                followed += 1
        return followed * 2 >= self.turns[name] and self.avg(name) < 700


ADDRESS_RE = re.compile(
    r"^\W*(?:\d{1,2}:\d{2}(?::\d{2})?\W*)?(?:(?:mr|mrs|ms|madam|madame|mister|monsieur)\.?\s+)?(?:the\s+)?(?:deputy\s+|vice\s+|prime\s+)?"
    r"(?:minister|president|secretary|commissioner|chancellor|governor|mayor|ambassador|senator|spokesman|"
    r"spokeswoman|spokesperson|general|premier|chairman|chairwoman|chair)\b[^.?!\n]{0,40}[,.]", re.I)
OPENS_WITH_OFFICE_RE = re.compile(
    r"^\W*(?:(?:mr|mrs|ms|madam|madame)\.?\s+)?(?:deputy\s+|vice\s+)?(?:prime minister|president|minister|premier|"
    r"secretary|chancellor|treasurer)\b", re.I)
PRESS_EVENT_RE = re.compile(r"\b(?:press|presse|prensa|briefing|news conference|media availability|"
                            r"point de presse|conférence de presse|conferencia)\b", re.I)


def is_press_event(title: str | None) -> bool:
    """A press conference or briefing, by its title."""
    return bool(title and PRESS_EVENT_RE.search(title))


def _asks_like_a_reporter(bodies: list[str]) -> bool:
    """Every turn asks something, and one opens by addressing an official ("Minister, ...") or names
    an outlet near its start ("Petra Lindqvist-Amo, Coastline Weekly. Is ...?")."""
    if not bodies or not all("?" in body for body in bodies):
        return False
    return any(ADDRESS_RE.match(body) or _words(body[:150]) & MEDIA_WORDS for body in bodies)


def _introduces_self(name: str, bodies: list[str]) -> bool:
    """A speaker who says their own full name at the start of a turn, as an audience member or a
    reporter does before asking ("Alexander Branis.", "Anastasia Levashova from Blackfriars Fund")."""
    if len(name.split()) < 2:
        return False
    pattern = re.compile(r"(?:^|[.!?]\s+|\n\s*)(?:my name is\s+|i am\s+|i'm\s+)?" + re.escape(name)
                         + r"(?:\s*[.,]|\s+(?:from|of|with|at)\b)", re.I)
    return any(pattern.search(body[:250]) for body in bodies)


def _closing_reporters(infos: list[SpeakerInfo], bodies: list[str]) -> set[str]:
    """At a press conference (three questions or more), a reporter named by surname only who
    only ever says a line to the principal ("Ms. Thomas: Thank you, Mr. President.")."""
    if sum(i.is_question for i in infos) < 3:
        return set()
    said: dict[str, list[str]] = {}
    for info, body in zip(infos, bodies):
        if info.surname and info.speaker and not info.is_question and not info.role:
            said.setdefault(info.speaker, []).append(body)
    return {name for name, lines in said.items()
            if all(len(line) <= 200 and VOCATIVE_RE.search(line) for line in lines)}
