"""Data loaders: the synthetic data, UTKFace (on generated images) and diabetes."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
from PIL import Image

from hmc_lite import datasets
from hmc_lite.datasets import (
    RegressionData,
    diabetes,
    load_real_data,
    load_utkface,
    standardize_y,
    synthetic,
)

# Images named like UTKFace's: (file name, age, size, colour mode, format).
# race missing, as in UTKFace
GOOD = [
    ("26_0_2_20170104023102422.jpg.chip.jpg", 26, (200, 200), "RGB", "JPEG"),
    ("1_1_0_20161219140623097.jpg", 1, (61, 47), "RGB", "JPEG"),
    ("45_1_3_20170109142408075.jpg.chip.jpg", 45, (32, 32), "L", "JPEG"),
    ("80_0_1_20170110122511111.png", 80, (20, 30), "RGBA", "PNG"),
    ("3_0_4_20170103200522151.jpg.chip.jpg", 3, (50, 50), "CMYK", "JPEG"),
    ("61_1_20170109142408075.jpg.chip.jpg", 61, (40, 40), "P", "PNG"),
    ("33_0_0_20170117012347890.jpg", 33, (9, 9), "1", "PNG"),
    ("116_1_2_20170112213001988.jpg.chip.jpg", 116, (64, 64), "RGB", "JPEG"),
    ("19_1_0_20170116225612311.JPG", 19, (25, 25), "RGB", "JPEG"),
    ("52_0_1_20170104184519845.jpg.chip.jpg", 52, (200, 200), "RGB", "JPEG"),
]
BAD_NAMES = ["readme.txt", "face.jpg", "x_0_2_2017.jpg", "26.jpg", "999_0_0_2017.jpg"]
CORRUPT = [
    "40_1_1_20170113012345678.jpg.chip.jpg",
    "41_0_1_20170113012345679.jpg.chip.jpg",
]
SIZE = 8


def _write_image(path, size, mode, fmt, rng):
    pixels = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    img = Image.fromarray(pixels, "RGB")
    img = img.convert(mode) if mode != "P" else img.quantize(16)
    img.save(path, fmt)


@pytest.fixture(scope="module")
def utk_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("utkface")
    rng = np.random.default_rng(0)
    (root / "part1").mkdir()
    for k, (name, _, size, mode, fmt) in enumerate(GOOD):
        # the in-the-wild release has sub-folders
        folder = root / "part1" if k % 3 == 0 else root
        _write_image(folder / name, size, mode, fmt, rng)
    for name in BAD_NAMES:
        _write_image(root / name, (10, 10), "RGB", "JPEG", rng)
    garbage, truncated = root / CORRUPT[0], root / CORRUPT[1]
    garbage.write_bytes(
        b"\xff\xd8\xff\xe0 this is not really a JPEG" + bytes(range(200))
    )
    _write_image(truncated, (120, 120), "RGB", "JPEG", rng)
    truncated.write_bytes(truncated.read_bytes()[:2000])  # cut off mid-stream
    (root / ".DS_Store").write_bytes(b"hidden files are ignored")
    return root


def _load(folder, **kwargs):
    """Load, returning the data and the messages of the warnings raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = load_utkface(folder, **kwargs)
    return data, [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def test_utkface_reads_every_good_image_and_warns_once_per_kind(utk_folder):
    data, messages = _load(utk_folder, image_size=SIZE, test_fraction=0.3)
    assert isinstance(data, RegressionData)
    assert data.name.startswith("UTKFace")
    n = len(data.y_train) + len(data.y_test)
    assert n == len(GOOD)
    assert len(data.y_test) == 3
    assert data.x_train.shape == (n - 3, SIZE * SIZE) and data.x_test.shape == (
        3,
        SIZE * SIZE,
    )
    assert sorted(np.concatenate([data.y_train, data.y_test])) == sorted(
        age for _, age, *_ in GOOD
    )
    assert len(messages) == 2, messages
    name_msgs = [m for m in messages if "names do not parse" in m]
    corrupt_msgs = [m for m in messages if "unreadable" in m]
    assert len(name_msgs) == 1 and f"skipped {len(BAD_NAMES)} file" in name_msgs[0]
    assert (
        len(corrupt_msgs) == 1
        and f"skipped {len(CORRUPT)} unreadable" in corrupt_msgs[0]
    )


def test_utkface_features_are_standardised_with_training_statistics(utk_folder):
    data, _ = _load(utk_folder, image_size=SIZE, test_fraction=0.3)
    assert np.allclose(data.x_train.mean(axis=0), 0.0, atol=1e-12)
    sd = data.x_train.std(axis=0)
    assert np.all(np.isclose(sd, 1.0) | np.isclose(sd, 0.0))
    assert np.all(np.isfinite(data.x_test))
    # ages stay in years unless asked otherwise
    assert set(data.y_train) <= {age for _, age, *_ in GOOD}
    scaled, _ = _load(
        utk_folder, image_size=SIZE, test_fraction=0.3, standardize_target=True
    )
    assert np.isclose(scaled.y_train.mean(), 0.0) and np.isclose(
        scaled.y_train.std(), 1.0
    )
    assert np.allclose(scaled.x_train, data.x_train)


def test_utkface_pixels_follow_the_image(tmp_path):
    """A left-dark, right-bright image keeps that pattern after grey conversion and
    resizing."""
    rng = np.random.default_rng(1)
    for k in range(6):
        img = np.zeros((40, 40, 3), dtype=np.uint8)
        img[:, 20:] = 200 + 10 * k
        img[:, :20] = rng.integers(0, 30)
        Image.fromarray(img).save(tmp_path / f"{20 + k}_0_0_2017010{k}.png")
    data, messages = _load(tmp_path, image_size=4, test_fraction=0.34)
    assert messages == []
    raw = data.x_train.reshape(-1, 4, 4)
    # standardisation is per pixel, so compare columns of the same image through their
    # ranks: the right half is brighter in every image, hence the right-half features
    # rank the images by k, i.e. by age.
    assert np.all(np.diff(data.y_train[np.argsort(raw[:, 0, 3])]) > 0)
    assert np.all(np.diff(data.y_train[np.argsort(raw[:, 3, 2])]) > 0)


def test_utkface_split_is_deterministic_and_depends_on_seed(utk_folder):
    a, _ = _load(utk_folder, image_size=SIZE, seed=3)
    b, _ = _load(utk_folder, image_size=SIZE, seed=3)
    c, _ = _load(utk_folder, image_size=SIZE, seed=4)
    for u, v in zip(a[:4], b[:4]):
        assert np.array_equal(u, v)
    assert not (
        np.array_equal(a.y_test, c.y_test) and np.array_equal(a.y_train, c.y_train)
    )


def test_utkface_subset_of_n(utk_folder):
    data, messages = _load(utk_folder, image_size=SIZE, n=5, seed=1)
    assert len(data.y_train) + len(data.y_test) == 5
    assert data.name.startswith("UTKFace (5 images")
    again, _ = _load(utk_folder, image_size=SIZE, n=5, seed=1)
    assert np.array_equal(data.y_train, again.y_train)
    assert sum("names do not parse" in m for m in messages) == 1
    with pytest.raises(ValueError, match="n=50"):
        _load(utk_folder, image_size=SIZE, n=50)


def test_utkface_errors_name_the_folder(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_utkface(missing)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="empty"):
        load_utkface(empty)
    only_bad = tmp_path / "only_bad"
    only_bad.mkdir()
    (only_bad / "holiday.jpg").write_bytes(b"x")
    (only_bad / "12_0_1_2017.jpg").write_bytes(b"not an image")
    with pytest.warns(UserWarning) as record:
        with pytest.raises(ValueError, match="only_bad"):
            load_utkface(only_bad)
    messages = [str(w.message) for w in record]
    assert any("skipped 1 file" in m for m in messages)
    assert any("skipped 1 unreadable" in m for m in messages)


@pytest.mark.parametrize(
    "kwargs, error, word",
    [
        ({"image_size": 0}, ValueError, "image_size"),
        ({"image_size": 2.5}, TypeError, "image_size"),
        ({"n": 0}, ValueError, "n must"),
        ({"n": True}, TypeError, "n must"),
        ({"seed": -1}, ValueError, "seed"),
        ({"test_fraction": 1.0}, ValueError, "test_fraction"),
        ({"test_fraction": "half"}, TypeError, "test_fraction"),
    ],
)
def test_utkface_refuses_bad_arguments(utk_folder, kwargs, error, word):
    with pytest.raises(error, match=word):
        load_utkface(utk_folder, **kwargs)


def test_utkface_refuses_a_path_of_the_wrong_type():
    with pytest.raises(TypeError, match="path"):
        load_utkface(42)


def test_diabetes_shapes_standardisation_and_split():
    data = diabetes(seed=0, test_fraction=0.25)
    assert data.name.startswith("diabetes")
    assert data.x_train.shape[1] == data.x_test.shape[1] == 10
    assert len(data.y_train) + len(data.y_test) == 442
    assert len(data.y_test) == round(0.25 * 442)
    assert np.allclose(data.x_train.mean(axis=0), 0.0) and np.allclose(
        data.x_train.std(axis=0), 1.0
    )
    assert np.isclose(data.y_train.mean(), 0.0) and np.isclose(data.y_train.std(), 1.0)
    # test statistics are not used: the test set is close to, not exactly, standardised
    assert not np.allclose(data.x_test.mean(axis=0), 0.0)
    again = diabetes(seed=0, test_fraction=0.25)
    assert np.array_equal(data.y_test, again.y_test)
    assert not np.array_equal(data.y_test[:20], diabetes(seed=1).y_test[:20])


def test_diabetes_original_units_and_standardize_y_round_trip():
    raw = diabetes(seed=2, standardize_target=False)
    assert 25 <= raw.y_train.min() and raw.y_train.max() <= 346
    scaled, mean, sd = standardize_y(raw)
    assert np.allclose(mean + sd * scaled.y_test, raw.y_test)
    assert np.allclose(scaled.y_train, diabetes(seed=2).y_train)
    with pytest.raises(ValueError, match="constant"):
        standardize_y(raw._replace(y_train=np.ones(3)))
    with pytest.raises(TypeError, match="data"):
        standardize_y((1, 2))


def test_load_real_data_chooses_by_path_and_environment(utk_folder, monkeypatch):
    monkeypatch.delenv(datasets.UTKFACE_ENV, raising=False)
    assert load_real_data().name.startswith("diabetes")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert load_real_data(utk_folder, image_size=4).name.startswith("UTKFace")
        monkeypatch.setenv(datasets.UTKFACE_ENV, str(utk_folder))
        data = load_real_data(image_size=4)
    assert data.name.startswith("UTKFace") and data.x_train.shape[1] == 16
    monkeypatch.setenv(datasets.UTKFACE_ENV, "")
    assert load_real_data().name.startswith("diabetes")
    with pytest.raises(TypeError, match="colour"):
        load_real_data(colour=True)


def test_synthetic_shapes_and_determinism():
    a = synthetic(n=30, n_test=20, seed=5)
    assert a.x_train.shape == (30, 1) and a.y_train.shape == (30,)
    assert a.x_test.shape == (20, 1) and a.y_test.shape == (20,)
    assert np.all((a.x_train >= 0) & (a.x_train <= 4))
    b = synthetic(n=30, n_test=20, seed=5)
    assert all(np.array_equal(u, v) for u, v in zip(a[:4], b[:4]))
    assert not np.array_equal(a.y_train, synthetic(n=30, n_test=20, seed=6).y_train)
    exact = synthetic(n=30, noise_sd=0.0, seed=5)
    assert np.allclose(exact.y_train, np.cos(2 * exact.x_train[:, 0]))
    with pytest.raises(ValueError, match="n_test"):
        synthetic(n_test=0)


def test_diabetes_without_scikit_learn_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # makes the import fail
    with pytest.raises(ImportError, match="scikit-learn"):
        diabetes()


def _png_claiming(path, width, height):
    """A 1x1 PNG whose header claims width x height pixels (a 'decompression bomb')."""
    import io
    import struct
    import zlib

    buf = io.BytesIO()
    Image.new("L", (1, 1)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    start = 8 + 4  # signature, then the IHDR chunk's length field
    ihdr = bytearray(data[start:start + 4 + 13])  # chunk type + 13 bytes of header
    ihdr[4:12] = struct.pack(">II", width, height)
    data[start:start + 17] = ihdr
    data[start + 17 : start + 21] = struct.pack(
        ">I", zlib.crc32(bytes(ihdr)) & 0xFFFFFFFF
    )
    path.write_bytes(bytes(data))


def test_utkface_skips_a_decompression_bomb_and_keeps_the_rest(tmp_path):
    rng = np.random.default_rng(1)
    _write_image(
        tmp_path / "30_0_1_20170101000000001.jpg", (20, 20), "RGB", "JPEG", rng
    )
    _write_image(
        tmp_path / "40_1_2_20170101000000002.jpg", (20, 20), "RGB", "JPEG", rng
    )
    _write_image(
        tmp_path / "50_1_2_20170101000000003.jpg", (20, 20), "RGB", "JPEG", rng
    )
    _write_image(
        tmp_path / "55_1_2_20170101000000005.jpg", (20, 20), "RGB", "JPEG", rng
    )
    _png_claiming(tmp_path / "60_0_0_20170101000000004.png", 60000, 60000)
    data, messages = _load(tmp_path, test_fraction=0.25)
    assert len(data.y_train) + len(data.y_test) == 4
    assert any("skipped 1 unreadable" in m for m in messages)


def test_sixteen_bit_images_are_scaled_not_clipped(tmp_path):
    half = np.full((8, 8), 32768, dtype=np.uint16)
    Image.fromarray(half).save(tmp_path / "g.png")
    pixels = datasets._read_image(tmp_path / "g.png", 4)
    np.testing.assert_allclose(pixels, 32768 / 65535, atol=1e-6)


def test_utkface_refuses_an_empty_path_and_a_file(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        load_utkface("")
    a_file = tmp_path / "faces.zip"
    a_file.write_bytes(b"zip")
    with pytest.raises(NotADirectoryError, match="faces.zip"):
        load_utkface(a_file)
