"""Calls the legacy db service with Python's own clients: xmlrpc.client.ServerProxy for
/xmlrpc/2/db and /xmlrpc/db, urllib + json for /jsonrpc (as legacy integrations do).

Input (stdin, JSON): {"url": bridge URL, "calls": [call, ...]} where a call is
  {"endpoint": "xmlrpc/2" | "xmlrpc" | "jsonrpc", "method": str, "params": [...],
   "save_to": optional path: write the base64-decoded result there and answer its size and sha256}
and a param {"b64_of_file": path} stands for the base64 (b64encode) of that file's bytes.

Output (stdout, JSON): one entry per call, in order:
  {"result": value} | {"result_file": {"size": n, "sha256": hex}}
  | {"fault": {"faultCode": ..., "faultString": ...}}        (XML-RPC faults)
  | {"error": {...}}                                          (JSON-RPC error object)
  | {"exception": "<class>: <message>"}                       (anything else: a broken answer)
"""
import base64
import hashlib
import json
import sys
import urllib.request
import xmlrpc.client


def expand(params):
    out = []
    for p in params:
        if isinstance(p, dict) and set(p) == {"b64_of_file"}:
            with open(p["b64_of_file"], "rb") as f:
                out.append(base64.b64encode(f.read()).decode())
        else:
            out.append(p)
    return out


def saved(result, path):
    data = base64.b64decode(result)
    with open(path, "wb") as f:
        f.write(data)
    return {"result_file": {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}}


def call_xmlrpc(url, endpoint, call):
    proxy = xmlrpc.client.ServerProxy("%s/%s/db" % (url, endpoint), allow_none=True)
    try:
        result = getattr(proxy, call["method"])(*expand(call["params"]))
    except xmlrpc.client.Fault as f:
        return {"fault": {"faultCode": f.faultCode, "faultString": f.faultString}}
    if call.get("save_to"):
        return saved(result, call["save_to"])
    return {"result": result}


def call_jsonrpc(url, call):
    body = json.dumps({
        "jsonrpc": "2.0", "method": "call", "id": 1,
        "params": {"service": "db", "method": call["method"], "args": expand(call["params"])},
    }).encode()
    req = urllib.request.Request(url + "/jsonrpc", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as res:
        answer = json.loads(res.read())
    if "error" in answer:
        return {"error": answer["error"]}
    if call.get("save_to"):
        return saved(answer["result"], call["save_to"])
    return {"result": answer.get("result")}


def main():
    job = json.load(sys.stdin)
    out = []
    for call in job["calls"]:
        try:
            if call["endpoint"] == "jsonrpc":
                out.append(call_jsonrpc(job["url"], call))
            else:
                out.append(call_xmlrpc(job["url"], call["endpoint"], call))
        except Exception as e:  # a broken answer is an answer too
            out.append({"exception": "%s: %s" % (type(e).__name__, e)})
    json.dump(out, sys.stdout)


main()
