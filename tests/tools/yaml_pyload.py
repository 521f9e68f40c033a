#!/usr/bin/python3
"""Print every document of a YAML file as python3-yaml's safe_load_all reads
it, as one JSON array, for test_yaml's comparison with tollgate's reader.

Values JSON has no form for are written as text: bytes (!!binary) as
base64, dates and datetimes with isoformat(); integers beyond int64 as
floats (jansson cannot read them; tollgate makes them reals). Mapping keys become strings
the way json.dumps writes them (True -> "true", 1 -> "1").
"""
import base64
import datetime
import json
import sys

import yaml


def to_json(v):
    if isinstance(v, dict):
        return {key_str(k): to_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [to_json(x) for x in v]
    if isinstance(v, int) and not isinstance(v, bool) and \
            not -2**63 <= v < 2**63:
        return float(v)
    if isinstance(v, bytes):
        return base64.b64encode(v).decode("ascii")
    if isinstance(v, (datetime.date, datetime.datetime)):
        return v.isoformat()
    return v


def key_str(k):
    if isinstance(k, str):
        return k
    if isinstance(k, (datetime.date, datetime.datetime)):
        return k.isoformat()
    return json.dumps(k)


def main():
    with open(sys.argv[1], "rb") as f:
        docs = list(yaml.safe_load_all(f))
    json.dump([to_json(d) for d in docs], sys.stdout, allow_nan=True)


if __name__ == "__main__":
    main()
