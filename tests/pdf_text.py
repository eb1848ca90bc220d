"""Text per page of a PDF Chromium printed, with the standard library only (no PDF package):
the pages in order, each content stream inflated, every hex string decoded through its
font's ToUnicode map. Enough for Skia's output (tests only); not a general PDF reader."""

from __future__ import annotations

import re
import zlib


def pdf_page_texts(data: bytes) -> list[str]:
    objs = {int(n): body for n, body in re.findall(rb"(\d+) 0 obj(.*?)endobj", data, re.S)}

    def stream(n: int) -> bytes:
        body = objs[n]
        head, _, rest = body.partition(b"stream")
        raw = re.match(rb"\r?\n(.*)\r?\nendstream", rest, re.S).group(1)
        return zlib.decompress(raw) if b"FlateDecode" in head else raw

    def cmap(n: int) -> tuple[int, dict[bytes, str]]:
        text = stream(n)
        lo = re.search(rb"begincodespacerange\s*<([0-9A-Fa-f]+)>", text).group(1)
        table: dict[bytes, str] = {}
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", text, re.S):
            for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                table[bytes.fromhex(src.decode())] = bytes.fromhex(dst.decode()).decode("utf-16-be")
        for block in re.findall(rb"beginbfrange(.*?)endbfrange", text, re.S):
            for a, b, dst in re.findall(
                rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
            ):
                width = len(a) // 2
                start, end, first = int(a, 16), int(b, 16), int(dst, 16)
                for code in range(start, end + 1):
                    table[code.to_bytes(width, "big")] = chr(first + code - start)
        return len(lo) // 2, table

    root = next(
        b for b in objs.values() if re.search(rb"/Type /Pages\b", b) and b"/Parent" not in b
    )
    kids = [
        int(k)
        for k in re.findall(rb"(\d+) 0 R", re.search(rb"/Kids \[(.*?)\]", root, re.S).group(1))
    ]
    out = []
    for page in kids:
        body = objs[page]
        fonts = {}
        font_block = re.search(rb"/Font\s*<<(.*?)>>", body, re.S)
        for name, ref in re.findall(
            rb"/(\w+) (\d+) 0 R", font_block.group(1) if font_block else b""
        ):
            uni = re.search(rb"/ToUnicode (\d+) 0 R", objs[int(ref)])
            fonts[name] = cmap(int(uni.group(1))) if uni else (1, {})
        contents = re.search(rb"/Contents\s*(\[.*?\]|\d+ 0 R)", body, re.S).group(1)
        text = []
        for ref in re.findall(rb"(\d+) 0 R", contents):
            font = (1, {})
            for name, hexa in re.findall(
                rb"/(\w+)\s+[-\d.]+\s+Tf|<([0-9A-Fa-f]*)>", stream(int(ref))
            ):
                if name:
                    font = fonts.get(name, (1, {}))
                elif hexa:
                    raw = bytes.fromhex(hexa.decode())
                    width, table = font
                    text.extend(
                        table.get(raw[i : i + width], "") for i in range(0, len(raw), width)
                    )
        out.append("".join(text))
    return out
