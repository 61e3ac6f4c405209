"""Generates Sources/GraftData/Detection/BitmapFont.swift's glyph table: printable ASCII rendered
with Pillow's built-in bitmap font (X11-derived, 6x11 cells), one byte per row (bit 5 = left pixel).

Run: ~/.venvs/detect/bin/python make_glyphs.py  (prints the Swift array literal)
"""
from PIL import Image, ImageDraw, ImageFont

font = ImageFont.load_default_imagefont()
W, H = 6, 11
rows = []
for code in range(32, 127):
    im = Image.new("L", (W, H), 0)
    ImageDraw.Draw(im).text((0, 0), chr(code), fill=255, font=font)
    px = im.load()
    rows.append([sum(1 << (W - 1 - x) for x in range(W) if px[x, y] > 127) for y in range(H)])
flat = [v for r in rows for v in r]
print("[" + ",".join(f"0x{v:02x}" for v in flat) + "]")
