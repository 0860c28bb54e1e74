"""The named, seeded transforms of the robustness benchmark: how images are re-posted.

Each :class:`Transform` takes an upright RGB photo and a seeded random generator and
returns the re-posted copy as encoded bytes (most re-posts are JPEGs: a copy is saved at
quality 90 unless the transform sets its own quality). Parameters that a re-poster would
choose freely (which way to rotate, where to crop, how wide a border) are drawn from the
generator, so a run is reproducible from its seed and no matcher is tuned to one exact
value: crops keep their nominal fraction of each side within +-2%, off-centre crops sit
anywhere in the slack, borders are 5-15% wide.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

Rng = np.random.Generator
Step = Callable[[Image.Image, Rng], Image.Image]

REPOST_QUALITY: Final = 90


@dataclass(frozen=True, slots=True)
class Transform:
    """One named way of re-posting a photo; ``family`` groups it in the results table."""

    name: str
    family: str
    steps: tuple[Step, ...]
    quality: int = REPOST_QUALITY

    def __reduce__(self) -> tuple[Callable[[str], Transform], tuple[str]]:
        """Sent to a worker process by name (its steps are closures): only the named
        transforms of :data:`TRANSFORMS` can be."""
        if _named().get(self.name) is not self:
            raise TypeError(f"Only the named transforms can be sent to workers ({self.name}).")
        return _named_transform, (self.name,)

    def apply(self, image: Image.Image, rng: Rng) -> bytes:
        out = image
        for step in self.steps:
            out = step(out, rng)
        return encode(out, self.quality)


def encode(image: Image.Image, quality: int = REPOST_QUALITY) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(8, size))


# -- geometry ----------------------------------------------------------------------------
def _resize(fraction: float) -> Step:
    def step(image: Image.Image, rng: Rng) -> Image.Image:
        w, h = image.size
        return image.resize((max(1, round(w * fraction)), max(1, round(h * fraction))))

    return step


def _crop(keep: float, centred: bool) -> Step:
    def step(image: Image.Image, rng: Rng) -> Image.Image:
        w, h = image.size
        fx, fy = (keep + rng.uniform(-0.02, 0.02) for _ in range(2))
        cw, ch = round(w * fx), round(h * fy)
        if centred:
            x0, y0 = (w - cw) // 2, (h - ch) // 2
        else:
            x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        return image.crop((x0, y0, x0 + cw, y0 + ch))

    return step


def _rotate(degrees: float) -> Step:
    def step(image: Image.Image, rng: Rng) -> Image.Image:
        sign = 1 if rng.random() < 0.5 else -1
        return image.rotate(sign * degrees, resample=Image.Resampling.BICUBIC, fillcolor="black")

    return step


def _flip(image: Image.Image, rng: Rng) -> Image.Image:
    return ImageOps.mirror(image)


def _rotate90(image: Image.Image, rng: Rng) -> Image.Image:
    return image.transpose(Image.Transpose.ROTATE_90)


# -- borders and padding -----------------------------------------------------------------
def _border(colour: str) -> Step:
    def step(image: Image.Image, rng: Rng) -> Image.Image:
        w, h = image.size
        sides = [round(s * rng.uniform(0.05, 0.15)) for s in (w, h, w, h)]
        return ImageOps.expand(image, border=tuple(sides), fill=colour)

    return step


def _blurred_fill(image: Image.Image, rng: Rng) -> Image.Image:
    """The photo centred on a blurred, enlarged copy of itself (padded to a new aspect)."""
    w, h = image.size
    extra = rng.uniform(0.08, 0.20)
    if rng.random() < 0.5:
        cw, ch = round(w * (1 + extra)), h
    else:
        cw, ch = w, round(h * (1 + extra))
    scale = max(cw / w, ch / h)
    backdrop = image.resize((round(w * scale) + 1, round(h * scale) + 1))
    backdrop = backdrop.crop((0, 0, cw, ch)).filter(ImageFilter.GaussianBlur(radius=12))
    backdrop.paste(image, ((cw - w) // 2, (ch - h) // 2))
    return backdrop


def _pad_aspect(image: Image.Image, rng: Rng) -> Image.Image:
    """Letterboxed to a different aspect ratio (at most 20% added), black or white."""
    w, h = image.size
    extra = rng.uniform(0.05, 0.20)
    colour = "black" if rng.random() < 0.5 else "white"
    size = (round(w * (1 + extra)), h) if w <= h else (w, round(h * (1 + extra)))
    canvas = Image.new("RGB", size, colour)
    canvas.paste(image, ((size[0] - w) // 2, (size[1] - h) // 2))
    return canvas


def _screenshot(image: Image.Image, rng: Rng) -> Image.Image:
    """A phone screenshot: status bar, app header, the photo, action row and caption."""
    sw, sh = 540, 1170
    dark = rng.random() < 0.4
    bg, fg = ((16, 16, 16), (235, 235, 235)) if dark else ((255, 255, 255), (20, 20, 20))
    canvas = Image.new("RGB", (sw, sh), bg)
    draw = ImageDraw.Draw(canvas)
    draw.text(
        (24, 10),
        f"{int(rng.integers(7, 23))}:{int(rng.integers(0, 60)):02d}",
        fill=fg,
        font=_font(22),
    )
    draw.rectangle((sw - 60, 14, sw - 24, 30), outline=fg, width=2)
    draw.rectangle((sw - 58, 16, sw - 58 + int(rng.integers(8, 33)), 28), fill=fg)
    top = 48
    draw.ellipse((16, top + 8, 60, top + 52), fill=(int(rng.integers(60, 200)), 120, 180))
    draw.text((72, top + 18), "user_" + str(int(rng.integers(100, 999))), fill=fg, font=_font(20))
    margin = 0 if rng.random() < 0.6 else 16
    pw = sw - 2 * margin
    ph = min(round(image.height * pw / image.width), 760)
    pw = round(image.width * ph / image.height)
    photo = image.resize((pw, ph))
    y = top + 64
    canvas.paste(photo, ((sw - pw) // 2, y))
    y += ph + 12
    for i in range(3):
        draw.ellipse((16 + 48 * i, y, 46 + 48 * i, y + 30), outline=fg, width=3)
    y += 44
    words = ["so", "this", "is", "what", "she", "posted", "lol", "look", "at", "this", "again"]
    for _line in range(3):
        text = " ".join(str(rng.choice(words)) for _ in range(7))
        draw.text((16, y), text, fill=fg, font=_font(20))
        y += 28
    return canvas


# -- overlays ----------------------------------------------------------------------------
def _overlay_text(image: Image.Image, rng: Rng) -> Image.Image:
    """A meme-style caption (white with a black outline) over at most 10% of the area."""
    out = image.copy()
    w, h = out.size
    size = max(10, round(h * 0.06))
    font = _font(size)
    text = "ANYONE KNOW HER?" if rng.random() < 0.5 else "found this lol"
    draw = ImageDraw.Draw(out)
    box = draw.textbbox((0, 0), text, font=font, stroke_width=2)
    while (box[2] - box[0]) * (box[3] - box[1]) > 0.10 * w * h or box[2] - box[0] > w * 0.95:
        size = round(size * 0.85)
        font = _font(size)
        box = draw.textbbox((0, 0), text, font=font, stroke_width=2)
    x = (w - (box[2] - box[0])) // 2
    y = round(h * 0.04) if rng.random() < 0.5 else h - (box[3] - box[1]) - round(h * 0.06)
    draw.text((x, y), text, fill="white", font=font, stroke_width=2, stroke_fill="black")
    return out


def _overlay_emoji(image: Image.Image, rng: Rng) -> Image.Image:
    """One to three emoji-like faces (yellow discs), together at most 10% of the area."""
    out = image.copy()
    w, h = out.size
    draw = ImageDraw.Draw(out)
    count = int(rng.integers(1, 4))
    radius = np.sqrt(0.10 * w * h / count / np.pi) * rng.uniform(0.7, 1.0)
    for _ in range(count):
        cx, cy = rng.uniform(radius, w - radius), rng.uniform(radius, h - radius)
        r = radius
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 204, 40), outline=(200, 140, 0))
        for ex in (-0.35, 0.35):
            draw.ellipse(
                (cx + ex * r - r * 0.1, cy - r * 0.35, cx + ex * r + r * 0.1, cy - r * 0.1),
                fill=(60, 40, 0),
            )
        draw.arc(
            (cx - r * 0.5, cy - r * 0.2, cx + r * 0.5, cy + r * 0.55),
            20,
            160,
            fill=(60, 40, 0),
            width=max(1, round(r * 0.08)),
        )
    return out


def _overlay_watermark(image: Image.Image, rng: Rng) -> Image.Image:
    """A half-transparent site watermark in a corner, at most 10% of the area."""
    base = image.convert("RGBA")
    w, h = base.size
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    font = _font(max(10, round(min(w, h) * 0.08)))
    text = "imgboard.example"
    box = draw.textbbox((0, 0), text, font=font)
    tw, th = box[2] - box[0], box[3] - box[1]
    x = w - tw - round(w * 0.03) if rng.random() < 0.5 else round(w * 0.03)
    y = h - th - round(h * 0.04)
    draw.rectangle((x - 6, y - 6, x + tw + 6, y + th + 10), fill=(0, 0, 0, 90))
    draw.text((x, y - box[1]), text, fill=(255, 255, 255, 150), font=font)
    return Image.alpha_composite(base, layer).convert("RGB")


# -- colour ------------------------------------------------------------------------------
def _enhance(kind: Callable[[Image.Image], ImageEnhance._Enhance], low: float, high: float) -> Step:
    def step(image: Image.Image, rng: Rng) -> Image.Image:
        factor = low if rng.random() < 0.5 else high
        return kind(image).enhance(factor)

    return step


def _grayscale(image: Image.Image, rng: Rng) -> Image.Image:
    return ImageOps.grayscale(image).convert("RGB")


def _reencode(quality: int) -> Step:
    def step(image: Image.Image, rng: Rng) -> Image.Image:
        return Image.open(io.BytesIO(encode(image, quality))).convert("RGB")

    return step


def _t(name: str, family: str, *steps: Step, quality: int = REPOST_QUALITY) -> Transform:
    return Transform(name=name, family=family, steps=steps, quality=quality)


TRANSFORMS: Final[tuple[Transform, ...]] = (
    _t("jpeg_q30", "jpeg", quality=30),
    _t("jpeg_q50", "jpeg", quality=50),
    _t("jpeg_q70", "jpeg", quality=70),
    _t("resize_50", "resize", _resize(0.5)),
    _t("resize_25", "resize", _resize(0.25)),
    _t("crop90_centre", "crop90", _crop(0.90, True)),
    _t("crop90_offcentre", "crop90", _crop(0.90, False)),
    _t("crop80_centre", "crop80", _crop(0.80, True)),
    _t("crop80_offcentre", "crop80", _crop(0.80, False)),
    _t("crop70_centre", "crop70", _crop(0.70, True)),
    _t("crop70_offcentre", "crop70", _crop(0.70, False)),
    _t("border_black", "border", _border("black")),
    _t("border_white", "border", _border("white")),
    _t("border_blurred_fill", "border", _blurred_fill),
    _t("pad_aspect", "border", _pad_aspect),
    _t("screenshot", "screenshot", _screenshot),
    _t("rotate_2", "rotate2", _rotate(2)),
    _t("rotate_5", "rotate5", _rotate(5)),
    _t("rotate_10", "rotate10", _rotate(10)),
    _t("flip_horizontal", "flip_rotate90", _flip),
    _t("rotate_90", "flip_rotate90", _rotate90),
    _t("overlay_text", "overlay", _overlay_text),
    _t("overlay_emoji", "overlay", _overlay_emoji),
    _t("overlay_watermark", "overlay", _overlay_watermark),
    _t("brightness", "colour", _enhance(ImageEnhance.Brightness, 0.7, 1.3)),
    _t("contrast", "colour", _enhance(ImageEnhance.Contrast, 0.6, 1.4)),
    _t("saturation", "colour", _enhance(ImageEnhance.Color, 0.3, 1.8)),
    _t("grayscale", "colour", _grayscale),
    _t("combo_screenshot_of_crop", "combo", _crop(0.85, False), _reencode(70), _screenshot),
    _t("combo_border_resize_jpeg", "combo", _border("white"), _resize(0.5), quality=60),
    _t("combo_crop_text_resize", "combo", _crop(0.90, True), _overlay_text, _resize(0.5)),
    _t("combo_flip_blurred_fill", "combo", _flip, _blurred_fill),
)

#: Families held to the lower recall target (80%) in issue 9; every other family to 95%.
HARD_FAMILIES: Final = frozenset({"rotate10", "crop70"})


def _named() -> dict[str, Transform]:
    return {t.name: t for t in TRANSFORMS}


def _named_transform(name: str) -> Transform:
    return _named()[name]


def by_name(names: list[str] | None = None) -> tuple[Transform, ...]:
    if not names:
        return TRANSFORMS
    known = {t.name: t for t in TRANSFORMS}
    return tuple(known[n] for n in names)
