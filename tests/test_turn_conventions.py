"""Speaker turns in the conventions of UN records, the Congressional Record, Hansards, Mexican
morning conferences, government briefings and Q-and-A interviews.

The texts are written for these tests in the shapes those transcripts use (the labels and
layout of each convention, with invented or generic content), so that no third-party text
is needed."""

from __future__ import annotations

from ingest.models import RawDocument
from ingest.structure import parse_document


def _doc(text: str, title: str | None = None, date: str | None = None, **meta: object):
    metadata = dict(meta)
    if title:
        metadata["title"] = title
    if date:
        metadata["date"] = date
    metadata.setdefault("id", "t-1")
    return parse_document(RawDocument(text=text, source_path="c.jsonl", origin="c.jsonl:1", format="jsonl",
                                      metadata=metadata))


def _turns(doc) -> list[tuple[str | None, bool]]:
    return [(t.speaker, t.is_question) for t in doc.turns if t.label or t.speaker]


def _body(doc, i: int) -> str:
    t = doc.turns[i]
    return doc.text[t.char_start:t.char_end]


def test_un_security_council_record():
    text = (
        "United Nations S/PV.9999\n\nSecurity Council\n\n"
        "President: Mr. Tran ...................................... (Viet Nam)\n\n"
        "Members: Belgium ....................................... Mr. Pecsteen de Buytswerve\n\n"
        "China ......................................... Mr. Wu Haitao\n\n"
        "Russian Federation ............................... Mr. Polyanskiy\n\n"
        "The meeting was called to order at 10 a.m.\n\n"
        "Adoption of the agenda\n\n"
        "The President: I now give the floor to Mr. Chambas.\n\n"
        "Mr. Chambas: I am honoured to brief the Council today. Let us be frank: the situation is grave.\n\n"
        "The region needs our support.\n\n"
        "The President: I thank Mr. Chambas for his briefing.\n\n"
        "Mr. Polyanskiy (Russian Federation) (spoke in Russian): We thank the Special Representative.\n\n"
        "Mr. Wu (China) (spoke in Chinese): China supports the work of the Office.\n\n"
        "Mr. Pecsteen de Buytswerve (Belgium): Belgium aligns itself with the statement.\n\n"
        "The Secretary-General: I thank the presidency.\n\n"
        "In favour:\nBelgium, China, Viet Nam\n\n"
        "The meeting rose at 1.10 p.m.\n"
    )
    doc = _doc(text, title="S/PV.9999 — Security Council, 9999th meeting", date="2020-01-08")
    assert _turns(doc) == [("Tran", False), ("Chambas", False), ("Tran", False), ("Polyanskiy", False),
                           ("Wu Haitao", False), ("Pecsteen de Buytswerve", False),
                           ("Secretary-General", False)]
    assert _body(doc, [t.label for t in doc.turns].index("Mr. Chambas")).endswith("needs our support.")
    roles = {t.speaker: t.role for t in doc.turns if t.speaker}
    assert roles["Polyanskiy"] is None  # the country is an affiliation, not an office


def test_congressional_record_full_stop_labels():
    text = (
        "HON. DONALD A. MANZULLO\n\nof illinois\n\nin the house of representatives\n\n"
        "Mr. MANZULLO. Madam Speaker, I rise today to honour a constituent.\n\n"
        "[[Page E1539]]\n\nShe served her community for forty years.\n\n"
        "The PRESIDING OFFICER (Mr. Kyl). The clerk will call the roll.\n\n"
        "The assistant legislative clerk proceeded to call the roll.\n\n"
        "Mr. McCONNELL. Mr. President, I ask unanimous consent that the order be rescinded.\n\n"
        "The PRESIDING OFFICER. Without objection, it is so ordered.\n\n"
        "Mr. BROWN of Ohio. Mr. Speaker, I yield myself such time as I may consume.\n\n"
        "{time}  1045\n\n"
        "Ms. MILLENDER-McDONALD. Mr. Speaker, I thank the gentleman from Ohio (Mr. Brown).\n"
    )
    doc = _doc(text, title="TRIBUTE — Congressional Record", date="2005-07-20")
    assert _turns(doc) == [("Donald A. Manzullo", False), ("Kyl", False), ("McConnell", False), ("Kyl", False),
                           ("Brown", False), ("Millender-McDonald", False)]
    assert {t.role for t in doc.turns if t.speaker == "Kyl"} == {"Presiding Officer"}
    assert "She served her community" in _body(doc, [t.speaker for t in doc.turns].index("Donald A. Manzullo"))


