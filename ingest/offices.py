"""Who held an office on a date: "THE PRESIDENT" at a White House press conference of
1981-01-29 is Ronald Reagan.

Used only when a document gives a role label and names nobody for it (no title, roster or
metadata naming the holder), and the document's country can be told from its text. The tables
hold heads of state and government of the countries whose transcripts the project meets most;
a date outside them, or an unknown country, resolves to nobody.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter

# (first day in office, holder); each holds the office until the next entry's first day.
_US_PRESIDENTS = """
1789-04-30 George Washington|1797-03-04 John Adams|1801-03-04 Thomas Jefferson|1809-03-04 James Madison
|1817-03-04 James Monroe|1825-03-04 John Quincy Adams|1829-03-04 Andrew Jackson|1837-03-04 Martin Van Buren
|1841-03-04 William Harrison|1841-04-04 John Tyler|1845-03-04 James K. Polk|1849-03-05 Zachary Taylor
|1850-07-09 Millard Fillmore|1853-03-04 Franklin Pierce|1857-03-04 James Buchanan|1861-03-04 Abraham Lincoln
|1865-04-15 Andrew Johnson|1869-03-04 Ulysses S. Grant|1877-03-04 Rutherford B. Hayes|1881-03-04 James A. Garfield
|1881-09-19 Chester A. Arthur|1885-03-04 Grover Cleveland|1889-03-04 Benjamin Harrison|1893-03-04 Grover Cleveland
|1897-03-04 William McKinley|1901-09-14 Theodore Roosevelt|1909-03-04 William Taft|1913-03-04 Woodrow Wilson
|1921-03-04 Warren G. Harding|1923-08-02 Calvin Coolidge|1929-03-04 Herbert Hoover|1933-03-04 Franklin D. Roosevelt
|1945-04-12 Harry S. Truman|1953-01-20 Dwight D. Eisenhower|1961-01-20 John F. Kennedy|1963-11-22 Lyndon B. Johnson
|1969-01-20 Richard Nixon|1974-08-09 Gerald Ford|1977-01-20 Jimmy Carter|1981-01-20 Ronald Reagan
|1989-01-20 George H. W. Bush|1993-01-20 Bill Clinton|2001-01-20 George W. Bush|2009-01-20 Barack Obama
|2017-01-20 Donald Trump|2021-01-20 Joe Biden|2025-01-20 Donald Trump
"""
_US_VICE_PRESIDENTS = """
1933-03-04 John Nance Garner|1941-01-20 Henry A. Wallace|1945-01-20 Harry S. Truman|1949-01-20 Alben W. Barkley
|1953-01-20 Richard Nixon|1961-01-20 Lyndon B. Johnson|1965-01-20 Hubert Humphrey|1969-01-20 Spiro Agnew
|1973-12-06 Gerald Ford|1974-12-19 Nelson Rockefeller|1977-01-20 Walter Mondale|1981-01-20 George H. W. Bush
|1989-01-20 Dan Quayle|1993-01-20 Al Gore|2001-01-20 Dick Cheney|2009-01-20 Joe Biden|2017-01-20 Mike Pence
|2021-01-20 Kamala Harris|2025-01-20 JD Vance
"""
_RU_PRESIDENTS = "1991-07-10 Boris Yeltsin|1999-12-31 Vladimir Putin|2008-05-07 Dmitry Medvedev|2012-05-07 Vladimir Putin"
_RU_PRIME_MINISTERS = """1999-08-16 Vladimir Putin|2000-05-07 Mikhail Kasyanov|2004-03-05 Mikhail Fradkov
|2007-09-14 Viktor Zubkov|2008-05-08 Vladimir Putin|2012-05-08 Dmitry Medvedev|2020-01-16 Mikhail Mishustin"""
_AU_PRIME_MINISTERS = """1996-03-11 John Howard|2007-12-03 Kevin Rudd|2010-06-24 Julia Gillard|2013-06-27 Kevin Rudd
|2013-09-18 Tony Abbott|2015-09-15 Malcolm Turnbull|2018-08-24 Scott Morrison|2022-05-23 Anthony Albanese"""
_UK_PRIME_MINISTERS = """1979-05-04 Margaret Thatcher|1990-11-28 John Major|1997-05-02 Tony Blair|2007-06-27 Gordon Brown
|2010-05-11 David Cameron|2016-07-13 Theresa May|2019-07-24 Boris Johnson|2022-09-06 Liz Truss
|2022-10-25 Rishi Sunak|2024-07-05 Keir Starmer"""
_MX_PRESIDENTS = "2018-12-01 Andrés Manuel López Obrador|2024-10-01 Claudia Sheinbaum Pardo"

_TABLES: dict[tuple[str, str], str] = {
    ("us", "president"): _US_PRESIDENTS, ("us", "vice president"): _US_VICE_PRESIDENTS,
    ("ru", "president"): _RU_PRESIDENTS,
    ("ru", "prime minister"): _RU_PRIME_MINISTERS, ("au", "prime minister"): _AU_PRIME_MINISTERS,
    ("uk", "prime minister"): _UK_PRIME_MINISTERS, ("mx", "president"): _MX_PRESIDENTS,
}

# Words whose frequency tells which country's statement a text is (lower-case, whole words).
_COUNTRY_WORDS = {
    "us": ["america", "americans", "american", "congress", "washington", "united states", "white house",
           "federal government", "my fellow"],
    "ru": "russia russian russians moscow kremlin federation duma".split(),
    "au": "australia australian australians canberra labor coalition".split(),
    "uk": "britain british kingdom commons westminster lords whitehall".split(),
    "mx": "méxico mexico mexicanos mexicano presidente república".split(),
}
_WORD_RE = re.compile(r"[a-záéíóúñ.]+")


def _parse(table: str) -> list[tuple[str, str]]:
    rows = []
    for item in table.replace("\n", "").split("|"):
        item = item.strip()
        if item:
            date, name = item.split(" ", 1)
            rows.append((date, name.strip()))
    return rows


def holder(country: str, office: str, date: str | None) -> str | None:
    """The holder of `office` ("president", "prime minister") in `country` ("us", "ru", "au",
    "uk", "mx") on an ISO `date` (a year alone is too vague unless one person held the office
    all that year), or None."""
    table = _TABLES.get((country, office.lower()))
    if not table or not date or not re.match(r"^\d{4}", date):
        return None
    rows = _parse(table)
    starts = [d for d, _ in rows]
    if len(date) >= 10:
        i = bisect.bisect_right(starts, date[:10]) - 1
        return rows[i][1] if i >= 0 else None
    first, last = bisect.bisect_right(starts, f"{date[:4]}-01-01") - 1, bisect.bisect_right(starts, f"{date[:4]}-12-31") - 1
    if first >= 0 and first == last:
        return rows[first][1]
    return None


def offices_of(country: str) -> list[str]:
    """The offices whose holders are known for `country` ("president", "vice president", ...)."""
    return [office for c, office in _TABLES if c == country]


def guess_country(text: str, limit: int = 20000) -> str | None:
    """The country whose statement `text` most likely is, by characteristic words in its first
    `limit` characters; None unless one country clearly leads (at least 3 hits, twice the next)."""
    words = Counter(_WORD_RE.findall(text[:limit].lower()))
    joined = text[:limit].lower()
    scores: dict[str, int] = {}
    for country, cues in _COUNTRY_WORDS.items():
        score = 0
        for cue in cues:
            score += joined.count(cue) if " " in cue else words.get(cue, 0)
        scores[country] = score
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    (best, top), (_, second) = ranked[0], ranked[1]
    if top >= 3 and top >= 2 * second:
        return best
    return None
