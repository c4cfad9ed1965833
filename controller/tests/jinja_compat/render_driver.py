"""Renders probe templates as MaestroNG does: Jinja2 over os.environ.

Reads a JSON list of {"template": str, "env": [[name, value], ...]} on stdin and
writes a JSON list of {"ok": text} or {"error": exception name}, in order.
The environment is replaced by each probe's before rendering, in the order
given (os.environ iterates in insertion order).
"""
import json
import os
import sys

import jinja2


def main():
    probes = json.load(sys.stdin)
    # The same environment MaestroNG's loader builds (Jinja2 3: no extension).
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(os.getcwd()),
                             auto_reload=False)
    out = []
    for p in probes:
        os.environ.clear()
        os.environ.update(p["env"])
        try:
            out.append({"ok": env.from_string(p["template"])
                        .render(env=os.environ)})
        except Exception as e:  # noqa: BLE001 - the kind is the result
            out.append({"error": type(e).__name__})
    json.dump(out, sys.stdout)


main()
