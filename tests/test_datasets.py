"""nncourse.datasets: IDX parsing, locating, checking and downloading MNIST-style files.

Small IDX files are generated here, so every failure mode is tested without the real data;
downloads are served by a local ``http.server`` on 127.0.0.1 (no internet).
"""

import gzip
import hashlib
import http.server
import os
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from nncourse.datasets import DatasetError, load_fashion_mnist, load_mnist, read_idx
from nncourse.datasets import mnist as mnist_module
from nncourse.datasets.idx import parse_idx

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = Path(os.environ.get("NNCOURSE_DATA") or REPO.parent / "shared" / "data")
DEAD_MIRROR = "http://127.0.0.1:9/"  # the discard port: connection refused at once

def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    """Encode an array as an IDX file, written out byte by byte from the format's spec."""
    header = bytes([0, 0, type_code, array.ndim])
    header += b"".join(int(size).to_bytes(4, "big") for size in array.shape)
    return header + array.tobytes()


def write_gz(path: Path, content: bytes) -> None:
    path.write_bytes(gzip.compress(content))


def make_dataset(folder: Path, n_train: int = 6, n_test: int = 4, seed: int = 0) -> dict:
    """Write the four gzipped files of a tiny fake MNIST into ``folder``; return the arrays."""
    rng = np.random.default_rng(seed)
    arrays = {
        mnist_module.TRAIN_IMAGES: rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        mnist_module.TRAIN_LABELS: rng.integers(0, 10, n_train, dtype=np.uint8),
        mnist_module.TEST_IMAGES: rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        mnist_module.TEST_LABELS: rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for filename, array in arrays.items():
        write_gz(folder / filename, idx_bytes(array))
    return arrays


def trust_files(monkeypatch: pytest.MonkeyPatch, folder: Path, name: str = "mnist") -> None:
    """Make the loader accept the files now in ``folder`` as the canonical ones."""
    hashes = {filename: hashlib.sha256((folder / filename).read_bytes()).hexdigest()
              for filename in mnist_module.FILES}
    monkeypatch.setitem(mnist_module.SHA256, name, hashes)


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No NNCOURSE_DATA, an empty cache in tmp_path and unreachable mirrors."""
    monkeypatch.delenv("NNCOURSE_DATA", raising=False)
    monkeypatch.setenv("NNCOURSE_CACHE", str(tmp_path / "cache"))
    for name in mnist_module.MIRRORS:
        monkeypatch.setitem(mnist_module.MIRRORS, name, [DEAD_MIRROR])
    return tmp_path


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


@pytest.fixture
def file_server(tmp_path: Path):
    """Serve tmp_path/served over HTTP on 127.0.0.1; yields (folder, base URL)."""
    folder = tmp_path / "served"
    folder.mkdir()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(QuietHandler, directory=str(folder))
    )
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


# --- IDX parsing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("array", "type_code"),  # the type codes of the IDX specification
    [
        (np.arange(24, dtype=np.uint8).reshape(2, 3, 4), 0x08),
        (np.array([-5, 0, 7], dtype=np.int8), 0x09),
        (np.array([[-300, 2], [1000, -1]], dtype=">i2"), 0x0B),
        (np.array([70000, -1], dtype=">i4"), 0x0C),
        (np.array([1.5, -2.25], dtype=">f4"), 0x0D),
        (np.array([[np.pi]], dtype=">f8"), 0x0E),
    ],
    ids=["uint8", "int8", "int16", "int32", "float32", "float64"],
)
@pytest.mark.parametrize("compressed", [True, False], ids=["gz", "raw"])
def test_read_idx_round_trips_every_type(tmp_path, array, type_code, compressed):
    content = idx_bytes(array, type_code)
    path = tmp_path / "data.idx"
    path.write_bytes(gzip.compress(content) if compressed else content)
    values = read_idx(path)
    assert values.shape == array.shape
    assert values.dtype.isnative
    np.testing.assert_array_equal(values, array)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="nothing-here.gz"):
        read_idx(tmp_path / "nothing-here.gz")


def test_read_idx_truncated_gzip(tmp_path):
    path = tmp_path / "cut-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((3, 28, 28), np.uint8)))[:-20])
    with pytest.raises(DatasetError, match="cut-images-idx3-ubyte.gz.*truncated"):
        read_idx(path)


@pytest.mark.parametrize("content", [b"", b"\x00\x00", b"PK\x03\x04rest", b"\x00\x00\x07\x01"],
                         ids=["empty", "short", "zip", "unknown-type"])
def test_read_idx_bad_magic(tmp_path, content):
    path = tmp_path / "odd-labels-idx1-ubyte"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match="odd-labels-idx1-ubyte is not an IDX file"):
        read_idx(path)


def test_parse_idx_size_mismatch():
    content = idx_bytes(np.arange(5, dtype=np.uint8))[:-1]  # header says 5, payload holds 4
    with pytest.raises(DatasetError, match=r"labels\.idx.*\(5,\).*holds 4 bytes"):
        parse_idx(content, name="labels.idx")


def test_parse_idx_truncated_header():
    with pytest.raises(DatasetError, match="header is truncated"):
        parse_idx(bytes([0, 0, 8, 3, 0, 0, 0, 1]))


# --- locating and checking the files -------------------------------------------------------


def test_load_from_data_dir_holding_the_files(tmp_path, monkeypatch):
    arrays = make_dataset(tmp_path / "flat")
    trust_files(monkeypatch, tmp_path / "flat")
    (x_train, t_train), (x_test, t_test) = load_mnist(data_dir=tmp_path / "flat")
    assert x_train.shape == (6, 784) and x_train.dtype == np.float32
    assert t_train.shape == (6,) and t_train.dtype == np.int64
    # x / 255 computed in float64, then rounded once to float32
    expected = (arrays[mnist_module.TRAIN_IMAGES].reshape(6, 784) / 255).astype(np.float32)
    np.testing.assert_array_equal(x_train, expected)
    np.testing.assert_array_equal(t_train, arrays[mnist_module.TRAIN_LABELS])
    pixel_3_16 = (arrays[mnist_module.TEST_IMAGES][:, 3, 16] / 255).astype(np.float32)
    np.testing.assert_array_equal(x_test[:, 3 * 28 + 16], pixel_3_16)
    np.testing.assert_array_equal(t_test, arrays[mnist_module.TEST_LABELS])


def test_load_from_data_dir_with_subfolders(tmp_path, monkeypatch):
    make_dataset(tmp_path / "data" / "mnist", seed=1)
    fashion = make_dataset(tmp_path / "data" / "fashion-mnist", n_train=3, seed=2)
    trust_files(monkeypatch, tmp_path / "data" / "mnist")
    trust_files(monkeypatch, tmp_path / "data" / "fashion-mnist", name="fashion-mnist")
    (x_train, t_train), _ = load_fashion_mnist(data_dir=str(tmp_path / "data"))
    assert x_train.shape == (3, 784)
    np.testing.assert_array_equal(t_train, fashion[mnist_module.TRAIN_LABELS])
    (x_train, _), _ = load_mnist(data_dir=tmp_path / "data")
    assert x_train.shape == (6, 784)


def test_load_from_environment_variable(tmp_path, monkeypatch):
    arrays = make_dataset(tmp_path / "env" / "mnist")
    trust_files(monkeypatch, tmp_path / "env" / "mnist")
    monkeypatch.setenv("NNCOURSE_DATA", str(tmp_path / "env"))
    (_, t_train), _ = load_mnist()
    np.testing.assert_array_equal(t_train, arrays[mnist_module.TRAIN_LABELS])


def test_data_dir_comes_before_environment_variable(tmp_path, monkeypatch):
    make_dataset(tmp_path / "env", n_train=2)
    make_dataset(tmp_path / "arg", n_train=5)
    trust_files(monkeypatch, tmp_path / "arg")
    monkeypatch.setenv("NNCOURSE_DATA", str(tmp_path / "env"))
    (x_train, _), _ = load_mnist(data_dir=tmp_path / "arg")
    assert len(x_train) == 5


def test_options_normalize_flatten_one_hot(tmp_path, monkeypatch):
    arrays = make_dataset(tmp_path)
    trust_files(monkeypatch, tmp_path)
    (x_train, t_train), (x_test, t_test) = load_mnist(
        normalize=False, flatten=False, one_hot_label=True, data_dir=tmp_path
    )
    assert x_train.shape == (6, 1, 28, 28) and x_train.dtype == np.uint8
    assert x_train.flags.writeable
    np.testing.assert_array_equal(x_train[:, 0], arrays[mnist_module.TRAIN_IMAGES])
    assert t_test.shape == (4, 10) and t_test.dtype == np.float32
    np.testing.assert_array_equal(t_test.sum(axis=1), 1.0)
    np.testing.assert_array_equal(t_test.argmax(axis=1), arrays[mnist_module.TEST_LABELS])
    (x_norm, _), _ = load_mnist(flatten=False, data_dir=tmp_path)
    assert x_norm.shape == (6, 1, 28, 28) and x_norm.dtype == np.float32
    assert 0.0 <= x_norm.min() and x_norm.max() <= 1.0


def test_wrong_checksum_names_the_file(tmp_path, monkeypatch):
    make_dataset(tmp_path)
    trust_files(monkeypatch, tmp_path)
    write_gz(tmp_path / mnist_module.TEST_LABELS, idx_bytes(np.zeros(4, np.uint8)))
    with pytest.raises(DatasetError, match=r"t10k-labels-idx1-ubyte\.gz has SHA-256.*delete it"):
        load_mnist(data_dir=tmp_path)


def test_missing_file_names_the_file(tmp_path, monkeypatch):
    make_dataset(tmp_path)
    trust_files(monkeypatch, tmp_path)
    (tmp_path / mnist_module.TRAIN_LABELS).unlink()
    with pytest.raises(DatasetError, match=r"train-labels-idx1-ubyte\.gz is missing"):
        load_mnist(data_dir=tmp_path)


def test_image_and_label_counts_must_match(tmp_path, monkeypatch):
    make_dataset(tmp_path)
    write_gz(tmp_path / mnist_module.TRAIN_LABELS, idx_bytes(np.zeros(5, np.uint8)))
    trust_files(monkeypatch, tmp_path)
    with pytest.raises(DatasetError, match=r"6 images but .*train-labels.* holds 5 labels"):
        load_mnist(data_dir=tmp_path)


@pytest.mark.parametrize(
    ("filename", "array", "message"),
    [
        (mnist_module.TEST_LABELS, np.array([3, 10, 1, 2], np.uint8), "labels 0..9"),
        (mnist_module.TEST_LABELS, np.zeros((4, 1), np.uint8), "labels 0..9"),
        (mnist_module.TEST_IMAGES, np.zeros((4, 784), np.uint8), "images of shape"),
    ],
    ids=["label-10", "labels-2d", "images-2d"],
)
def test_unexpected_content_names_the_file(tmp_path, monkeypatch, filename, array, message):
    make_dataset(tmp_path)
    write_gz(tmp_path / filename, idx_bytes(array))
    trust_files(monkeypatch, tmp_path)
    with pytest.raises(DatasetError, match=f"{filename}.*{message}"):
        load_mnist(data_dir=tmp_path)


# --- the cache and downloads ---------------------------------------------------------------


def test_download_into_cache_then_reuse_it(isolated, monkeypatch, file_server):
    served, url = file_server
    arrays = make_dataset(served)
    trust_files(monkeypatch, served)
    monkeypatch.setitem(mnist_module.MIRRORS, "mnist", [DEAD_MIRROR, f"{url}404/", url])
    (_, t_train), _ = load_mnist()  # refused, then not found, then served
    np.testing.assert_array_equal(t_train, arrays[mnist_module.TRAIN_LABELS])
    cache = isolated / "cache" / "mnist"
    assert sorted(path.name for path in cache.iterdir()) == sorted(mnist_module.FILES)
    for path in served.iterdir():
        path.unlink()
    (_, t_again), _ = load_mnist()  # from the cache: the server has nothing left
    np.testing.assert_array_equal(t_again, t_train)


def test_download_only_the_missing_files(isolated, monkeypatch, file_server):
    served, url = file_server
    make_dataset(served)
    trust_files(monkeypatch, served)
    cache = isolated / "cache" / "mnist"
    cache.mkdir(parents=True)
    (served / mnist_module.TEST_IMAGES).rename(cache / mnist_module.TEST_IMAGES)
    monkeypatch.setitem(mnist_module.MIRRORS, "mnist", [url])
    (x_train, _), (x_test, _) = load_mnist()
    assert x_train.shape == (6, 784) and x_test.shape == (4, 784)


def test_download_with_wrong_checksum_is_rejected(isolated, monkeypatch, file_server):
    served, url = file_server
    make_dataset(served)  # files whose hashes are not the embedded ones
    monkeypatch.setitem(mnist_module.MIRRORS, "mnist", [url])
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte\.gz: downloaded file has"):
        load_mnist()
    assert not any((isolated / "cache" / "mnist").iterdir())  # no partial file left behind


def test_no_mirror_reachable_explains_what_to_do(isolated, monkeypatch):
    monkeypatch.setitem(mnist_module.MIRRORS, "fashion-mnist",
                        [DEAD_MIRROR, "http://127.0.0.1:9/other/"])
    with pytest.raises(DatasetError) as caught:
        load_fashion_mnist(data_dir=isolated / "empty")
    message = str(caught.value)
    assert "train-images-idx3-ubyte.gz of fashion-mnist" in message
    assert str(isolated / "empty" / "fashion-mnist") in message  # the folders searched
    assert str(isolated / "cache" / "fashion-mnist") in message
    assert f"{DEAD_MIRROR}train-images-idx3-ubyte.gz" in message  # the mirrors tried
    assert "http://127.0.0.1:9/other/train-images-idx3-ubyte.gz" in message
    assert "NNCOURSE_DATA" in message


def test_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NNCOURSE_CACHE", str(tmp_path / "c"))
    assert mnist_module.cache_dir("mnist") == tmp_path / "c" / "mnist"
    monkeypatch.delenv("NNCOURSE_CACHE")
    assert mnist_module.cache_dir("mnist") == Path.home() / ".cache" / "nncourse" / "mnist"


def test_embedded_checksums_match_the_shipped_lists():
    for name in ("mnist", "fashion-mnist"):
        sums = REAL_DATA / name / "SHA256SUMS"
        if not sums.exists():
            pytest.skip(f"no {sums}: set NNCOURSE_DATA to the folder with mnist/ and "
                        "fashion-mnist/")
        listed = dict(reversed(line.split()) for line in sums.read_text().splitlines())
        assert listed == mnist_module.SHA256[name]


# --- the real data -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loader", "name", "first_labels"),
    [(load_mnist, "mnist", (5, 7)), (load_fashion_mnist, "fashion-mnist", (9, 9))],
    ids=["mnist", "fashion-mnist"],
)
def test_real_data(loader, name, first_labels):
    if not (REAL_DATA / name).is_dir():
        pytest.skip(f"{REAL_DATA / name} not found: set NNCOURSE_DATA to the folder holding "
                    "mnist/ and fashion-mnist/ to run this test")
    (x_train, t_train), (x_test, t_test) = loader(data_dir=REAL_DATA)
    assert x_train.shape == (60000, 784) and x_test.shape == (10000, 784)
    assert x_train.dtype == x_test.dtype == np.float32
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert t_train.dtype == t_test.dtype == np.int64
    np.testing.assert_array_equal(np.unique(t_train), np.arange(10))
    np.testing.assert_array_equal(np.unique(t_test), np.arange(10))
    assert (t_train[0], t_test[0]) == first_labels  # well-known first labels of each split
    assert np.bincount(t_test).min() >= 800  # every class well represented
