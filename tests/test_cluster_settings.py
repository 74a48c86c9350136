"""Collection settings for a Qdrant cluster: `--shards`, `--replicas`, `--write-consistency`
(or $RAG_QDRANT_SHARDS, $RAG_QDRANT_REPLICAS, $RAG_QDRANT_WRITE_CONSISTENCY), and moving an
embedded collection to a server with `rag reindex --qdrant-url`.

No Qdrant server can run here. qdrant-client's local mode (``:memory:``, ``path:DIR``) speaks
the server API but ignores shard_number, replication_factor and write_consistency_factor: it
creates the collection and reports all three as None (pinned below). So these tests check that
the values reach `QdrantClient.create_collection` by wrapping that method, and fake a server's
`get_collection` answer to check that an existing collection's other settings are reported.
"""

from __future__ import annotations

import shutil
import warnings

import pytest
from qdrant_client import QdrantClient
from qdrant_client.http import models as rest

from rag.cli import commands as cli
from rag.index.server_store import CollectionSettingsWarning, connect, ensure_collection
from rag.library import Library
from rag.settings import Settings

from conftest import SAMPLE

DIM = 8
CLUSTER_KEYS = ("shard_number", "replication_factor", "write_consistency_factor")


@pytest.fixture()
def created(monkeypatch):
    """Every `create_collection` call's collection name and cluster settings, in order."""
    calls: list[dict] = []
    original = QdrantClient.create_collection

    def spy(self, collection_name, *args, **kwargs):
        calls.append({"collection": collection_name, **{k: kwargs.get(k) for k in CLUSTER_KEYS}})
        return original(self, collection_name, *args, **kwargs)

    monkeypatch.setattr(QdrantClient, "create_collection", spy)
    return calls


@pytest.fixture()
def same_model(monkeypatch, embedder):
    """The CLI builds its own Library: hand it the session's model instead of loading another."""
    monkeypatch.setattr("rag.library.Embedder", lambda *a, **k: embedder)


@pytest.fixture()
def server_reports(monkeypatch):
    """Make local mode's `get_collection` answer as a server would, with these cluster settings."""
    reported: dict[str, int] = {}
    original = QdrantClient.get_collection

    def fake(self, collection_name, *args, **kwargs):
        info = original(self, collection_name, *args, **kwargs)
        params = info.config.params.model_copy(update=reported)
        return info.model_copy(update={"config": info.config.model_copy(update={"params": params})})

    monkeypatch.setattr(QdrantClient, "get_collection", fake)
    return reported


