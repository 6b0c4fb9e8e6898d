"""Data sets used by the book.

* :func:`synthetic`: the paper's one-dimensional regression problem.
* :func:`load_utkface`: the UTKFace face images labelled with age, read from a
  folder the reader has downloaded (the book cannot ship it).
* :func:`diabetes`: scikit-learn's diabetes data, a small real regression
  problem that installs with scikit-learn.
* :func:`load_real_data`: UTKFace when the reader has it, diabetes otherwise.

Every loader returns a :class:`RegressionData` with a fixed train/test split
drawn from ``seed``. Features of the real data sets are standardised with the
*training* mean and standard deviation (so nothing about the test set leaks
into the preprocessing); :func:`standardize_y` does the same for the target
and returns the scale, so that errors can be reported in the original units.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ._validation import check_int, check_probability

__all__ = [
    "RegressionData",
    "synthetic",
    "standardize_y",
    "load_utkface",
    "diabetes",
    "load_real_data",
    "UTKFACE_ENV",
]

#: Environment variable naming the UTKFace folder for :func:`load_real_data`.
UTKFACE_ENV = "UTKFACE_DIR"


class RegressionData(NamedTuple):
    """A regression data set with a fixed train/test split.

    ``x_train`` has shape ``(n, features)``, ``y_train`` shape ``(n,)``; likewise
    for the test set. ``name`` says which data set this is.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str


def synthetic(
    n: int = 100, n_test: int = 100, noise_sd: float = 0.1, seed: int = 0
) -> RegressionData:
    """The synthetic regression data of the paper: ``x ~ U(0, 4)``,
    ``y ~ N(cos 2x, noise_sd^2)``.

    The test set is drawn the same way, independently, from the same seed.
    """
    n, n_test, seed = (
        check_int(n, "n"),
        check_int(n_test, "n_test"),
        check_int(seed, "seed", 0),
    )
    if not np.isfinite(noise_sd) or noise_sd < 0:
        raise ValueError(f"noise_sd must be non-negative and finite; got {noise_sd!r}")
    rng = np.random.default_rng(seed)

    def draw(m):
        x = rng.uniform(0.0, 4.0, size=(int(m), 1))
        return x, np.cos(2.0 * x[:, 0]) + noise_sd * rng.standard_normal(int(m))

    x_train, y_train = draw(n)
    x_test, y_test = draw(n_test)
    return RegressionData(x_train, y_train, x_test, y_test, "synthetic cos(2x)")


# ---------------------------------------------------------------------------
# Shared preprocessing
# ---------------------------------------------------------------------------


