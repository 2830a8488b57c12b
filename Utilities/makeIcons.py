#!/usr/bin/env python3
"""Draw the ALPPS extension and module icons.

Writes three 128x128 RGBA PNGs (transparent background):

- ``ALPPS.png`` (extension icon, the catalog's EXTENSION_ICONURL): a liver seen
  from the front -- large right lobe on the viewer's left, tapering left lobe on
  the viewer's right -- with the future liver remnant (left lateral section,
  segments II-III) in green, the rest of the liver in a muted brownish red, and
  the transection line between them.
- ``ALPPSVolumetry/Resources/Icons/ALPPSVolumetry.png``: the same liver with a
  graduated measuring cylinder filled with "remnant green" (volume in mL).
- ``ALPPSAssessment/Resources/Icons/ALPPSAssessment.png``: the remnant
  highlighted on a faded liver, with a rising growth-curve arrow (hypertrophy).

This is an offline utility (numpy + Pillow); Slicer never loads it.
Shapes are drawn at 4x (512x512) and box-filtered down with premultiplied alpha,
which gives clean antialiasing.

Usage::

    python Utilities/makeIcons.py            # writes the icons into the repository
    python Utilities/makeIcons.py --preview DIR   # also writes 32 px previews to DIR
"""

import argparse
import os

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SIZE = 128  # final icon size in pixels
SS = 4  # supersampling factor
BIG = SIZE * SS

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Colours (sRGB)
LIVER = (160, 74, 62)  # muted brownish red
LIVER_DARK = (92, 38, 32)  # outline of the liver
REMNANT = (38, 186, 82)  # future liver remnant (segments II-III)
REMNANT_DARK = (14, 104, 46)
CUT = (255, 250, 240)  # transection line
INK = (40, 48, 60)  # dark ink for motifs (cylinder outline, ticks)
ARROW = (24, 110, 220)  # growth arrow
WHITE = (255, 255, 255)

# ---------------------------------------------------------------------------
# Geometry (coordinates in final-icon pixels, y pointing down; scaled by SS)
# ---------------------------------------------------------------------------

# Control points of the liver outline (frontal view), clockwise from the left
# side of the right lobe. Interpolated by a closed Catmull-Rom spline.
LIVER_OUTLINE = [
    (8.0, 60.0),
    (11.0, 40.0),
    (22.0, 26.0),
    (40.0, 19.0),
    (58.0, 19.0),
    (72.0, 23.0),  # shallow dip of the superior border (cardiac impression)
    (84.0, 24.0),
    (100.0, 28.0),
    (115.0, 35.0),
    (123.0, 41.0),  # rounded tip of the left lobe (viewer's right)
    (120.0, 46.0),
    (106.0, 53.0),
    (92.0, 61.0),
    (85.0, 67.0),  # umbilical fissure notch on the inferior border
    (79.0, 65.5),
    (70.0, 71.0),
    (56.0, 81.0),
    (42.0, 93.0),
    (29.0, 101.0),
    (17.0, 100.0),
    (10.0, 89.0),
    (7.5, 75.0),
]

# Transection line (along the falciform ligament / umbilical fissure), from the
# superior border down to the notch on the inferior border.
CUT_TOP = (77.0, 14.0)
CUT_BOTTOM = (84.5, 74.0)


def catmull_rom_closed(points, samples_per_segment=24):
    """Points along a closed uniform Catmull-Rom spline through `points`."""
    pts = np.asarray(points, dtype=float)
    n = len(pts)
    out = []
    for i in range(n):
        p0, p1, p2, p3 = pts[(i - 1) % n], pts[i], pts[(i + 1) % n], pts[(i + 2) % n]
        for t in np.linspace(0.0, 1.0, samples_per_segment, endpoint=False):
            t2, t3 = t * t, t * t * t
            out.append(
                0.5
                * (
                    (2 * p1)
                    + (-p0 + p2) * t
                    + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2
                    + (-p0 + 3 * p1 - 3 * p2 + p3) * t3
                )
            )
    return np.array(out)


def transform(points, scale=1.0, offset=(0.0, 0.0)):
    pts = np.asarray(points, dtype=float)
    return pts * scale + np.asarray(offset, dtype=float)


