"""Stage: the network's predictions on the whole test set, and the confusion statistics behind them."""
from __future__ import annotations

import numpy as np

from generator.cache import Artifact
from generator.registry import Stage
from generator.features.confusion import confusion

NAME = "evaluation"




def _compute(build) -> Artifact:
    probs = build.model.predict(build.x_test(), batch_size=500, verbose=0).astype(np.float32)
    if not build.model_info.get("probabilities", True):  # a logits model: shown as probabilities anyway
        shifted = np.exp(probs - probs.max(axis=1, keepdims=True))
        probs = shifted / shifted.sum(axis=1, keepdims=True)
    y = build.dataset.y_test.astype(np.int64)
    matrix = confusion.confusion_matrix(y, probs.argmax(axis=1), probs.shape[1])
    return Artifact("", {"probs": probs, "confusion": matrix,
                         "misclassified": confusion.misclassified(y, probs)},
                    {"accuracy": float(np.trace(matrix) / matrix.sum())})


STAGE = Stage(NAME, _compute)
