"""Client matrix: Python's xmlrpc.client, as the Odoo documentation's examples use it.

Usage: python3 python_xmlrpc.py /xmlrpc/2   (the documented endpoints, integer fault codes)
       python3 python_xmlrpc.py /xmlrpc     (the older ones, string fault codes)
Environment: MATRIX_URL, MATRIX_DB, MATRIX_LOGIN, MATRIX_PASSWORD (an API key).
Output: one JSON line {"client", "version"}, then one {"step", "ok", "detail"} per step.
"""
import json
import os
import platform
import sys
import xmlrpc.client

PATH = sys.argv[1] if len(sys.argv) > 1 else "/xmlrpc/2"
URL, DB = os.environ["MATRIX_URL"], os.environ["MATRIX_DB"]
LOGIN, PASSWORD = os.environ["MATRIX_LOGIN"], os.environ["MATRIX_PASSWORD"]
NAME = "Zo\u00eb M\u00fcller"


def emit(obj):
    print(json.dumps(obj), flush=True)


def step(name, fn):
    try:
        detail = fn()
        emit({"step": name, "ok": True, "detail": str(detail)[:300]})
        return detail
    except Exception as e:  # a failed step is reported, the next ones still run
        emit({"step": name, "ok": False, "detail": ("%s: %s" % (type(e).__name__, e))[:500]})
        return None


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def main():
    emit({"client": "python xmlrpc.client (%s)" % PATH, "version": platform.python_version()})
    common = xmlrpc.client.ServerProxy("%s%s/common" % (URL, PATH))
    models = xmlrpc.client.ServerProxy("%s%s/object" % (URL, PATH))
    state = {}

    def connect():
        v = common.version()
        check(v["server_version"] == "19.0" and v["protocol_version"] == 1, repr(v))
        return v["server_version"]

    def login():
        # The docs: authenticate(db, login, password, {}) on /xmlrpc/2; the older endpoint's
        # clients (odoolib, erppeek) call login(db, login, password).
        uid = (
            common.authenticate(DB, LOGIN, PASSWORD, {})
            if PATH == "/xmlrpc/2"
            else common.login(DB, LOGIN, PASSWORD)
        )
        check(isinstance(uid, int) and uid > 0, repr(uid))
        state["uid"] = uid
        return uid

    def call(model, method, args, kw=None):
        if kw is None:
            return models.execute_kw(DB, state["uid"], PASSWORD, model, method, args)
        return models.execute_kw(DB, state["uid"], PASSWORD, model, method, args, kw)

    def read():
        recs = call("res.partner", "read", [[1]], {"fields": ["name"]})
        check(recs == [{"id": 1, "name": "YourCompany"}], repr(recs))
        return recs

    def search_read():
        # All positional: domain, fields, offset, limit, order; the older endpoint through
        # execute (positional extras), as erppeek does.
        args = [[["is_company", "=", True]], ["name"], 0, 2, "id"]
        if PATH == "/xmlrpc/2":
            recs = call("res.partner", "search_read", args)
        else:
            recs = models.execute(DB, state["uid"], PASSWORD, "res.partner", "search_read", *args)
        check([r["name"] for r in recs] == ["YourCompany", "Wood Corner"], repr(recs))
        return recs

    def create():
        new_id = call("res.partner", "create", [{"name": NAME, "email": "zoe@example.com"}])
        check(isinstance(new_id, int), repr(new_id))
        state["id"] = new_id
        back = call("res.partner", "read", [[new_id], ["name"]])
        check(back[0]["name"] == NAME, repr(back))
        return new_id

    def write():
        ok = call("res.partner", "write", [[state["id"]], {"name": NAME + " (updated)"}])
        check(ok is True, repr(ok))
        back = call("res.partner", "read", [[state["id"]]], {"fields": ["name"]})
        check(back[0]["name"] == NAME + " (updated)", repr(back))
        return ok

    def unlink():
        ok = call("res.partner", "unlink", [[state["id"]]])
        check(ok is True, repr(ok))
        left = call("res.partner", "search", [[["id", "=", state["id"]]]])
        check(left == [], repr(left))
        return ok

    def fault():
        try:
            call("no.such.model", "read", [[1]])
        except xmlrpc.client.Fault as f:
            if PATH == "/xmlrpc/2":
                check(f.faultCode == 2, repr(f.faultCode))
                check(f.faultString == "Object no.such.model doesn't exist", repr(f.faultString))
            else:
                expected = "warning -- UserError\n\nObject no.such.model doesn't exist"
                check(f.faultCode == expected, repr(f.faultCode))
            return "%r" % f.faultCode
        raise AssertionError("no fault")

    for name, fn in [
        ("connect", connect),
        ("login", login),
        ("read", read),
        ("search_read", search_read),
        ("create", create),
        ("write", write),
        ("unlink", unlink),
        ("fault", fault),
    ]:
        step(name, fn)


main()
