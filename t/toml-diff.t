#!/usr/bin/env python3
#
# Differential test of the TOML parser (common/toml.c, through
# $SPOOLD_BUILD/t/tomldump) against Python's tomllib:
#
#   - every file of t/data/toml/valid/ gives the same tree, same types;
#   - every file of t/data/toml/invalid/ is rejected by both;
#   - deterministic pseudo-random documents, and mutations of the corpus
#     (byte flips, truncations, inserted quotes, brackets and newlines),
#     are accepted or rejected alike, with the same tree when accepted.
#
# The parser is stricter than tomllib in one way only: integers must fit
# in 64 bits, as TOML 1.0 requires. It also accepts the year 0000, which
# Python's datetime cannot represent. Both are allowed for below.
#
# TOML_DIFF_SEED, TOML_DIFF_COUNT and TOML_DIFF_SECONDS change the seed,
# the number of generated documents and the time budget.

import datetime
import json
import math
import os
import random
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
import tap  # noqa: E402
from tap import diag, ok  # noqa: E402
import time

try:
    import tomllib
except ImportError:
    print("1..0 # SKIP python3 >= 3.11 with tomllib is needed")
    sys.exit(0)

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data", "toml")
BUILD = os.environ.get("SPOOLD_BUILD") or os.path.join(HERE, "..", "build")
# The build puts it in t/; a quick manual build may leave it at the top.
TOMLDUMP = os.path.join(BUILD, "t", "tomldump")
if not os.path.exists(TOMLDUMP):
    TOMLDUMP = os.path.join(BUILD, "tomldump")
SEED = int(os.environ.get("TOML_DIFF_SEED", "20240917"))
COUNT = int(os.environ.get("TOML_DIFF_COUNT", "5000"))
BUDGET = float(os.environ.get("TOML_DIFF_SECONDS", "120"))
CHUNK = 250




class Reject(Exception):
    pass


# What tomllib makes of a document, in the tagged form of tomldump.

def tag(v):
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, int):
        if not -2**63 <= v < 2**63:
            raise Reject("integer beyond 64 bits")
        return ("integer", v)
    if isinstance(v, float):
        return ("float", v)
    if isinstance(v, str):
        return ("string", v)
    if isinstance(v, datetime.datetime):
        return ("datetime" if v.tzinfo else "datetime-local", v)
    if isinstance(v, datetime.date):
        return ("date-local", v)
    if isinstance(v, datetime.time):
        return ("time-local", v)
    if isinstance(v, list):
        return [tag(x) for x in v]
    return {k: tag(x) for k, x in v.items()}


def expect(data):
    """The tagged tree tomllib reads from data, or None if it refuses."""
    try:
        return tag(tomllib.loads(data.decode("utf-8-sig")))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, Reject):
        return None
    except RecursionError:
        return "skip"


def untag(j):
    if isinstance(j, list):
        return [untag(x) for x in j]
    if (set(j) == {"type", "value"} and isinstance(j["type"], str) and
            isinstance(j["value"], str)):
        return (j["type"], j["value"])
    return {k: untag(x) for k, x in j.items()}


def leaf_diff(m, e):
    mt, mv = m
    et, ev = e
    if mt != et:
        return "type %s, tomllib %s" % (mt, et)
    if mt == "integer":
        return None if int(mv) == ev else "%s != %r" % (mv, ev)
    if mt == "bool":
        return None if mv == ("true" if ev else "false") else mv
    if mt == "string":
        return None if mv == ev else "%r != %r" % (mv, ev)
    if mt == "float":
        f = float(mv)
        if math.isnan(f) and math.isnan(ev):
            return None
        if f == ev and math.copysign(1, f) == math.copysign(1, ev):
            return None
        return "%s != %r" % (mv, ev)
    # Dates and times: read the parser's text back with tomllib.
    try:
        back = tomllib.loads("v = " + mv)["v"]
    except tomllib.TOMLDecodeError:
        return "unreadable datetime %r" % mv
    if back != ev or getattr(back, "utcoffset", lambda: None)() != \
            getattr(ev, "utcoffset", lambda: None)():
        return "%r != %r" % (mv, ev)
    return None


