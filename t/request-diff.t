#!/usr/bin/env python3
#
# Differential test of the ingest server's request reader
# (spoold/request.c, through $SPOOLD_BUILD/t/reqparse) against h11, an
# independent HTTP/1.1 implementation (Debian's python3-h11):
#
#   - seeded pseudo-random request heads, built from methods, targets,
#     versions and fields with values at the edges of the grammar, then
#     mutated (bytes replaced, inserted, deleted; lines doubled), must be
#     accepted, refused or found incomplete alike; when accepted, with
#     the same method, target, version, fields, framing, keep-alive,
#     100-continue and head length; when refused, with the same status;
#   - chunked bodies, built and mutated the same way, must decode to the
#     same bytes, end at the same byte, or be refused alike.
#
# The reader is stricter than h11 on purpose, and h11 reads a few things
# its own way. Each such difference is allowed below, by name, and only
# in the direction described:
#
#   obs-fold        a field line starting with white space: h11 joins it
#                   to the previous line; we refuse it (400).
#   ctl-value       a control character or DEL in a field value: h11
#                   lets all but white space through; we refuse (400).
#   te-and-cl       Transfer-Encoding with Content-Length: h11 lets
#                   Transfer-Encoding win; we refuse (400), because a
#                   proxy may have framed it by Content-Length.
#   te-in-1.0       Transfer-Encoding in HTTP/1.0: h11 decodes chunks;
#                   we refuse (400).
#   version         a version other than 1.0 and 1.1: h11 takes any
#                   digit.digit; we answer 505 unless the major is 1,
#                   and then read 1.x as 1.1.
#   cl-numeric      Content-Length values equal as numbers but not as
#                   text (5 and 05): h11 refuses; we take the number.
#   cl-huge         a Content-Length beyond 18 digits: both accept, we
#                   hold it as too large (the server answers 413).
#   expect          an expectation other than 100-continue: h11 ignores
#                   it; we answer 417.
#   host            a Host with characters no uri-host has: h11 takes
#                   it; we refuse (400).
#   check-order     a head with a Transfer-Encoding other than chunked
#                   and another fault: h11 answers 501 or 400 for the
#                   one it sees first, and so do we, in our order.
#   keep-alive-1.0  HTTP/1.0 with Connection: keep-alive: h11 never
#                   keeps a 1.0 connection; we do.
#   early           h11 refuses an incomplete head whose first byte is a
#                   control character or space; we wait for its end.
#   leading-empty   empty lines before the request line: h11 refuses
#                   them at the start of a connection; we skip them (RFC
#                   9112 2.2). h11 is given the input without them.
#   chunk-bws       white space between a chunk size and its ';': we
#                   take it (RFC 9112 7.1.1 BWS); h11 does not.
#   chunk-ctl       a control character in a chunk extension: h11 takes
#                   anything up to CRLF; we refuse it.
#   chunk-size      a size of more than 15 significant hex digits (we
#                   refuse) or more than 20 digits with leading zeros
#                   (h11 refuses).
#   early           a body we refuse at its first bad byte while h11
#                   waits for the end of the line: h11 must refuse it
#                   too once the line ends.
#   trailer-fold    white space at the start of a trailer line: h11
#                   joins it; we refuse.
#
# REQ_DIFF_SEED and REQ_DIFF_COUNT change the seed and the number of
# heads and bodies.

import os
import random
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
import tap  # noqa: E402
from tap import diag, ok  # noqa: E402

try:
    import h11
    from h11._connection import _body_framing, _keep_alive
    from h11._headers import has_expect_100_continue
