"""Turning untrusted vector input into checked float32 arrays."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ruvstream.errors import DimensionMismatchError, InvalidVectorError

__all__ = ["as_matrix", "as_vector", "normalize_rows"]

Matrix = npt.NDArray[np.float32]


def _check(array: Matrix, dim: int, where: str) -> None:
    if array.shape[-1] != dim:
        raise DimensionMismatchError(
            f"{where} has dimension {array.shape[-1]}, the collection has {dim}",
            expected=dim,
            got=int(array.shape[-1]),
        )
    if not np.isfinite(array).all():
        raise InvalidVectorError(f"{where} contains NaN or infinity")


def as_vector(value: Any, dim: int, where: str = "vector") -> Matrix:
    """A 1-d float32 array of length ``dim`` from a JSON list (or array)."""
    if isinstance(value, np.ndarray):
        array = value.astype(np.float32, copy=False)
    else:
        if not isinstance(value, list) or not value:
            raise InvalidVectorError(f"{where} must be a non-empty list of numbers")
        try:
            with np.errstate(over="ignore"):  # overflow becomes inf, rejected below
                array = np.asarray(value, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise InvalidVectorError(f"{where} must be a list of numbers") from exc
    if array.ndim != 1:
        raise InvalidVectorError(f"{where} must be one-dimensional")
    _check(array, dim, where)
    return array


def as_matrix(values: Any, dim: int, where: str = "vectors") -> Matrix:
    """A 2-d float32 array (n, dim) from a list of lists or an ndarray."""
    if isinstance(values, np.ndarray):
        array = values.astype(np.float32, copy=False)
    else:
        try:
            with np.errstate(over="ignore"):  # overflow becomes inf, rejected below
                array = np.asarray(values, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise InvalidVectorError(f"{where} must be equal-length lists of numbers") from exc
    if array.ndim != 2:
        raise InvalidVectorError(f"{where} must be a list of equal-length vectors")
    _check(array, dim, where)
    return array


def normalize_rows(matrix: Matrix) -> Matrix:
    """Unit-length rows (zero rows stay zero): cosine becomes inner product."""
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    np.maximum(norms, np.float32(1e-12), out=norms)
    unit: Matrix = (matrix / norms).astype(np.float32, copy=False)
    return unit
