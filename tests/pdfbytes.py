"""Write PDF files byte by byte for tests: numbered objects, a cross-reference table, a trailer."""

from __future__ import annotations

import io


def assemble_pdf(objects: list[bytes], root: int = 1, version: str = "1.4", trailer_extra: str = "") -> bytes:
    """A PDF whose object i+1 is `objects[i]`, catalog `root`, with a correct xref table."""
    out = io.BytesIO()
    out.write(f"%PDF-{version}\n".encode())
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    trailer = f"<< /Size {len(objects) + 1} /Root {root} 0 R{trailer_extra} >>".encode()
    out.write(b"trailer\n" + trailer + b"\nstartxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()
