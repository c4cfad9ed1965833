"""Evaluates guestutils calls of MaestroNG 0.8.3, one environment per call.

stdin: a JSON list of {"env": {NAME: VALUE}, "call": "<python expression>"}.
stdout: a JSON list of {"out": TEXT} or {"err": MESSAGE}, where TEXT is what
a shell user of maestro-guest would see: one line per list item, or the
value and a newline.
"""
import json
import os
import sys

import netifaces  # noqa: F401  (calls may name it)

from maestro import guestutils
from maestro.guestutils import *  # noqa: F401,F403  (calls name them bare)
from maestro.guestutils import _get_service_instance_names  # noqa: F401


def text(value):
    if isinstance(value, list):
        return ''.join('{}\n'.format(v) for v in value)
    return '{}\n'.format(value)


results = []
for case in json.load(sys.stdin):
    os.environ.clear()
    os.environ.update(case['env'])
    try:
        results.append({'out': text(eval(case['call']))})
    except guestutils.MaestroEnvironmentError as e:
        results.append({'err': str(e)})
    except Exception as e:  # a crash of the Python code, kept visible
        results.append({'err': 'python {}: {}'.format(type(e).__name__, e)})
json.dump(results, sys.stdout)