@pytest.fixture(autouse=True)
def no_cluster_env(monkeypatch):
    for var in ("RAG_QDRANT_SHARDS", "RAG_QDRANT_REPLICAS", "RAG_QDRANT_WRITE_CONSISTENCY",
                "RAG_QDRANT_URL", "RAG_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)


# -- settings -------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    ({"shard_number": 2}, "--qdrant-url"),
    ({"replication_factor": 2, "write_consistency_factor": 1}, "single shard"),
    ({"qdrant_url": ":memory:", "shard_number": 0}, r"--shards \(\$RAG_QDRANT_SHARDS\) must be .* at least 1"),
    ({"qdrant_url": ":memory:", "replication_factor": -1}, "--replicas .* at least 1"),
    ({"qdrant_url": ":memory:", "write_consistency_factor": 0}, "--write-consistency .* at least 1"),
    ({"qdrant_url": ":memory:", "replication_factor": 2, "write_consistency_factor": 3},
     "needs at least 3 copies"),
])
def test_bad_cluster_settings_are_refused(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        Settings(data_dir=tmp_path, **kwargs)


def test_flags_win_over_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_QDRANT_URL", "http://node1:6333")
    monkeypatch.setenv("RAG_QDRANT_SHARDS", "6")
    monkeypatch.setenv("RAG_QDRANT_REPLICAS", "2")
    monkeypatch.setenv("RAG_QDRANT_WRITE_CONSISTENCY", " 2 ")
    s = Settings.from_env(data_dir=tmp_path)
    assert (s.shard_number, s.replication_factor, s.write_consistency_factor) == (6, 2, 2)
    args = cli.build_parser().parse_args(["ingest", "x", "--shards", "3", "--replicas", "3"])
    s = cli._settings(args)
    assert (s.shard_number, s.replication_factor, s.write_consistency_factor) == (3, 3, 2)
    monkeypatch.setenv("RAG_QDRANT_SHARDS", "six")
    with pytest.raises(ValueError, match=r"\$RAG_QDRANT_SHARDS must be a whole number"):
        Settings.from_env(data_dir=tmp_path)


@pytest.mark.parametrize("command", [["ingest", "docs"], ["reindex"], ["search", "nato"], ["stats"]])
def test_every_command_takes_the_flags(command):
    args = cli.build_parser().parse_args([*command, "--shards", "6", "--replicas", "2",
                                          "--write-consistency", "2"])
    assert (args.shards, args.replicas, args.write_consistency) == (6, 2, 2)


def test_cli_refuses_them_without_a_server_before_touching_anything(tmp_path, capsys):
    data = tmp_path / "d"
    assert cli.main(["ingest", str(tmp_path), "--data-dir", str(data), "--shards", "6"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --shards ($RAG_QDRANT_SHARDS)") and "--qdrant-url" in err
    assert cli.main(["ingest", str(tmp_path), "--data-dir", str(data), "--qdrant-url", ":memory:",
                     "--replicas", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err
    assert not data.exists()


# -- reaching Qdrant ------------------------------------------------------------------------
def test_local_mode_ignores_cluster_settings():
    """Why the other tests wrap `create_collection`: local mode accepts the settings and
    reports none of them. (Should a later qdrant-client report them, they must be right.)"""
    client = QdrantClient(location=":memory:")
    client.create_collection("c", vectors_config={"v": rest.VectorParams(size=DIM, distance=rest.Distance.COSINE)},
                             shard_number=6, replication_factor=2, write_consistency_factor=2)
    params = client.get_collection("c").config.params
    assert params.shard_number in (None, 6)
    assert params.replication_factor in (None, 2)
    assert params.write_consistency_factor in (None, 2)


def test_ingest_flags_reach_create_collection(tmp_path, created, same_model, capsys):
    (tmp_path / "in").mkdir()
    shutil.copy(SAMPLE / "seed" / "lavrov_belarus_2023-05-17.txt", tmp_path / "in")
    url = f"path:{tmp_path / 'qdrant'}"
    argv = ["ingest", str(tmp_path / "in"), "--data-dir", str(tmp_path / "d"), "--qdrant-url", url,
            "--quiet", "--shards", "6", "--replicas", "2", "--write-consistency", "2"]
    assert cli.main(argv) == 0
    assert "1 new" in capsys.readouterr().out
    assert created == [{"collection": "statements", "shard_number": 6, "replication_factor": 2,
                        "write_consistency_factor": 2}]
    # the collection exists now: the next run neither creates it again nor complains
    assert cli.main(argv) == 0
    out = capsys.readouterr()
    assert len(created) == 1 and "0 new" in out.out and "warning" not in out.err


def test_environment_reaches_create_collection(tmp_path, monkeypatch, created, same_model):
    monkeypatch.setenv("RAG_QDRANT_SHARDS", "4")
    monkeypatch.setenv("RAG_QDRANT_REPLICAS", "3")
    monkeypatch.setenv("RAG_QDRANT_URL", ":memory:")
    assert cli.main(["stats", "--data-dir", str(tmp_path), "--collection", "other", "--json"]) == 0
    assert created == [{"collection": "other", "shard_number": 4, "replication_factor": 3,
                        "write_consistency_factor": None}]


def test_no_settings_leaves_them_to_the_server(tmp_path, created):
    ensure_collection(connect(":memory:"), "plain", DIM)
    assert created == [{"collection": "plain", "shard_number": None, "replication_factor": None,
                        "write_consistency_factor": None}]


# -- an existing collection -----------------------------------------------------------------
def test_existing_collection_with_other_settings_is_reported(server_reports):
    client = connect(":memory:")
    ensure_collection(client, "c", DIM)
    server_reports.update(shard_number=3, replication_factor=1, write_consistency_factor=1)
    with pytest.warns(CollectionSettingsWarning) as caught:
        ensure_collection(client, "c", DIM, shard_number=6, replication_factor=2, write_consistency_factor=1)
    message = str(caught[0].message)
    assert "--shards 6 (it has 3)" in message and "--replicas 2 (it has 1)" in message
    assert "--write-consistency" not in message and "rag reindex" in message
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ensure_collection(client, "c", DIM, shard_number=3, replication_factor=1)  # the same: quiet
        ensure_collection(client, "c", DIM)  # nothing asked for: quiet


def test_cli_ingest_warns_and_reindex_recreates(tmp_path, created, same_model, server_reports, capsys):
    (tmp_path / "in").mkdir()
    shutil.copy(SAMPLE / "seed" / "lavrov_belarus_2023-05-17.txt", tmp_path / "in")
    common = ["--data-dir", str(tmp_path / "d"), "--qdrant-url", f"path:{tmp_path / 'qdrant'}"]
    assert cli.main(["ingest", str(tmp_path / "in"), "--quiet", *common]) == 0
    server_reports.update(shard_number=1, replication_factor=1, write_consistency_factor=1)
    capsys.readouterr()
    assert cli.main(["ingest", str(tmp_path / "in"), "--quiet", "--shards", "6", *common]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: collection 'statements' already exists") and "--shards 6 (it has 1)" in err
    assert len(created) == 1
    assert cli.main(["reindex", "--quiet", "--shards", "6", "--replicas", "2", *common]) == 0
    out = capsys.readouterr()
    assert "warning" not in out.err and "reindexed" in out.out
    assert created[-1] == {"collection": "statements", "shard_number": 6, "replication_factor": 2,
                           "write_consistency_factor": None}


def test_two_workers_racing_to_create_the_collection(monkeypatch):
    """Both workers see no collection; the other one creates it first, so this one's
    `create_collection` fails: it must find the collection made and go on. A failure with no
    collection behind it is still an error."""
    client = connect(":memory:")
    ensure_collection(client, "c", DIM)  # the other worker was quicker
    first_look = [False]
    real_exists = client.collection_exists
    monkeypatch.setattr(client, "collection_exists",
                        lambda name: first_look.pop() if first_look else real_exists(name))
    ensure_collection(client, "c", DIM)
    assert not first_look

    failing = connect(":memory:")

    def refuse(*args, **kwargs):
        raise RuntimeError("server said no")

    monkeypatch.setattr(failing, "create_collection", refuse)
    with pytest.raises(RuntimeError, match="server said no"):
        ensure_collection(failing, "c", DIM)


# -- moving an embedded collection to a server ---------------------------------------------
QUERIES = [("What did Lavrov say about Belarus and the Union State?", {}),
           ("nuclear weapons and arms control", {"since": "1960"}),
           ("sanctions", {"speaker": "Lavrov"})]


def _results(lib: Library) -> list[list[tuple[str, float]]]:
    out = []
    for query, filters in QUERIES:
        for mode in ("hybrid", "dense", "bm25"):
            out.append([(h.point_id, round(h.score, 4)) for h in lib.search(query, k=8, mode=mode, **filters)])
    return out


def test_reindex_moves_an_embedded_collection_to_a_server(tmp_path, embedder, same_model, created, capsys):
    """`rag reindex --qdrant-url URL` on a data dir indexed by the embedded engine builds the
    server collection from the SQLite store; searches then return the same passages."""
    (tmp_path / "in").mkdir()
    shutil.copy(SAMPLE / "seed" / "lavrov_belarus_2023-05-17.txt", tmp_path / "in")
    shutil.copytree(SAMPLE / "miller", tmp_path / "in" / "miller")
    data = tmp_path / "d"
    with Library(Settings(data_dir=data, progress=False), embedder=embedder) as lib:
        assert lib.ingest([tmp_path / "in"]).ok
        chunks = lib.stats()["chunks"]
        embedded = _results(lib)
    url = f"path:{tmp_path / 'qdrant'}"
    assert cli.main(["reindex", "--quiet", "--data-dir", str(data), "--qdrant-url", url,
                     "--shards", "2"]) == 0
    assert f"reindexed {chunks} chunks" in capsys.readouterr().out
    # the server collection was created, dropped by reindex and created again, both times with --shards
    assert created and all(c["shard_number"] == 2 for c in created)
    with Library(Settings(data_dir=data, qdrant_url=url, progress=False), embedder=embedder) as lib:
        assert lib.stats()["index"] == {"backend": "qdrant-server", "location": url, "points": chunks}
        assert lib.check().ok
        server = _results(lib)
    assert all(embedded), "every query finds something"
    for a, b in zip(embedded, server):
        assert [pid for pid, _ in a] == [pid for pid, _ in b]
        # reindex embeds in other batches than ingest did; in bfloat16 a text's vector depends
        # on its batch's padding by ~1e-3 (float32: ~1e-6), hence the tolerance
        assert [s for _, s in a] == pytest.approx([s for _, s in b], abs=3e-3)
