"""A stand-in for an Odoo 17 server that speaks only the legacy RPC (no JSON-2), for the upgrade
companion's tests (test/integration/upgrade-companion.test.ts): XML-RPC at /xmlrpc/2/<service>
(Python's own xmlrpc.server marshalling, as Odoo's is) and JSON-RPC at /jsonrpc, over one small
database. /json/2/* and /web/version answer 404, as on Odoo 17.

Usage: python3 legacy_odoo.py <json: {"db": name, "users": {login: [uid, password]}}>
Prints {"port": N} on its first line, then serves until killed.
Test hooks: GET /_requests (what it was asked: [{path, service, method}]), POST /_delay?ms=N (each
object call waits N ms first), POST /_partners (its res.partner records: {id: {field: value}}).
"""
import json
import sys
import threading
import time
import xmlrpc.client
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

SPEC = json.loads(sys.argv[1])
DB = SPEC["db"]
USERS = {login: (uid, pw) for login, (uid, pw) in SPEC["users"].items()}
PARTNERS = {7: {"id": 7, "name": "Azure Interior", "phone": "+32 2 555 0000"},
            8: {"id": 8, "name": "Deco Addict", "phone": False}}
VERSION = {"server_version": "17.0", "server_version_info": [17, 0, 0, "final", 0, ""],
           "server_serie": "17.0", "protocol_version": 1}
REQUESTS = []
LOCK = threading.Lock()
DELAY = {"ms": 0}


class AccessDenied(Exception):
    pass


def check(db, uid, password):
    if db != DB or not any(u == uid and p == password for u, p in USERS.values()):
        raise AccessDenied()


def common(method, args):
    if method == "version":
        return VERSION
    if method in ("login", "authenticate"):
        db, login, password = args[0], args[1], args[2]
        user = USERS.get(login)
        return user[0] if db == DB and user and user[1] == password else False
    raise ValueError("unknown common method %s" % method)


def obj(method, args):
    if DELAY["ms"]:
        time.sleep(DELAY["ms"] / 1000)
    if method == "execute_kw":
        db, uid, password, model, name = args[:5]
        margs = args[5] if len(args) > 5 else []
        kw = args[6] if len(args) > 6 else {}
    else:
        db, uid, password, model, name = args[:5]
        margs, kw = list(args[5:]), {}
    check(db, uid, password)
    if model != "res.partner":
        raise ValueError("Object %s doesn't exist" % model)
    if name == "search_count":
        return len(PARTNERS)
    if name == "read":
        fields = (margs[1] if len(margs) > 1 else kw.get("fields")) or ["name", "phone"]
        return [{"id": i, **{f: PARTNERS[i].get(f, False) for f in fields}} for i in margs[0] if i in PARTNERS]
    if name == "write":
        for i in margs[0]:
            PARTNERS[i].update(margs[1])
        return True
    raise ValueError("The method '%s.%s' does not exist" % (model, name))


def db_service(method, args):
    if method == "list":
        return [DB]
    if method == "server_version":
        return VERSION["server_version"]
    raise ValueError("unknown db method %s" % method)


SERVICES = {"common": common, "object": obj, "db": db_service}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, status, ctype, body):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/_requests":
            with LOCK:
                return self.answer(200, "application/json", json.dumps(REQUESTS))
        self.answer(404, "text/html", "<h1>Not Found</h1>")

    def do_POST(self):
        url = urlparse(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if url.path == "/_delay":
            DELAY["ms"] = int(parse_qs(url.query)["ms"][0])
            return self.answer(200, "application/json", "true")
        if url.path == "/_partners":
            PARTNERS.clear()
            PARTNERS.update({int(k): v for k, v in json.loads(body).items()})
            return self.answer(200, "application/json", "true")
        if url.path.startswith("/xmlrpc/2/"):
            service = url.path[len("/xmlrpc/2/"):]
            args, method = xmlrpc.client.loads(body, use_builtin_types=True)
            with LOCK:
                REQUESTS.append({"path": url.path, "target": self.path, "service": service, "method": method,
                                 "model_method": args[4] if service == "object" and len(args) > 4 else None})
            try:
                result = SERVICES[service](method, list(args))
                out = xmlrpc.client.dumps((result,), methodresponse=True, allow_none=False)
            except AccessDenied:
                out = xmlrpc.client.dumps(xmlrpc.client.Fault(3, "Access Denied"))
            except Exception as e:  # noqa: BLE001 (a stand-in: every error is a fault)
                out = xmlrpc.client.dumps(xmlrpc.client.Fault(1, "Traceback (most recent call last):\n%s" % e))
            return self.answer(200, "text/xml; charset=utf-8", out)
        if url.path == "/jsonrpc":
            req = json.loads(body)
            p = req["params"]
            with LOCK:
                REQUESTS.append({"path": url.path, "service": p["service"], "method": p["method"],
                                 "model_method": p["args"][4] if p["service"] == "object" and len(p["args"]) > 4 else None})
            try:
                out = {"jsonrpc": "2.0", "id": req.get("id"), "result": SERVICES[p["service"]](p["method"], p["args"])}
            except AccessDenied:
                out = {"jsonrpc": "2.0", "id": req.get("id"), "error": {"code": 200, "message": "Odoo Server Error",
                       "data": {"name": "odoo.exceptions.AccessDenied", "message": "Access Denied"}}}
            except Exception as e:  # noqa: BLE001
                out = {"jsonrpc": "2.0", "id": req.get("id"), "error": {"code": 200, "message": "Odoo Server Error",
                       "data": {"name": "builtins.ValueError", "message": str(e)}}}
            return self.answer(200, "application/json", json.dumps(out))
        self.answer(404, "text/html", "<h1>Not Found</h1>")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
