"""Image primitives of the shelf check: local features, photo-to-reference registration, template search, and the
photo-quality measures that decide "too dark" / "too blurred" before any verdict.

Why SIFT + ratio test + USAC-MAGSAC homography: a clerk's photo is taken at up to ±30° of perspective, ±15° of
roll and 0.6–1.4× the distance, with half the key products possibly missing or moved; SIFT is scale- and
rotation-invariant and MAGSAC finds the shelf plane among matches on fillers, price tags and the shelf itself.
Everything runs on a downscaled copy (long side ~1000 px): more pixels add time, not accuracy, and boxes are
mapped back to the photo's own pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MAX_FEATURES = 3000  # on the reference (once per planogram)
PHOTO_FEATURES = 2000  # on each photo: matching cost is the product of the two
MIN_REFERENCE_FEATURES = 60
RATIO = 0.78  # Lowe's ratio test
RANSAC_PX = 5.0  # reprojection threshold in work pixels
MIN_INLIERS = 25
MIN_INLIER_SHARE = 0.12  # of ratio-test survivors
MIN_HULL_SHARE = 0.20  # inliers must spread over this share of the reference (not one product seen elsewhere)

_orb: dict[int, cv2.ORB] = {}


def _detector(n: int):
    if n not in _orb:
        _orb[n] = cv2.ORB_create(nfeatures=n, scaleFactor=1.2, nlevels=8, fastThreshold=12)
    return _orb[n]


def detect(gray: np.ndarray, n: int = MAX_FEATURES) -> tuple[np.ndarray, np.ndarray]:
    kps, desc = _detector(n).detectAndCompute(gray, None)
    pts = np.array([k.pt for k in kps], dtype=np.float32).reshape(-1, 2)
    if desc is None:
        desc = np.zeros((0, 32), dtype=np.uint8)
    return pts, desc


@dataclass(frozen=True)
class Registration:
    ok: bool
    H: np.ndarray | None  # reference work → photo work
    inliers: int
    matches: int
    why: str  # "" or a short diagnostic for logs


def index(desc: np.ndarray):
    """A FLANN LSH index over the reference's binary descriptors, built once per planogram: a query costs a
    quarter of brute-force Hamming matching for the same matches."""
    fl = cv2.FlannBasedMatcher(dict(algorithm=6, table_number=6, key_size=12, multi_probe_level=1),
                               dict(checks=50))
    if len(desc):
        fl.add([desc])
        fl.train()
    return fl


def register(ref_pts: np.ndarray, ref_index, ref_size: tuple[int, int], photo_gray: np.ndarray) -> Registration:
    pts, desc = detect(photo_gray, PHOTO_FEATURES)
    if len(pts) < 8 or len(ref_pts) < 8:
        return Registration(False, None, 0, 0, f"{len(pts)} features in the photo")
    knn = ref_index.knnMatch(desc, k=2)
    good = [m[0] for m in knn if len(m) == 2 and m[0].distance < RATIO * m[1].distance]
    if len(good) < MIN_INLIERS:
        return Registration(False, None, 0, len(good), f"{len(good)} matches")
    src = ref_pts[[m.trainIdx for m in good]]
    dst = pts[[m.queryIdx for m in good]]
    H, mask = cv2.findHomography(src, dst, cv2.USAC_MAGSAC, RANSAC_PX, maxIters=5000, confidence=0.999)
    if H is None or mask is None:
        return Registration(False, None, 0, len(good), "no homography")
    inl = mask.ravel().astype(bool)
    n_in = int(inl.sum())
    if n_in < MIN_INLIERS or n_in < MIN_INLIER_SHARE * len(good):
        return Registration(False, None, n_in, len(good), f"{n_in} inliers of {len(good)}")
    w, h = ref_size
    hull = cv2.convexHull(src[inl].reshape(-1, 1, 2))
    if cv2.contourArea(hull) < MIN_HULL_SHARE * w * h:
        return Registration(False, None, n_in, len(good), "inliers cover too little of the shelf")
    why = degenerate(H, ref_size, photo_gray.shape[1::-1])
    if why:
        return Registration(False, None, n_in, len(good), why)
    return Registration(True, H, n_in, len(good), "")


def degenerate(H: np.ndarray, ref_size: tuple[int, int], photo_size: tuple[int, int]) -> str:
    """Why this homography cannot be a photo of a flat shelf (a fold, a mirror, a sliver), or ""."""
    w, h = ref_size
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]]).reshape(-1, 1, 2)
    q = cv2.perspectiveTransform(corners, H).reshape(-1, 2)
    if not np.isfinite(q).all():
        return "corners at infinity"
    # the shelf plane must stay in front of the camera: the projective denominator keeps its sign
    den = (H[2, 0] * corners[:, 0, 0] + H[2, 1] * corners[:, 0, 1] + H[2, 2])
    if not (np.all(den > 0) or np.all(den < 0)):
        return "shelf crosses the horizon"
    cross = []
    for i in range(4):
        a, b, c = q[i], q[(i + 1) % 4], q[(i + 2) % 4]
        u, v = b - a, c - b
        cross.append(float(u[0] * v[1] - u[1] * v[0]))
    cross = np.array(cross)
    if not (np.all(cross > 0) or np.all(cross < 0)):
        return "not a convex quadrilateral"
    if np.all(cross < 0):
        return "mirrored"
    area = cv2.contourArea(q.astype(np.float32))
    pw, ph = photo_size
    if area < 0.04 * pw * ph:
        return "shelf too small in the photo"
    sides = np.linalg.norm(q - np.roll(q, -1, axis=0), axis=1)
    if sides.min() < 0.15 * sides.max():
        return "shelf seen almost edge-on"
    return ""


def ncc_map(image: np.ndarray, template: np.ndarray) -> np.ndarray:
    return cv2.matchTemplate(image, template, cv2.TM_CCOEFF_NORMED)


def locate_in_region(work: np.ndarray, product: np.ndarray, region: tuple[int, int, int, int]
                     ) -> tuple[tuple[int, int], tuple[int, int], float]:
    """Find a product image inside its region of the reference at the best of several scales. Returns its size and
    top-left position in the reference and the match score; the caller cuts the template from the reference
    itself, so it has the shelf's own colours and light."""
    x, y, w, h = region
    roi = work[y:y + h, x:x + w]
    ph, pw = product.shape[:2]
    best = (-1.0, None, (0, 0))
    for frac in np.linspace(0.35, 1.0, 14):
        s = min(frac * h / ph, w / pw)
        tw, th = int(round(pw * s)), int(round(ph * s))
        if tw < 12 or th < 12 or tw > w or th > h:
            continue
        t = cv2.resize(product, (tw, th), interpolation=cv2.INTER_AREA)
        if float(t.std()) < 1.0:
            continue
        r = ncc_map(roi, t)
        _, score, _, loc = cv2.minMaxLoc(r)
        if score > best[0]:
            best = (float(score), (tw, th), loc)
    score, size, loc = best
    if size is None:
        return (1, 1), (x, y), -1.0
    return size, (x + loc[0], y + loc[1]), score


def darkness(gray: np.ndarray) -> float:
    """Mean brightness 0..1."""
    return float(gray.mean()) / 255.0


def sharpness(gray: np.ndarray) -> float:
    """Fine detail relative to the picture's contrast: rms of the band between Gaussian blurs of σ 1 and 2.5 px
    (at ~1000 px), over the standard deviation of the σ 6 blur. Independent of exposure. The band starts above
    σ 1 so sensor noise — which a blurred photo keeps — does not count as detail; a ratio of two bands would
    (noise fills both once the content is blurred away)."""
    g = gray.astype(np.float32)
    g1 = cv2.GaussianBlur(g, (0, 0), 1.0)
    g2 = cv2.GaussianBlur(g1, (0, 0), 2.3)  # σ² adds: 1 + 2.3² ≈ 2.5²
    g3 = cv2.GaussianBlur(g2, (0, 0), 5.5)  # ≈ σ 6
    band = g1 - g2
    return float(np.sqrt((band * band).mean()) / max(float(g3.std()), 1e-6))
