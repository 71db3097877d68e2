"""A planogram folder: the reference photo of the correct shelf, where each key product must stand, and what each
key product looks like. Loaded once per folder and kept (features and templates are computed here, not per photo).

Folder layout (README "Shelf planograms"):

    planogram.toml          shelf name, store type, reference photo, one [[products]] table per key product
    reference.jpg           the correct shelf, photographed straight on (any name; `reference` says which)
    products/<name>.png     one reference image per key product (a single facing, cropped tight)

    shelf = "饮料"                 # named in "请对准饮料货架重拍"
    store_type = "标准店"
    reference = "reference.jpg"
    [[products]]
    name = "可乐 500ml"
    image = "products/cola.png"
    region = [120, 40, 260, 210]   # x, y, w, h in reference-photo pixels: the product's main visual position

Why the product is located in the reference photo at load time: the product image is a packshot of any size, the
check needs it at the reference photo's scale. Finding it inside its own region (multi-scale template match) gives
that scale and proves the folder is consistent; a product that cannot be found there is a folder error now, not a
wrong verdict on every photo later.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from handlers.stores.shelf import features
from prompts import Keyed

PLANOGRAM_FILE = "planogram.toml"
WORK_LONG_SIDE = 1000  # the reference is matched and judged at this size (long side, pixels)
FIND_MIN_SCORE = 0.6  # a product image must match its own region at least this well
MATCH_SCALE = 0.5  # products are compared at half the work scale: a photo's shelf is often smaller than the
# reference's 1000 px, and comparing at a size the photo really resolves keeps true matches sharp


class PlanogramError(ValueError):
    """The planogram folder is not usable. The message names the file and what is wrong in it."""


@dataclass(frozen=True)
class KeyProduct:
    name: str
    image_path: Path
    region: tuple[int, int, int, int]  # reference-photo pixels
    region_work: tuple[int, int, int, int]  # the same at work scale
    template: np.ndarray  # uint8 BGR at MATCH_SCALE × work scale, as the product appears in the reference photo
    found_at: tuple[int, int]  # top-left of the product in the reference (work scale) at load time
    region_match: tuple[int, int, int, int]  # the region at MATCH_SCALE × work scale


@dataclass(frozen=True)
class Planogram:
    folder: Path
    shelf: str
    store_type: str
    reference_path: Path
    reference_size: tuple[int, int]  # (w, h) of the reference photo
    scale: float  # work pixels per reference pixel
    work_gray: np.ndarray
    keypoints: np.ndarray  # (n, 2) float32 work-scale coordinates
    descriptors: np.ndarray
    index: object  # features.index(descriptors)
    products: tuple[KeyProduct, ...]

    @property
    def work_size(self) -> tuple[int, int]:
        return int(self.work_gray.shape[1]), int(self.work_gray.shape[0])


def _read_image(path: Path, what: Keyed) -> np.ndarray:
    if not path.is_file():
        raise PlanogramError(Keyed("shelf.planogram.not_found", path=path, what=what))
    data = np.frombuffer(path.read_bytes(), dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None:
        raise PlanogramError(Keyed("shelf.planogram.not_image", path=path, what=what))
    return img


def _box(value, path: Path, name: str) -> tuple[int, int, int, int]:
    if not (isinstance(value, list) and len(value) == 4 and all(isinstance(v, int | float) for v in value)):
        raise PlanogramError(Keyed("shelf.planogram.region_shape", path=path, name=name, value=value))
    x, y, w, h = (int(round(v)) for v in value)
    if w <= 0 or h <= 0 or x < 0 or y < 0:
        raise PlanogramError(Keyed("shelf.planogram.region_sign", path=path, name=name, value=value))
    return x, y, w, h


def load_planogram(folder: Path | str) -> Planogram:
    folder = Path(folder)
    toml_path = folder / PLANOGRAM_FILE
    if not folder.is_dir():
        raise PlanogramError(Keyed("shelf.planogram.no_folder", path=folder))
    if not toml_path.is_file():
        raise PlanogramError(Keyed("shelf.planogram.no_toml", path=toml_path, file=PLANOGRAM_FILE))
    try:
        data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PlanogramError(Keyed("shelf.planogram.bad_toml", path=toml_path, why=exc)) from None
    unknown = set(data) - {"shelf", "store_type", "reference", "products"}
    if unknown:
        raise PlanogramError(Keyed("shelf.planogram.unknown_keys", path=toml_path, keys=", ".join(sorted(unknown))))
    shelf = str(data.get("shelf") or "").strip()
    if not shelf:
        raise PlanogramError(Keyed("shelf.planogram.no_shelf", path=toml_path))
    ref_path = folder / str(data.get("reference") or "reference.jpg")
    ref = _read_image(ref_path, Keyed("shelf.planogram.what_reference"))
    rh, rw = ref.shape[:2]
    scale = min(1.0, WORK_LONG_SIDE / max(rw, rh))
    work_colour = cv2.resize(ref, (round(rw * scale), round(rh * scale)), interpolation=cv2.INTER_AREA)
    work = cv2.cvtColor(work_colour, cv2.COLOR_BGR2GRAY)
    items = data.get("products")
    if not isinstance(items, list) or not items:
        raise PlanogramError(Keyed("shelf.planogram.no_products", path=toml_path))
    products: list[KeyProduct] = []
    seen: set[str] = set()
    for k, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise PlanogramError(Keyed("shelf.planogram.product_table", path=toml_path, k=k))
        name = str(item.get("name") or "").strip()
        if not name:
            raise PlanogramError(Keyed("shelf.planogram.product_name", path=toml_path, k=k))
        if name in seen:
            raise PlanogramError(Keyed("shelf.planogram.product_twice", path=toml_path, name=name))
        seen.add(name)
        extra = set(item) - {"name", "image", "region"}
        if extra:
            raise PlanogramError(Keyed("shelf.planogram.product_keys", path=toml_path, name=name, keys=", ".join(sorted(extra))))
        if "image" not in item:
            raise PlanogramError(Keyed("shelf.planogram.product_image", path=toml_path, name=name))
        region = _box(item.get("region"), toml_path, name)
        x, y, w, h = region
        if x + w > rw or y + h > rh:
            raise PlanogramError(Keyed("shelf.planogram.region_outside", path=toml_path, name=name, region=list(region),
                                           reference=ref_path.name, w=rw, h=rh))
        img_path = folder / str(item["image"])
        product = _read_image(img_path, Keyed("shelf.planogram.what_product", name=name))
        rw_box = tuple(int(round(v * scale)) for v in region)
        size, at, score = features.locate_in_region(work, cv2.cvtColor(product, cv2.COLOR_BGR2GRAY), rw_box)
        if score < FIND_MIN_SCORE:
            raise PlanogramError(Keyed("shelf.planogram.not_visible", path=img_path, name=name, region=list(region),
                                           reference=ref_path.name, score=f"{score:.2f}"))
        cut = work_colour[at[1]:at[1] + size[1], at[0]:at[0] + size[0]]
        template = cv2.resize(cut, (max(4, round(size[0] * MATCH_SCALE)), max(4, round(size[1] * MATCH_SCALE))),
                              interpolation=cv2.INTER_AREA)
        rm = tuple(int(round(v * MATCH_SCALE)) for v in rw_box)
        products.append(KeyProduct(name, img_path, region, rw_box, template, at, rm))  # type: ignore[arg-type]
    kp, desc = features.detect(work)
    if len(kp) < features.MIN_REFERENCE_FEATURES:
        raise PlanogramError(Keyed("shelf.planogram.little_detail", path=ref_path, n=len(kp)))
    return Planogram(folder, shelf, str(data.get("store_type") or ""), ref_path, (rw, rh), scale, work, kp, desc,
                     features.index(desc), tuple(products))
