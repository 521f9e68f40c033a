"""What the Python checks of tests/testcluster share (api_test.py,
client_test.py, race_test.py): the "ok - ..." / "FAIL - ..." lines with
their counts, the closing line and exit status, and one HTTP request with
the test token."""
import json
import sys
import urllib.error
import urllib.request

counts = {"passed": 0, "failed": 0}


def check(desc, expected, actual):
    """One check: "ok - desc", or "FAIL - desc" with both values."""
    if expected == actual:
        counts["passed"] += 1
        print("ok - " + desc)
    else:
        counts["failed"] += 1
        print("FAIL - %s:\n  expected %s\n  got      %s" %
              (desc, json.dumps(expected, sort_keys=True, default=repr),
               json.dumps(actual, sort_keys=True, default=repr)))


def request(url, token, method, path, body=None,
            ctype="application/json", agent=None, timeout=60, accept=None):
    """(status, parsed body) of one request; a str body is sent as it is,
    anything else as JSON."""
    data = None
    if body is not None:
        data = body.encode() if isinstance(body, str) else \
            json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + token)
    req.add_header("Content-Type", ctype)
    if agent:
        req.add_header("User-Agent", agent)
    if accept:
        req.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def finish():
    """The closing line; exit 1 when a check failed or none ran."""
    print("%d passed, %d failed" % (counts["passed"], counts["failed"]))
    sys.exit(1 if counts["failed"] or not counts["passed"] else 0)