except ImportError:
    # The Debian package serves the system's own python3.
    if os.path.exists("/usr/bin/python3") and \
            os.path.realpath(sys.executable) != \
            os.path.realpath("/usr/bin/python3") and \
            not os.environ.get("REQ_DIFF_REEXEC"):
        os.environ["REQ_DIFF_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("1..0 # SKIP python3-h11 is needed")
    sys.exit(0)

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("SPOOLD_BUILD") or os.path.join(HERE, "..", "build")
REQPARSE = os.path.join(BUILD, "t", "reqparse")
SEED = int(os.environ.get("REQ_DIFF_SEED", "20250611"))
COUNT = int(os.environ.get("REQ_DIFF_COUNT", "4000"))
HUGE = 2**64 - 1



def run_tool(inputs, args=()):
    """The reader's verdicts on inputs, one JSON object each."""
    import json
    data = "".join(x.hex() + "\n" for x in inputs).encode()
    p = subprocess.run([REQPARSE] + list(args), input=data,
                       stdout=subprocess.PIPE, timeout=300, check=True)
    out = [json.loads(l) for l in p.stdout.decode().splitlines()]
    if len(out) != len(inputs):
        raise SystemExit("reqparse gave %d verdicts for %d inputs" %
                         (len(out), len(inputs)))
    return out


# Heads: the pieces they are built from.

METHODS = [b"POST", b"GET", b"PUT", b"OPTIONS", b"X-M!#$%&'*+.^_`|~"]
TARGETS = [b"/", b"/ingest", b"/a?b=c&d=%20", b"*", b"http://h:1/p"] * 3 + \
    [b"/\xc3\xa9", b"/a\x7fb"]
VERSIONS = [b"HTTP/1.1"] * 8 + [b"HTTP/1.0"] * 3 + \
    [b"HTTP/1.2", b"HTTP/2.0", b"HTTP/0.9", b"http/1.1", b"HTTP/1.10"]
NAMES = [b"Host", b"host", b"HOST", b"Content-Length", b"content-length",
         b"Transfer-Encoding", b"transfer-encoding", b"Connection",
         b"Expect", b"X-Kumo", b"User-Agent", b"Accept", b"x-a_b.c~"]
# For each field, values to be read alike, then values to be refused.
VALUES = {
    b"host": ([b"127.0.0.1:8025", b"a", b"", b"[::1]:80", b"h,k"],
              [b"a b", b"a/b", b"a@b"]),
    b"content-length": ([b"0", b"5", b"12", b"5, 5", b"5,5",
                         b"999999999999999999", b"99999999999999999999999"],
                        [b"5, 6", b"05", b"+5", b"-1", b"", b"5,", b"0x5",
                         b"1 2"]),
    b"transfer-encoding": ([b"chunked", b"Chunked", b"CHUNKED"],
                           [b"gzip, chunked", b"chunked, chunked",
                            b"identity", b"chunked;q=1", b"", b"chunked,"]),
    b"connection": ([b"close", b"keep-alive", b"Keep-Alive", b"close, te",
                     b"te, close", b"upgrade", b"keep-alive, close"], []),
    b"expect": ([b"100-continue", b"100-Continue", b"",
                 b"100-continue, 100-continue"], [b"200-ok"]),
}
OTHER_VALUES = ([b"v", b"", b"a b", b"  padded\t ", b"caf\xc3\xa9",
                 b"\xff\x80", b"a\tb", b"x, y", b'"quoted"', b"a:b"], [])
INTERESTING = [b"\r", b"\n", b"\r\n", b"\0", b" ", b"\t", b":", b",",
               b"\x01", b"\x7f", b"\xff", b"\x0b", b"\x0c", b"\n\n",
               b"\r\n ", b"chunked", b"0", b"9", b";", b"\x1f"]


def build_head(rnd):
    eol = b"\n" if rnd.random() < 0.1 else b"\r\n"
    lines = [b" ".join([rnd.choice(METHODS), rnd.choice(TARGETS),
                        rnd.choice(VERSIONS)])]
    if rnd.random() < 0.9:
        lines.append(b"Host: " + rnd.choice(VALUES[b"host"][0]))
    for _ in range(rnd.randrange(0, 6)):
        name = rnd.choice(NAMES)
        good, bad = VALUES.get(name.lower(), OTHER_VALUES)
        vals = bad if bad and rnd.random() < 0.15 else good
        ws = rnd.choice([b" ", b"", b"  ", b"\t"])
        lines.append(name + b":" + ws + rnd.choice(vals) +
                     rnd.choice([b"", b"", b" ", b"\t"]))
    rnd.shuffle(lines[1:])
    head = b"".join(l + (eol if rnd.random() < 0.95 else b"\n")
                    for l in lines) + eol
    if rnd.random() < 0.05:
        head = rnd.choice([b"\r\n", b"\n", b"\r\n\r\n"]) + head
    return head


def mutate(rnd, data):
    for _ in range(rnd.choice([0, 0, 1, 1, 2, 3])):
        i = rnd.randrange(0, len(data) + 1)
        op = rnd.random()
        if op < 0.35 and i < len(data):
            data = data[:i] + rnd.choice(INTERESTING) + data[i + 1:]
        elif op < 0.65:
            data = data[:i] + rnd.choice(INTERESTING) + data[i:]
        elif op < 0.85 and i < len(data):
            data = data[:i] + data[i + 1:]
        else:
            lines = data.split(b"\n")
            j = rnd.randrange(0, len(lines))
            lines.insert(j, lines[j])
            data = b"\n".join(lines)
    return data


# What h11 makes of a head.

def h11_head(data):
    """("more",), ("reject", status, why) or ("accept", details)."""
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(data)
    try:
        ev = conn.next_event()
    except h11.RemoteProtocolError as e:
        return ("reject", e.error_status_hint, str(e))
    if ev is h11.NEED_DATA:
        return ("more",)
    framing = _body_framing(ev.method, ev)
    used = len(data) - len(conn._receive_buffer)
    fields = [(n, v) for n, v in ev.headers.raw_items()
              if n.lower() not in (b"content-length", b"transfer-encoding")]
    return ("accept", {
        "used": used, "method": ev.method, "target": ev.target,
        "version": ev.http_version, "fields": fields,
        "chunked": framing[0] == "chunked",
        "clen": None if framing[0] == "chunked" else
        min(framing[1][0], HUGE),
        "keep_alive": _keep_alive(ev),
        "expect": has_expect_100_continue(ev)})


def ours_head(j):
    if j["rc"] == 0:
        return ("more",)
    if j["rc"] == -1:
        return ("reject", j["status"], "")
    u = bytes.fromhex
    fields = [(u(n), u(v)) for n, v in j["fields"]
              if u(n).lower() not in (b"content-length",
                                      b"transfer-encoding")]
    clen = int(j["clen"])
    return ("accept", {
        "used": j["rc"], "method": u(j["method"]), "target": u(j["target"]),
        "version": b"1.%d" % j["minor"], "fields": fields,
        "chunked": bool(j["chunked"]),
        "clen": None if j["chunked"] else clen,
        "keep_alive": bool(j["keep_alive"]), "expect": bool(j["expect"])})


def strip_leading(data):
    n = 0
    while True:
        if data[n:n + 1] == b"\n":
            n += 1
        elif data[n:n + 2] == b"\r\n":
            n += 2
        else:
            return n


def head_lines(data):
    """The field lines of the head, as both would split them."""
    m = re.search(rb"\n\r?\n", data)
    head = data[:m.end()] if m else data
    lines = [l[:-1] if l.endswith(b"\r") else l for l in head.split(b"\n")]
    return lines[0], [l for l in lines[1:] if l]


def values_of(fields, name):
    return [v.strip(b" \t") for n, v in
            (l.split(b":", 1) for l in fields if b":" in l)
            if n.lower() == name]


def elements(vals):
    return [e.strip(b" \t") for v in vals for e in v.split(b",")]


HOST_CHARS = re.compile(rb"[A-Za-z0-9\-._~%!$&'()*+,;=:\[\]]*\Z")


def head_allowances(data):
    """The names of the allowed differences this head may show."""
    reqline, fields = head_lines(data)
    names = set()
    if any(l[:1] in (b" ", b"\t") for l in fields):
        names.add("obs-fold")
    if any(re.search(rb"[\x00-\x08\x0a-\x1f\x7f]", l.split(b":", 1)[-1])
           for l in fields):
        names.add("ctl-value")
    te = values_of(fields, b"transfer-encoding")
    cl = values_of(fields, b"content-length")
    if len(te) > 1 or any(v.lower() != b"chunked" for v in te):
        names.add("bad-te")
    if te and cl:
        names.add("te-and-cl")
    version = reqline[-8:]
    if te and version == b"HTTP/1.0":
        names.add("te-in-1.0")
    if version not in (b"HTTP/1.0", b"HTTP/1.1"):
        names.add("version")
    cle = elements(cl)
    if cle and all(e.isdigit() for e in cle):
        if len(set(cle)) > 1 and len(set(int(e) for e in cle)) == 1:
            names.add("cl-numeric")
        if any(int(e) >= 10**18 for e in cle):
            names.add("cl-huge")
    if any(e.lower() not in (b"", b"100-continue")
           for e in elements(values_of(fields, b"expect"))):
        names.add("expect")
    if any(not HOST_CHARS.match(v) for v in values_of(fields, b"host")):
        names.add("host")
    if version == b"HTTP/1.0":
        names.add("keep-alive-1.0")
    return names


def head_allowed(names, ours, theirs):
    """The allowed difference that explains ours against theirs, if any."""
    if ours[0] == "reject" and ours[1] == 400 and theirs[0] != "reject" \
            or ours[0] == "reject" and theirs[0] == "reject":
        for n in ("obs-fold", "ctl-value", "te-and-cl", "te-in-1.0",
                  "host"):
            if n in names:
                return n
    # Both refuse a head with faults of both kinds; h11 looks at the
    # framing fields before Host and in the order they come.
    if ours[0] == theirs[0] == "reject" and \
            {ours[1], theirs[1]} == {400, 501} and "bad-te" in names:
        return "check-order"
    if ours[0] == "reject" and ours[1] == 417 and "expect" in names:
        return "expect"
    if "version" in names:
        return "version"
    if ours[0] == "accept" and theirs[0] == "reject" and \
            "cl-numeric" in names:
        return "cl-numeric"
    if ours[0] == "more" and theirs[0] == "reject" and \
            "illegal request line" in theirs[2]:
        return "early"
    if ours[0] == "accept" and theirs[0] == "accept":
        a, b = dict(ours[1]), dict(theirs[1])
        if "cl-huge" in names and a["clen"] == HUGE:
            a["clen"] = b["clen"]
        if "keep-alive-1.0" in names:
            a["keep_alive"] = b["keep_alive"]
        if a == b:
            return "cl-huge/keep-alive-1.0"
    return None


def show(data):
    return repr(data)[:300]


def judge_head(data, j):
    """Our kind of verdict, and the allowed difference or the disagreement
    (None both when h11 agrees)."""
    ours = ours_head(j)
    skip = strip_leading(data)
    theirs = h11_head(data[skip:])
    if theirs[0] == "accept":
        theirs[1]["used"] += skip
    if ours == theirs or (ours[0] == theirs[0] == "reject" and
                          ours[1] == theirs[1]):
        return ours[0], None, None
    why = head_allowed(head_allowances(data), ours, theirs)
    return ours[0], why, "%s: ours %r, h11 %r" % (show(data), ours, theirs)


def compare(what, inputs, args, judge, kinds_wanted):
    kinds = {}
    allowed = {}
    bad = []
    for data, j in zip(inputs, run_tool(inputs, args)):
        kind, why, disagreement = judge(data, j)
        kinds[kind] = kinds.get(kind, 0) + 1
        if why is not None:
            allowed[why] = allowed.get(why, 0) + 1
        elif disagreement is not None:
            bad.append(disagreement)
    ok(not bad, "%d %s as h11 does (%s; allowed: %s)" %
       (len(inputs), what, kinds, allowed), bad[:10])
    # The test is worth something only if both sides were exercised.
    ok(min(kinds.get(k, 0) for k in kinds_wanted) > len(inputs) // 10,
       "%s: %s both abound" % (what, " and ".join(kinds_wanted)))


def test_heads(rnd):
    inputs = []
    for _ in range(COUNT):
        head = build_head(rnd)
        inputs.append(mutate(rnd, head) if rnd.random() < 0.7 else head)
    compare("heads read", inputs, [], judge_head, ["accept", "reject"])


# Chunked bodies.

def build_body(rnd):
    out = b""
    for _ in range(rnd.randrange(0, 4)):
        n = rnd.randrange(1, 40)
        size = b"%x" % n
        if rnd.random() < 0.2:
            size = size.upper()
        if rnd.random() < 0.1:
            size = b"0" * rnd.randrange(1, 25) + size
        ext = rnd.choice([b"", b"", b";a", b";a=b", b';a="x;y"', b" "] * 5 +
                         [b" ;a", b";\x01"])
        out += size + ext + b"\r\n" + bytes(
            rnd.choice(b"abcdefghij") for _ in range(n)) + b"\r\n"
    out += rnd.choice([b"0", b"000", b"0;e"]) + b"\r\n"
    for _ in range(rnd.choice([0, 0, 1, 2])):
        out += rnd.choice([b"X-T: 1", b"Y:", b"Z: a b"] * 3 +
                          [b" folded", b"NoColon", b"T:\x01"]) + b"\r\n"
    out += b"\r\n"
    if rnd.random() < 0.2:
        out += b"POST / HTTP/1.1\r\n"
    return out


CHUNK_HEAD = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"


def h11_body(body):
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(CHUNK_HEAD + body)
    out = b""
    try:
        while True:
            ev = conn.next_event()
            if ev is h11.NEED_DATA:
                return ("more",)
            if isinstance(ev, h11.Data):
                out += bytes(ev.data)
            elif isinstance(ev, h11.EndOfMessage):
                used = len(body) - len(conn.trailing_data[0])
                return ("done", out, used)
    except h11.RemoteProtocolError:
        return ("error",)


def ours_body(j):
    if j["rc"] == 1:
        return ("done", bytes.fromhex(j["out"]), j["used"])
    return ("more",) if j["rc"] == 0 else ("error",)


def body_allowances(body):
    names = set()
    if re.search(rb"[0-9a-fA-F][ \t]+;", body):
        names.add("chunk-bws")
    if re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)", body):
        names.add("chunk-ctl")
    if re.search(rb"(?:^|\n)[0-9a-fA-F]{16,}", body):
        names.add("chunk-size")
    if re.search(rb"\n[ \t]", body):
        names.add("trailer-fold")
    return names