def to_big(points):
    return [(float(x) * SS, float(y) * SS) for x, y in points]


# ---------------------------------------------------------------------------
# Raster helpers (all masks are float arrays BIG x BIG in [0, 1])
# ---------------------------------------------------------------------------


def blank_mask():
    return Image.new("L", (BIG, BIG), 0)


def mask_array(img):
    return np.asarray(img, dtype=np.float32) / 255.0


def polygon_mask(points):
    img = blank_mask()
    ImageDraw.Draw(img).polygon(to_big(points), fill=255)
    return mask_array(img)


def polyline_mask(points, width):
    """Thick polyline with round caps and joins; width in icon pixels.

    Drawn by stamping discs densely along the path (ImageDraw's wide-line joints
    leave notches on tight curves).
    """
    img = blank_mask()
    draw = ImageDraw.Draw(img)
    big = np.asarray(to_big(points))
    r = width * SS / 2.0
    step = max(r / 4.0, 1.0)
    stamps = [big[0]]
    for a, b in zip(big[:-1], big[1:]):
        n = max(int(np.ceil(np.linalg.norm(b - a) / step)), 1)
        stamps.extend(a + (b - a) * (k / n) for k in range(1, n + 1))
    for x, y in stamps:
        draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return mask_array(img)


def rect_mask(x0, y0, x1, y1, radius=0.0):
    img = blank_mask()
    ImageDraw.Draw(img).rounded_rectangle(
        (x0 * SS, y0 * SS, x1 * SS, y1 * SS), radius=radius * SS, fill=255
    )
    return mask_array(img)


def dilate(mask, radius):
    """Grow a mask by about `radius` icon pixels (repeated 3x3 max filters)."""
    img = Image.fromarray((mask * 255).astype(np.uint8))
    for _ in range(int(round(radius * SS))):
        img = img.filter(ImageFilter.MaxFilter(3))
    return mask_array(img)


def half_plane_mask(p0, p1):
    """1 on the right-hand side (viewer's right) of the directed line p0->p1."""
    ys, xs = np.mgrid[0:BIG, 0:BIG].astype(np.float32)
    xs = (xs + 0.5) / SS
    ys = (ys + 0.5) / SS
    (x0, y0), (x1, y1) = p0, p1
    # cross product sign; line goes downward so "right of it" means x larger
    cross = (x1 - x0) * (ys - y0) - (y1 - y0) * (xs - x0)
    return (cross < 0).astype(np.float32)


class Canvas:
    """Premultiplied-alpha RGBA float canvas at supersampled resolution."""

    def __init__(self):
        self.rgb = np.zeros((BIG, BIG, 3), dtype=np.float32)  # premultiplied
        self.a = np.zeros((BIG, BIG), dtype=np.float32)

    def paint(self, mask, color, alpha=1.0):
        """Composite `color` (tuple or HxWx3 array, 0-255) over the canvas through mask."""
        cov = np.clip(mask * alpha, 0.0, 1.0)
        col = np.asarray(color, dtype=np.float32) / 255.0
        if col.ndim == 1:
            col = col[None, None, :]
        self.rgb = col * cov[..., None] + self.rgb * (1.0 - cov[..., None])
        self.a = cov + self.a * (1.0 - cov)

    def erase(self, mask):
        """Make the canvas transparent where mask is 1."""
        keep = 1.0 - np.clip(mask, 0.0, 1.0)
        self.rgb *= keep[..., None]
        self.a *= keep

    def image(self, size=SIZE):
        factor = BIG // size
        rgb = self.rgb.reshape(size, factor, size, factor, 3).mean(axis=(1, 3))
        a = self.a.reshape(size, factor, size, factor).mean(axis=(1, 3))
        out = np.zeros((size, size, 4), dtype=np.float32)
        nz = a > 1e-6
        out[..., :3][nz] = rgb[nz] / a[nz][:, None]
        out[..., 3] = a
        return Image.fromarray(np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8), "RGBA")


def soft_spot(centre, radii):
    """Gaussian blob (0..1) centred at `centre` (icon px) with radii (rx, ry)."""
    ys, xs = np.mgrid[0:BIG, 0:BIG].astype(np.float32)
    xs = (xs + 0.5) / SS
    ys = (ys + 0.5) / SS
    q = ((xs - centre[0]) / radii[0]) ** 2 + ((ys - centre[1]) / radii[1]) ** 2
    return np.exp(-q).astype(np.float32)


