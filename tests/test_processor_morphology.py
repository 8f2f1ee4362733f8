"""OpenCV's morphology gives the region finder SciPy's answers: the same running minima and
maxima (every window size, odd or even, each axis or a square, mirrored borders, on masks,
bytes and floats) and the same pieces, numbered alike, with the same boxes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from processor.morphology import pieces, running_max, running_min


def _sample(dtype: type, seed: int) -> np.ndarray:
    values = np.random.default_rng(seed).random((211, 157))
    return values < 0.4 if dtype is bool else (values * 200).astype(dtype)


@pytest.mark.parametrize("dtype", [bool, np.uint8, np.float32, np.float64])
@pytest.mark.parametrize("size", [3, 4, 8, 61, 62])
@pytest.mark.parametrize("axis", [0, 1, None])
def test_running_minima_and_maxima_are_scipys(dtype: type, size: int, axis: int | None) -> None:
    values = _sample(dtype, size)
    plain = values.view(np.uint8) if dtype is bool else values
    if axis is None:
        least, most = ndi.minimum_filter(plain, size), ndi.maximum_filter(plain, size)
    else:
        least = ndi.minimum_filter1d(plain, size, axis=axis)
        most = ndi.maximum_filter1d(plain, size, axis=axis)
    if dtype is bool:
        least, most = least.view(bool), most.view(bool)
    assert running_min(values, size, axis).dtype == values.dtype
    assert np.array_equal(running_min(values, size, axis), least)
    assert np.array_equal(running_max(values, size, axis), most)


@pytest.mark.parametrize("diagonal", [True, False])
@pytest.mark.parametrize("seed", range(6))
def test_pieces_are_scipys_labels_and_boxes(diagonal: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    mask = ndi.binary_dilation(
        rng.random((300 + seed, 233)) < 0.02 * (1 + seed), iterations=seed % 3
    )
    labels, _ = ndi.label(mask, structure=np.ones((3, 3)) if diagonal else None)
    boxes = [(s[1].start, s[0].start, s[1].stop, s[0].stop) for s in ndi.find_objects(labels)]
    found_labels, found_boxes = pieces(mask, diagonal)
    assert np.array_equal(found_labels, labels)
    assert found_boxes == boxes


def test_no_pieces_in_an_empty_mask() -> None:
    labels, boxes = pieces(np.zeros((20, 30), bool))
    assert boxes == []
    assert not labels.any()
