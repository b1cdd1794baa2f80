"""Replays Odoo 19's legacy-RPC captures against the bridge with Python's own clients
(xmlrpc.client.ServerProxy for XML-RPC, urllib + json for JSON-RPC) and compares each answer with
the answer the real Odoo gave, as Python sees both.

Input (stdin, JSON): {"url": bridge URL, "captures_dir": ..., "cases": [capture ids],
                      "keys": {"<db>/<login or uid>": api key}}
Output (stdout, JSON): {"<capture id>": {"ok": bool, "detail": str}}

The captured calls used passwords; the bridge (pass-through mode) takes API keys, so each password
is replaced by the key of the same user before the call is made.
"""
import json
import sys
import urllib.request
import xmlrpc.client


def typed(v):
    """A form in which 1, 1.0 and True differ, as they do on the wire."""
    if isinstance(v, bool):
        return ["bool", v]
    if isinstance(v, int):
        return ["int", v]
    if isinstance(v, float):
        return ["float", repr(v)]
    if isinstance(v, (list, tuple)):
        return [typed(x) for x in v]
    if isinstance(v, dict):
        return {k: typed(x) for k, x in v.items()}
    return v


def last_line(text):
    lines = [l for l in str(text).rstrip("\n").split("\n") if l.strip()]
    return lines[-1] if lines else ""


def substitute_password(params, keys, service, method):
    params = list(params)
    if service == "common" and method in ("login", "authenticate") and len(params) >= 3:
        key = keys.get("%s/%s" % (params[0], params[1]))
        if key and params[2] in ("admin", "demo"):
            params[2] = key
    elif service == "object" and len(params) >= 3:
        key = keys.get("%s/%s" % (params[0], params[1]))
        if key and params[2] in ("admin", "demo"):
            params[2] = key
    return params


def compare_fault(expected, code, string):
    exp_code, exp_string = expected["faultCode"], expected["faultString"]
    if code != exp_code:
        return False, "fault code %r, expected %r" % (code, exp_code)
    generic = exp_code == 1 or (isinstance(exp_code, str) and exp_string.startswith("Traceback"))
    if generic:
        ours, theirs = last_line(string), last_line(exp_string)
        if "database \"nosuchdb\" does not exist" in theirs:
            # The bridge cannot know Odoo's PostgreSQL host; class and database must match.
            ok = ours.startswith("psycopg2.OperationalError: ") and 'database "nosuchdb" does not exist' in ours
        else:
            ok = ours == theirs
        return ok, "last traceback line %r, expected %r" % (ours, theirs)
    return string == exp_string, "faultString %r, expected %r" % (string, exp_string)


def xmlrpc_case(url, cap, keys):
    path = cap["request"]["path"]
    service = path.rstrip("/").split("/")[-1]
    dec = cap.get("decoded_request")
    expected = cap["decoded_response"] if "decoded_response" in cap else None
    if dec is None:
        # Not XML at all (4b-46): send the raw body as a raw client would.
        raw = cap["request"].get("body_raw", cap["request"].get("body"))
        req = urllib.request.Request(url + path, data=raw.encode(), method="POST",
                                     headers={"Content-Type": "text/xml"})
        body = urllib.request.urlopen(req).read()
        try:
            xmlrpc.client.loads(body)
            return False, "expected a fault"
        except xmlrpc.client.Fault as f:
            try:
                xmlrpc.client.loads(cap["response"].get("body_raw", cap["response"].get("body")).encode())
            except xmlrpc.client.Fault as ef:
                return compare_fault({"faultCode": ef.faultCode, "faultString": ef.faultString}, f.faultCode, f.faultString)
            return False, "capture has no fault"
    params = substitute_password(dec["params"], keys, service, dec["methodName"])
    proxy = xmlrpc.client.ServerProxy(url + path)
    try:
        result = getattr(proxy, dec["methodName"])(*params)
    except xmlrpc.client.Fault as f:
        if "fault" not in expected:
            return False, "unexpected fault %r: %s" % (f.faultCode, last_line(f.faultString))
        return compare_fault(expected["fault"], f.faultCode, f.faultString)
    if "fault" in expected:
        return False, "expected fault %r, got result %r" % (expected["fault"]["faultCode"], result)
    # The capture's own XML is the reference (decoded_response lost float-ness in JSON).
    (want,), _ = xmlrpc.client.loads(cap["response"].get("body_raw", cap["response"].get("body")).encode())
    return typed(result) == typed(want), "result %r, expected %r" % (result, want)


def jsonrpc_case(url, cap, keys):
    req_body = cap["request"]["body"] if "body" in cap["request"] else None
    if req_body is None or not isinstance(req_body, dict):
        raw = cap["request"].get("body_raw") or ""
        req = urllib.request.Request(url + "/jsonrpc", data=raw.encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            resp = urllib.request.urlopen(req)
            status, text = resp.status, resp.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
        want_status = cap["response"]["status"]
        want_text = cap["response"].get("body_raw", cap["response"].get("body"))
        return (status, text) == (want_status, want_text), "HTTP %s %r, expected %s %r" % (status, text, want_status, want_text)
    p = req_body["params"]
    args = substitute_password(p["args"], keys, p["service"], p["method"])
    body = dict(req_body, params=dict(p, args=args))
    req = urllib.request.Request(url + "/jsonrpc", data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    resp = urllib.request.urlopen(req)
    got = json.loads(resp.read())
    want = cap["response"]["body"]
    if "error" in want:
        if "error" not in got:
            return False, "expected an error, got %r" % (got,)
        ge, we = got["error"], want["error"]
        for k in ("code", "message"):
            if ge.get(k) != we.get(k):
                return False, "error.%s %r, expected %r" % (k, ge.get(k), we.get(k))
        gd, wd = ge["data"], we["data"]
        for k in ("name", "message", "arguments", "context"):
            if gd.get(k) != wd.get(k):
                return False, "error.data.%s %r, expected %r" % (k, gd.get(k), wd.get(k))
        return last_line(gd["debug"]) == last_line(wd["debug"]), "debug %r, expected %r" % (last_line(gd["debug"]), last_line(wd["debug"]))
    keys_order_ok = list(got.keys()) == list(want.keys())
    return typed(got) == typed(want) and keys_order_ok, "answer %r, expected %r" % (got, want)


def main():
    job = json.load(sys.stdin)
    out = {}
    for cid in job["cases"]:
        with open("%s/%s.json" % (job["captures_dir"], cid)) as fh:
            cap = json.load(fh)
        try:
            if cap["request"]["path"] == "/jsonrpc":
                ok, detail = jsonrpc_case(job["url"], cap, job["keys"])
            else:
                ok, detail = xmlrpc_case(job["url"], cap, job["keys"])
        except Exception as e:  # a crash of the client is a failure of the case, with its reason
            ok, detail = False, "%s: %s" % (type(e).__name__, e)
        out[cid] = {"ok": bool(ok), "detail": detail}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
