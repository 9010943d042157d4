"""RFC 5734 framing."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registrar.epp.framing import (
    DEFAULT_MAX_FRAME_SIZE,
    HEADER_SIZE,
    FrameDecoder,
    FrameError,
    encode_frame,
)


def test_length_counts_the_header() -> None:
    framed = encode_frame(b"<epp/>")
    assert framed[:4] == struct.pack(">I", 6 + 4)
    assert framed[4:] == b"<epp/>"


def test_length_counts_bytes_not_characters() -> None:
    payload = "<x>bücher</x>".encode()
    assert len(payload) != len("<x>bücher</x>")
    assert struct.unpack(">I", encode_frame(payload)[:4])[0] == len(payload) + HEADER_SIZE


def test_encode_refuses_empty_and_oversize() -> None:
    with pytest.raises(FrameError):
        encode_frame(b"")
    with pytest.raises(FrameError):
        encode_frame(b"x" * 100, max_size=50)
    assert len(encode_frame(b"x" * 46, max_size=50)) == 50


def test_roundtrip_one_frame() -> None:
    assert FrameDecoder().feed(encode_frame(b"hello")) == [b"hello"]


def test_byte_by_byte_partial_reads() -> None:
    dec = FrameDecoder()
    data = encode_frame(b"<epp>abc</epp>")
    out: list[bytes] = []
    for i in range(len(data)):
        out += dec.feed(data[i : i + 1])
        if i < len(data) - 1:
            assert out == []
            assert not dec.at_boundary
    assert out == [b"<epp>abc</epp>"]
    assert dec.at_boundary and dec.buffered == 0


def test_several_frames_in_one_read_and_a_trailing_partial() -> None:
    dec = FrameDecoder()
    data = encode_frame(b"one") + encode_frame(b"two") + encode_frame(b"three")[:5]
    assert dec.feed(data) == [b"one", b"two"]
    assert dec.buffered == 5
    assert dec.feed(encode_frame(b"three")[5:]) == [b"three"]


@pytest.mark.parametrize("length", [0, 1, 4])
def test_rejects_length_below_five(length: int) -> None:
    dec = FrameDecoder()
    with pytest.raises(FrameError):
        dec.feed(struct.pack(">I", length) + b"x")
    # the decoder stays failed
    with pytest.raises(FrameError):
        dec.feed(encode_frame(b"ok"))


def test_rejects_oversize_as_soon_as_the_header_arrives() -> None:
    dec = FrameDecoder()
    with pytest.raises(FrameError):
        dec.feed(struct.pack(">I", DEFAULT_MAX_FRAME_SIZE + 1))
    small = FrameDecoder(max_size=20)
    assert small.feed(encode_frame(b"x" * 16)) == [b"x" * 16]
    with pytest.raises(FrameError):
        small.feed(struct.pack(">I", 21))


def test_header_split_across_reads() -> None:
    dec = FrameDecoder()
    data = encode_frame(b"payload")
    assert dec.feed(data[:2]) == []
    assert dec.feed(data[2:3]) == []
    assert dec.feed(data[3:]) == [b"payload"]


def test_max_size_sanity() -> None:
    with pytest.raises(ValueError):
        FrameDecoder(max_size=4)


@given(st.lists(st.binary(min_size=1, max_size=300), min_size=1, max_size=8), st.data())
def test_any_chunking_reassembles(payloads: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(encode_frame(p) for p in payloads)
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(stream) - 1)), max_size=20)))
    dec = FrameDecoder()
    out: list[bytes] = []
    prev = 0
    for c in [*cuts, len(stream)]:
        out += dec.feed(stream[prev:c])
        prev = c
    assert out == payloads
