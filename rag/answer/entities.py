"""The places, countries and organisations a question names, by any of their usual names: a
capital for its country ("Moscow" = Russia), a demonym ("Belarusian" = Belarus), a short form
("the US", "NATO" = "North Atlantic Treaty Organization"). Used to tell what a question names and
whether a quote is about it, not about a third country. (Adding these other names to BM25's query
was measured on the tuning set and lost: bench/RESULTS.md.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# country: capital | demonyms | other names (comma-separated)
_COUNTRIES = """
Afghanistan: Kabul | Afghan | Afghanistan
Albania: Tirana | Albanian |
Algeria: Algiers | Algerian |
Argentina: Buenos Aires | Argentine, Argentinian |
Armenia: Yerevan | Armenian |
Australia: Canberra | Australian, Australians | Commonwealth of Australia
Austria: Vienna | Austrian |
Azerbaijan: Baku | Azerbaijani, Azeri |
Bangladesh: Dhaka | Bangladeshi |
Belarus: Minsk | Belarusian, Belarussian, Byelorussian | Byelorussia, Republic of Belarus
Belgium: Brussels | Belgian |
Brazil: Brasilia, Brasília | Brazilian |
Bulgaria: Sofia | Bulgarian |
Canada: Ottawa | Canadian |
Chile: Santiago | Chilean |
China: Beijing, Peking | Chinese | People's Republic of China, PRC
Colombia: Bogota, Bogotá | Colombian |
Croatia: Zagreb | Croatian |
Cuba: Havana | Cuban |
Cyprus: Nicosia | Cypriot |
Czech Republic: Prague | Czech | Czechia
Denmark: Copenhagen | Danish, Dane |
Egypt: Cairo | Egyptian |
Estonia: Tallinn | Estonian |
Finland: Helsinki | Finnish, Finn |
France: Paris | French |
Georgia: Tbilisi | Georgian |
Germany: Berlin | German, Germans | Federal Republic of Germany
Greece: Athens | Greek |
Hungary: Budapest | Hungarian |
India: New Delhi, Delhi | Indian |
Indonesia: Jakarta | Indonesian |
Iran: Tehran | Iranian | Islamic Republic of Iran, Persia
Iraq: Baghdad | Iraqi |
Ireland: Dublin | Irish |
Israel: Jerusalem, Tel Aviv | Israeli |
Italy: Rome | Italian |
Japan: Tokyo | Japanese |
Jordan: Amman | Jordanian |
Kazakhstan: Astana, Nur-Sultan, Almaty | Kazakh, Kazakhstani |
Kyrgyzstan: Bishkek | Kyrgyz |
Latvia: Riga | Latvian |
Lebanon: Beirut | Lebanese |
Libya: Tripoli | Libyan |
Lithuania: Vilnius | Lithuanian |
Malaysia: Kuala Lumpur | Malaysian |
Mexico: Mexico City | Mexican | México
Moldova: Chisinau, Chișinău | Moldovan |
Mongolia: Ulaanbaatar, Ulan Bator | Mongolian |
Netherlands: Amsterdam, The Hague | Dutch | Holland
New Zealand: Wellington | New Zealander | NZ
Nigeria: Abuja | Nigerian |
North Korea: Pyongyang | North Korean | DPRK, Democratic People's Republic of Korea
Norway: Oslo | Norwegian |
Pakistan: Islamabad | Pakistani |
Palestine: Ramallah | Palestinian | Palestinian territories
Papua New Guinea: Port Moresby | Papua New Guinean | PNG
Philippines: Manila | Filipino, Philippine |
Poland: Warsaw | Polish, Pole, Poles |
Portugal: Lisbon | Portuguese |
Qatar: Doha | Qatari |
Romania: Bucharest | Romanian |
Russia: Moscow, the Kremlin | Russian, Russians | Russian Federation
Saudi Arabia: Riyadh | Saudi |
Serbia: Belgrade | Serbian, Serb |
Singapore: Singapore | Singaporean |
Slovakia: Bratislava | Slovak |
Slovenia: Ljubljana | Slovenian |
South Africa: Pretoria, Cape Town | South African |
South Korea: Seoul | South Korean, Korean | Republic of Korea, ROK
Spain: Madrid | Spanish |
Sweden: Stockholm | Swedish |
Switzerland: Bern, Berne | Swiss |
Syria: Damascus | Syrian | Syrian Arab Republic
Tajikistan: Dushanbe | Tajik |
Thailand: Bangkok | Thai |
Turkey: Ankara | Turkish | Türkiye, Turkiye
Turkmenistan: Ashgabat | Turkmen |
Ukraine: Kiev, Kyiv | Ukrainian |
United Arab Emirates: Abu Dhabi | Emirati | UAE, Emirates
United Kingdom: London | British, Briton, Britons | UK, Britain, Great Britain, the United Kingdom
United States: Washington | American, Americans | US, U.S., USA, U.S.A., America, the United States
Uzbekistan: Tashkent | Uzbek |
Venezuela: Caracas | Venezuelan |
Vietnam: Hanoi | Vietnamese | Viet Nam
"""
# organisation: other names (comma-separated)
_ORGANISATIONS = """
NATO: North Atlantic Treaty Organization, North Atlantic Treaty Organisation, North Atlantic Alliance
SCO: Shanghai Cooperation Organisation, Shanghai Cooperation Organization
CSTO: Collective Security Treaty Organisation, Collective Security Treaty Organization
EAEU: Eurasian Economic Union, EAEU, EEU, Eurasian Union
CIS: Commonwealth of Independent States
OSCE: Organisation for Security and Co-operation in Europe, Organization for Security and Cooperation in Europe
EU: European Union
UN: United Nations, UNO
UN Security Council: Security Council, UNSC
BRICS: BRICS
G20: Group of Twenty, G-20
G7: Group of Seven, G-7
ASEAN: Association of Southeast Asian Nations
APEC: Asia-Pacific Economic Cooperation
IAEA: International Atomic Energy Agency
WHO: World Health Organization, World Health Organisation
WTO: World Trade Organization, World Trade Organisation
IMF: International Monetary Fund
Union State: Union State of Russia and Belarus
"""


@dataclass(frozen=True)
class Entity:
    """A country or organisation with every name it goes by."""

    name: str
    kind: str  # country | organisation
    names: tuple[str, ...]


@lru_cache(maxsize=1)
def gazetteer() -> tuple[Entity, ...]:
    """Every known entity (built once, on first use)."""
    out: list[Entity] = []
    for line in _COUNTRIES.strip().splitlines():
        country, rest = line.split(":", 1)
        capitals, demonyms, others = (part.strip() for part in rest.split("|"))
        names = [country.strip()] + [n.strip() for part in (capitals, demonyms, others)
                                     for n in part.split(",") if n.strip()]
        out.append(Entity(country.strip(), "country", tuple(dict.fromkeys(names))))
    for line in _ORGANISATIONS.strip().splitlines():
        short, rest = line.split(":", 1)
        names = [short.strip()] + [n.strip() for n in rest.split(",") if n.strip()]
        out.append(Entity(short.strip(), "organisation", tuple(dict.fromkeys(names))))
    return tuple(out)


@lru_cache(maxsize=1)
def _pattern() -> tuple[re.Pattern[str], dict[str, Entity]]:
    by_name: dict[str, Entity] = {}
    for entity in gazetteer():
        for name in entity.names:
            by_name.setdefault(name.lower(), entity)
    alternatives = sorted(by_name, key=len, reverse=True)
    body = "|".join(re.escape(a) for a in alternatives)
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.I), by_name


def _case_ok(found: str, name: str) -> bool:
    """Short forms must keep their capitals ("US", not "us"; "WHO", not "who")."""
    if len(name) <= 4 and name.isupper():
        return found == name or found.replace(".", "") == name.replace(".", "")
    return found[:1].isupper() or not name[:1].isupper()


def find_entities(text: str) -> list[Entity]:
    """The entities `text` names, in order of first mention, each once."""
    pattern, by_name = _pattern()
    seen: dict[str, Entity] = {}
    for match in pattern.finditer(text):
        entity = by_name.get(match.group(0).lower())
        if entity and _case_ok(match.group(0), next(n for n in entity.names if n.lower() == match.group(0).lower())):
            seen.setdefault(entity.name, entity)
    return list(seen.values())


def mentions(text: str, entity: Entity) -> bool:
    """True if `text` names `entity` by any of its names."""
    return any(e.name == entity.name for e in find_entities(text))

