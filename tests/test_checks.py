"""celib._checks: the one validation layer (types -> TypeError, values -> ValueError)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from celib import _checks


def test_count():
    assert _checks.count(3, "n", 1) == 3
    assert _checks.count(np.int64(3), "n") == 3
    for bad in (True, 2.0, math.nan, math.inf, "3", None, [3]):
        with pytest.raises(TypeError, match="n must be an integer, got"):
            _checks.count(bad, "n", 1)
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        _checks.count(0, "n", 1)


def test_real_scalar():
    assert _checks.real_scalar(np.float32(0.5), "bias") == 0.5
    assert _checks.real_scalar(np.array(2.0), "bias") == 2.0
    for bad in (True, "1", None, [1.0], 1j, np.array([1.0])):
        with pytest.raises(TypeError, match="bias must be a real number"):
            _checks.real_scalar(bad, "bias")
    with pytest.raises(ValueError, match="bias must be a finite number, got nan"):
        _checks.real_scalar(math.nan, "bias")
    assert _checks.real_scalar(math.inf, "x", finite=False) == math.inf
    with pytest.raises(ValueError, match="scale must be > 0"):
        _checks.real_scalar(0.0, "scale", positive=True)
    with pytest.raises(ValueError, match="pad must be >= 0"):
        _checks.real_scalar(-1, "pad", nonnegative=True)


def test_real_array_and_labels():
    np.testing.assert_array_equal(_checks.real_array([1, 2], "w"), [1.0, 2.0])
    for bad, match in [
        (None, "w must be array-like"),
        ("ab", "w must be array-like"),
        ([[1.0], [1.0, 2.0]], "w must be array-like"),
        (np.array([1j]), "w must hold real numbers"),
        (np.array(["a"]), "w must hold real numbers"),
        (torch.zeros(2), "w must be a numpy array"),
    ]:
        with pytest.raises(TypeError, match=match):
            _checks.real_array(bad, "w")
    with pytest.raises(ValueError, match="w is empty"):
        _checks.real_array([], "w")
    with pytest.raises(ValueError, match="w must be finite, but contains NaN"):
        _checks.real_array([np.nan], "w")
    with pytest.raises(ValueError, match=r"w must have shape \(n, 2\), got \(1, 3\)"):
        _checks.real_array([[1.0, 2.0, 3.0]], "w", shape=(None, 2))
    assert _checks.label_array([0, 2], "labels").dtype == np.int64
    with pytest.raises(TypeError, match="labels must hold integer class labels"):
        _checks.label_array([0.0, 1.0], "labels")
    with pytest.raises(ValueError, match="labels must be class labels < 2, got 2"):
        _checks.label_array([0, 2], "labels", n_classes=2)


def test_flag_choice_callable():
    assert _checks.flag(np.bool_(True), "from_logits") is True
    with pytest.raises(TypeError, match="from_logits must be True or False, got 'yes'"):
        _checks.flag("yes", "from_logits")
    assert _checks.check_reduction("sum") == "sum"
    with pytest.raises(TypeError, match="reduction must be one of"):
        _checks.check_reduction(np.array(["mean"]))
    with pytest.raises(ValueError, match="reduction must be one of .* got 'avg'"):
        _checks.check_reduction("avg")
    with pytest.raises(TypeError, match="f must be a callable, got 3"):
        _checks.check_callable(3, "f")


def test_base():
    assert _checks.log_base(None) is None
    assert _checks.log_base(2) == math.log(2)
    assert _checks.to_base(math.log(8), 2) == pytest.approx(3.0)
    for bad in ("2", [2], True, 2j):
        with pytest.raises(TypeError, match="base must be a number"):
            _checks.log_base(bad)
    for bad in (1, 0, -2, math.inf, math.nan):
        with pytest.raises(ValueError, match="base must be a positive finite number"):
            _checks.log_base(bad)


def test_reduce_and_the_mean_divisor():
    xp, _ = _checks.namespace(a=np.zeros(1))
    loss = np.array([1.0, 2.0, 6.0])
    assert _checks.reduce(xp, loss, "mean") == 3.0
    assert _checks.reduce(xp, loss, "sum") == 9.0
    assert _checks.reduce(xp, loss, "none") is loss
    assert _checks.mean_divisor(xp, loss) == 3
    w = np.array([1.0, 1.0, 2.0])
    assert _checks.reduce(xp, loss * w, "mean", weights=w) == pytest.approx(15 / 4)
    assert math.isnan(_checks.reduce(xp, np.zeros(0), "mean"))  # PyTorch's value
    with pytest.raises(ValueError, match="no terms is 0/0.*no entries in t"):
        _checks.reduce(xp, np.zeros(0), "mean", name="t")
    tx, _ = _checks.namespace(a=torch.zeros(1))
    assert torch.isnan(_checks.reduce(tx, torch.zeros(0), "mean"))
    assert _checks.reduce(tx, torch.zeros(0), "sum") == 0


def test_rng():
    g = np.random.default_rng(1)
    assert _checks.rng(g) is g
    assert _checks.rng(5).random() == np.random.default_rng(5).random()
    for bad in (None, 1.5, "1", True, np.random.RandomState(0)):
        with pytest.raises(TypeError, match="rng must be a numpy.random.Generator or an int"):
            _checks.rng(bad)
    with pytest.raises(ValueError, match="rng must be a non-negative int seed"):
        _checks.rng(-1)


def test_frozen_law():
    law = stats.norm(0, 1)
    assert _checks.frozen_law(law, "P") is law
    assert _checks.frozen_law(stats.norm, "P") is stats.norm  # the standard normal
    assert _checks.is_frozen_law(stats.multivariate_normal([0.0], [[1.0]]))
    with pytest.raises(TypeError, match="P must be a frozen distribution.*stats.gamma.*a"):
        _checks.frozen_law(stats.gamma, "P")
    with pytest.raises(TypeError, match="P must be a frozen scipy.stats distribution"):
        _checks.frozen_law(3.0, "P")
    with pytest.raises(TypeError, match="P's parameter loc must be a real number"):
        _checks.frozen_law(stats.norm(loc=None), "P")
    with pytest.raises(TypeError, match="P's shape 0 must be a real number"):
        _checks.frozen_law(stats.norm(1j), "P")
    with pytest.raises(ValueError, match="P's parameter scale must be finite"):
        _checks.frozen_law(stats.norm(scale=np.inf), "P")
    with pytest.raises(ValueError, match="P has parameters outside the domain of stats.gamma"):
        _checks.frozen_law(stats.gamma(-1.0), "P")


def test_mapping():
    assert _checks.mapping(None, "fixed") == {}
    assert _checks.mapping({"loc": 1}, "fixed") == {"loc": 1.0}
    assert _checks.mapping({"loc": None}, "fixed", allow_none=True) == {"loc": None}
    with pytest.raises(TypeError, match="fixed must be a mapping"):
        _checks.mapping(["loc"], "fixed")
    with pytest.raises(TypeError, match=r"fixed\['loc'\] must be a real number"):
        _checks.mapping({"loc": "0"}, "fixed")
    with pytest.raises(ValueError, match="fixed: unknown parameter 'mu' .*loc, scale"):
        _checks.mapping({"mu": 0.0}, "fixed", keys=("loc", "scale"))


def test_namespace_refuses_ragged_strings_and_none():
    for bad in (None, "abc", [[1.0], [1.0, 2.0]], [object()]):
        with pytest.raises(TypeError, match="p must"):
            _checks.namespace(p=bad)
    with pytest.raises(TypeError, match="numpy arrays or all torch tensors"):
        _checks.namespace(p=np.zeros(2), q=torch.zeros(2))
    with pytest.raises(ValueError, match="y must have at least one dimension"):
        _checks.normalize_axis(-1, 0, array="y")
