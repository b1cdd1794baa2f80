"""Python's own clients against the bridge, for the security regression tests (test/security/).

Reads one JSON action on stdin, prints the outcome as JSON.
- large_execute_kw: execute_kw(db, uid, password, 'res.partner', 'create', [{'comment': 'x' * size}])
  with xmlrpc.client, which sends the whole request before it reads the answer.
"""
import json
import sys
import xmlrpc.client

a = json.load(sys.stdin)
if a['action'] == 'large_execute_kw':
    proxy = xmlrpc.client.ServerProxy(a['url'])
    try:
        value = proxy.execute_kw(a['db'], a['uid'], a['password'], 'res.partner', 'create',
                                 [{'comment': 'x' * a['size']}])
        print(json.dumps({'value': value}))
    except xmlrpc.client.Fault as f:
        print(json.dumps({'fault': {'code': f.faultCode, 'string': f.faultString}}))
else:
    raise SystemExit('unknown action ' + a['action'])
