"""Small files that unfold into something enormous are refused quickly and without eating the worker's memory.

Memory is measured with tracemalloc (Python-level allocations, which is where pypdf's decompressed streams and
parsed objects live); time with a generous bound that a naive reader would miss by orders of magnitude.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable

import pytest

from portal.files import FileError, UploadPolicy, store_upload
from portal.files.policy import MB
from tests.portal.files import samples
from tests.portal.files.conftest import actor, stored_objects

POLICY = UploadPolicy(max_bytes=30 * MB, max_pdf_pages=50, max_image_pixels=40_000_000)
SECONDS = 3.0
PEAK_BYTES = 40 * MB


def _refused_cheaply(user, data: bytes, name: str) -> FileError:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(FileError) as refused:
            store_upload(actor(user), samples.upload(data, name), POLICY, purpose="tests.bomb")
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < SECONDS, f"took {elapsed:.2f}s"
    assert peak < PEAK_BYTES, f"peak {peak / MB:.1f} MB"
    return refused.value


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: samples.pdf_object_stream_bomb(1), id="object-stream-1MB"),
        pytest.param(lambda: samples.pdf_page_tree_bomb(fan_out=3, levels=2), id="page-tree-9"),
        pytest.param(lambda: samples.pdf_deeply_nested(depth=5), id="nested-5"),
    ],
)
def test_the_hand_built_pdfs_are_valid_at_harmless_sizes(app, anna, build: Callable[[], bytes]):
    # Without this, the refusals below could come from a mistake in the test file rather than from the limits.
    stored = store_upload(actor(anna), samples.upload(build(), "echt.pdf"), POLICY, purpose="tests.bomb")
    assert stored.page_count in {1, 9}


def test_pdf_claiming_a_billion_pages_is_refused_at_once(app, anna, files_dir):
    error = _refused_cheaply(anna, samples.pdf_claiming_pages(1_000_000_000), "riesig.pdf")

    assert error.code == "too_many_pages"
    assert "1.000.000.000 Seiten" in error.message
    assert stored_objects(files_dir) == []


def test_pdf_page_tree_unfolding_into_a_million_pages_is_refused(app, anna, files_dir):
    data = samples.pdf_page_tree_bomb(fan_out=100, levels=3)
    assert len(data) < 10_000

    assert _refused_cheaply(anna, data, "baum.pdf").code == "unreadable"
    assert stored_objects(files_dir) == []


def test_pdf_nested_thousands_of_levels_deep_is_refused(app, anna, files_dir):
    assert _refused_cheaply(anna, samples.pdf_deeply_nested(depth=5000), "tief.pdf").code == "unreadable"
    assert stored_objects(files_dir) == []


def test_pdf_object_stream_inflating_to_200_mb_is_refused(app, anna, files_dir):
    data = samples.pdf_object_stream_bomb(inflated_mb=200)
    assert len(data) < 1 * MB

    assert _refused_cheaply(anna, data, "stream.pdf").code == "unreadable"
    assert stored_objects(files_dir) == []


def test_png_of_20000_by_20000_pixels_in_a_tiny_file_is_refused_without_decoding(app, anna, files_dir):
    data = samples.png_bomb(20000, 20000)
    assert len(data) < 100 * 1024

    error = _refused_cheaply(anna, data, "bombe.png")

    assert error.code == "too_many_pixels"
    assert "20.000 × 20.000 Pixel" in error.message
    assert stored_objects(files_dir) == []
