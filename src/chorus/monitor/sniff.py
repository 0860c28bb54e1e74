"""What a response really is, from its first bytes (the extension and header may lie)."""

from __future__ import annotations

IMAGE = "image"
HTML = "html"
JSON = "json"
OTHER = "other"

_IMAGE_MAGIC = (
    b"\xff\xd8\xff",  # JPEG
    b"\x89PNG\r\n\x1a\n",
    b"GIF87a",
    b"GIF89a",
    b"BM",
    b"II*\x00",
    b"MM\x00*",
)


def sniff(data: bytes) -> str:
    head = data[:64]
    if head.startswith(_IMAGE_MAGIC):
        return IMAGE
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return IMAGE
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"avif", b"msf1"):
        return IMAGE
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"{", b"[")):
        return JSON
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<!--", b"<div", b"<p")):
        return HTML
    return OTHER
