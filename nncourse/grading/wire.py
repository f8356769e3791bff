"""Plain data across the grader's trust boundary: a frame format that cannot carry code.

What the student's kernel sends back to the grader, and the arguments the grader sends in,
are encoded here: ``None``, ``bool``, ``int``, ``float`` (``nan``/``inf`` included),
``complex``, ``str``, ``bytes``, ``list``, ``tuple``, ``dict``, numpy scalars and arrays of
numeric or boolean dtype (as ``.npy`` bytes, read back with ``allow_pickle=False``) and
torch tensors (as such an array plus dtype and ``requires_grad``). Everything else is a
:class:`Ref`: a handle naming an object that stays on the side that owns it.

:func:`decode` builds nothing but exact built-in types, numpy arrays and torch tensors,
follows only this format, and caps depth, size and count: no pickle, and no code of the
other side ever runs while decoding. A frame is a JSON header (the value tree, with
buffers referred to by index) followed by its binary buffers, each with its length.

Examples
--------
>>> import numpy as np
>>> value = {"w": np.arange(3.0), "steps": (1, 2.5, float("nan")), "name": "adam"}
>>> again = decode(*encode(value))
>>> again["w"], again["steps"][:2], again["name"]
(array([0., 1., 2.]), (1, 2.5), 'adam')
"""

from __future__ import annotations

import io
import json
import math
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_DEPTH = 32
MAX_ITEMS = 1_000_000
MAX_TEXT = 10_000_000
MAX_INT_BITS = 4096
MAX_FRAME_BYTES = 1 << 29
"""Bytes of one message in all (512 MiB): more than any exercise sends, less than a grader
worker can hold for each of its submissions."""
NUMERIC_KINDS = "biufc"
"""numpy dtype kinds that may cross: bool, signed, unsigned, float, complex."""
_LENGTH = struct.Struct("!Q")


class WireError(ValueError):
    """A value that cannot cross the boundary, or a frame that breaks the format."""


@dataclass(frozen=True)
class Ref:
    """A handle: an object that stays on the side that owns it.

    Attributes
    ----------
    id : int
        Its number in the owner's table.
    kind : str
        ``"function"``, ``"class"`` or ``"object"`` when the kernel owns it;
        ``"callback"`` for a grader's callable handed to the kernel.
    type_name : str
        The class of the object, for messages (``"_Peek"``, ``"Momentum"``).
    name : str
        What it is called (a function's or class's name), when it has one.
    """

    id: int
    kind: str
    type_name: str = ""
    name: str = ""


def _torch() -> Any:
    """The torch module when it is already imported (never imports it: 1.6 s)."""
    return sys.modules.get("torch")


def _array_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def encode(value: Any, as_ref: Callable[[Any], Ref] | None = None) -> tuple[dict, list[bytes]]:
    """The JSON-able tree and the buffers of ``value``.

    Parameters
    ----------
    value : object
        Plain data, possibly nested.
    as_ref : callable, optional
        Turns anything that is not plain data into a :class:`Ref` (the caller keeps the
        object). Without it, such a value raises :class:`WireError`.

    Returns
    -------
    (dict, list of bytes)
    """
    buffers: list[bytes] = []
    count = [0]

    def walk(item: Any, depth: int) -> Any:
        count[0] += 1
        if depth > MAX_DEPTH or count[0] > MAX_ITEMS:
            raise WireError("the value is nested too deeply or has too many items")
        kind = type(item)
        if item is None or kind is bool or kind is str:
            return item
        if kind is int:
            if item.bit_length() > MAX_INT_BITS:
                raise WireError("an integer is too large")
            return item
        if kind is float:
            return item if math.isfinite(item) else {"$float": repr(item)}
        if kind is complex:
            return {"$complex": [walk(item.real, depth + 1), walk(item.imag, depth + 1)]}
        if kind is bytes:
            buffers.append(item)
            return {"$bytes": len(buffers) - 1}
        if kind is list or kind is tuple:
            items = [walk(element, depth + 1) for element in item]
            return items if kind is list else {"$tuple": items}
        if kind is dict:
            return {"$dict": [[walk(key, depth + 1), walk(element, depth + 1)]
                              for key, element in item.items()]}
        if kind is np.ndarray or isinstance(item, np.generic):
            array = np.asarray(item)
            if array.dtype.kind in NUMERIC_KINDS:
                buffers.append(_array_bytes(array))
                tag = "$scalar" if isinstance(item, np.generic) else "$array"
                return {tag: len(buffers) - 1}
        torch = _torch()
        if torch is not None and kind is torch.Tensor or (
                torch is not None and kind is getattr(torch.nn, "Parameter", None)):
            array = item.detach().cpu().numpy()
            buffers.append(_array_bytes(array))
            return {"$tensor": len(buffers) - 1, "dtype": str(item.dtype).removeprefix("torch."),
                    "requires_grad": bool(item.requires_grad)}
        if as_ref is None:
            raise WireError(f"a {kind.__name__} object cannot cross: send numbers or arrays")
        ref = as_ref(item)
        return {"$ref": [ref.id, ref.kind, ref.type_name, ref.name]}

    return walk(value, 0), buffers


