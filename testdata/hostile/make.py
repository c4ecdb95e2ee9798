#!/usr/bin/env python3
"""Makes the damaged and hostile inputs of testdata/hostile/ from base.evtx (kmsdiag synth
base.toml) and from nothing. Deterministic: running it again writes the same bytes.
Usage: python3 testdata/hostile/make.py   (from the repository root or this folder)."""
import os
import struct
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
CHUNK = 0x10000
HEADER = 0x1000


def path(name):
    return os.path.join(HERE, name)


def write(name, data):
    with open(path(name), "wb") as f:
        f.write(data)


base = open(path("base.evtx"), "rb").read()
assert base[:8] == b"ElfFile\0" and len(base) >= HEADER + 3 * CHUNK


def chunk_at(i):
    return HEADER + i * CHUNK


def records(buf, i):
    """Offsets of the records of chunk i."""
    c = chunk_at(i)
    off = c + 0x200
    free = struct.unpack_from("<I", buf, c + 0x30)[0]
    out = []
    while off < c + free and buf[off:off + 4] == b"\x2a\x2a\x00\x00":
        out.append(off)
        size = struct.unpack_from("<I", buf, off + 4)[0]
        off += size
    return out


def patched(pairs):
    b = bytearray(base)
    for off, data in pairs:
        b[off:off + len(data)] = data
    return bytes(b)