def test_uk_hansard_office_then_name():
    text = (
        "PRIME MINISTER\n\nEngagements\n\n"
        "Mr. Stephen Hepburn (Jarrow) (Lab): If he will list his official engagements for Wednesday.\n\n"
        "The Prime Minister (Gordon Brown): Before listing my engagements, I am sure the House will wish to "
        "join me in paying tribute.\n\n"
        "David Cameron: May I join the Prime Minister in paying tribute?\n\n"
        "Hon. Members: Answer!\n\n"
        "Gordon Brown: I know the anxieties of the House on this matter.\n\n"
        "Mr. Speaker: Order. Let us hear the answer.\n\n"
        "Lord Thomas of Gresford: I declare an interest as a practitioner.\n"
    )
    doc = _doc(text, title="Engagements — House of Commons, 2009-10-28", date="2009-10-28")
    assert _turns(doc) == [("Stephen Hepburn", False), ("Gordon Brown", False), ("David Cameron", False),
                           ("Hon. Members", False), ("Gordon Brown", False), ("Mr. Speaker", False),
                           ("Lord Thomas of Gresford", False)]
    brown = [t for t in doc.turns if t.speaker == "Gordon Brown"]
    assert [t.role for t in brown] == ["Prime Minister", "Prime Minister"]  # the office, kept apart


def test_mexican_conference_labels_on_their_own_line():
    text = (
        "Presidencia de la República\n\n01 de agosto de 2019\n\n---\n\n"
        "PRESIDENTE ANDRÉS MANUEL LÓPEZ OBRADOR\n\nBuenos días.\n\nVamos a informar sobre el programa.\n\n---\n\n"
        "JOSÉ RAFAEL OJEDA DURÁN, SECRETARIO DE MARINA\n\nCon permiso, señor presidente.\n\n---\n\n"
        "PREGUNTA\n\nBuenos días. ¿Cuándo termina el programa?\n\n---\n\n"
        "PRESIDENTE ANDRÉS MANUEL LÓPEZ OBRADOR\n\nEn diciembre.\n\n---\n\n"
        "INTERLOCUTORA\n\n¿Y el presupuesto?\n\n---\n\n"
        "JOSÉ RAFAEL OJEDA DURÁN\n\nEstá asignado.\n\n---\n\n"
        "VOZ MUJER\n\nBienvenidos al programa.\n"
    )
    doc = _doc(text, title="Versión estenográfica de la conferencia de prensa matutina", date="2019-08-01")
    amlo, marina = "Andrés Manuel López Obrador", "José Rafael Ojeda Durán"
    assert _turns(doc) == [(amlo, False), (marina, False), ("Pregunta", True), (amlo, False),
                           ("Interlocutor", True), (marina, False), ("Voz Mujer", False)]
    assert doc.turns[1].role == "Presidente" and doc.turns[2].role == "Secretario de Marina"


def test_mexican_conference_inline_labels_without_space():
    text = ("PRESIDENTA DE MÉXICO, CLAUDIA SHEINBAUM PARDO:Buenos días a todas y a todos.\n\n"
            "SECRETARIA DE GOBERNACIÓN, ROSA ICELA RODRÍGUEZ VELÁZQUEZ:Gracias, presidenta.\n\n"
            "PREGUNTA:¿Qué sigue?\n")
    doc = _doc(text, title="Versión estenográfica", date="2025-06-16")
    assert _turns(doc) == [("Claudia Sheinbaum Pardo", False), ("Rosa Icela Rodríguez Velázquez", False),
                           ("Pregunta", True)]
    assert doc.turns[0].role == "Presidenta de México"


def test_australian_hansard_first_and_later_labels():
    text = (
        "COVID-19: National Plan\n\n"
        "Mr JONES (Whitlam) (14:00): My question is to the Prime Minister. Will he act?\n\n"
        "Mr MORRISON (Cook—Prime Minister) (14:00): If you have the right plan, it is a positive impact.\n\n"
        "Opposition members interjecting—\n\n"
        "The SPEAKER: Members on my left!\n\n"
        "Mr MORRISON: We have the right plan.\n\n"
        "Mr Dutton: Mr Speaker, on a point of order.\n\n"
        "Honourable members: Hear, hear!\n"
    )
    doc = _doc(text, title="Questions without notice", date="2021-10-20")
    assert _turns(doc) == [("Jones", False), ("Morrison", False), ("Speaker", False), ("Morrison", False),
                           ("Dutton", False), ("Honourable members", False)]
    assert [t.role for t in doc.turns if t.speaker == "Morrison"] == ["Prime Minister", "Prime Minister"]
    assert [t.role for t in doc.turns if t.speaker == "Jones"] == [None]  # "(Whitlam)" is a seat


