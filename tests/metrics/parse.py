"""Reads Prometheus text on stdin with the official client's parser (PyPI's
prometheus_client, installed by scripts/test into target/python) and prints its samples
as JSON: [{"name", "labels", "value"}, ...], and the metric families' help texts.
A line the parser refuses makes it fail with the reason."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

families = list(text_string_to_metric_families(sys.stdin.read()))
print(json.dumps({
    "help": {f.name: f.documentation for f in families},
    "samples": [
        {"name": s.name, "labels": s.labels, "value": s.value}
        for f in families
        for s in f.samples
    ],
}))