def shaded(base, strength=0.22, light=(0.25, 0.15)):
    """Colour field: base colour lit from the upper left (a soft 3-D look)."""
    ys, xs = np.mgrid[0:BIG, 0:BIG].astype(np.float32) / BIG
    d = np.sqrt((xs - light[0]) ** 2 + (ys - light[1]) ** 2)
    k = 1.0 + strength * (0.55 - d) * 1.6
    col = np.asarray(base, dtype=np.float32)[None, None, :] * k[..., None]
    return np.clip(col, 0, 255)


# ---------------------------------------------------------------------------
# The liver
# ---------------------------------------------------------------------------


def draw_liver(canvas, scale=1.0, offset=(0.0, 0.0), rest_alpha=1.0, outline=3.0, cut_width=3.6):
    """Draw the liver; returns the liver mask (for later knock-outs)."""
    outline_pts = transform(catmull_rom_closed(LIVER_OUTLINE), scale, offset)
    liver = polygon_mask(outline_pts)
    cut_top = transform([CUT_TOP], scale, offset)[0]
    cut_bottom = transform([CUT_BOTTOM], scale, offset)[0]
    right = half_plane_mask(cut_top, cut_bottom)
    remnant = liver * right
    rest = liver * (1.0 - right)

    # Dark rim: paint the dilated silhouette in a dark tone, then the fills on top.
    rim = dilate(liver, outline * scale * 0.5)
    rim_rest = rim * (1.0 - right)
    rim_remnant = rim * right
    canvas.paint(rim_rest, LIVER_DARK, rest_alpha)
    canvas.paint(rim_remnant, REMNANT_DARK)

    canvas.paint(rest, shaded(LIVER), rest_alpha)
    canvas.paint(remnant, shaded(REMNANT, strength=0.18))

    # A soft specular highlight on the right lobe (makes it read as an organ).
    centre = np.array([34.0, 38.0]) * scale + np.asarray(offset)
    canvas.paint(soft_spot(centre, (20.0 * scale, 10.0 * scale)) * rest, WHITE, 0.22 * rest_alpha)
    centre = np.array([100.0, 36.0]) * scale + np.asarray(offset)
    canvas.paint(soft_spot(centre, (12.0 * scale, 5.0 * scale)) * remnant, WHITE, 0.18)

    # Transection line between remnant and the rest (light, crisp line).
    cut = polyline_mask([cut_top, cut_bottom], cut_width * scale) * rim
    canvas.paint(cut, CUT)
    return rim


# ---------------------------------------------------------------------------
# Motifs
# ---------------------------------------------------------------------------


def draw_cylinder(canvas, x0, y0, w, h):
    """Graduated measuring cylinder (volume in mL) filled with remnant green."""
    x1, y1 = x0 + w, y0 + h
    halo = rect_mask(x0 - 5, y0 - 5, x1 + 5, y1 + 5, radius=7)
    canvas.erase(halo)  # transparent gap separating the badge from the liver
    body = rect_mask(x0, y0, x1, y1, radius=3)
    canvas.paint(body, INK)
    inner = rect_mask(x0 + 2.5, y0 + 2.5, x1 - 2.5, y1 - 2.5, radius=1.5)
    canvas.paint(inner, (246, 248, 250))
    level = y0 + h * 0.42
    liquid = rect_mask(x0 + 2.5, level, x1 - 2.5, y1 - 2.5, radius=1.5)
    canvas.paint(liquid, shaded(REMNANT, strength=0.15))
    # pouring lip
    lip = rect_mask(x0 - 3, y0, x1 + 3, y0 + 3.5, radius=1.5)
    canvas.paint(lip, INK)
    # graduation ticks (long/short) on the left side
    for i in range(1, 6):
        y = y0 + 4 + i * (h - 8) / 6.0
        length = w * (0.55 if i % 2 == 1 else 0.32)
        tick = polyline_mask([(x0 + 2.5, y), (x0 + 2.5 + length, y)], 2.4)
        canvas.paint(tick, INK)


