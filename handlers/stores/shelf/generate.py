"""Synthetic shelves with known truth: for the benchmark (bench/shelf.py), the tests and the demo's store photos.

A shelf is three rows of equal-width slots filled with procedurally drawn products (each product a different
textured package: colour bands, a logo shape, large Chinese characters, fine noise; nothing repeats across
seeds). Six key products take two adjacent slots each; their bounding boxes are the planogram regions. A photo of
the shelf re-renders the scene with changes (key products missing, moved into another slot, swapped) and takes it
through a pinhole camera: yaw/pitch up to ±30°, roll ±15°, 0.6–1.4× the nominal distance, brightness ±40 %,
blur, glare, a partial occluder, sensor noise and JPEG. Bad photos: another shelf, too dark, too blurred.

Why everything derives from one integer seed: the bench draws its shelves, products and cameras from a seed range
disjoint from the one the tests and development used (bench.shelf.SEED_BASE), so the method is never scored on
the images it was tuned on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

SHELF_W, SHELF_H = 1200, 900  # reference photo size = shelf units
ROWS = 3
ROW_H = SHELF_H // ROWS
BOARD_H = 26
SLOT_W = 100
MARGIN = 0  # reference photo shows exactly the shelf
N_KEYS = 6
_CHARS = "可乐橙汁奶茶咖啡矿泉水绿茶酸奶饼干薯片坚果牛肉干面包巧克力糖果啤酒果冻米饭方便面豆浆椰汁柠檬蜂蜜红枣核桃花生芒果草莓蓝莓葡萄桃子菠萝"
_NAMES = ["可乐", "橙汁", "奶茶", "咖啡", "矿泉水", "绿茶", "酸奶", "苏打水", "椰汁", "柠檬茶", "乌龙茶", "豆奶",
          "运动饮料", "果粒橙", "冰红茶", "气泡水"]


@lru_cache(maxsize=1)
def _font_path() -> str:
    from handlers.charts import cjk_font_path

    return cjk_font_path()


@lru_cache(maxsize=8)
def _font(size: int):
    from PIL import ImageFont

    return ImageFont.truetype(_font_path(), size)


def _colour(rng: np.random.Generator, sat=(120, 255), val=(90, 255)) -> tuple[int, int, int]:
    hsv = np.uint8([[[rng.integers(0, 180), rng.integers(*sat), rng.integers(*val)]]])
    return tuple(int(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0])


@lru_cache(maxsize=4096)
def product_image(seed: int, width: int = 200, aspect: float = 1.6) -> np.ndarray:
    """A package front, BGR uint8, width × width·aspect. Distinct for every seed. Cached: treat as read-only."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng([seed, 0x9E37])
    w, h = width, int(round(width * aspect))
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = _colour(rng)
    for _ in range(rng.integers(2, 5)):  # bands
        y0 = int(rng.integers(0, h))
        bh = int(rng.integers(h // 20, h // 5))
        cv2.rectangle(img, (0, y0), (w, y0 + bh), _colour(rng), -1)
    for _ in range(rng.integers(1, 3)):  # logo shapes
        c = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        axes = (int(rng.integers(w // 6, w // 2)), int(rng.integers(w // 6, w // 2)))
        cv2.ellipse(img, c, axes, float(rng.uniform(0, 180)), 0, 360, _colour(rng), -1)
    pts = rng.integers(0, [w, h], size=(int(rng.integers(3, 6)), 2)).astype(np.int32)
    cv2.fillPoly(img, [pts], _colour(rng))
    for _ in range(rng.integers(4, 9)):  # stripes / dots for fine texture
        p1 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        p2 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        cv2.line(img, p1, p2, _colour(rng), int(rng.integers(1, 5)))
    pil = Image.fromarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
    draw = ImageDraw.Draw(pil)
    n_chars = int(rng.integers(2, 4))
    size = int(w * rng.uniform(0.28, 0.4))
    y = int(rng.integers(h // 8, max(h // 8 + 1, h - n_chars * size - 4)))
    colour = tuple(int(c) for c in rng.integers(0, 256, 3))
    x = int(rng.integers(2, max(3, w - size - 2)))
    for i in range(n_chars):
        ch = _CHARS[int(rng.integers(0, len(_CHARS)))]
        draw.text((x, y + i * size), ch, font=_font(size), fill=colour,
                  stroke_width=max(1, size // 18), stroke_fill=(255, 255, 255) if sum(colour) < 380 else (0, 0, 0))
    small = _font(max(10, w // 9))
    draw.text((int(rng.integers(2, w // 3)), h - w // 7), f"{int(rng.integers(100, 999))}ml", font=small,
              fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    img = cv2.cvtColor(np.asarray(pil), cv2.COLOR_RGB2BGR)
    noise = rng.normal(0, 6, (h // 4 + 1, w // 4 + 1, 1)).astype(np.float32)
    noise = cv2.resize(noise, (w, h), interpolation=cv2.INTER_LINEAR)[..., None]
    img = np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    cv2.rectangle(img, (0, 0), (w - 1, h - 1), (40, 40, 40), 2)
    return img


@dataclass
class Shelf:
    """One shelf: which product stands in each slot of the correct layout, and the key products' regions."""

    seed: int
    name: str
    product_seeds: dict[str, int]  # product id → image seed
    aspects: dict[str, float]
    slots: list[str | None]  # ROWS × per_row product ids (None = empty)
    keys: list[str]  # key product ids, planogram order
    key_names: dict[str, str]
    back: tuple[int, int, int] = (60, 60, 60)
    board: tuple[int, int, int] = (150, 170, 190)
    per_row: int = SLOT_W and SHELF_W // SLOT_W
    cache: dict = field(default_factory=dict, repr=False)

    def slot_box(self, i: int) -> tuple[int, int, int, int]:
        """(x, y, w, h) of slot i's product in shelf units (bottom-aligned on the row's board)."""
        row, col = divmod(i, self.per_row)
        pid = self.slots[i]
        aspect = self.aspects[pid] if pid else 1.6
        w = SLOT_W - 8
        h = min(int(w * aspect), ROW_H - BOARD_H - 12)
        x = col * SLOT_W + 4
        y = (row + 1) * ROW_H - BOARD_H - h
        return x, y, w, h

    def regions(self) -> dict[str, tuple[int, int, int, int]]:
        out = {}
        for k in self.keys:
            boxes = [self.slot_box(i) for i, p in enumerate(self.slots) if p == k]
            x0 = min(b[0] for b in boxes) - 4
            y0 = min(b[1] for b in boxes) - 4
            x1 = max(b[0] + b[2] for b in boxes) + 4
            y1 = max(b[1] + b[3] for b in boxes) + 4
            out[k] = (max(0, x0), max(0, y0), min(SHELF_W, x1) - max(0, x0), min(SHELF_H, y1) - max(0, y0))
        return out

    def image_of(self, pid: str, width: int) -> np.ndarray:
        key = (pid, width)
        if key not in self.cache:
            self.cache[key] = product_image(self.product_seeds[pid], width, self.aspects[pid])
        return self.cache[key]


def make_shelf(seed: int, n_keys: int = N_KEYS) -> Shelf:
    rng = np.random.default_rng([seed, 0x5E1F])
    per_row = SHELF_W // SLOT_W
    n = ROWS * per_row
    n_fill = int(rng.integers(6, 10))
    ids = [f"k{i}" for i in range(n_keys)] + [f"f{i}" for i in range(n_fill)]
    pseeds = {pid: int(seed) * 1000 + i for i, pid in enumerate(ids)}
    aspects = {pid: float(rng.uniform(1.25, 2.3)) for pid in ids}
    slots: list[str | None] = [None] * n
    # key products: two adjacent slots each, never across a row end
    pairs = [r * per_row + c for r in range(ROWS) for c in range(0, per_row - 1, 2)]
    chosen = rng.choice(len(pairs), size=n_keys, replace=False)
    for pid, pi in zip(ids[:n_keys], chosen, strict=True):
        s = pairs[int(pi)]
        slots[s] = slots[s + 1] = pid
    fillers = ids[n_keys:]
    for i in range(n):
        if slots[i] is None:
            slots[i] = fillers[int(rng.integers(0, len(fillers)))]
    names = list(rng.permutation(_NAMES))[:n_keys]
    key_names = {f"k{i}": f"{names[i]} {int(rng.integers(2, 20)) * 50}ml" for i in range(n_keys)}
    shelf_names = ["饮料", "冷柜", "零食", "日化", "乳品", "促销"]
    return Shelf(seed, shelf_names[seed % len(shelf_names)], pseeds, aspects, slots, ids[:n_keys], key_names,
                 back=_colour(rng, (0, 60), (40, 90)), board=_colour(rng, (0, 80), (140, 220)), per_row=per_row)


def render(shelf: Shelf, slots: list[str | None], px: float, margin: float = 0.0) -> tuple[np.ndarray, float]:
    """The shelf front at `px` pixels per shelf unit, with `margin` × width of neighbouring shelves around it.
    Returns the image and the offset (pixels) of the shelf's top-left corner."""
    off = int(round(margin * SHELF_W * px))
    W = int(round(SHELF_W * px)) + 2 * off
    H = int(round(SHELF_H * px)) + 2 * off
    img = np.empty((H, W, 3), np.uint8)
    img[:] = (shelf.back[0] + 25, shelf.back[1] + 25, shelf.back[2] + 25)
    if off:  # neighbouring shelves: other products the photo may show around this one
        rng = np.random.default_rng([shelf.seed, 0xBEEF])
        nx = W // int(SLOT_W * px) + 1
        ny = H // int(ROW_H * px) + 1
        for r in range(ny):
            for c in range(nx):
                x, y = int(c * SLOT_W * px), int(r * ROW_H * px)
                if off <= x + SLOT_W * px and x <= W - off and off <= y + ROW_H * px and y <= H - off:
                    continue
                ps = int(rng.integers(0, 1 << 30))
                p = product_image(ps + 7_000_000 + shelf.seed, int((SLOT_W - 8) * px),
                                  round(float(rng.uniform(1.3, 2.2)), 2))
                ph = min(p.shape[0], int((ROW_H - BOARD_H - 12) * px))
                yb = y + int((ROW_H - BOARD_H) * px) - ph
                _paste(img, p[:ph], x + int(4 * px), yb)
                cv2.rectangle(img, (x, y + int((ROW_H - BOARD_H) * px)), (x + int(SLOT_W * px), y + int(ROW_H * px)),
                              (120, 120, 120), -1)
    x0, y0 = off, off
    sw, sh = int(round(SHELF_W * px)), int(round(SHELF_H * px))
    cv2.rectangle(img, (x0, y0), (x0 + sw, y0 + sh), shelf.back, -1)
    tag_rng = np.random.default_rng([shelf.seed, 0x7A6])
    for r in range(ROWS):
        yb = y0 + int(((r + 1) * ROW_H - BOARD_H) * px)
        cv2.rectangle(img, (x0, yb), (x0 + sw, y0 + int((r + 1) * ROW_H * px)), shelf.board, -1)
        for c in range(shelf.per_row):  # price tags
            tx = x0 + int((c * SLOT_W + 30) * px)
            cv2.rectangle(img, (tx, yb + int(4 * px)), (tx + int(40 * px), yb + int(22 * px)), (245, 245, 245), -1)
            cv2.putText(img, f"{int(tag_rng.integers(2, 30))}.{int(tag_rng.integers(0, 10))}0",
                        (tx + int(2 * px), yb + int(18 * px)), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * px, (0, 0, 200),
                        max(1, int(px)))
    tmp = Shelf(shelf.seed, shelf.name, shelf.product_seeds, shelf.aspects, slots, shelf.keys, shelf.key_names,
                shelf.back, shelf.board, shelf.per_row, shelf.cache)
    for i, pid in enumerate(slots):
        if pid is None:
            continue
        x, y, w, h = tmp.slot_box(i)
        p = shelf.image_of(pid, max(8, int(round(w * px))))
        p = cv2.resize(p, (max(8, int(round(w * px))), max(8, int(round(h * px)))), interpolation=cv2.INTER_AREA) \
            if p.shape[0] != int(round(h * px)) else p
        _paste(img, p, x0 + int(round(x * px)), y0 + int(round(y * px)))
    return img, float(off)


def _paste(dst: np.ndarray, src: np.ndarray, x: int, y: int) -> None:
    H, W = dst.shape[:2]
    h, w = src.shape[:2]
    xa, ya, xb, yb = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if xa < xb and ya < yb:
        dst[ya:yb, xa:xb] = src[ya - y:yb - y, xa - x:xb - x]


def write_planogram(shelf: Shelf, folder: Path) -> Path:
    """A planogram folder for this shelf: reference.png, products/<id>.png, planogram.toml."""
    folder = Path(folder)
    (folder / "products").mkdir(parents=True, exist_ok=True)
    ref, _ = render(shelf, shelf.slots, 1.0)
    cv2.imwrite(str(folder / "reference.png"), ref)
    lines = [f'shelf = "{shelf.name}"', 'store_type = "标准店"', 'reference = "reference.png"', ""]
    for pid, (x, y, w, h) in shelf.regions().items():
        cv2.imwrite(str(folder / "products" / f"{pid}.png"), product_image(shelf.product_seeds[pid], 240,
                                                                           shelf.aspects[pid]))
        lines += ["[[products]]", f'name = "{shelf.key_names[pid]}"', f'image = "products/{pid}.png"',
                  f"region = [{x}, {y}, {w}, {h}]", ""]
    (folder / "planogram.toml").write_text("\n".join(lines), encoding="utf-8")
    return folder


@dataclass(frozen=True)
class Photo:
    jpeg: bytes
    truth: dict[str, str]  # key product NAME → "missing" | "misplaced"
    bad: str  # "" for a photo to judge, else the refusal expected: "not_this_shelf" | "too_dark" | "too_blurry"
    params: dict


def _camera(rng: np.random.Generator, out: tuple[int, int], world_px: float, off: float, scale: float,
            yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Homography world pixels → photo pixels for a pinhole camera looking at the shelf plane."""
    W, H = out
    sw = SHELF_W * world_px
    cx_w, cy_w = off + sw / 2, off + SHELF_H * world_px / 2
    f = 1.1 * W  # ~ a phone's 26 mm lens
    z = f * sw / (0.72 * W * scale)  # distance that makes the shelf 72 % × scale of the frame width head-on
    a, b, c = math.radians(yaw), math.radians(pitch), math.radians(roll)
    Ry = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    Rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    Rz = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
    R = Rz @ Rx @ Ry
    t = np.array([rng.uniform(-0.04, 0.04) * sw, rng.uniform(-0.04, 0.04) * sw, z])
    K = np.array([[f, 0, W / 2], [0, f, H / 2], [0, 0, 1]])
    T = np.array([[1, 0, -cx_w], [0, 1, -cy_w], [0, 0, 1]])
    Hm = K @ np.column_stack([R[:, 0], R[:, 1], t]) @ T
    return Hm / Hm[2, 2]


def _changes(shelf: Shelf, rng: np.random.Generator) -> tuple[list[str | None], dict[str, str]]:
    slots = list(shelf.slots)
    truth: dict[str, str] = {}
    keys = list(rng.permutation(shelf.keys))
    filler_pairs = [i for i in range(len(slots) - 1)
                    if (i % shelf.per_row) < shelf.per_row - 1 and slots[i] and slots[i][0] == "f"
                    and slots[i + 1] and slots[i + 1][0] == "f"]
    kind = rng.choice(["none", "missing", "moved", "swapped", "mixed"], p=[0.2, 0.25, 0.2, 0.15, 0.2])
    n_missing = {"missing": int(rng.integers(1, 3)), "mixed": 1}.get(kind, 0)
    for pid in keys[:n_missing]:
        fill = rng.random() < 0.5  # the gap left empty or closed up with a filler
        for i, p in enumerate(slots):
            if p == pid:
                slots[i] = shelf.slots[(i + 3) % len(slots)] if fill and shelf.slots[(i + 3) % len(slots)][0] == "f" \
                    else None
        truth[pid] = "missing"
    rest = keys[n_missing:]
    if kind in ("moved", "mixed") and filler_pairs and rest:
        pid = rest.pop()
        j = filler_pairs[int(rng.integers(0, len(filler_pairs)))]
        for i, p in enumerate(slots):
            if p == pid:
                slots[i] = None if rng.random() < 0.5 else slots[j]
        slots[j] = slots[j + 1] = pid
        truth[pid] = "misplaced"
    if kind in ("swapped", "mixed") and len(rest) >= 2:
        a, b = rest[0], rest[1]
        slots = [b if p == a else a if p == b else p for p in slots]
        truth[a] = truth[b] = "misplaced"
    return slots, truth


def photo(shelf: Shelf, seed: int, *, size: tuple[int, int] = (4000, 3000), bad: str = "",
          other: Shelf | None = None) -> Photo:
    """One photo of `shelf` (or of `other` when bad == "not_this_shelf") with its truth."""
    rng = np.random.default_rng([seed, 0xF070])
    W, H = size
    subject = other if bad == "not_this_shelf" and other is not None else shelf
    if bad:
        slots, truth = list(subject.slots), {}
    else:
        slots, truth = _changes(shelf, rng)
    world_px = max(1.0, 1.15 * 0.72 * W * 1.4 / SHELF_W)
    world_px = min(world_px, 2.4)
    world, off = render(subject, slots, world_px, margin=0.45)
    for _attempt in range(40):
        scale = float(rng.uniform(0.6, 1.4))
        yaw, pitch, roll = float(rng.uniform(-30, 30)), float(rng.uniform(-20, 20)), float(rng.uniform(-15, 15))
        Hm = _camera(rng, size, world_px, off, scale, yaw, pitch, roll)
        corners = np.float32([[off, off], [off + SHELF_W * world_px, off],
                              [off + SHELF_W * world_px, off + SHELF_H * world_px],
                              [off, off + SHELF_H * world_px]]).reshape(-1, 1, 2)
        q = cv2.perspectiveTransform(corners, Hm).reshape(-1, 2)
        if (q[:, 0] >= 0.01 * W).all() and (q[:, 0] <= 0.99 * W).all() and (q[:, 1] >= 0.01 * H).all() \
                and (q[:, 1] <= 0.99 * H).all():
            break
    img = cv2.warpPerspective(world, Hm, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    f = img.astype(np.float32)
    params = {"scale": round(scale, 2), "yaw": round(yaw, 1), "pitch": round(pitch, 1), "roll": round(roll, 1)}
    # occluder: a hand or a shopper's sleeve over part of the frame (never most of a key product)
    if not bad and rng.random() < 0.5:
        cx, cy = rng.uniform(0.1, 0.9) * W, rng.uniform(0.1, 0.9) * H
        r = 0.035 * W
        pts = np.array([[cx + r * math.cos(t) * rng.uniform(0.6, 1.0), cy + r * math.sin(t) * rng.uniform(0.6, 1.4)]
                        for t in np.linspace(0, 2 * math.pi, 9)[:-1]], np.int32)
        cv2.fillPoly(f, [pts], tuple(float(v) for v in rng.choice([[120, 150, 200], [40, 40, 50], [90, 60, 30]])))
        params["occluder"] = True
    light = float(rng.uniform(0.6, 1.4)) if bad != "too_dark" else float(rng.uniform(0.03, 0.12))
    f *= light
    params["light"] = round(light, 2)
    if not bad and rng.random() < 0.5:  # glare: a soft bright blob
        yy, xx = np.mgrid[0:H:8, 0:W:8].astype(np.float32)
        gx, gy, gs = rng.uniform(0.2, 0.8) * W, rng.uniform(0.2, 0.8) * H, rng.uniform(0.04, 0.1) * W
        blob = np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * gs * gs)) * float(rng.uniform(60, 140))
        f += cv2.resize(blob, (W, H), interpolation=cv2.INTER_LINEAR)[..., None]
        params["glare"] = True
    sigma = float(rng.uniform(0.005, 0.011) * W) if bad == "too_blurry" else float(rng.uniform(0, 0.0012) * W)
    if sigma > 0.3:
        f = cv2.GaussianBlur(f, (0, 0), sigma)
    params["blur"] = round(sigma, 2)
    f += rng.normal(0, 3, (H // 2, W // 2, 1)).astype(np.float32).repeat(2, 0).repeat(2, 1)[:H, :W]
    ok, buf = cv2.imencode(".jpg", np.clip(f, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 88])
    assert ok
    named = {shelf.key_names[k]: v for k, v in truth.items()}
    return Photo(buf.tobytes(), named, bad, params)
