"""The shelf check: a clerk's photo against the planogram → registered or refused, exposure, missing and
misplaced key products with their boxes in the photo's own pixels, and the annotated photo.

Order of decisions (each refusal is final; a refused photo never gets a verdict):
1. unreadable — not an image;
2. too_dark — mean brightness under DARK_MEAN (a −40 % exposure of a normal shelf is far above it);
3. too_blurry — fine-scale detail share under BLUR_MIN (contrast-independent, see features.sharpness);
4. not_this_shelf — too few geometrically consistent SIFT matches, inliers covering too little of the reference,
   or a homography no flat shelf can produce; also when a key region falls outside the photo (cannot judge it).
Then the photo is warped into the reference frame and each key product's template (cut from the reference photo
at load time) is searched by normalised cross-correlation: found in its region → in place; found only elsewhere
on the shelf → misplaced (box where it was found); found nowhere → missing (box = its region).

Exposure = in-place key products / key products (each key product weighs the same: the planogram lists the
products whose main visual position matters, not their areas).

Why NCC on the rectified photo: after registration the product's scale and orientation are known, so a template
comparison is exact where a second feature match per product would be noisy on small packages; NCC is invariant
to the ±40 % brightness and to colour casts, and a search window absorbs a few pixels of registration error.
"""

from __future__ import annotations

import io
import logging
import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from handlers.stores.shelf import features
from handlers.stores.shelf.planogram import MATCH_SCALE, Planogram

log = logging.getLogger("salespulse.shelf")

DARK_MEAN = 0.12  # mean brightness 0..1 below which a photo is too dark to judge
BLUR_MIN = 0.11  # features.sharpness below which a photo is too blurred
PRESENT_SURE = 0.7  # NCC of the product's template inside its region: in place, no need to look elsewhere
PRESENT = 0.55  # in place unless found clearly better (CLEARLY_ELSEWHERE) somewhere else
CLEARLY_ELSEWHERE = 0.25
TOLERANCE = 0.08  # of the template's size: registration error allowed around a region
FOUND_ELSEWHERE = 0.65  # NCC outside its region: the product stands elsewhere on the shelf
MIN_VISIBLE = 0.85  # share of every key region that must be inside the photo
WORK_PHOTO = 960  # long side (px) the photo is analysed at (a 4000-px photo decodes at 1/4: 1000 px)
ANNOTATED_LONG_SIDE = 1000
MAX_PIXELS = 120_000_000  # larger "photos" are refused as unreadable before decoding (a decompression bomb)


@dataclass(frozen=True)
class Problem:
    product: str
    kind: str  # "missing" | "misplaced"
    box: tuple[int, int, int, int]  # x, y, w, h in the photo's pixels


@dataclass(frozen=True)
class ShelfCheck:
    registered: bool
    reason: str  # "" | "not_this_shelf" | "too_dark" | "too_blurry" | "unreadable"
    exposure: float | None
    problems: list[Problem] = field(default_factory=list)
    annotated_png: bytes | None = None
    in_place: list[str] = field(default_factory=list)
    detail: dict = field(default_factory=dict)  # scores for logs and tuning, never shown to users

    def as_json(self) -> dict:
        return {"registered": self.registered, "reason": self.reason,
                "exposure": None if self.exposure is None else round(self.exposure, 4),
                "problems": [{"product": p.product, "kind": p.kind, "box": list(p.box)} for p in self.problems]}


def refusal_text(result: ShelfCheck, planogram: Planogram, texts=None) -> str:
    """"请对准饮料货架重拍：照片太暗，看不清商品" for a refused check ("" for a judged one)."""
    if result.registered:
        return ""
    if texts is None:
        from prompts import Prompts

        texts = Prompts()
    t = texts.t
    return t("shelf.summary_refused", retake=t("shelf.retake", shelf=planogram.shelf),
             why=t(f"shelf.why_{result.reason}", shelf=planogram.shelf))


def _refuse(reason: str, **detail) -> ShelfCheck:
    return ShelfCheck(False, reason, None, [], None, [], detail)


