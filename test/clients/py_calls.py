"""Makes legacy calls with Python's own xmlrpc.client, as an unmigrated integration does.

Input (stdin, JSON): {"url": bridge URL,
                      "calls": [{"service": "common" | "object", "method": ..., "params": [...]}],
                      "repeat": how many times to run the list (default 1),
                      "pause": seconds between two calls (default 0)}
Output (stdout, JSON): one answer per call made, in order:
                       {"value": ...} or {"fault": {"code": faultCode, "string": faultString}}
"""
import json
import sys
import time
import xmlrpc.client


def main():
    spec = json.load(sys.stdin)
    proxies = {}
    answers = []
    for _ in range(spec.get("repeat", 1)):
        for call in spec["calls"]:
            service = call["service"]
            if service not in proxies:
                proxies[service] = xmlrpc.client.ServerProxy("%s/xmlrpc/2/%s" % (spec["url"], service))
            try:
                value = getattr(proxies[service], call["method"])(*call["params"])
                answers.append({"value": value})
            except xmlrpc.client.Fault as f:
                answers.append({"fault": {"code": f.faultCode, "string": f.faultString}})
            if spec.get("pause"):
                time.sleep(spec["pause"])
    json.dump(answers, sys.stdout)


if __name__ == "__main__":
    main()