def body_allowed(names, ours, theirs):
    """The allowed difference that explains ours against theirs, if any."""
    if "chunk-size" in names:
        return "chunk-size"
    if ours[0] == "error":
        for n in ("chunk-ctl", "trailer-fold"):
            if n in names:
                return n
    elif theirs[0] != "done":
        for n in ("chunk-bws",):
            if n in names:
                return n
    return None


def judge_body(data, j):
    ours = ours_body(j)
    theirs = h11_body(data)
    if ours == theirs:
        return ours[0], None, None
    # We refuse at the first bad byte; h11 waits for the line's end.
    if ours[0] == "error" and theirs[0] == "more":
        if h11_body(data + b"\r\n" * 4)[0] == "error":
            return ours[0], "early", None
    why = body_allowed(body_allowances(data), ours, theirs)
    return ours[0], why, "%s: ours %r, h11 %r" % (show(data), ours, theirs)


def test_bodies(rnd):
    inputs = []
    for _ in range(COUNT // 2):
        body = build_body(rnd)
        inputs.append(mutate(rnd, body) if rnd.random() < 0.6 else body)
    compare("chunked bodies decoded", inputs, ["-c"], judge_body,
            ["done", "error"])


def main():
    if not os.path.exists(REQPARSE):
        print("1..0 # SKIP %s is not built" % REQPARSE)
        return 0
    print("1..4")
    print("# seed %d, %d heads, %d bodies, h11 %s" %
          (SEED, COUNT, COUNT // 2, h11.__version__))
    rnd = random.Random(SEED)
    test_heads(rnd)
    test_bodies(rnd)
    return tap.status()


sys.exit(main())