def diff(m, e, path="$"):
    """The first difference between the two trees, or None."""
    if isinstance(e, tuple):
        if not isinstance(m, tuple):
            return "%s: %r, tomllib a %s" % (path, m, e[0])
        d = leaf_diff(m, e)
        return None if d is None else "%s: %s" % (path, d)
    if isinstance(e, list):
        if not isinstance(m, list) or len(m) != len(e):
            return "%s: array %r, tomllib %r" % (path, m, e)
        for i, (a, b) in enumerate(zip(m, e)):
            d = diff(a, b, "%s[%d]" % (path, i))
            if d:
                return d
        return None
    if not isinstance(m, dict) or list(m) != list(e):
        return "%s: keys %r, tomllib %r" % (
            path, list(m) if isinstance(m, dict) else m, list(e))
    for k in e:
        d = diff(m[k], e[k], "%s.%s" % (path, json.dumps(k)))
        if d:
            return d
    return None


def year_zero(m):
    if isinstance(m, tuple):
        return m[0].startswith("date") and m[1].startswith("0000")
    vals = m if isinstance(m, list) else m.values()
    return any(year_zero(x) for x in vals)


POS = re.compile(r"^[^:]+:\d+:\d+: \S")


def verdict(data, mine):
    """None if the parser's answer mine ("ok", tree) or ("error", msg)
    agrees with tomllib on data, else why not."""
    exp = expect(data)
    if exp == "skip":
        return None
    if mine[0] == "error":
        if not POS.match(mine[1]):
            return "error without FILE:LINE:COL: %r" % mine[1]
        if exp is not None:
            return "rejected (%s), tomllib accepts" % mine[1]
        return None
    if exp is None:
        if year_zero(mine[1]):
            return None
        return "accepted, tomllib rejects"
    return diff(mine[1], exp)


def run_batch(docs):
    """Parse docs with one tomldump -b; a list of ("ok", tree) or
    ("error", message), cut short if it crashed."""
    blob = b"".join(b"%d\n%s" % (len(d), d) for d in docs)
    pr = subprocess.run([TOMLDUMP, "-b"], input=blob, capture_output=True,
                        timeout=600)
    out = []
    for line in pr.stdout.decode("utf-8", "replace").split("\n")[:len(docs)]:
        if line.startswith("ok "):
            out.append(("ok", untag(json.loads(line[3:]))))
        elif line.startswith("error "):
            out.append(("error", line[6:]))
    if len(out) < len(docs) or pr.returncode != 0:
        out.append(("crash", pr.stderr.decode("utf-8", "replace")[-2000:]))
    return out


# Pseudo-random documents. Keys come from a small set so that tables and
# keys collide often, which exercises the redefinition rules.

BARE = ["a", "b", "c", "x-y", "_", "1", "key", "true", "inf"]
QUOTED = ['"a"', "'b'", '"a b"', '""', '"é"', '"\\u0041"', "'x.y'",
          '"t\\tb"', "'c'"]
CHARS = ["a", "Z", " ", "\\t", "\\n", "\\\\", "\\\"", "\\u00e9", "\\U0001F600",
         "é", "日", "'", "#", "\t", "\\b", "\\f", "\\r", "=", "[", "{"]


def g_key(r, pool=None):
    parts = []
    for _ in range(r.choice([1, 1, 1, 2, 2, 3])):
        if pool:
            parts.append(r.choice(pool))
        elif r.random() < 0.2:
            parts.append(r.choice(QUOTED))
        else:
            parts.append(r.choice(BARE))
    return r.choice([".", " . ", ". ", "."]).join(parts)


def g_int(r):
    if r.random() < 0.3:
        return r.choice(["0", "+0", "-0", "9223372036854775807",
                         "-9223372036854775808", "9223372036854775808",
                         "-9223372036854775809", "0x7FFFFFFFFFFFFFFF",
                         "0x8000000000000000", "0o777", "0b1010_1010",
                         "0xdead_BEEF", "1_000_000", "99999999999999999999",
                         "0o777777777777777777777", "0o1777777777777777777777"])
    digits = str(r.randrange(1, 10)) + "".join(
        r.choice("_0123456789" if i % 3 else "0123456789")
        for i in range(r.randrange(0, 20)))
    digits = re.sub("_+", "_", digits).rstrip("_")
    return r.choice(["", "", "+", "-"]) + digits


def g_float(r):
    if r.random() < 0.3:
        return r.choice(["inf", "-inf", "+inf", "nan", "-nan", "+nan",
                         "0.0", "-0.0", "1e400", "-1e400", "5e-324",
                         "1.7976931348623157e308", "0e0", "1E+10",
                         "6.626e-34", "224_617.445_991_228", "1e1_0"])
    s = g_int(r).lstrip("+-").split("_")[0]
    s = r.choice(["", "-", "+"]) + s
    if r.random() < 0.7:
        s += "." + str(r.randrange(0, 10**r.randrange(1, 8)))
    if r.random() < 0.5 or "." not in s:
        s += r.choice("eE") + r.choice(["", "+", "-"]) + str(r.randrange(0, 400))
    return s