def _checked_array(data: bytes) -> np.ndarray:
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise WireError(f"a broken array: {error}") from error
    if not isinstance(array, np.ndarray) or array.dtype.kind not in NUMERIC_KINDS:
        raise WireError("only arrays of numbers or booleans may cross")
    return array


def decode(tree: Any, buffers: list[bytes],
           resolve: Callable[[Ref], Any] | None = None) -> Any:
    """Rebuild a value from :func:`encode`'s output, building only plain types.

    Parameters
    ----------
    tree : JSON value
        The tree part.
    buffers : list of bytes
        The binary part.
    resolve : callable, optional
        What a :class:`Ref` becomes (a proxy, or the object it names); by default the
        :class:`Ref` itself.

    Returns
    -------
    object

    Raises
    ------
    WireError
        For anything outside the format.
    """
    count = [0]

    def buffer(index: Any) -> bytes:
        if type(index) is not int or not 0 <= index < len(buffers):
            raise WireError("a reference to a missing buffer")
        return buffers[index]

    def walk(item: Any, depth: int) -> Any:
        count[0] += 1
        if depth > MAX_DEPTH or count[0] > MAX_ITEMS:
            raise WireError("the value is nested too deeply or has too many items")
        kind = type(item)
        if item is None or kind in (bool, int, float):
            return item
        if kind is str:
            if len(item) > MAX_TEXT:
                raise WireError("a text is too long")
            return item
        if kind is list:
            return [walk(element, depth + 1) for element in item]
        if kind is not dict or len(item) not in (1, 3):
            raise WireError(f"unexpected {kind.__name__} in a frame")
        tag = next(iter(item))
        body = item[tag]
        if tag == "$float" and body in ("nan", "inf", "-inf"):
            return float(body)
        if tag == "$complex" and type(body) is list and len(body) == 2:
            return complex(float(walk(body[0], depth + 1)), float(walk(body[1], depth + 1)))
        if tag == "$bytes":
            return bytes(buffer(body))
        if tag == "$tuple" and type(body) is list:
            return tuple(walk(element, depth + 1) for element in body)
        if tag == "$dict" and type(body) is list:
            pairs = [(walk(pair[0], depth + 1), walk(pair[1], depth + 1))
                     for pair in body if type(pair) is list and len(pair) == 2]
            if len(pairs) != len(body) or any(type(key) not in (str, int, float, bool, tuple)
                                              for key, _ in pairs):
                raise WireError("a dict with keys that are not strings or numbers")
            return dict(pairs)
        if tag == "$array":
            return _checked_array(buffer(body))
        if tag == "$scalar":
            return _checked_array(buffer(body))[()]
        if tag == "$tensor":
            return _tensor(_checked_array(buffer(body)), item)
        if tag == "$ref" and type(body) is list and len(body) == 4 and type(body[0]) is int \
                and all(type(part) is str for part in body[1:]):
            ref = Ref(*body)
            return resolve(ref) if resolve else ref
        raise WireError(f"unknown tag {tag!r} in a frame")

    return walk(tree, 0)


def _tensor(array: np.ndarray, item: dict) -> Any:
    import torch

    dtype = getattr(torch, str(item.get("dtype")), None)
    if not isinstance(dtype, torch.dtype):
        raise WireError("a tensor of an unknown dtype")
    tensor = torch.from_numpy(array.copy()).to(dtype)
    return tensor.requires_grad_(bool(item.get("requires_grad")) and tensor.is_floating_point())


def write_frame(stream: Any, message: dict, buffers: list[bytes]) -> None:
    """Send one frame: header length, JSON header, then each buffer with its length."""
    header = json.dumps({"message": message, "buffers": [len(b) for b in buffers]},
                        allow_nan=False).encode()
    stream.sendall(_LENGTH.pack(len(header)) + header)
    for data in buffers:
        stream.sendall(data)


def read_frame(stream: Any) -> tuple[dict, list[bytes]]:
    """Receive one frame written by :func:`write_frame`.

    Raises
    ------
    WireError
        When the frame is malformed or too large; ``EOFError`` when the peer has gone.
    """
    (length,) = _LENGTH.unpack(_read_exactly(stream, _LENGTH.size))
    if length > MAX_TEXT:
        raise WireError("a frame header is too large")
    try:
        header = json.loads(_read_exactly(stream, length))
        sizes = header["buffers"]
        message = header["message"]
    except (ValueError, KeyError, TypeError) as error:
        raise WireError(f"a broken frame header: {error}") from error
    if type(sizes) is not list or any(type(size) is not int or size < 0 for size in sizes) \
            or sum(sizes) > MAX_FRAME_BYTES or type(message) is not dict:
        raise WireError("a broken frame header")
    return message, [_read_exactly(stream, size) for size in sizes]


def _read_exactly(stream: Any, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = stream.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
