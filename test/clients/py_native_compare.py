"""Makes recorded legacy calls through the bridge with Python's xmlrpc.client and compares each
answer with a real Odoo's, in Python, so that types (1.0 against 1) and key order count.

Input (stdin, JSON): {"url": bridge URL, "db": ..., "uid": ..., "password": ...,
                      "model": ..., "method": ...,
                      "fixture": path of a JSON file whose "cases" are
                                 [{"id": ..., "args": [...], "kw": {...} or null,
                                   "native": {"value": ...} or {"fault": last line}}]}
                     (read here, not passed through JavaScript, where 1.0 would become 1)
Output (stdout, JSON): [{"id": ..., "same": true/false, "bridge": JSON text, "native": JSON text}]
"""
import json
import sys
import xmlrpc.client


def main():
    spec = json.load(sys.stdin)
    proxy = xmlrpc.client.ServerProxy("%s/xmlrpc/2/object" % spec["url"])
    out = []
    with open(spec["fixture"], encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    for case in cases:
        extra = [case["kw"]] if case["kw"] is not None else []
        try:
            value = proxy.execute_kw(spec["db"], spec["uid"], spec["password"], spec["model"],
                                     spec["method"], case["args"], *extra)
            got = {"value": value}
        except xmlrpc.client.Fault as f:
            got = {"fault": f.faultString.strip().splitlines()[-1]}
        bridge, native = json.dumps(got), json.dumps(case["native"])
        out.append({"id": case["id"], "same": bridge == native, "bridge": bridge, "native": native})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
