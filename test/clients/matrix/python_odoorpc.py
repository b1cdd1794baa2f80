"""Client matrix: OdooRPC (Debian's python3-odoorpc, 0.9.0), run with /usr/bin/python3.

It detects the version with /web/webclient/version_info, logs in with /web/session/authenticate
(both forwarded to Odoo as they are), then calls /jsonrpc object.execute / execute_kw with the
login's password: the bridge must map that password to an API key (credential map).
Environment: MATRIX_URL, MATRIX_DB, MATRIX_LOGIN, MATRIX_PASSWORD (the user's password).
Output: one JSON line {"client", "version"}, then one {"step", "ok", "detail"} per step.
"""
import json
import os
import urllib.parse

import odoorpc

URL, DB = os.environ["MATRIX_URL"], os.environ["MATRIX_DB"]
LOGIN, PASSWORD = os.environ["MATRIX_LOGIN"], os.environ["MATRIX_PASSWORD"]
NAME = "Zo\u00eb M\u00fcller"


def emit(obj):
    print(json.dumps(obj), flush=True)


def step(name, fn):
    try:
        detail = fn()
        emit({"step": name, "ok": True, "detail": str(detail)[:300]})
    except Exception as e:  # a failed step is reported, the next ones still run
        emit({"step": name, "ok": False, "detail": ("%s: %s" % (type(e).__name__, e))[:500]})


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def main():
    emit({"client": "odoorpc", "version": odoorpc.__version__})
    parts = urllib.parse.urlsplit(URL)
    state = {}

    def connect():
        state["odoo"] = odoo = odoorpc.ODOO(parts.hostname, port=parts.port)
        check(odoo.version == "19.0", repr(odoo.version))
        return odoo.version

    def login():
        odoo = state["odoo"]
        odoo.login(DB, LOGIN, PASSWORD)
        check(odoo.env.uid > 0, repr(odoo.env.uid))
        check(odoo.env.context.get("uid") == odoo.env.uid, repr(odoo.env.context))
        # The first use of a model: fields_get through /jsonrpc object.execute.
        state["Partner"] = odoo.env["res.partner"]
        check(odoo.env.user.name == "Mitchell Admin", repr(odoo.env.user.name))
        return odoo.env.uid

    def read():
        recs = state["Partner"].read([1], ["name"])
        check(recs == [{"id": 1, "name": "YourCompany"}], repr(recs))
        # A browsed record reads through read(ids, fields, context=..., load='_classic_write').
        name = state["Partner"].browse(1).name
        check(name == "YourCompany", repr(name))
        return recs

    def search_read():
        args = [[("is_company", "=", True)], ["name"], 0, 2, "id"]
        recs = state["odoo"].execute("res.partner", "search_read", *args)
        check([r["name"] for r in recs] == ["YourCompany", "Wood Corner"], repr(recs))
        return recs

    def create():
        new_id = state["Partner"].create({"name": NAME, "email": "zoe@example.com"})
        check(isinstance(new_id, int), repr(new_id))
        state["id"] = new_id
        name = state["Partner"].browse(new_id).name
        check(name == NAME, repr(name))
        return new_id

    def write():
        ok = state["Partner"].write([state["id"]], {"name": NAME + " (updated)"})
        check(ok is True, repr(ok))
        record = state["Partner"].browse(state["id"])
        record.email = "zoe.mueller@example.com"  # auto_commit: a write of its own
        back = state["Partner"].read([state["id"]], ["name", "email"])
        check(back[0]["name"] == NAME + " (updated)", repr(back))
        check(back[0]["email"] == "zoe.mueller@example.com", repr(back))
        return ok

    def unlink():
        ok = state["Partner"].unlink([state["id"]])
        check(ok is True, repr(ok))
        left = state["Partner"].search([("id", "=", state["id"])])
        check(left == [], repr(left))
        return ok

    def fault():
        try:
            state["odoo"].execute("no.such.model", "read", [1])
        except odoorpc.error.RPCError as e:
            data = e.info["data"]
            check(data["name"] == "odoo.exceptions.UserError", repr(data))
            check(str(e) == "Object no.such.model doesn't exist", repr(str(e)))
            return "%s: %s" % (data["name"], e)
        raise AssertionError("no error")

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