def draw_growth_arrow(canvas):
    """Bold rising growth curve with an arrow head, separated by a transparent gap."""
    t = np.linspace(0.0, 1.0, 48)
    # convex, accelerating curve from lower left to upper right
    xs = 36.0 + 76.0 * t
    ys = 119.0 - 46.0 * t**1.9
    pts = list(zip(xs, ys))
    tip = np.array(pts[-1])
    d = tip - np.array(pts[-5])
    d /= np.linalg.norm(d)
    n = np.array([-d[1], d[0]])
    head_len, head_w = 20.0, 13.0
    apex = tip + d * head_len * 0.45
    base = apex - d * head_len
    head = [tuple(apex), tuple(base + n * head_w), tuple(base - n * head_w)]
    shaft = [p for p in pts if np.dot(np.array(p) - base, d) < 1.0]

    halo = np.maximum(polyline_mask(shaft, 19.0), polygon_mask(dilate_poly(head, 4.0)))
    canvas.erase(halo)
    canvas.paint(polyline_mask(shaft, 10.0), ARROW)
    canvas.paint(polygon_mask(head), ARROW)


def dilate_poly(points, r):
    """Offset a convex polygon outwards by r (approximately, via its centroid)."""
    pts = np.asarray(points, dtype=float)
    c = pts.mean(axis=0)
    out = []
    for p in pts:
        v = p - c
        out.append(tuple(p + v / np.linalg.norm(v) * r * 1.8))
    return out


# ---------------------------------------------------------------------------
# Icons
# ---------------------------------------------------------------------------


def extension_icon():
    canvas = Canvas()
    # Centre the liver vertically (the outline spans y ~ 19..101).
    draw_liver(canvas, scale=1.0, offset=(0.0, 4.0))
    return canvas.image()


def volumetry_icon():
    canvas = Canvas()
    draw_liver(canvas, scale=0.94, offset=(-2.0, -4.0))
    draw_cylinder(canvas, x0=89.0, y0=60.0, w=29.0, h=62.0)
    return canvas.image()


def assessment_icon():
    canvas = Canvas()
    draw_liver(canvas, scale=0.94, offset=(-2.0, -6.0), rest_alpha=0.5)
    draw_growth_arrow(canvas)
    return canvas.image()


ICONS = {
    "ALPPS.png": extension_icon,
    os.path.join("ALPPSVolumetry", "Resources", "Icons", "ALPPSVolumetry.png"): volumetry_icon,
    os.path.join("ALPPSAssessment", "Resources", "Icons", "ALPPSAssessment.png"): assessment_icon,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=REPO, help="repository root to write into (default: this repository)")
    parser.add_argument("--preview", help="directory for 32 px and 128 px-on-background previews")
    args = parser.parse_args()

    for rel, make in ICONS.items():
        img = make()
        path = os.path.join(args.output, rel)
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        img.save(path, optimize=True)
        print(f"wrote {path} {img.size[0]}x{img.size[1]} {img.mode}")
        if args.preview:
            os.makedirs(args.preview, exist_ok=True)
            name = os.path.splitext(os.path.basename(rel))[0]
            img.resize((32, 32), Image.LANCZOS).save(os.path.join(args.preview, name + "-32.png"))
            sheet = Image.new("RGBA", (SIZE * 2 + 96, SIZE), (255, 255, 255, 255))
            sheet.paste(img, (0, 0), img)
            dark = Image.new("RGBA", (SIZE, SIZE), (50, 50, 56, 255))
            dark.paste(img, (0, 0), img)
            sheet.paste(dark, (SIZE, 0))
            small = img.resize((32, 32), Image.LANCZOS)
            sheet.paste(small, (SIZE * 2 + 8, 8), small)
            dsmall = Image.new("RGBA", (32, 32), (50, 50, 56, 255))
            dsmall.paste(small, (0, 0), small)
            sheet.paste(dsmall, (SIZE * 2 + 48, 8))
            sheet.paste(img.resize((16, 16), Image.LANCZOS), (SIZE * 2 + 8, 56), img.resize((16, 16), Image.LANCZOS))
            sheet.save(os.path.join(args.preview, name + "-sheet.png"))


if __name__ == "__main__":
    main()
