"""Types of the C core of :mod:`chorus.matching.pdq_index` (``_mih.c``)."""

from typing import Any

from numpy.typing import NDArray

Buffer = NDArray[Any]

def build(
    codes: Buffer,
    positions: Buffer,
    bits: Buffer,
    base: Buffer,
    offsets_out: Buffer,
    rows_out: Buffer,
    /,
) -> None: ...
def search(
    queries: Buffer,
    codes: Buffer,
    ids: Buffer,
    removed: Buffer,
    lut: Buffer,
    lut_bytes: Buffer,
    bits: Buffer,
    base: Buffer,
    offsets: Buffer,
    rows: Buffer,
    delta_codes: Buffer,
    delta_ids: Buffer,
    radius: int,
    scan_factor: float,
    /,
) -> list[list[tuple[int, int]]]: ...
