"""CPython's side of the benchmarks: generates the dataset and times xmlrpc.client on it.

Usage: python3 bench/py_marshal.py <records> <out.json> [reps]
Writes the records as Python's json.dumps writes them (what Odoo's JSON-2 answers), then prints
JSON: {"dumps_ms": [...], "xml_bytes": n, "json_bytes": n}, the times of
xmlrpc.client.dumps((records,), methodresponse=True) (what Odoo's legacy endpoint does for the
same result), one per repetition.
"""
import json
import sys
import time
import xmlrpc.client


def records(n):
    out = []
    for i in range(1, n + 1):
        out.append({
            "id": i,
            "name": "Partner %d & Co <%d>" % (i, i % 97),
            "email": "partner%d@example.com" % i,
            "phone": "+1 555 %04d" % (i % 10000),
            "is_company": i % 3 == 0,
            "country_id": [233, "United States"] if i % 2 else False,
            "credit_limit": round(i * 1.25, 2),
            "create_date": "2026-11-28 04:26:%02d" % (i % 60),
            "parent_id": False,
            "active": True,
        })
    return out


def main():
    n, path = int(sys.argv[1]), sys.argv[2]
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    recs = records(n)
    text = json.dumps(recs)
    with open(path, "w") as fh:
        fh.write(text)
    times = []
    xml = ""
    for _ in range(reps):
        t = time.perf_counter()
        xml = xmlrpc.client.dumps((recs,), methodresponse=True, allow_none=False)
        times.append((time.perf_counter() - t) * 1000)
    json.dump({"dumps_ms": times, "xml_bytes": len(xml.encode()), "json_bytes": len(text.encode())}, sys.stdout)


if __name__ == "__main__":
    main()