c1 = chunk_at(1)
r1 = records(base, 1)
mid = r1[len(r1) // 2]

# Truncated: in the middle of chunk 2 (index 1), and 20 bytes into one of its records.
write("evtx-truncated-mid-chunk.evtx", base[:c1 + CHUNK // 2])
write("evtx-truncated-mid-record.evtx", base[:mid + 20])
# Checksums: the file header's, and chunk 2's header and data checksums.
write("evtx-bad-file-checksum.evtx", patched([(0x7C, b"\xde\xad\xbe\xef")]))
write("evtx-bad-chunk-checksums.evtx", patched([(c1 + 0x34, b"\xde\xad\xbe\xef"), (c1 + 0x7C, b"\xde\xad\xbe\xef")]))
# Chunk 2's magic overwritten.
write("evtx-bad-chunk-magic.evtx", patched([(c1, b"NotAChk\0")]))
# A record in chunk 2 claiming 0 bytes, another claiming 4 GiB.
write("evtx-zero-record-length.evtx", patched([(mid + 4, struct.pack("<I", 0))]))
write("evtx-oversized-record-length.evtx", patched([(mid + 4, struct.pack("<I", 0xFFFFFFF0))]))
# Chunk 2's string and template tables pointing far outside the chunk.
write("evtx-offsets-outside-chunk.evtx", patched([(c1 + 0x80, struct.pack("<I", 0xFFFF0000) * 96)]))
# A header claiming 2^64-1 chunks (last chunk number) and 65535 chunks (chunk count).
write("evtx-billions-of-chunks.evtx", patched([(0x10, struct.pack("<Q", 0xFFFFFFFFFFFFFFFF)), (0x2A, struct.pack("<H", 0xFFFF))]))
# The dirty flag set (a log copied while the service had it open).
write("evtx-dirty.evtx", patched([(0x78, struct.pack("<I", 1))]))
# Nothing at all, and something else renamed.
write("evtx-empty.evtx", b"")
write("evtx-not-evtx.evtx", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)

# XML: entity expansion and external entities (never expanded, never fetched), deep nesting,
# invalid UTF-8 and UTF-16, control characters.
EVENT = ('<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>'
         '<Provider Name="Microsoft-Windows-Security-SPP"/><EventID Qualifiers="16384">12288</EventID>'
         '<TimeCreated SystemTime="2026-10-11T08:00:00Z"/><EventRecordID>{rid}</EventRecordID>'
         '<Channel>Application</Channel><Computer>{comp}</Computer></System><EventData>'
         '<Data>{info}</Data></EventData></Event>')
INFO = ("0xC004F074, 0x0, kms01.contoso.com:1688, 99999999-2222-4333-8444-555555555555, "
        "2026/10/11 08:00, 0, 2, 43200, 73111121-5638-40f6-bc11-f1d7b0d64300, 25")
laughs = ['<!DOCTYPE Events [', '<!ENTITY lol "lol">']
for i in range(1, 10):
    laughs.append('<!ENTITY lol%d "%s">' % (i, ("&lol%d;" % (i - 1) if i > 1 else "&lol;") * 10))
laughs.append("]>")
write("xml-billion-laughs.xml", ("\n".join(laughs) + "\n<Events>"
      + EVENT.format(rid=1, comp="pc-laughs", info=INFO + " &lol9;")
      + EVENT.format(rid=2, comp="pc-laughs", info=INFO) + "</Events>\n").encode())
write("xml-external-entity.xml", ('<?xml version="1.0"?>\n<!DOCTYPE Events [ <!ENTITY xxe SYSTEM "file:///etc/passwd">'
      ' <!ENTITY net SYSTEM "http://192.0.2.1/x"> ]>\n<Events>'
      + EVENT.format(rid=1, comp="pc-xxe", info="&xxe;&net;")
      + EVENT.format(rid=2, comp="pc-xxe", info=INFO) + "</Events>\n").encode())
write("xml-deep-nesting.xml", ("<Events>" + EVENT.format(rid=1, comp="pc-deep", info=INFO)
      + "<Event>" + "<a>" * 100000 + "</a>" * 100000 + "</Event>"
      + EVENT.format(rid=3, comp="pc-deep", info=INFO) + "</Events>\n").encode())
good = EVENT.format(rid=1, comp="pc-utf8", info=INFO).encode()
bad = EVENT.format(rid=2, comp="pc-\x00\x00", info=INFO).encode().replace(b"\x00\x00", b"\xff\xfe\xc0\xaf")
write("xml-invalid-utf8.xml", good + b"\n" + bad + b"\n")
u16 = "\ufeff" + EVENT.format(rid=1, comp="pc-utf16", info=INFO) + "\n"
b16 = bytearray(u16.encode("utf-16-le"))
b16 += b"\x00\xd8\x41\x00" + EVENT.format(rid=2, comp="pc-utf16", info=INFO).encode("utf-16-le") + b"\x41"
write("xml-invalid-utf16.xml", bytes(b16))
write("xml-control-chars.xml", (EVENT.format(rid=1, comp="pc-ctl&#x1;&#x1b;[2J", info=INFO + "&#x0;&#x7;") + "\n"
      + EVENT.format(rid=2, comp="pc-ctl", info="\x01\x02" + INFO) + "\n").encode())

# A KMS host logs whatever name a request carries: commas in it must not shift the fields after.
HOST_EVENT = EVENT.replace(">12288<", ">12290<").replace("<Channel>Application", "<Channel>Key Management Service")
write("xml-comma-in-client-name.xml", (HOST_EVENT.format(rid=1, comp="kms01.contoso.com",
      info="0x0,25,evil,name,with,commas,11111111-2222-4333-8444-555555555555,2026/10/11 08:00,0,1,248627,73111121-5638-40f6-bc11-f1d7b0d64300")
      + "\n").encode())

# Text, CSV, JSON: NUL bytes, mixed encodings, formula cells, a JSON nesting bomb.
CSV_HEAD = "Level,Date and Time,Source,Event ID,Task Category\r\n"
MSG = ("An activation request has been submitted.\r\nInfo:\r\n" + INFO)
write("csv-nul-bytes.csv", (CSV_HEAD + 'Information,10/11/2026 8:00:00 AM,Microsoft-Windows-Security-SPP,12288,None,"' + MSG + '"\r\n').encode().replace(b"Task", b"Ta\x00sk") + b"\x00" * 64)
write("csv-formula-cells.csv", (CSV_HEAD + 'Information,10/11/2026 8:00:00 AM,Microsoft-Windows-Security-SPP,12288,=HYPERLINK("http://evil.example/"),"' + MSG.replace("kms01.contoso.com", "=cmd|' /C calc'!A0") + '"\r\n').encode())
dli_en = open(os.path.join(HERE, "..", "slmgr", "en-win7-kms-client-dli.txt"), "rb").read()
write("text-mixed-encodings.txt", dli_en + "\r\nName: Windows(R) Édition — 企业版\r\n".encode("utf-8") + "Beschreibung: Windows(R) Kanal für Großkunden\r\n".encode("cp1252"))
write("json-nesting-bomb.json", b"[" * 200000 + b"]" * 200000)
write("json-deep-object.json", b'{"Event":' * 50000 + b"null" + b"}" * 50000)

# Zip: a bomb (bounded by ratio), path traversal and absolute names, a symlink entry, an encrypted
# entry, zips nested three deep.
ZDATE = (2026, 10, 1, 0, 0, 0)


def zinfo(name, attr=0):
    i = zipfile.ZipInfo(name, date_time=ZDATE)
    i.compress_type = zipfile.ZIP_DEFLATED
    i.external_attr = attr
    i.create_system = 3
    return i


def zip_bytes(entries):
    import io
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for info, data in entries:
            z.writestr(info, data)
    return buf.getvalue()


dlv = open(os.path.join(HERE, "..", "slmgr", "en-win10-kms-client-dlv-licensed.txt"), "rb").read()
write("zip-bomb.zip", zip_bytes([(zinfo("PC1/dlv.txt"), dlv), (zinfo("bomb.txt"), b"\0" * (300 * 1024 * 1024))]))
write("zip-path-traversal.zip", zip_bytes([(zinfo("../../../etc/cron.d/PC2-dlv.txt"), dlv), (zinfo("/etc/PC3/dlv.txt"), dlv)]))
write("zip-symlink.zip", zip_bytes([(zinfo("PC4/dlv.txt"), dlv), (zinfo("PC5/dlv.txt", (0o120777 << 16)), b"/etc/passwd")]))
enc = bytearray(zip_bytes([(zinfo("PC6/dlv.txt"), dlv), (zinfo("secret/dlv.txt"), dlv)]))
# Mark the second entry encrypted (general purpose flag bit 0) in its local and central headers.
for sig in (b"PK\x03\x04", b"PK\x01\x02"):
    pos = -1
    for _ in range(2):
        pos = enc.find(sig, pos + 1)
    flag_at = pos + (6 if sig == b"PK\x03\x04" else 8)
    enc[flag_at] |= 1
write("zip-encrypted-entry.zip", bytes(enc))
inner = zip_bytes([(zinfo("PC7/dlv.txt"), dlv)])
for depth in range(3):
    inner = zip_bytes([(zinfo("level%d.zip" % (3 - depth)), inner)])
write("zip-nested-deep.zip", zip_bytes([(zinfo("PC8/dlv.txt"), dlv), (zinfo("nested.zip"), inner)]))
print("written")