def test_us_briefing_bare_q_and_press_secretary_named_in_the_title():
    text = (
        "Press Briefing by Press Secretary Dana Whitfield\n\nMarch 3, 2025\n\n"
        "MS. WHITFIELD: Good afternoon. I am joined today by Deputy Adviser Samuel Okafor.\n\n"
        "MR. OKAFOR: Thank you, Dana.\n\n"
        "Q On the trade talks, will the Secretary travel this week?\n\n"
        "MS. WHITFIELD: Not this week.\n\n"
        "Q Thanks, Dana. Two questions. (inaudible) the tariffs?\n\n"
        "MS. WHITFIELD: I will not get ahead of the talks.\n\n"
        "Q: And on the budget?\n\n"
        "SENIOR ADMINISTRATION OFFICIAL: On background, the budget is on track.\n\n"
        "[Senior administration official]: Nothing further.\n\n"
        "MODERATOR: Next question, please.\n\n"
        "Q. Is the summit confirmed?\n\n"
        "MS. WHITFIELD: It is.\n"
    )
    doc = parse_document(RawDocument(text=text, source_path="/x/briefing.txt", origin="briefing.txt",
                                     format="txt"))
    got = _turns(doc)
    assert got == [("Dana Whitfield", False), ("Samuel Okafor", False), ("Question", True), ("Dana Whitfield", False),
                   ("Question", True), ("Dana Whitfield", False), ("Question", True),
                   ("Senior Administration Official", False), ("Senior Administration Official", False),
                   ("Moderator", False), ("Question", True), ("Dana Whitfield", False)]
    assert _body(doc, 2).startswith("On the trade talks")
    assert {t.role for t in doc.turns if t.speaker == "Dana Whitfield"} == {"Press Secretary"}
    assert doc.date == "2025-03-03"
    assert not any(t.speaker and t.speaker.startswith("Q ") for t in doc.turns)


def test_q_and_a_interview_answers_belong_to_the_interviewee():
    text = ("Q. Minister, what is the priority of your visit?\n\nA. Trade, first of all.\n\n"
            "Q. And security?\n\nA. Security too. A. B. and C. are the three points.\n")
    doc = _doc(text, title="Interview with Foreign Minister Ana Ruiz", date="2024-05-02")
    assert _turns(doc) == [("Question", True), ("Ana Ruiz", False), ("Question", True), ("Ana Ruiz", False)]
    assert doc.turns[1].role == "Foreign Minister"


def test_the_president_is_the_president_the_document_names():
    text = ("PRESIDENT KALNINS: Welcome to Riga.\n\nPRIME MINISTER OYELARAN: Thank you.\n\n"
            "Q Mr. President, on energy?\n\nTHE PRESIDENT:\nWe have agreed a plan.\n")
    doc = _doc(text, title="Joint press conference by President Maris Kalnins and Prime Minister Oyelaran",
               date="2024-02-01")
    assert _turns(doc) == [("Maris Kalnins", False), ("Prime Minister Oyelaran", False), ("Question", True),
                           ("Maris Kalnins", False)]
    assert _body(doc, 3) == "We have agreed a plan."


def test_the_president_by_date_when_the_document_names_nobody():
    text = ("THE PRESIDENT. Good morning. I have a statement on the Federal budget of the United States.\n\n"
            "Q. Mr. President, will Congress pass it?\n\n"
            "THE PRESIDENT. I believe the American people want it, and the Congress will act.\n")
    doc = parse_document(RawDocument(text=text, source_path="/x/1962-03-07_press-conference.txt",
                                     origin="1962-03-07_press-conference.txt", format="txt"))
    assert _turns(doc) == [("John F. Kennedy", False), ("Question", True), ("John F. Kennedy", False)]
    undated = parse_document(RawDocument(text=text, source_path="/x/conference.txt", origin="conference.txt",
                                         format="txt"))
    assert _turns(undated)[0] == ("President", False)  # no date: the office, never a guess


def test_prose_and_headings_are_not_labels():
    text = ("Vladimir Putin: Good afternoon.\n\nThe answer is simple: no.\n\nNote: the figures are provisional.\n\n"
            "COVID-19: the plan.\n\nTo make progress, we must strengthen three areas: trade, energy, security.\n\n"
            "MORNING BUSINESS\n\nA vote was taken.\n\nQ&A session follows.\n")
    doc = _doc(text, title="Remarks", date="2020-01-01")
    assert _turns(doc) == [("Vladimir Putin", False)]


