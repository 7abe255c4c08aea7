#!/usr/bin/env python3
"""trace-svg: --svg FILE draws the ladders as one standalone SVG: valid
XML, nothing outside the file referred to, two lifelines per connection
and one arrow per segment, coloured by its flags; headless Chromium
renders it to a PNG that is not blank (decoded here by hand with zlib:
its distinct colours are counted, the arrows' green, orange and red among
them). A --svg file that cannot be written is one line and exit 1.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import os
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib

import harness
import tracelib
from harness import check, check_eq
from tracelib import Conn, pcap, run_trace

SVG = "{http://www.w3.org/2000/svg}"
GREEN, ORANGE, RED = (0x1e, 0x7b, 0x34), (0xb3, 0x59, 0x00), (0xc0, 0x26, 0x2d)


def capture():
    """A -x bye session (three segments to close) and a reset one."""
    a = Conn(cport=40000)
    a.handshake()
    a.send("c", 0.001, "PA", b"hello\n")
    a.send("s", 0.0011, "A")
    a.send("s", 0.002, "PA", b"0hello\n")
    a.send("c", 0.003, "FPA", b"bye\n")
    a.send("s", 0.004, "FA")
    a.send("c", 0.005, "A")
    b = Conn(cport=40002)
    b.handshake(0.01)
    b.send("c", 0.02, "RA")
    return harness.write_file(pcap(a.segs + b.segs), suffix=".pcap"), 13


def write_svg():
    path, nsegs = capture()
    svg = os.path.join(harness.tmpdir(), "ladder.svg")
    rc, out, err = run_trace(["--svg", svg, "-r", path])
    check_eq((rc, err), (0, ""), "rc, stderr")
    return svg, nsegs


def png_pixels(path):
    """(width, height, rows of RGB tuples) of an 8-bit RGB/RGBA PNG."""
    with open(path, "rb") as f:
        data = f.read()
    check_eq(data[:8], b"\x89PNG\r\n\x1a\n", "PNG signature")
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack("!I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack("!IIBB", body[:10])
            check(depth == 8 and ctype in (2, 6), "8-bit RGB(A): %d %d"
                  % (depth, ctype))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ft == 1:
                line[i] = (line[i] + a) & 0xff
            elif ft == 2:
                line[i] = (line[i] + b) & 0xff
            elif ft == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xff
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 0xff
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(w)])
        prev = line
    return w, h, rows


def test_standalone_svg():
    svg, nsegs = write_svg()
    root = ET.parse(svg).getroot()
    check_eq(root.tag, SVG + "svg", "root element")
    check(int(root.get("height")) > 500, "height %r" % root.get("height"))
    check_eq(root.get("viewBox").split()[3].lstrip("0"),
             root.get("height").lstrip("0"), "viewBox height")
    for el in root.iter():
        tag = el.tag.replace(SVG, "")
        check(tag not in ("image", "script", "foreignObject", "use", "a"),
              "a <%s> element" % tag)
        for k, v in el.attrib.items():
            check(not k.endswith("href"), "an href: %s=%r" % (k, v))
            for ref in re.findall(r"url\(([^)]*)\)", v):
                check(ref.startswith("#"), "outside reference %r" % v)
    with open(svg) as f:
        text = f.read()
    check("@import" not in text and "http://" not in
          text.replace('xmlns="http://www.w3.org/2000/svg"', ""),
          "outside references in the text")
    lines = list(root.iter(SVG + "line"))
    check_eq(sum(l.get("class") == "life" for l in lines), 4,
             "two lifelines per connection")
    arrows = [l for l in lines if l.get("marker-end")]
    check_eq(len(arrows), nsegs, "one arrow per segment")
    check_eq([a.get("class") for a in arrows][:3], ["syn", "syn", "dat"],
             "handshake arrows")
    check_eq(arrows[-1].get("class"), "rst", "the reset")
    # Each arrow slopes down, the way the segment went.
    for a in arrows:
        check(float(a.get("y2")) > float(a.get("y1")), "sloped down")
    texts = " ".join("".join(t.itertext()) for t in root.iter(SVG + "text"))
    for want in ("SYN_SENT", "TIME_WAIT", "FIN,PSH,ACK seq=7 ack=8 len=4",
                 '"bye\\n"', "TIME_WAIT: none: a RST ended the connection",
                 "127.0.0.1:40000 \u2192 127.0.0.1:1234"):
        check(want in texts, "%r in the picture's text" % want)


def test_rendered_not_blank():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        harness.skip("chromium not installed (.ci/install-deps installs it)")
    svg, nsegs = write_svg()
    height = int(ET.parse(svg).getroot().get("height"))
    png = os.path.join(harness.tmpdir(), "ladder.png")
    p = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars",
                        "--user-data-dir=" + os.path.join(harness.tmpdir(),
                                                          "chromium"),
                        "--screenshot=" + png,
                        "--window-size=1000,%d" % min(height, 4000),
                        "file://" + svg], capture_output=True, text=True,
                       timeout=harness.t(120), env=dict(os.environ,
                                                         HOME=harness.tmpdir()))
    check(p.returncode == 0 and os.path.exists(png),
          "chromium: %d %s" % (p.returncode, p.stderr[-2000:]))
    w, h, rows = png_pixels(png)
    check_eq(w, 1000, "width")
    colours = set()
    ink = 0
    near = {GREEN: 0, ORANGE: 0, RED: 0}
    for row in rows:
        colours.update(row)
        for px in row:
            if px != (255, 255, 255):
                ink += 1
            for c in near:
                if all(abs(px[i] - c[i]) < 24 for i in range(3)):
                    near[c] += 1
    check(len(colours) > 16, "distinct colours: %d" % len(colours))
    check(ink > w * h // 100, "ink: %d of %d pixels" % (ink, w * h))
    for c, n in near.items():
        check(n > 50, "pixels of colour %r: %d" % (c, n))


def test_unwritable_svg():
    path, _ = capture()
    bad = os.path.join(harness.tmpdir(), "no-such-dir", "x.svg")
    check_eq(run_trace(["--svg", bad, "-r", path]),
             (1, "", "seqecho-trace: --svg %s: No such file or directory\n"
              % bad), "rc, stdout, stderr")
    rc, out, err = run_trace(["--svg", "/dev/stdout", "-r", path])
    check(rc == 1 and "not a regular file" in err, "a pipe: %r" % err)


harness.main(globals(), timeout=180)
