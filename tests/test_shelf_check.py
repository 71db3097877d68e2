"""Shelf photo against the planogram (handlers/stores/shelf): registration under perspective, missing and
misplaced key products, refusals with a reason, the CLI's JSON, and planogram folders that cannot be used.

Photos come from the generator with seeds 0-99 (development range); bench/shelf.py scores on a disjoint range.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from handlers.stores.shelf import PlanogramError, check_photo, load_planogram
from handlers.stores.shelf import generate as gen

SIZE = (1000, 750)


@pytest.fixture(scope="module")
def shelf_dir(tmp_path_factory) -> tuple[gen.Shelf, Path]:
    shelf = gen.make_shelf(3)
    folder = gen.write_planogram(shelf, tmp_path_factory.mktemp("planogram"))
    return shelf, folder


@pytest.fixture(scope="module")
def planogram(shelf_dir):
    return load_planogram(shelf_dir[1])


def _photo_with(shelf, kinds: set[str], seed: int, steep: bool = True) -> gen.Photo:
    """Photo `seed` of shelf 3, whose drawn changes are of these kinds (seeds picked once from the generator)."""
    ph = gen.photo(shelf, seed, size=SIZE)
    assert set(ph.truth.values()) == kinds and (abs(ph.params["yaw"]) > 15) == steep, (ph.truth, ph.params)
    return ph


def test_registers_under_perspective_and_finds_missing(shelf_dir, planogram):
    ph = _photo_with(shelf_dir[0], {"missing"}, 4)
    r = check_photo(ph.jpeg, planogram)
    assert r.registered and r.reason == ""
    assert {(p.product, p.kind) for p in r.problems} == set(ph.truth.items())
    assert r.exposure == pytest.approx((6 - len(ph.truth)) / 6)
    for p in r.problems:  # boxes lie inside the photo, in its own pixels
        x, y, w, h = p.box
        assert 0 <= x and 0 <= y and w > 5 and h > 5 and x + w <= SIZE[0] and y + h <= SIZE[1]
    png = cv2.imdecode(np.frombuffer(r.annotated_png, np.uint8), cv2.IMREAD_COLOR)
    assert png is not None and max(png.shape[:2]) <= 1000


def test_misplaced_products_are_found_where_they_stand(shelf_dir, planogram):
    ph = _photo_with(shelf_dir[0], {"misplaced"}, 0)
    r = check_photo(ph.jpeg, planogram, annotate=False)
    assert r.registered
    assert {(p.product, p.kind) for p in r.problems} == set(ph.truth.items())
    assert r.annotated_png is None


def test_complete_shelf_is_fully_exposed_even_at_a_steep_angle(shelf_dir, planogram):
    ph = _photo_with(shelf_dir[0], set(), 17)
    r = check_photo(ph.jpeg, planogram, annotate=False)
    assert (r.registered, r.exposure, r.problems) == (True, 1.0, [])


@pytest.mark.parametrize("bad", ["too_dark", "too_blurry", "not_this_shelf"])
def test_bad_photos_are_refused_with_their_reason(shelf_dir, planogram, bad):
    ph = gen.photo(shelf_dir[0], 7, size=SIZE, bad=bad, other=gen.make_shelf(77))
    r = check_photo(ph.jpeg, planogram)
    assert (r.registered, r.reason, r.exposure, r.problems, r.annotated_png) == (False, bad, None, [], None)


def test_unreadable_bytes_and_a_blank_image_are_refused(planogram):
    assert check_photo(b"not an image at all", planogram).reason == "unreadable"
    assert check_photo(b"", planogram).reason == "unreadable"
    ok, grey = cv2.imencode(".png", np.full((600, 800, 3), 128, np.uint8))
    r = check_photo(grey.tobytes(), planogram)
    assert not r.registered and r.reason in ("too_blurry", "not_this_shelf")


def test_cli_json(shelf_dir, tmp_path, capsys):
    from bot.cli import main

    ph = _photo_with(shelf_dir[0], {"missing", "misplaced"}, 7, steep=False)
    photo = tmp_path / "p.jpg"
    photo.write_bytes(ph.jpeg)
    out_png = tmp_path / "a.png"
    assert main(["shelf", "check", str(photo), "--planogram", str(shelf_dir[1]), "--json",
                 "--annotated", str(out_png)]) == 0
    got = json.loads(capsys.readouterr().out)
    assert set(got) == {"registered", "reason", "exposure", "problems"}
    assert got["registered"] is True and 0 <= got["exposure"] < 1
    assert {(p["product"], p["kind"]) for p in got["problems"]} == set(ph.truth.items())
    assert all(len(p["box"]) == 4 for p in got["problems"]) and out_png.stat().st_size > 1000
    assert main(["shelf", "check", str(photo), "--planogram", str(shelf_dir[1])]) == 0
    text = capsys.readouterr().out
    assert "饮料" in text or "货架" in text or "端架" in text
    assert "缺货" in text and "错位" in text


def test_cli_refusal_text_names_the_shelf(shelf_dir, tmp_path, capsys):
    from bot.cli import main

    photo = tmp_path / "dark.jpg"
    photo.write_bytes(gen.photo(shelf_dir[0], 8, size=SIZE, bad="too_dark").jpeg)
    assert main(["shelf", "check", str(photo), "--planogram", str(shelf_dir[1])]) == 0
    assert f"请对准{shelf_dir[0].name}货架重拍" in capsys.readouterr().out


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


@pytest.mark.parametrize("edit, names", [
    (lambda d: (d / "planogram.toml").unlink(), "planogram.toml"),
    (lambda d: (d / "planogram.toml").write_text("shelf = [", encoding="utf-8"), "planogram.toml"),
    (lambda d: (d / "reference.png").unlink(), "reference.png"),
    (lambda d: (d / "reference.png").write_bytes(b"garbage"), "reference.png"),
    (lambda d: (d / "products" / "k0.png").unlink(), "k0.png"),
    (lambda d: _sub(d, "region = [", "region = [900000, "), "planogram.toml"),
    (lambda d: _sub(d, 'store_type = "标准店"', 'store_type = "标准店"\nfoo = 1'), "planogram.toml"),
    (lambda d: _sub(d, "shelf = ", "shelf_name = "), "planogram.toml"),
    (lambda d: shutil.copy(d / "products" / "k1.png", d / "products" / "k0.png"), "k0.png"),
])
def test_planogram_folder_errors_name_the_file(shelf_dir, tmp_path, edit, names):
    folder = _copy(shelf_dir[1], tmp_path / "p")
    edit(folder)
    with pytest.raises(PlanogramError, match=names.replace(".", r"\.")):
        load_planogram(folder)


def test_missing_folder(tmp_path):
    with pytest.raises(PlanogramError, match="not found"):
        load_planogram(tmp_path / "nope")


def _sub(folder: Path, old: str, new: str) -> None:
    f = folder / "planogram.toml"
    f.write_text(f.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")


def test_a_decompression_bomb_is_refused_before_decoding(planogram):
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 40000, 40000, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))
    assert check_photo(png, planogram).reason == "unreadable"


def test_refusal_text_is_the_retake_prompt(shelf_dir, planogram):
    from handlers.stores.shelf import refusal_text
    from prompts import Prompts

    r = check_photo(gen.photo(shelf_dir[0], 9, size=SIZE, bad="too_blurry").jpeg, planogram)
    assert refusal_text(r, planogram) == f"请对准{planogram.shelf}货架重拍：照片太模糊，请拿稳手机、对焦后再拍"
    assert refusal_text(r, planogram, Prompts("en")).startswith(f"Please retake the photo of the {planogram.shelf} shelf")
