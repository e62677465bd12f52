"""Extract Jane Austen's novels (public domain) from Debian's r-cran-janeaustenr as plain text.

    apt-get download r-cran-janeaustenr && dpkg -x r-cran-janeaustenr_*.deb ja
    python extract_austen.py ja/usr/lib/R/site-library/janeaustenr/data/Rdata.rdb out_dir

The package stores each novel as an R character vector (one line of the book per element) in a
lazy-load database: a concatenation of [4-byte length][zlib stream of R's XDR serialization].
Only the pieces needed for character vectors are decoded here. No R installation is needed.
"""
import struct
import sys
import zlib
from pathlib import Path


def blobs(data):
    pos = 0
    while pos + 4 < len(data):
        d = zlib.decompressobj()
        out = d.decompress(data[pos + 4:])
        yield out
        pos = len(data) - len(d.unused_data)


def strings(blob):
    """The elements of the first character vector (STRSXP) in a serialized R object."""
    assert blob[:2] == b"X\n", "not XDR serialization"
    pos = 2
    version = struct.unpack(">i", blob[pos:pos + 4])[0]
    pos += 12
    if version == 3:
        n = struct.unpack(">i", blob[pos:pos + 4])[0]
        pos += 4 + n
    flags = struct.unpack(">i", blob[pos:pos + 4])[0]
    pos += 4
    if flags & 0xFF != 16:
        return None
    count = struct.unpack(">i", blob[pos:pos + 4])[0]
    pos += 4
    out = []
    for _ in range(count):
        pos += 4  # CHARSXP flags
        n = struct.unpack(">i", blob[pos:pos + 4])[0]
        pos += 4
        if n < 0:
            out.append("")
            continue
        out.append(blob[pos:pos + n].decode("utf-8", errors="replace"))
        pos += n
    return out


def main():
    data = Path(sys.argv[1]).read_bytes()
    out_dir = Path(sys.argv[2])
    out_dir.mkdir(parents=True, exist_ok=True)
    for i, blob in enumerate(blobs(data)):
        lines = strings(blob)
        if lines and len(lines) > 1000:
            path = out_dir / f"austen_{i}.txt"
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            print(path, len(lines), "lines")


if __name__ == "__main__":
    main()
