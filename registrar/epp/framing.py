"""RFC 5734 framing: a 4-byte big-endian length that counts its own 4 bytes.

An empty payload therefore has total length 4; we reject anything below 5
(there is no such thing as an empty EPP message) and anything above a cap.
"""

from __future__ import annotations

import struct
from typing import Final

HEADER_SIZE: Final = 4
#: Smallest acceptable total length (header + at least one payload byte).
MIN_FRAME_SIZE: Final = HEADER_SIZE + 1
#: Default cap on the total frame length (header included): 1 MiB.
DEFAULT_MAX_FRAME_SIZE: Final = 1024 * 1024

_HEADER = struct.Struct(">I")


class FrameError(ValueError):
    """A frame length is invalid (too small or over the cap); the stream is unusable."""


def encode_frame(payload: bytes, *, max_size: int = DEFAULT_MAX_FRAME_SIZE) -> bytes:
    """Prefix ``payload`` with its RFC 5734 length header (payload length + 4)."""
    total = len(payload) + HEADER_SIZE
    if total < MIN_FRAME_SIZE:
        raise FrameError("refusing to encode an empty EPP frame")
    if total > max_size:
        raise FrameError(f"frame of {total} bytes exceeds the cap of {max_size} bytes")
    return _HEADER.pack(total) + payload


class FrameDecoder:
    """Incremental decoder: feed it whatever ``recv()`` returned, get whole payloads back.

    Handles frames split across reads and several frames in one read. On an
    invalid length it raises :class:`FrameError` as soon as the header is
    complete (without waiting for the oversize body) and stays failed.
    """

    def __init__(self, *, max_size: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        """Create a decoder that rejects frames longer than ``max_size`` bytes in total."""
        if max_size < MIN_FRAME_SIZE:
            raise ValueError("max_size too small")
        self.max_size = max_size
        self._buf = bytearray()
        self._failed: FrameError | None = None

    @property
    def buffered(self) -> int:
        """Number of bytes received but not yet returned as a whole frame."""
        return len(self._buf)

    @property
    def at_boundary(self) -> bool:
        """True when no partial frame is pending (a clean place for EOF)."""
        return not self._buf

    def feed(self, data: bytes) -> list[bytes]:
        """Add ``data`` and return the payloads of all frames now complete."""
        if self._failed is not None:
            raise self._failed
        self._buf += data
        frames: list[bytes] = []
        while len(self._buf) >= HEADER_SIZE:
            (total,) = _HEADER.unpack_from(self._buf)
            if total < MIN_FRAME_SIZE or total > self.max_size:
                self._failed = FrameError(
                    f"invalid EPP frame length {total} (allowed {MIN_FRAME_SIZE}..{self.max_size})"
                )
                self._buf.clear()
                raise self._failed
            if len(self._buf) < total:
                break
            frames.append(bytes(self._buf[HEADER_SIZE:total]))
            del self._buf[:total]
        return frames
