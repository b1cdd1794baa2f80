"""What legacy Odoo's exp_restore makes of a backup parameter: the str cut into 8192-character
slices, each passed to base64.b64decode. Input (stdin, JSON): a list of strings. Output: one
entry per string: {"sha256": hex, "size": n} or {"error": "<class>: <message>"}."""
import base64
import hashlib
import json
import sys

out = []
for data in json.load(sys.stdin):
    try:
        decoded = b"".join(base64.b64decode(data[i:i + 8192]) for i in range(0, len(data), 8192))
        out.append({"sha256": hashlib.sha256(decoded).hexdigest(), "size": len(decoded)})
    except Exception as e:
        name = type(e).__module__ + "." + type(e).__name__ if type(e).__module__ != "builtins" else type(e).__name__
        out.append({"error": "%s: %s" % (name, e)})
json.dump(out, sys.stdout)
