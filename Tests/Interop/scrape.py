"""Reads one sample from the gateway's /metrics, as an operator's dashboard would."""
import requests


def metric(server, name, labels=""):
    """The value of `name{labels}` (labels as written in the exposition, e.g. '{outcome="recovered"}'), 0 when absent."""
    text = requests.get(f"{server.base}/metrics", timeout=5).text
    for line in text.splitlines():
        if line.startswith(name + labels + " "):
            return float(line.split()[-1])
    return 0.0
