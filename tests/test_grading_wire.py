"""nncourse.grading.wire: plain data round-trips; anything else is refused or stays a handle."""

from __future__ import annotations

import io
import json
import math
import socket
import struct
import threading

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from nncourse.grading import wire

PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers(-2**80, 2**80) | st.text(max_size=20)
    | st.floats(allow_nan=False) | st.binary(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.tuples(children, children)
    | st.dictionaries(st.text(max_size=5) | st.integers(), children, max_size=4),
    max_leaves=20)


def round_trip(value: object) -> object:
    return wire.decode(*wire.encode(value))


@given(PLAIN)
def test_plain_values_come_back_equal_and_of_the_same_types(value: object) -> None:
    again = round_trip(value)
    assert again == value
    assert type(again) is type(value)


def test_special_floats_numpy_and_torch_values() -> None:
    nan, inf = round_trip((float("nan"), float("-inf")))
    assert math.isnan(nan) and inf == float("-inf")
    assert round_trip(1 + 2j) == 1 + 2j
    scalar = round_trip(np.float32(1.5))
    assert type(scalar) is np.float32 and scalar == 1.5
    for array in (np.arange(6.0).reshape(2, 3).T, np.zeros((0, 3)), np.array(True),
                  np.arange(4, dtype=np.uint8), np.array([1 + 1j])):
        again = round_trip(array)
        assert again.dtype == array.dtype and again.shape == array.shape
        np.testing.assert_array_equal(again, array)
    tensor = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    again = round_trip(tensor)
    assert isinstance(again, torch.Tensor) and again.dtype == torch.float64
    assert again.requires_grad and torch.equal(again.detach(), tensor.detach())


class Peek:
    def __array__(self, dtype=None, copy=None):  # would hand back anything it likes
        return np.array([42.0])


@pytest.mark.parametrize("value", [Peek(), np.array([Peek()], dtype=object), {1, 2},
                                   np.array(["text"]), print, [1, Peek()]])
def test_anything_else_is_refused_without_a_handle_maker(value: object) -> None:
    with pytest.raises(wire.WireError):
        wire.encode(value)


def test_anything_else_becomes_a_handle() -> None:
    kept = []

    def as_ref(obj: object) -> wire.Ref:
        kept.append(obj)
        return wire.Ref(len(kept), "object", type(obj).__name__)

    tree, buffers = wire.encode({"answer": Peek()}, as_ref)
    assert isinstance(kept[0], Peek)
    ref = wire.decode(tree, buffers)["answer"]
    assert ref == wire.Ref(1, "object", "Peek", "")
    assert wire.decode(tree, buffers, lambda r: f"proxy {r.id}") == {"answer": "proxy 1"}


def npy_of_objects() -> bytes:
    """An .npy file that says it holds Python objects (would need pickle to load)."""
    header = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    header += " " * (63 - len(header)) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + b"\x80\x04"


@pytest.mark.parametrize(("tree", "buffers"), [
    ({"$array": 0}, [npy_of_objects()]),
    ({"$array": 3}, []),
    ({"$array": 0}, [b"not an array"]),
    ({"$pickle": "cos\nsystem\n"}, []),
    ({"$dict": [[[1], 2]]}, []),
    ({"$ref": [1, "object"]}, []),
    ({"a": 1, "b": 2}, []),
    ({"$tensor": 0, "dtype": "not_a_dtype", "requires_grad": False},
     [wire.encode(np.zeros(2))[1][0]]),
])
def test_the_decoder_refuses_what_is_not_in_the_format(tree: object, buffers: list) -> None:
    with pytest.raises((wire.WireError, TypeError)):
        wire.decode(tree, buffers)


def test_the_decoder_caps_depth() -> None:
    deep: object = 1
    for _ in range(wire.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(wire.WireError, match="nested too deeply"):
        wire.encode(deep)
    with pytest.raises(wire.WireError, match="nested too deeply"):
        wire.decode(json.loads(json.dumps(deep)), [])


def test_frames_cross_a_socket_whole() -> None:
    left, right = socket.socketpair()
    with left, right:
        value = {"w": np.random.default_rng(0).normal(size=(300, 300)), "note": "ok"}
        tree, buffers = wire.encode(value)
        writer = threading.Thread(target=wire.write_frame,
                                  args=(left, {"op": "result", "value": tree}, buffers))
        writer.start()  # the frame is larger than the socket's buffer
        message, received = wire.read_frame(right)
        writer.join()
        again = wire.decode(message["value"], received)
        np.testing.assert_array_equal(again["w"], value["w"])
        assert message["op"] == "result" and again["note"] == "ok"


def test_a_broken_frame_header_is_refused() -> None:
    stream = io.BytesIO(struct.pack("!Q", 5) + b"{nope")
    stream.recv = stream.read  # a file that reads like a socket
    with pytest.raises(wire.WireError, match="broken frame header"):
        wire.read_frame(stream)