def g_datetime(r):
    y = r.randrange(1, 10000)
    mo = r.randrange(1, 13)
    d = r.randrange(1, 32 if r.random() < 0.2 else 29)
    date = "%04d-%02d-%02d" % (y, mo, d)
    t = "%02d:%02d:%02d" % (r.randrange(24), r.randrange(60), r.randrange(60))
    if r.random() < 0.3:
        t += "." + str(r.randrange(10**r.randrange(1, 10)))
    off = r.choice(["", "Z", "z", "+05:30", "-08:00", "+23:59", "-00:00"])
    return r.choice([date, t, date + r.choice("Tt ") + t + off,
                     date + "T" + t])


def g_string(r):
    body = "".join(r.choice(CHARS) for _ in range(r.randrange(0, 8)))
    kind = r.randrange(5)
    if kind == 0:
        return '"' + body.replace("\t", " ").replace("'", "") + '"'
    raw = re.sub(r"\\.", "", body).replace("'", "")
    if kind == 1:
        return "'" + raw + "'"
    if kind == 2:
        return '"""' + r.choice(["", "\n"]) + body.replace("'", "") + \
            r.choice(["", "\\\n  ", "\n", '"', '""']) + '"""'
    if kind == 3:
        return "'''" + r.choice(["", "\n"]) + raw + \
            r.choice(["", "\n", "'", "''"]) + "'''"
    return '"' + r.choice(["\\u00", "\\uD800", "\\U00110000", "\\x41", "\\e",
                           "\\u00e9", "\\U0001F600", "\\ "]) + '"'


def g_array(r, depth):
    items = [g_value(r, depth + 1) for _ in range(r.randrange(0, 4))]
    seps = [r.choice([",", ", ", " ,\n  ", ",# c\n", ",\n\n"]) for _ in items]
    s = "["
    for i, it in enumerate(items):
        s += r.choice(["", " ", "\n  "]) + it
        if i + 1 < len(items) or r.random() < 0.3:
            s += seps[i]
    return s + r.choice(["", " ", "\n"]) + "]"


def g_inline(r, depth):
    items = ["%s = %s" % (g_key(r), g_value(r, depth + 1))
             for _ in range(r.randrange(0, 4))]
    return "{" + r.choice(["", " "]) + r.choice([",", ", "]).join(items) + \
        r.choice(["", " "]) + "}"


def g_value(r, depth=0):
    kinds = [g_int, g_float, g_string, g_string, g_datetime,
             lambda r: r.choice(["true", "false"])]
    if depth < 3:
        kinds += [lambda r: g_array(r, depth), lambda r: g_inline(r, depth)]
    return r.choice(kinds)(r)


def g_header(r):
    path = g_key(r) if r.random() < 0.5 else \
        ".".join(r.choice(BARE[:3]) for _ in range(r.randrange(1, 4)))
    if r.random() < 0.35:
        return "[[" + path + "]]"
    return "[" + r.choice(["", " "]) + path + r.choice(["", " "]) + "]"


def g_small(r, pool):
    """A value that may be a table, to collide with headers and keys."""
    x = r.random()
    if x < 0.5:
        return str(r.randrange(10))
    if x < 0.7:
        return "{ %s = 1 }" % g_key(r, pool)
    if x < 0.85:
        return "[ { %s = 2 } ]" % g_key(r, pool)
    return "[]"


def g_tables(r):
    """Headers, dotted keys and values over three names: almost every
    line meets an earlier one, which exercises the redefinition rules."""
    pool = ["a", "b", "c"]
    lines = []
    for _ in range(r.randrange(2, 10)):
        x = r.random()
        if x < 0.5:
            lines.append("%s = %s" % (g_key(r, pool), g_small(r, pool)))
        else:
            path = g_key(r, pool)
            lines.append("[[%s]]" % path if x < 0.65 else "[%s]" % path)
    return ("\n".join(lines) + "\n").encode()


