"""Images looked at on a coarser grid."""

from __future__ import annotations

import numpy as np


def reduced(image: np.ndarray, step: int) -> np.ndarray:
    """The mean of each step-by-step block (the last partial blocks dropped), as float32."""
    height, width = image.shape[0] // step * step, image.shape[1] // step * step
    blocks = image[:height, :width].reshape(height // step, step, width // step, step)
    return np.asarray(blocks.mean(axis=(1, 3), dtype=np.float32))
