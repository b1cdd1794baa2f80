"""Large payloads as an integration moves documents: attachments created and read back through the
bridge with Python's own clients (xmlrpc.client, and json + urllib for JSON-RPC), several at once,
each compared with what Odoo itself holds (read directly over JSON-2).

Input (stdin, JSON): {"bridge": URL, "odoo": URL, "db": ..., "uid": ..., "key": ..., "mib": size,
                      "texts": [extra long texts to create as a partner's comment]}
Output (stdout, JSON): {"checks": [{"what": ..., "same": bool}, ...]}
"""
import base64
import hashlib
import json
import random
import sys
import urllib.request
import xmlrpc.client
from concurrent.futures import ThreadPoolExecutor


def jsonrpc(url, args):
    body = json.dumps({"jsonrpc": "2.0", "method": "call", "id": 7,
                       "params": {"service": "object", "method": "execute_kw", "args": args}}).encode()
    req = urllib.request.Request(url + "/jsonrpc", body, {"Content-Type": "application/json"})
    answer = json.load(urllib.request.urlopen(req, timeout=120))
    if "error" in answer:
        raise RuntimeError(answer["error"]["data"]["message"])
    return answer["result"]


def json2(spec, model, method, payload):
    req = urllib.request.Request(
        "%s/json/2/%s/%s" % (spec["odoo"], model, method), json.dumps(payload).encode(),
        {"Content-Type": "application/json", "Authorization": "bearer " + spec["key"],
         "X-Odoo-Database": spec["db"]})
    return json.load(urllib.request.urlopen(req, timeout=120))


def main():
    spec = json.load(sys.stdin)
    auth = [spec["db"], spec["uid"], spec["key"]]
    xml = lambda: xmlrpc.client.ServerProxy(spec["bridge"] + "/xmlrpc/2/object")
    rnd = random.Random(23)
    jobs = []
    for n in range(4):
        datas = base64.b64encode(rnd.randbytes(spec["mib"] * 1024 * 1024 + n)).decode()
        jobs.append(("image_1920", datas, "xmlrpc" if n % 2 == 0 else "jsonrpc"))
    for n, text in enumerate(spec["texts"]):
        jobs.append(("comment", text, "xmlrpc" if n % 2 == 0 else "jsonrpc"))

    def create(job):
        field, value, via = job
        vals = [{"name": "Document \u00e9 %d" % len(value), field: value}]
        if via == "xmlrpc":
            return xml().execute_kw(*auth, "res.partner", "create", [vals])[0]
        return jsonrpc(spec["bridge"], auth + ["res.partner", "create", [vals]])[0]

    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(create, jobs))

    checks = []
    digest = lambda v: hashlib.sha256(v.encode("utf-8", "surrogatepass")).hexdigest() if isinstance(v, str) else repr(v)

    def read(pair):
        (field, value, via), rid = pair
        want = digest(value)
        direct = json2(spec, "res.partner", "read", {"ids": [rid], "fields": [field]})[0][field]
        by_xml = xml().execute_kw(*auth, "res.partner", "read", [[rid], [field]])[0][field]
        by_json = jsonrpc(spec["bridge"], auth + ["res.partner", "read", [[rid], [field]]])[0][field]
        return [
            {"what": "%s %s (%d chars) as Odoo holds it" % (via, field, len(value)), "same": digest(direct) == want},
            {"what": "%s %s read back over XML-RPC" % (via, field), "same": digest(by_xml) == want},
            {"what": "%s %s read back over JSON-RPC" % (via, field), "same": digest(by_json) == want},
        ]

    with ThreadPoolExecutor(4) as pool:
        for found in pool.map(read, zip(jobs, ids)):
            checks.extend(found)
    json.dump({"checks": checks}, sys.stdout)


if __name__ == "__main__":
    main()