def test_misspelt_journalist_label_is_still_a_question():
    text = "PRIME MINISTER: Thank you.\n\nJOURANLIST: Prime Minister, when?\n\nPRIME MINISTER: Soon.\n"
    doc = _doc(text, title="Doorstop", speaker="Rudd, Kevin")
    assert _turns(doc) == [("Kevin Rudd", False), ("Journalist", True), ("Kevin Rudd", False)]


def test_long_offices_do_not_leak_into_names():
    from ingest.turns import read_label

    cases = {
        "SECRETARY OF HOMELAND SECURITY ANA VELEZ": ("Ana Velez", "Secretary of Homeland Security"),
        "CHAIR OF THE COUNCIL OF ECONOMIC ADVISERS TOMAS REYES": ("Tomas Reyes",
                                                                  "Chair of the Council of Economic Advisers"),
        "DEPUTY NATIONAL SECURITY ADVISOR LENA BORG": ("Lena Borg", "Deputy National Security Advisor"),
        "ADMIRAL JOHN KESTREL": ("John Kestrel", "Admiral"),
        "AMBASSADOR MARA QUILL": ("Mara Quill", "Ambassador"),
    }
    for label, (name, role) in cases.items():
        info = read_label(label)
        assert (info.speaker, info.role, info.is_question) == (name, role, False), label


def test_a_debate_moderator_from_a_network_gives_the_floor_and_is_not_a_questioner():
    """A moderator who introduces himself with his network is no journalist asking; the candidate
    the text calls "Vice President Nixon" in 1960 is Richard Nixon (the holder of that office)."""
    text = ("QUINCY HOWE, MODERATOR: I am Quincy Howe of ABC News saying good evening from New York. "
            "Good evening, Vice President Nixon.\n\nMR. NIXON: Good evening, Mr. Howe.\n\n"
            "MR. HOWE: And good evening, Senator Kennedy. Mr. Nixon, will you begin?\n\n"
            "MR. NIXON: The United States and its allies face a long struggle in the world, "
            "and America must lead it. Americans know it, Congress knows it, and Washington must act.\n\n"
            "MR. HOWE: Thank you, Mr. Nixon. Now the first question from the panel?\n\n")
    doc = _doc(text, title="Debate richard nixon new york", date="1960-10-21")
    assert _turns(doc) == [("Quincy Howe", False), ("Richard Nixon", False), ("Quincy Howe", False),
                           ("Richard Nixon", False), ("Quincy Howe", False)]


def test_numbered_voices_and_named_reporters_at_a_briefing_are_questions():
    text = ("Minister of Coastal Affairs Halvard Brandt Press Conference\nMay 6, 2025\n\n"
            "Speakers: Halvard Brandt (Minister of Coastal Affairs), journalists\n\n"
            "Minister Brandt: (00:41)\nGood morning. Phase two starts in September and will cost 84 million.\n\n"
            "Speaker 3: (07:01)\nMinister, people here were promised phase two three years ago. Why believe it now?\n\n"
            "Minister Brandt: (07:20)\nBecause the contract is signed and the money is in this year's budget.\n\n")
    doc = _doc(text, title="Minister of Coastal Affairs Halvard Brandt Press Conference", date="2025-05-06")
    assert _turns(doc) == [("Halvard Brandt", False), ("Speaker 3", True), ("Halvard Brandt", False)]
    french = ("LE PORTE-PAROLE : Bonjour à toutes et à tous. J'ai une annonce.\n\nQuestions :\n\n"
              "Mme Solène KERVAREC (L'Écho du Lys) : Bonjour. La ministre rencontrera-t-elle son homologue ?\n\n"
              "LE PORTE-PAROLE : Aucune rencontre n'est prévue à ce stade.\n\n")
    doc = _doc(french, title="Point de presse de M. Théo Arcambault, porte-parole du ministère", date="2025-05-12")
    assert [(s, q) for s, q in _turns(doc)] == [("Théo Arcambault", False), ("Solène Kervarec", True),
                                               ("Théo Arcambault", False)]  # "Questions :" is a heading


def test_a_name_that_ends_the_title_line_gives_the_full_name():
    text = ("Joint Press Availability of Interior Minister Karsten Voll and Police Commissioner Ada Nwosu-Lind\n"
            "May 20, 2025\n\n>> MINISTER VOLL: Thank you. Forty thousand homes are still without power.\n"
            ">> COMMISSIONER NWOSU-LIND: Thank you, Minister. Three main roads remain closed.\n")
    doc = _doc(text)
    assert [s for s, _ in _turns(doc)][-2:] == ["Karsten Voll", "Ada Nwosu-Lind"]
