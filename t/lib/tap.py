# TAP for the tests written in Python: numbered results, diagnostics,
# and the exit status that says whether any failed.
import sys

ntest = 0
failed = 0


def diag(msg):
    for line in str(msg).splitlines() or [""]:
        print("# " + line)


def ok(cond, name, why=()):
    global ntest, failed
    ntest += 1
    print("%sok %d - %s" % ("" if cond else "not ", ntest, name))
    if not cond:
        failed += 1
        for line in why:
            diag(line)
    sys.stdout.flush()
    return cond


def status():
    return 1 if failed else 0