def _split(
    n: int, test_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Random train and test indices; both sets get at least two points."""
    if n < 4:
        raise ValueError(
            f"need at least 4 examples to split into training and test sets; got {n}"
        )
    n_test = min(max(int(round(test_fraction * n)), 2), n - 2)
    perm = rng.permutation(n)
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def _standardize_features(
    x_train: np.ndarray, x_test: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Centre and scale every column with the training mean and standard deviation.

    A column that is constant on the training set is only centred (its
    standard deviation is taken as 1), so no division by zero can occur.
    """
    mean = x_train.mean(axis=0)
    sd = x_train.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    return (x_train - mean) / sd, (x_test - mean) / sd


def standardize_y(data: RegressionData) -> tuple[RegressionData, float, float]:
    """Standardise the target with the training mean and standard deviation.

    Returns the new data set and ``(mean, sd)`` such that an original target is
    ``mean + sd * y``; a mean squared error ``m`` on the standardised scale is
    ``sd**2 * m`` in the original units.

    Raises
    ------
    ValueError
        If the training targets are constant (nothing to standardise).
    """
    if not isinstance(data, RegressionData):
        raise TypeError(f"data must be a RegressionData; got {type(data).__name__}")
    mean = float(np.mean(data.y_train))
    sd = float(np.std(data.y_train))
    if not sd > 0:
        raise ValueError("data.y_train is constant; its standard deviation is 0")
    return (
        data._replace(
            y_train=(data.y_train - mean) / sd, y_test=(data.y_test - mean) / sd
        ),
        mean,
        sd,
    )


# ---------------------------------------------------------------------------
# UTKFace
# ---------------------------------------------------------------------------

#: ``age_gender_race_datetime.jpg`` (and the aligned crops' ``...jpg.chip.jpg``).
#: Only the age is used, so a name parses when its first field is an integer
#: age followed by at least one more ``_`` field, and it ends in an image suffix.
_UTK_NAME = re.compile(
    r"^(?P<age>\d{1,3})_[^_]+(?:_[^_]*)*\.(?:jpe?g|png)$", re.IGNORECASE
)
_MAX_AGE = 130


def _parse_age(filename: str) -> int | None:
    match = _UTK_NAME.match(filename)
    if match is None:
        return None
    age = int(match.group("age"))
    return age if age <= _MAX_AGE else None


def _read_image(path: Path, image_size: int) -> np.ndarray | None:
    """Grey pixels in [0, 1], shape ``(image_size**2,)``, or ``None`` if unreadable.

    Files that Pillow cannot decode, and files whose header claims more pixels
    than Pillow's decompression-bomb limit, count as unreadable. Integer images
    of more than 8 bits (mode ``I;16`` or ``I``, e.g. 16-bit grey PNGs) are
    scaled by 65535 rather than clipped at 255.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                if img.mode.startswith("I"):  # 16- or 32-bit integer grey
                    wide = np.asarray(img, dtype=float) / 65535.0 * 255.0
                    img_l = Image.fromarray(
                        np.clip(wide, 0, 255).astype(np.float32), mode="F"
                    )
                else:
                    # fast JPEG decoding at reduced size
                    img.draft("L", (image_size, image_size))
                    img_l = img.convert("L")
                grey = img_l.resize((image_size, image_size), Image.Resampling.BOX)
                pixels = np.asarray(grey, dtype=float)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError,
            Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None
    return pixels.reshape(-1) / 255.0


def load_utkface(
    path: str | os.PathLike,
    image_size: int = 16,
    n: int | None = None,
    seed: int = 0,
    test_fraction: float = 0.2,
    standardize_target: bool = False,
) -> RegressionData:
    """Load UTKFace (Zhang et al. 2017) from a folder as an age-regression problem.

    The folder (searched recursively, in sorted order) holds the images under
    their original names ``age_gender_race_datetime.jpg``, for instance
    ``26_0_2_20170104023102422.jpg.chip.jpg``; the age in years is the first
    field. Preprocessing, in this order:

    1. each image is converted to grey (Pillow's ``"L"`` mode, values 0-255)
       and resized to ``image_size x image_size`` with box (area-averaging)
       resampling; non-square images are squashed, not cropped;
    2. pixels are divided by 255 and flattened row by row, giving
       ``image_size**2`` features;
    3. the examples are split at random (from ``seed``) into training and test
       sets, and every feature is standardised with the training mean and
       standard deviation.

    Parameters
    ----------
    path:
        The folder holding the images.
    image_size:
        Side of the downsized square image, in pixels.
    n:
        If given, use a random subset (from ``seed``) of ``n`` usable images;
        otherwise use all of them.
    seed:
        Seed of the subset and of the split.
    test_fraction:
        Share of the examples held out for testing, in (0, 1).
    standardize_target:
        ``False`` (default): targets are ages in years. ``True``: ages
        standardised with the training mean and standard deviation (use
        :func:`standardize_y` instead when you need that scale back).

    Warns
    -----
    UserWarning
        Once, with their number, if some files have names that do not parse
        (hidden files, whose names start with ``.``, are ignored silently);
        once, with their number, if some images cannot be read.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    NotADirectoryError
        If ``path`` is a file.
    ValueError
        If ``path`` is empty, if the folder holds no usable image, if fewer
        than ``n`` are usable, or for an invalid argument.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike; got {type(path).__name__}")
    image_size = check_int(image_size, "image_size")
    if n is not None:
        n = check_int(n, "n")
    seed = check_int(seed, "seed", 0)
    test_fraction = check_probability(test_fraction, "test_fraction")
    if not os.fspath(path).strip():  # Path("") would be the current folder
        raise ValueError("path must name the UTKFace folder; got an empty path")
    folder = Path(path).expanduser()
    if folder.is_file():
        raise NotADirectoryError(f"UTKFace path is a file, not a folder: {folder}")
    if not folder.is_dir():
        raise FileNotFoundError(f"UTKFace folder not found: {folder}")

    files, ages, bad_names = [], [], 0
    for file in sorted(folder.rglob("*")):
        rel = file.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not file.is_file():
            continue
        age = _parse_age(file.name)
        if age is None:
            bad_names += 1
        else:
            files.append(file)
            ages.append(age)
    if bad_names:
        warnings.warn(
            f"skipped {bad_names} file(s) in {folder} whose names do not parse as "
            "age_gender_race_datetime.jpg",
            UserWarning,
            stacklevel=2,
        )

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(files)) if n is not None else np.arange(len(files))
    wanted = len(files) if n is None else n
    pixels, targets, unreadable = [], [], 0
    for i in order:
        if len(pixels) == wanted:
            break
        image = _read_image(files[i], image_size)
        if image is None:
            unreadable += 1
        else:
            pixels.append(image)
            targets.append(ages[i])
    if unreadable:
        warnings.warn(
            f"skipped {unreadable} unreadable image file(s) in {folder}",
            UserWarning,
            stacklevel=2,
        )
    if not pixels:
        raise ValueError(
            f"no usable UTKFace image (named age_gender_race_datetime.jpg) in {folder}"
        )
    if n is not None and len(pixels) < n:
        raise ValueError(
            f"n={n} images requested but only {len(pixels)} usable ones in {folder}"
        )

    x = np.stack(pixels)
    y = np.asarray(targets, dtype=float)
    train, test = _split(len(y), test_fraction, rng)
    x_train, x_test = _standardize_features(x[train], x[test])
    data = RegressionData(x_train, y[train], x_test, y[test],
                          f"UTKFace ({len(y)} images, {image_size}x{image_size} grey)")
    return standardize_y(data)[0] if standardize_target else data


# ---------------------------------------------------------------------------
# Diabetes
# ---------------------------------------------------------------------------


def diabetes(
    seed: int = 0, test_fraction: float = 0.25, standardize_target: bool = True
) -> RegressionData:
    """scikit-learn's diabetes data (Efron et al. 2004), bundled with scikit-learn.

    442 patients; 10 baseline features (age in years, sex, body-mass index,
    mean blood pressure and six blood-serum measurements) and, as target, a
    quantitative measure of disease progression one year after baseline (a
    score from about 25 to 346, no physical unit). The raw features (not
    scikit-learn's pre-scaled ones, which use statistics of all 442 rows) are
    split at random from ``seed`` and standardised with the training mean and
    standard deviation, so every feature has training mean 0 and sd 1.

    Parameters
    ----------
    seed:
        Seed of the split.
    test_fraction:
        Share of the patients held out for testing, in (0, 1).
    standardize_target:
        ``True`` (default): the target is standardised with the training mean
        and sd (a test MSE of 1 is as good as predicting the training mean);
        ``False``: the progression score in its original units.
    """
    seed = check_int(seed, "seed", 0)
    test_fraction = check_probability(test_fraction, "test_fraction")
    try:  # local import: only this loader needs scikit-learn
        from sklearn.datasets import load_diabetes
    except ImportError as err:
        raise ImportError(
            "the diabetes data ship with scikit-learn: pip install scikit-learn"
        ) from err

    x, y = load_diabetes(return_X_y=True, scaled=False)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    train, test = _split(len(y), test_fraction, np.random.default_rng(seed))
    x_train, x_test = _standardize_features(x[train], x[test])
    data = RegressionData(x_train, y[train], x_test, y[test], "diabetes (scikit-learn)")
    return standardize_y(data)[0] if standardize_target else data


def load_real_data(
    path: str | os.PathLike | None = None,
    *,
    seed: int = 0,
    standardize_target: bool = False,
    **utkface_options,
) -> RegressionData:
    """UTKFace if the reader has it, otherwise the diabetes data.

    UTKFace is loaded with :func:`load_utkface` from ``path`` if given, else
    from the folder named by the environment variable ``UTKFACE_DIR`` if it is
    set and not empty. Otherwise :func:`diabetes` is returned. The ``name`` of
    the result says which one it is (it starts with ``"UTKFace"`` or
    ``"diabetes"``).

    Parameters
    ----------
    path:
        The UTKFace folder, or ``None``.
    seed:
        Seed of the split (and of the UTKFace subset).
    standardize_target:
        As in the two loaders; the default ``False`` keeps the original units
        (years, or the progression score).
    **utkface_options:
        ``image_size``, ``n`` and ``test_fraction`` for :func:`load_utkface`;
        only ``test_fraction`` applies to the diabetes data.
    """
    if path is None:
        path = os.environ.get(UTKFACE_ENV) or None
    if path is not None:
        return load_utkface(
            path, seed=seed, standardize_target=standardize_target, **utkface_options
        )
    unknown = set(utkface_options) - {"test_fraction", "image_size", "n"}
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {sorted(unknown)}")
    kwargs = (
        {"test_fraction": utkface_options["test_fraction"]}
        if "test_fraction" in utkface_options
        else {}
    )
    return diabetes(seed=seed, standardize_target=standardize_target, **kwargs)
