"""Embedding kernels against their NumPy twins (where the native kernels are built), and the
wrappers' behaviour with each implementation."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.kernels import NATIVE, requires_native
from veilcam_native import _embed_py, embed

native = NATIVE.embed if NATIVE is not None else None


@pytest.fixture(params=["simd", "avx2", "plain"])
def code_path(request: pytest.FixtureRequest) -> Iterator[str]:
    """The widest x86 SIMD loops this CPU has, the AVX2 ones (where AVX-512 would otherwise
    run) and the plain ones (what ARM boards run)."""
    if request.param == "plain":
        native.simd(False)
    elif not native.simd(True, wide=request.param == "simd"):
        pytest.skip("no SIMD kernels on this CPU")
    yield request.param
    native.simd(True)


sizes = st.tuples(st.integers(1, 5), st.integers(1, 300), st.sampled_from([1, 3, 16, 128, 130]))


@requires_native
@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sizes, st.integers(0, 2**32 - 1), st.integers(1, 8))
def test_topk_dot_f32(code_path: str, shape: tuple[int, int, int], seed: int, k: int) -> None:
    q_n, n, d = shape
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((n, d)).astype(np.float32)
    q = rng.standard_normal((q_n, d)).astype(np.float32)
    k = min(k, n)
    s, i = embed.topk_dot(q, g, k)
    s2, i2 = _embed_py.topk_dot_f32(q, g, k)
    np.testing.assert_allclose(s, s2, rtol=1e-5, atol=1e-4)  # summation order differs
    exact = q.astype(np.float64) @ g.T.astype(np.float64)
    chosen = np.take_along_axis(exact, i, axis=1)
    np.testing.assert_allclose(chosen, np.take_along_axis(exact, i2, axis=1), rtol=1e-5, atol=1e-4)


@requires_native
@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sizes, st.integers(0, 2**32 - 1), st.integers(1, 8))
def test_topk_dot_i8_is_exact(
    code_path: str, shape: tuple[int, int, int], seed: int, k: int
) -> None:
    q_n, n, d = shape
    rng = np.random.default_rng(seed)
    g = rng.integers(-128, 128, (n, d), dtype=np.int8)  # -128 too: any int8, not only codes
    q = rng.integers(-128, 128, (q_n, d), dtype=np.int8)
    k = min(k, n)
    for got, want in zip(embed.topk_dot(q, g, k), _embed_py.topk_dot_i8(q, g, k), strict=True):
        np.testing.assert_array_equal(got, want)


@requires_native
@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.integers(1, 3),
    st.integers(1, 1500),  # several blocks of 512, and a remainder
    st.sampled_from([8, 32, 32, 64]),
    st.integers(0, 2**32 - 1),
    st.integers(1, 6),
)
def test_topk_hamming_is_exact(
    code_path: str, q_n: int, n: int, nbytes: int, seed: int, k: int
) -> None:
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 256, (n, nbytes), dtype=np.uint8)
    q = rng.integers(0, 256, (q_n, nbytes), dtype=np.uint8)
    g[n // 2] = q[0]  # one exact match
    k = min(k, n)
    d, i = embed.topk_hamming(q, g, k)
    d2, i2 = _embed_py.topk_hamming(q.view(np.uint64), g.view(np.uint64), k)
    np.testing.assert_array_equal(d, d2)
    np.testing.assert_array_equal(i, i2)
    assert d[0, 0] == 0


@requires_native
@pytest.mark.parametrize("d", [16, 128])
def test_a_lone_match_is_found_wherever_it_sits(code_path: str, d: int) -> None:
    """Rows are scored 256 at a time and only the scores that beat the k-th best are
    visited, found eight at a time: the match must count however the block's length falls
    against the SIMD width (the last, partial vector of a block included)."""
    rng = np.random.default_rng(d)
    for n in (300, 519):
        g = rng.standard_normal((n, d)).astype(np.float32) * np.float32(0.01)
        q = rng.standard_normal(d).astype(np.float32)
        for row in (0, 7, 255, 256, 263, 295, 296, n - 2, n - 1):
            h = g.copy()
            h[row] = q
            _, where = embed.topk_dot(q, h, 3)
            assert where[0, 0] == row, (n, row)


@requires_native
@pytest.mark.parametrize("n", [1, 3, 300])
def test_a_gallery_anywhere_in_a_cache_line_scores_alike(code_path: str, n: int) -> None:
    """128-dimensional rows that start part-way into a 64-byte line are read as whole lines
    with the query shifted to match: every float offset gives the same scores as the exact
    ones, and the NaNs around the gallery (in the same lines) never count."""
    rng = np.random.default_rng(n)
    g = rng.standard_normal((n, 128)).astype(np.float32)
    q = rng.standard_normal((2, 128)).astype(np.float32)
    exact = q.astype(np.float64) @ g.T.astype(np.float64)
    k = min(3, n)
    raw = np.empty(g.nbytes + 256, np.uint8)
    start = (-raw.ctypes.data) % 64
    for offset in range(0, 64, 4):
        room = raw[start : start + g.nbytes + 128].view(np.float32)
        room[:] = np.nan
        placed = room[offset // 4 : offset // 4 + g.size].reshape(g.shape)
        placed[...] = g
        assert placed.ctypes.data % 64 == offset
        scores, where = embed.topk_dot(q, placed, k)
        np.testing.assert_array_equal(where, np.argsort(-exact, axis=1, kind="stable")[:, :k])
        np.testing.assert_allclose(
            scores, np.take_along_axis(exact, where, 1), rtol=1e-5, atol=1e-4
        )
    # not even on a float boundary (a foreign buffer): another loop, the same answer
    odd = np.frombuffer(raw.data, np.float32, g.size, start + 2).reshape(g.shape)
    assert not odd.flags.aligned
    odd[...] = g
    scores, where = embed.topk_dot(q, odd, k)
    np.testing.assert_array_equal(where, np.argsort(-exact, axis=1, kind="stable")[:, :k])


def test_ties_keep_the_lower_index(kernels: SimpleNamespace) -> None:
    g = np.ones((10, 4), np.float32)
    s, i = embed.topk_dot(np.ones(4, np.float32), g, 3)
    assert i.tolist() == [[0, 1, 2]]
    d, i = embed.topk_hamming(np.zeros(8, np.uint8), np.zeros((6, 8), np.uint8), 4)
    assert i.tolist() == [[0, 1, 2, 3]] and d.tolist() == [[0, 0, 0, 0]]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.integers(1, 50), st.integers(1, 200), st.integers(0, 2**32 - 1))
def test_l2_normalize_and_quantize(kernels: SimpleNamespace, n: int, d: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, d)) * rng.uniform(0.01, 100)).astype(np.float32)
    x[0] = 0  # an all-zero row stays zero
    a, b = x.copy(), x.copy()
    embed.l2_normalize(a)
    _embed_py.l2_normalize(b)
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    norms = np.linalg.norm(a[1:], axis=1)
    np.testing.assert_allclose(norms, 1.0, rtol=1e-5)
    codes, scales = embed.quantize_i8(x)
    codes2, scales2 = np.empty_like(codes), np.empty_like(scales)
    _embed_py.quantize_i8(x, codes2, scales2)
    np.testing.assert_allclose(scales, scales2, rtol=1e-6)
    assert np.abs(codes.astype(int) - codes2).max(initial=0) <= 1  # x/s vs x*(1/s) at .5
    assert codes.min() >= -127 and codes.max() <= 127 and not codes[0].any()
    # Within half a step, up to float32 rounding of x * (1/scale) (relative, not absolute:
    # values here reach 127 * scale).
    err = np.abs(codes.astype(np.float64) * scales[:, None] - x)
    assert (err <= scales[:, None].astype(np.float64) * (0.5 + 1e-5)).all()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: embed.topk_dot(np.zeros(3, np.float32), np.zeros((5, 4), np.float32)),
            "3 dimensions, the gallery 4",
        ),
        (
            lambda: embed.topk_dot(np.zeros(4, np.float32), np.zeros((5, 4), np.float32), 6),
            "between 1 and the gallery size 5",
        ),
        (
            lambda: embed.topk_dot(np.zeros(4, np.float64), np.zeros((5, 4), np.float64)),
            "must be float32",
        ),
        (
            lambda: embed.topk_hamming(np.zeros(12, np.uint8), np.zeros((5, 12), np.uint8)),
            "whole 64-bit words",
        ),
        (lambda: embed.quantize_i8(np.array([[np.nan]], np.float32)), "finite"),
    ],
)
def test_bad_input_is_refused_clearly(kernels: SimpleNamespace, call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises((TypeError, ValueError), match=message):
        call()


def test_keyed_rotation_is_orthogonal_keyed_and_preserves_matching(
    kernels: SimpleNamespace,
) -> None:
    r1 = embed.keyed_rotation(b"site-A" * 4, 128)
    r2 = embed.keyed_rotation(b"site-B" * 4, 128)
    np.testing.assert_allclose(r1 @ r1.T, np.eye(128), atol=1e-5)
    np.testing.assert_array_equal(r1, embed.keyed_rotation(b"site-A" * 4, 128))  # deterministic
    rng = np.random.default_rng(9)
    x = rng.standard_normal((20, 128)).astype(np.float32)
    embed.l2_normalize(x)
    a, b = embed.apply_rotation(x, r1), embed.apply_rotation(x, r2)
    want = np.empty_like(x)
    _embed_py.apply_rotation(x, r1, want)
    np.testing.assert_allclose(a, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(a @ a.T, x @ x.T, atol=1e-5)  # matching within a site works
    cross = np.abs(np.sum(a * b, axis=1))  # the same face under two keys: unrelated
    assert cross.max() < 0.5
    with pytest.raises(ValueError, match="16 bytes"):
        embed.keyed_rotation(b"short", 128)
