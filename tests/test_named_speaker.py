"""A question that asks for one person's words is answered in their words, or says that nothing of
theirs answers it before showing anyone else's."""

from __future__ import annotations

from rag.answer.named_speaker import asked_for, named_people
from rag.store.speakers import SpeakerIndex, SpeakerRow


def _index() -> SpeakerIndex:
    rows = [("Vladimir Putin", "President", 900), ("President Putin", None, 12), ("Sergey Lavrov", "Minister", 300),
            ("Alexander Lukashenko", "President", 40), ("Bill Clinton", "President", 30),
            ("Hillary Clinton", "Secretary of State", 20), ("Julia Gillard", "Prime Minister", 50)]
    return SpeakerIndex([SpeakerRow(speaker=s, roles=r, passages=n, documents=1, first="2010-01-01",
                                    last="2020-01-01") for s, r, n in rows])


def _stranger(index: SpeakerIndex, question: str) -> str | None:
    """The name `ask` takes for a person nobody in the collection is."""
    return asked_for(index, question)[1]


def _asked(question: str) -> list[str]:
    return sorted(i.name for i in asked_for(_index(), question)[0])


def test_the_person_whose_words_are_asked_for() -> None:
    assert _asked("What did Putin say about NATO expansion?") == ["Vladimir Putin"]
    assert _asked("How has Putin described NATO expansion?") == ["Vladimir Putin"]
    assert _asked("What is Lavrov's position on the OSCE?") == ["Sergey Lavrov"]
    assert _asked("According to Julia Gillard, why was the carbon price needed?") == ["Julia Gillard"]
    assert _asked("What did Lavrov say about Lukashenko?") == ["Sergey Lavrov"]  # the first named speaks
    assert _asked("What did Clinton say about Bosnia?") == ["Bill Clinton", "Hillary Clinton"]


def test_no_one_in_particular() -> None:
    assert _asked("When did Putin meet Lukashenko?") == []  # named as a topic: anyone may answer
    assert _asked("What did the Prime Minister say about the carbon tax?") == []
    assert _asked("What did Smith say about trade?") == []  # not a speaker of the collection
    assert _asked("What was said about Putinism?") == []
    assert _asked("What did the White House say about Putin?") == []  # named after the verb: the topic
    assert _asked("Why, according to Lavrov, is there a crisis?") == ["Sergey Lavrov"]
    assert [i.name for _, i in named_people(_index(), "Is President Putin going to Minsk?")] == ["Vladimir Putin"]


def test_nouns_that_look_like_verbs_of_saying() -> None:
    """Talks are held, states are countries: the person named before such a noun is not asked for
    their words (tuning-set questions that had been answered from the wrong person's passages only)."""
    assert _asked("Where had the Japanese prime minister and Putin agreed to speed up peace treaty talks?") == []
    assert _asked("Which leader had Putin phoned before his talks with the Palestinian president?") == []
    assert _asked("What mark did Putin give Russia's relations with the United States?") == []
    assert _asked("What did Putin talk about in Sochi?") == ["Vladimir Putin"]
    assert _asked("What has Lavrov stated about the OSCE?") == ["Sergey Lavrov"]
    office = SpeakerIndex([SpeakerRow(speaker="Acting Special Minister of State", roles="Acting Special Minister of "
                                      "State", passages=7, documents=1, first="2017-08-08", last="2017-08-08")])
    assert named_people(office, "What is dearer, according to the Austrian head of state?") == []


def test_an_answer_in_the_asked_speakers_words(sample_library) -> None:
    answer = sample_library.ask("What did Lavrov say about the OSCE?")
    assert not answer.abstained and answer.citations
    index = sample_library.speaker_index()
    assert {index.canonical(c.speaker) for c in answer.citations} == {"Sergey Lavrov"}


def test_nothing_of_theirs_is_said_first(sample_library) -> None:
    """Nobody but Lavrov speaks of the Union State's security concept in the sample as Lavrov does;
    Clinton never does: the answer says so first and quotes nobody as Clinton."""
    answer = sample_library.ask("What did Clinton say about the security concept of the Union State?")
    assert answer.abstained
    assert answer.text.startswith("No statement by Bill Clinton on this was found.")
    index = sample_library.speaker_index()
    assert all(index.canonical(c.speaker) != "Bill Clinton" for c in answer.citations)
    for c in answer.citations:
        assert sample_library.document(c.doc_id).text[c.char_start:c.char_end] == c.quote


def test_a_person_the_collection_does_not_know() -> None:
    index = _index()
    assert _stranger(index, "What did Sergey Aleinik say about the security concept?") == "Sergey Aleinik"
    assert _stranger(index, "What is Xi Jinping's view of the Belt and Road?") == "Xi Jinping"
    assert _stranger(index, "Why, according to Scott Morrison, was the deal cancelled?") == "Scott Morrison"
    assert _stranger(index, "What has Jacinda Ardern said about gun laws?") == "Jacinda Ardern"
    assert _stranger(index, "Summarize Kirsty Williams' opinion on teacher training.") == "Kirsty Williams"
    known = SpeakerIndex([SpeakerRow(speaker="Kirsty Williams", roles="Minister", passages=30, documents=1,
                                     first="2019-01-01", last="2019-01-01")])
    question = "What was Kirsty Williams' opinion of the decision not to accredit the university?"
    assert [i.name for i in asked_for(known, question)[0]] == ["Kirsty Williams"]
    assert _stranger(known, question) is None
    # `ask` takes both from one call, the people named once
    assert [i.name for i in asked_for(known, question)[0]] == ["Kirsty Williams"] and asked_for(known, question)[1] is None
    assert asked_for(index, "What did Sergey Aleinik say about it?") == ([], "Sergey Aleinik")
    assert asked_for(index, "When did Putin meet Lukashenko?") == ([], None)
    # a known person, no one in particular, a name that is not the one speaking, not a person
    for question in ("What did Sergey Lavrov say about the OSCE?", "What did Putin say about Arkady Babchenko?",
                     "What did the Prime Minister say Belinda Neal had agreed to do?",
                     "How did the president react to the killing of Arkady Babchenko?",
                     "What did the White House say about trade?", "What did the European Union say about gas?",
                     "What did Foreign Minister Lavrov say about Kyiv?", "How many fought in the Middle East, "
                     "according to the minister?", "What did New Zealand say about the treaty?",
                     "What did the Security Council say?", "What did Australia's Prime Minister say?",
                     "Why would OMV leave Nord Stream 2, according to Austria's president?"):
        assert _stranger(index, question) is None, question


def test_an_unknown_person_is_said_first_and_nobody_else_is_quoted_as_answering(sample_library) -> None:
    answer = sample_library.ask("What did Sergey Aleinik say about the Union State security concept?")
    assert answer.abstained
    assert answer.text.startswith("No statement by Sergey Aleinik was found: nobody of that name speaks")
    for c in answer.citations:  # the closest statements of others, verified, under their own names
        assert sample_library.document(c.doc_id).text[c.char_start:c.char_end] == c.quote
        assert "Aleinik" not in (c.speaker or "")