def decode(image: bytes) -> tuple[np.ndarray | None, float]:
    """Decode at a reduced size when the photo is large (JPEG decodes 1/2, 1/4, 1/8 natively: a 12-megapixel photo
    costs a tenth of a full decode). Returns the colour image and photo pixels per decoded pixel."""
    data = np.frombuffer(image, dtype=np.uint8)
    if data.size < 16:
        return None, 1.0
    full = _size(image)
    if full is not None and full[0] * full[1] > MAX_PIXELS:
        return None, 1.0
    if full is not None:
        long_side = max(full)
        for f, flag in ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4),
                        (2, cv2.IMREAD_REDUCED_COLOR_2)):
            if long_side / f >= WORK_PHOTO:
                img = cv2.imdecode(data, flag)
                if img is not None:
                    return img, max(full) / max(img.shape[:2])
                break
    img = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if img is None:
        return None, 1.0
    return img, 1.0


def _size(image: bytes) -> tuple[int, int] | None:
    """(w, h) from the header only, orientation applied."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(image)) as im:
            w, h = im.size
            orient = im.getexif().get(0x0112, 1)
            return (h, w) if orient in (5, 6, 7, 8) else (w, h)
    except Image.DecompressionBombError:
        return (1 << 16, 1 << 16)  # far too large: refused before any decode
    except Exception:  # noqa: BLE001 - any header Pillow cannot read: fall back to a full decode
        return None


def check_photo(image: bytes, planogram: Planogram, *, annotate: bool = True, texts=None) -> ShelfCheck:
    """See the module docstring. `texts` (a prompts.Prompts) names the labels on the annotated photo."""
    t0 = time.perf_counter()
    img, photo_per_px = decode(image)
    if img is None:
        return _refuse("unreadable")
    h0, w0 = img.shape[:2]
    s = min(1.0, 1.25 * WORK_PHOTO / max(h0, w0))  # a decoded image up to 1200 px is used as it is
    small = cv2.resize(img, (round(w0 * s), round(h0 * s)), interpolation=cv2.INTER_AREA) if s < 1 else img
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    dark = features.darkness(gray)
    if dark < DARK_MEAN:
        return _refuse("too_dark", brightness=round(dark, 3))
    sharp = features.sharpness(gray)
    if sharp < BLUR_MIN:
        return _refuse("too_blurry", sharpness=round(sharp, 3))
    reg = features.register(planogram.keypoints, planogram.index, planogram.work_size, gray)
    if not reg.ok:
        return _refuse("not_this_shelf", inliers=reg.inliers, matches=reg.matches, why=reg.why,
                       sharpness=round(sharp, 3))
    H = reg.H  # reference work → photo work
    ww, wh = planogram.work_size
    # regions must be inside the photo to be judged
    for p in planogram.products:
        quad = _quad(p.region_work, H)
        if _inside_share(quad, gray.shape[1], gray.shape[0]) < MIN_VISIBLE:
            return _refuse("not_this_shelf", why=f"region of {p.name} outside the photo", inliers=reg.inliers)
    # rectify from the larger decoded image for detail: reference work → decoded image
    S = np.diag([1 / s, 1 / s, 1.0])
    H_img = S @ H
    m = MATCH_SCALE
    H_match = H_img @ np.diag([1 / m, 1 / m, 1.0])  # reference at match scale → decoded image
    mw, mh = round(ww * m), round(wh * m)
    rect = cv2.warpPerspective(img, H_match, (mw, mh), flags=cv2.INTER_AREA | cv2.WARP_INVERSE_MAP, borderValue=0)
    outside_photo = cv2.warpPerspective(np.full(img.shape[:2], 255, np.uint8), H_match, (mw, mh),
                                        flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP, borderValue=0) == 0
    holes = cv2.integral(outside_photo.astype(np.uint8))
    problems: list[Problem] = []
    in_place: list[str] = []
    scores: dict[str, tuple[float, float]] = {}
    to_photo = np.diag([photo_per_px / s, photo_per_px / s, 1.0]) @ H  # reference work → photo pixels
    W_photo, H_photo = round(w0 * photo_per_px), round(h0 * photo_per_px)
    for p in planogram.products:
        inside, outside, loc = _search(rect, holes, p, full=False)
        if inside >= PRESENT_SURE:
            in_place.append(p.name)
            scores[p.name] = (round(inside, 3), None)
            continue
        inside, outside, loc = _search(rect, holes, p, full=True)
        scores[p.name] = (round(inside, 3), round(outside, 3))
        if inside >= PRESENT and not (outside >= FOUND_ELSEWHERE and outside - inside > CLEARLY_ELSEWHERE):
            in_place.append(p.name)
            continue
        if outside >= FOUND_ELSEWHERE:
            th, tw = p.template.shape[:2]
            box = _box(_quad((loc[0] / m, loc[1] / m, tw / m, th / m), to_photo), W_photo, H_photo)
            problems.append(Problem(p.name, "misplaced", box))
        else:
            problems.append(Problem(p.name, "missing", _box(_quad(p.region_work, to_photo), W_photo, H_photo)))
    exposure = len(in_place) / len(planogram.products)
    png = None
    if annotate:
        from handlers.stores.shelf.annotate import annotate_photo

        png = annotate_photo(img, planogram, H_img, problems, in_place, photo_per_px, texts)
    detail = {"inliers": reg.inliers, "matches": reg.matches, "sharpness": round(sharp, 3),
              "brightness": round(dark, 3), "scores": scores, "seconds": round(time.perf_counter() - t0, 3)}
    log.debug("shelf check %s: %s", planogram.shelf, detail)
    return ShelfCheck(True, "", exposure, problems, png, in_place, detail)


def _search(rect: np.ndarray, holes: np.ndarray, p, full: bool) -> tuple[float, float, tuple[int, int]]:
    """Best NCC of the product's template lying inside its region (grown by TOLERANCE for registration error), and
    — when `full` — the best elsewhere on the shelf (template centre outside the grown region), with its position.
    Positions where the template would overlap the area outside the photo (`holes`, an integral image of it) are
    not compared."""
    tmpl = p.template
    th, tw = tmpl.shape[:2]
    H, W = rect.shape[:2]
    x, y, w, h = p.region_match
    tol = max(3, round(TOLERANCE * max(tw, th)))
    x0, y0 = max(0, x - tol), max(0, y - tol)
    x1, y1 = min(W, x + w + tol), min(H, y + h + tol)
    inside = -1.0
    if x1 - x0 >= tw and y1 - y0 >= th:
        r = features.ncc_map(rect[y0:y1, x0:x1], tmpl)
        r = np.where(_valid(holes, x0, y0, r.shape, tw, th), r, -1.0)
        inside = float(r.max())
    if not full:
        return inside, -1.0, (0, 0)
    r = features.ncc_map(rect, tmpl)
    r = np.where(_valid(holes, 0, 0, r.shape, tw, th), r, -1.0)
    gx0, gy0 = max(0, x0 - tw // 2), max(0, y0 - th // 2)
    r[gy0:max(gy0, y1 - th // 2), gx0:max(gx0, x1 - tw // 2)] = -1.0
    _, best, _, loc = cv2.minMaxLoc(r)
    return inside, float(best), loc


def _valid(holes: np.ndarray, x0: int, y0: int, shape: tuple[int, int], tw: int, th: int) -> np.ndarray:
    """True where a template placed at (x0 + i, y0 + j) covers no pixel from outside the photo."""
    rh, rw = shape
    a = holes[y0:y0 + rh, x0:x0 + rw]
    b = holes[y0:y0 + rh, x0 + tw:x0 + tw + rw]
    c = holes[y0 + th:y0 + th + rh, x0:x0 + rw]
    d = holes[y0 + th:y0 + th + rh, x0 + tw:x0 + tw + rw]
    return (d - b - c + a) == 0


def _quad(box, H: np.ndarray) -> np.ndarray:
    x, y, w, h = box
    pts = np.float32([[x, y], [x + w, y], [x + w, y + h], [x, y + h]]).reshape(-1, 1, 2)
    return cv2.perspectiveTransform(pts, H).reshape(-1, 2)


def _inside_share(quad: np.ndarray, w: int, h: int) -> float:
    area = cv2.contourArea(quad.astype(np.float32))
    if area <= 0:
        return 0.0
    clipped, _ = cv2.intersectConvexConvex(quad.astype(np.float32),
                                           np.float32([[0, 0], [w, 0], [w, h], [0, h]]))
    return float(clipped) / float(area)


def _box(quad: np.ndarray, w: int, h: int) -> tuple[int, int, int, int]:
    x0, y0 = np.clip(quad.min(axis=0), 0, [w, h])
    x1, y1 = np.clip(quad.max(axis=0), 0, [w, h])
    return int(round(x0)), int(round(y0)), int(round(x1 - x0)), int(round(y1 - y0))
