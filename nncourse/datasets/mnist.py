"""MNIST and Fashion-MNIST: find the four IDX files, check them, download them if needed.

Where the files are looked for, in this order (the first folder holding any of them wins):

1. the ``data_dir`` argument,
2. the folder named by the environment variable ``NNCOURSE_DATA``,
3. the cache, ``$NNCOURSE_CACHE/<name>/`` or else ``~/.cache/nncourse/<name>/``.

Each of the first two may hold the four files directly or in a ``mnist/`` or
``fashion-mnist/`` subfolder. Files missing from the cache are downloaded from the mirrors
in :data:`MIRRORS`. Every file's SHA-256 is checked against :data:`SHA256` on every load
(about 30 ms), so a damaged or different file is never used silently.
"""

import hashlib
import http.client
import os
import tempfile
import urllib.request
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from nncourse.datasets.idx import DatasetError, read_idx

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"
FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

#: Base URLs tried in order; a file's URL is the base followed by its name.
MIRRORS: dict[str, list[str]] = {
    "mnist": ["https://ossci-datasets.s3.amazonaws.com/mnist/"],
    "fashion-mnist": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
}

#: SHA-256 of the canonical gzipped files.
SHA256: dict[str, dict[str, str]] = {
    "mnist": {
        TRAIN_IMAGES: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        TRAIN_LABELS: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        TEST_IMAGES: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        TEST_LABELS: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion-mnist": {
        TRAIN_IMAGES: "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        TRAIN_LABELS: "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        TEST_IMAGES: "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        TEST_LABELS: "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
}

_NUM_CLASSES = 10
_DOWNLOAD_TIMEOUT_S = 30
_CHUNK_BYTES = 1 << 20

Split = tuple[np.ndarray, np.ndarray]


def load_mnist(
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    *,
    data_dir: str | os.PathLike | None = None,
) -> tuple[Split, Split]:
    """Load the MNIST handwritten digits (60,000 training and 10,000 test images).

    Parameters
    ----------
    normalize : bool, default True
        Scale pixels to float32 in [0, 1] (x / 255); otherwise keep uint8 in 0..255.
    flatten : bool, default True
        Images of shape (N, 784); otherwise (N, 1, 28, 28).
    one_hot_label : bool, default False
        Labels as float32 one-hot rows of shape (N, 10); otherwise int64 of shape (N,).
    data_dir : str or path-like, optional
        A folder holding the four ``*-ubyte.gz`` files, or a ``mnist/`` subfolder with them.
        Without it: the folder in ``$NNCOURSE_DATA``, then the cache (:func:`cache_dir`),
        where missing files are downloaded from :data:`MIRRORS`.

    Returns
    -------
    ((x_train, t_train), (x_test, t_test)) : tuple of tuples of ndarray
        Images and labels of the training set (N = 60000) and the test set (N = 10000).

    Raises
    ------
    DatasetError
        If a file is missing, corrupt or cannot be downloaded; the message names the file
        and what to do.

    Examples
    --------
    >>> (x_train, t_train), (x_test, t_test) = load_mnist()  # doctest: +SKIP
    >>> x_train.shape, x_train.dtype, t_train[:5]  # doctest: +SKIP
    ((60000, 784), dtype('float32'), array([5, 0, 4, 1, 9]))
    """
    return _load("mnist", normalize, flatten, one_hot_label, data_dir)


def load_fashion_mnist(
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    *,
    data_dir: str | os.PathLike | None = None,
) -> tuple[Split, Split]:
    """Load Fashion-MNIST (Zalando's clothing images), a drop-in replacement for MNIST.

    Parameters
    ----------
    normalize : bool, default True
        Scale pixels to float32 in [0, 1] (x / 255); otherwise keep uint8 in 0..255.
    flatten : bool, default True
        Images of shape (N, 784); otherwise (N, 1, 28, 28).
    one_hot_label : bool, default False
        Labels as float32 one-hot rows of shape (N, 10); otherwise int64 of shape (N,).
    data_dir : str or path-like, optional
        A folder holding the four ``*-ubyte.gz`` files, or a ``fashion-mnist/`` subfolder
        with them. Without it: the folder in ``$NNCOURSE_DATA``, then the cache
        (:func:`cache_dir`), where missing files are downloaded from :data:`MIRRORS`.

    Returns
    -------
    ((x_train, t_train), (x_test, t_test)) : tuple of tuples of ndarray
        Images and labels of the training set (N = 60000) and the test set (N = 10000).

    Raises
    ------
    DatasetError
        If a file is missing, corrupt or cannot be downloaded; the message names the file
        and what to do.
    """
    return _load("fashion-mnist", normalize, flatten, one_hot_label, data_dir)


def cache_dir(name: str) -> Path:
    """Return the folder where downloads of dataset ``name`` are kept.

    Parameters
    ----------
    name : str
        ``"mnist"`` or ``"fashion-mnist"``.

    Returns
    -------
    pathlib.Path
        ``$NNCOURSE_CACHE/<name>`` if that variable is set, else ``~/.cache/nncourse/<name>``.
    """
    root = os.environ.get("NNCOURSE_CACHE") or Path.home() / ".cache" / "nncourse"
    return Path(root).expanduser() / name


def _load(
    name: str, normalize: bool, flatten: bool, one_hot_label: bool, data_dir
) -> tuple[Split, Split]:
    folder = _locate(name, data_dir)
    train = _read_split(folder / TRAIN_IMAGES, folder / TRAIN_LABELS)
    test = _read_split(folder / TEST_IMAGES, folder / TEST_LABELS)
    return tuple(
        (_convert_images(x, normalize, flatten), _convert_labels(t, one_hot_label))
        for x, t in (train, test)
    )


def _locate(name: str, data_dir) -> Path:
    """Return a folder with all four files, verified, downloading into the cache if needed."""
    searched = []
    for base in (data_dir, os.environ.get("NNCOURSE_DATA")):
        if not base:
            continue
        for folder in (Path(base).expanduser(), Path(base).expanduser() / name):
            searched.append(folder)
            if any((folder / filename).exists() for filename in FILES):
                _verify_all(name, folder)
                return folder
    folder = cache_dir(name)
    searched.append(folder)
    for filename in FILES:
        if not (folder / filename).exists():
            _download(name, filename, folder, searched)
    _verify_all(name, folder)
    return folder


def _verify_all(name: str, folder: Path) -> None:
    for filename in FILES:
        path = folder / filename
        if not path.exists():
            raise DatasetError(
                f"{path} is missing (the folder holds some of the {name} files but not this "
                f"one): copy all four files {', '.join(FILES)} into {folder}"
            )
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != SHA256[name][filename]:
            raise DatasetError(
                f"{path} has SHA-256 {digest}, expected {SHA256[name][filename]}: the file is "
                "damaged or not the canonical one; delete it and download it again"
            )


def _download(name: str, filename: str, folder: Path, searched: list[Path]) -> None:
    failures = []
    for mirror in MIRRORS[name]:
        url = mirror + filename
        try:
            _fetch(url, folder / filename, SHA256[name][filename])
            return
        except (OSError, http.client.HTTPException, DatasetError) as error:
            failures.append(f"  {url}: {error}")
    raise DatasetError(
        f"{filename} of {name} was not found in any of these folders:\n"
        + "".join(f"  {folder}\n" for folder in searched)
        + "and could not be downloaded from:\n"
        + "\n".join(failures)
        + f"\nDownload the four files {', '.join(FILES)} by hand into a folder "
        f"(e.g. <folder>/{name}/) and set the environment variable NNCOURSE_DATA=<folder>, "
        "or pass data_dir=<folder>."
    )


def _fetch(url: str, target: Path, sha256: str) -> None:
    """Download ``url`` to a temporary file beside ``target``, check it, then rename it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".part", delete=False) as part:
        try:
            with urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT_S) as response:
                size = int(response.headers.get("Content-Length") or 0) or None
                with tqdm(total=size, unit="B", unit_scale=True, desc=target.name) as bar:
                    while chunk := response.read(_CHUNK_BYTES):
                        part.write(chunk)
                        digest.update(chunk)
                        bar.update(len(chunk))
            if digest.hexdigest() != sha256:
                raise DatasetError(f"downloaded file has SHA-256 {digest.hexdigest()}")
        except BaseException:
            part.close()
            os.unlink(part.name)
            raise
    os.replace(part.name, target)


def _read_split(images_path: Path, labels_path: Path) -> Split:
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise DatasetError(
            f"{images_path}: expected uint8 images of shape (N, rows, cols), found "
            f"{images.dtype} of shape {images.shape}; delete it and download it again"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1 or labels.max(initial=0) >= _NUM_CLASSES:
        raise DatasetError(
            f"{labels_path}: expected uint8 labels 0..9 of shape (N,), found {labels.dtype} "
            f"of shape {labels.shape}; delete it and download it again"
        )
    if len(images) != len(labels):
        raise DatasetError(
            f"{images_path} holds {len(images)} images but {labels_path} holds "
            f"{len(labels)} labels; one of them is from another release: download both again"
        )
    return images, labels


def _convert_images(images: np.ndarray, normalize: bool, flatten: bool) -> np.ndarray:
    images = images / np.float32(255) if normalize else images.copy()
    n, rows, cols = images.shape
    return images.reshape(n, rows * cols) if flatten else images.reshape(n, 1, rows, cols)


def _convert_labels(labels: np.ndarray, one_hot: bool) -> np.ndarray:
    if one_hot:
        return np.eye(_NUM_CLASSES, dtype=np.float32)[labels]
    return labels.astype(np.int64)
