"""Read IDX files, the format of MNIST and Fashion-MNIST, gzipped or not.

An IDX file is a 4-byte magic number ``0x00 0x00 <type> <ndim>``, then ``ndim`` big-endian
uint32 sizes, then the values in C order. MNIST images are ``0x00000803`` (uint8, 3 dims),
labels ``0x00000801`` (uint8, 1 dim).
"""

import gzip
import zlib
from pathlib import Path

import numpy as np


class DatasetError(RuntimeError):
    """A data file is missing, corrupt or could not be downloaded; the message says what to do."""


_GZIP_MAGIC = b"\x1f\x8b"
_DTYPES = {  # IDX type byte -> big-endian numpy dtype
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file into an array; gzip compression is detected from the content.

    Parameters
    ----------
    path : str or pathlib.Path
        The file, e.g. ``train-images-idx3-ubyte.gz`` or its uncompressed twin.

    Returns
    -------
    ndarray of the shape given by the header
        The values in native byte order, e.g. uint8 of shape (60000, 28, 28) for MNIST's
        training images. Single-byte data is a read-only view of the file's bytes.

    Raises
    ------
    DatasetError
        If the file is missing, the gzip stream is corrupt or truncated, the magic number is
        not an IDX one, or the payload size differs from what the header announces.
    """
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as error:
        raise DatasetError(f"cannot read {path}: {error.strerror or error}") from error
    if content[:2] == _GZIP_MAGIC:
        try:
            content = gzip.decompress(content)
        except (OSError, EOFError, zlib.error) as error:
            raise DatasetError(
                f"{path} is not a valid gzip file ({error}); it is probably truncated or "
                "corrupt: delete it and download it again"
            ) from error
    return parse_idx(content, name=str(path))


def parse_idx(content: bytes, *, name: str = "<bytes>") -> np.ndarray:
    """Parse the bytes of an uncompressed IDX file.

    Parameters
    ----------
    content : bytes
        Header and payload.
    name : str, optional
        What to call the data in error messages (usually its file name).

    Returns
    -------
    ndarray
        The values with the header's shape, in native byte order.

    Examples
    --------
    >>> parse_idx(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
    array([7, 8, 9], dtype=uint8)
    """
    if len(content) < 4 or content[:2] != b"\x00\x00" or content[2] not in _DTYPES:
        raise DatasetError(
            f"{name} is not an IDX file (magic number {content[:4].hex() or 'missing'}); "
            "delete it and download it again"
        )
    dtype, ndim = _DTYPES[content[2]], content[3]
    header_size = 4 + 4 * ndim
    if len(content) < header_size:
        raise DatasetError(f"{name}: IDX header is truncated; delete it and download it again")
    shape = tuple(int(size) for size in np.frombuffer(content, ">u4", count=ndim, offset=4))
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(content) - header_size != expected:
        raise DatasetError(
            f"{name}: header announces shape {shape} ({expected} bytes of data) but the file "
            f"holds {len(content) - header_size} bytes; delete it and download it again"
        )
    values = np.frombuffer(content, dtype, offset=header_size).reshape(shape)
    return values if dtype.isnative else values.astype(dtype.newbyteorder("="))
