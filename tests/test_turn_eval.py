"""The hand-labelled turns of documents this repository holds (the sample and the fictional
briefings), development split, scored as `rag eval turns` scores them: the targets of the
speaker-turn work hold on every convention. The test split is for reporting (`rag eval turns
--split test --shared DIR`), not for a test that the parser is tuned to pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.turns import DEFAULT_SETS, TARGETS, load_turn_set, name_key, score

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def results(embedder):
    docs = [d for d in load_turn_set(DEFAULT_SETS) if d.file.startswith("repo:") and d.split == "dev"]
    assert len({d.convention for d in docs}) >= 5 and sum(len(d.turns) for d in docs) >= 250
    return score(docs, REPO / "no-shared-data", embedder.count_tokens)


def test_every_convention_meets_the_targets(results):
    for convention, splits in results.items():
        m = splits["all"].metrics()
        assert m["precision"] >= TARGETS["precision"], (convention, m, splits["all"].errors[:5])
        assert m["recall"] >= TARGETS["recall"], (convention, m, splits["all"].errors[:5])
        assert m["speaker_accuracy"] >= TARGETS["speaker_accuracy"], (convention, m, splits["all"].errors[:5])
        assert m["journalists_as_officials"] == 0, (convention, splits["all"].errors[:5])


def test_names_compare_without_offices_and_accents():
    assert name_key("President Trump") == name_key("Trump") == "trump"
    assert name_key("Andrés Manuel López Obrador") == "andres manuel lopez obrador"
    assert name_key("Mr. Nebenzia") == "nebenzia" and name_key("Lord Bach") == "bach"