def g_doc(r):
    if r.random() < 0.3:
        return g_tables(r)
    lines = []
    for _ in range(r.randrange(1, 12)):
        x = r.random()
        if x < 0.55:
            lines.append("%s%s=%s%s" % (g_key(r), r.choice([" ", ""]),
                                         r.choice([" ", ""]), g_value(r)))
        elif x < 0.8:
            lines.append(g_header(r))
        elif x < 0.9:
            lines.append("# " + g_string(r))
        else:
            lines.append("")
        if r.random() < 0.15:
            lines[-1] += r.choice(["  # comment", "\t#", " #é"])
    eol = "\r\n" if r.random() < 0.15 else "\n"
    text = eol.join(lines) + r.choice([eol, ""])
    return text.encode("utf-8")


INSERTS = [b'"', b"'", b"[", b"]", b"{", b"}", b"\n", b"\r\n", b"\r", b"=",
           b",", b".", b"#", b" ", b"\\", b'"""', b"'''", b"[[", b"]]",
           b"\t", b"\x00", b"\x7f", "é".encode(), b"\xff", b"_", b"0", b"+",
           b":", b"-", b"T", b"e"]


def mutate(r, data):
    data = bytearray(data)
    for _ in range(r.choice([1, 1, 2, 3])):
        pos = r.randrange(len(data) + 1)
        op = r.randrange(6)
        if op == 0 and data:
            data[min(pos, len(data) - 1)] = r.randrange(256)
        elif op == 1:
            del data[pos:]
        elif op == 2 or op == 3:
            data[pos:pos] = r.choice(INSERTS)
        elif op == 4:
            del data[pos:pos + r.randrange(1, 4)]
        else:
            lines = bytes(data).split(b"\n")
            i = r.randrange(len(lines))
            lines.insert(r.randrange(len(lines) + 1), lines[i])
            data = bytearray(b"\n".join(lines))
    return bytes(data)


def check_corpus():
    for kind in ("valid", "invalid"):
        top = os.path.join(DATA, kind)
        for name in sorted(os.listdir(top)):
            if not name.endswith(".toml"):
                continue
            path = os.path.join(top, name)
            with open(path, "rb") as f:
                data = f.read()
            pr = subprocess.run([TOMLDUMP, path], capture_output=True)
            err = pr.stderr.decode("utf-8", "replace").strip()
            exp = expect(data)
            if kind == "invalid":
                ok(pr.returncode == 1 and exp is None and
                   err.startswith(path + ":"),
                   "%s/%s: rejected by both" % (kind, name),
                   ["exit %d: %s" % (pr.returncode, err),
                    "tomllib: %s" % ("rejects" if exp is None
                                     else "accepts")])
                continue
            if pr.returncode != 0:
                ok(False, "%s/%s: same tree" % (kind, name), [err])
                continue
            d = "tomllib rejects it" if exp is None else \
                diff(untag(json.loads(pr.stdout)), exp)
            ok(d is None, "%s/%s: same tree as tomllib" % (kind, name), [d])


def check_docs(name, docs, deadline):
    bad = []
    n = acc = 0
    for i in range(0, len(docs), CHUNK):
        if time.monotonic() > deadline:
            diag("%s: time budget spent after %d documents" % (name, n))
            break
        chunk = docs[i:i + CHUNK]
        for doc, mine in zip(chunk, run_batch(chunk)):
            n += 1
            if mine[0] == "crash":
                bad.append("tomldump crashed on %r\n%s" % (doc, mine[1]))
                break
            acc += mine[0] == "ok"
            why = verdict(doc, mine)
            if why:
                bad.append("%s\n  on %r" % (why, doc))
    ok(not bad and n > 0, "%s: %d documents, %d accepted, all agree"
       % (name, n, acc), bad[:8] + (["... %d more" % (len(bad) - 8)]
                                    if len(bad) > 8 else []))


def main():
    if not os.access(TOMLDUMP, os.X_OK):
        print("1..1")
        ok(False, "%s is built" % TOMLDUMP)
        return 1
    start = time.monotonic()
    check_corpus()
    r = random.Random(SEED)
    generated = [g_doc(r) for _ in range(COUNT)]
    seeds = generated[:]
    for kind in ("valid", "invalid"):
        top = os.path.join(DATA, kind)
        for name in sorted(os.listdir(top)):
            with open(os.path.join(top, name), "rb") as f:
                seeds.append(f.read())
    mutated = [mutate(r, r.choice(seeds)) for _ in range(COUNT)]
    deadline = start + BUDGET
    check_docs("generated", generated, deadline)
    check_docs("mutated", mutated, deadline)
    print("1..%d" % tap.ntest)
    return tap.status()


sys.exit(main())
