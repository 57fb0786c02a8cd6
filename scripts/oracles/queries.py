#!/usr/bin/env python3
"""The query languages' own parsers as one command, for tests that compare what ruledex writes
with what upstream wrote.

    python scripts/oracles/queries.py eql   < queries.jsonl
    python scripts/oracles/queries.py sigma < rules.jsonl
    python scripts/oracles/queries.py versions

Input: JSON lines, {"id": ..., "text": "..."}; output: one JSON line per input, in input order,
with the same id.

- eql: Elastic's `eql` package with Elasticsearch's syntax (as detection-rules validates it).
  {"id", "errors": [message...], "parsed": the query as eql prints it back, or null}
- sigma: pySigma reads the rule (a YAML document) and converts it with the Splunk, Lucene
  (Elasticsearch) and Kusto (Microsoft XDR pipeline) backends.
  {"id", "errors": [message...], "queries": {"splunk": [...] | {"error": message}, ...}}

scripts/test.sh installs the packages requirements.txt (beside this file) names into
target/tools/oracles.
"""

import json
import pathlib
import sys

REQUIREMENTS = pathlib.Path(__file__).with_name("requirements.txt")


def requirements():
    """The pinned packages, as `name==version` lines of requirements.txt."""
    lines = REQUIREMENTS.read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def check_eql():
    import eql
    from eql.parser import elasticsearch_syntax, ignore_missing_functions

    def check(text):
        try:
            with elasticsearch_syntax, ignore_missing_functions:
                return {"errors": [], "parsed": str(eql.parse_query(text))}
        except eql.EqlError as error:
            return {"errors": [str(error)], "parsed": None}

    return check


def check_sigma():
    from sigma.backends.elasticsearch import LuceneBackend
    from sigma.backends.kusto import KustoBackend
    from sigma.backends.splunk import SplunkBackend
    from sigma.collection import SigmaCollection
    from sigma.pipelines.microsoftxdr import microsoft_xdr_pipeline

    backends = {
        "splunk": SplunkBackend,
        "lucene": LuceneBackend,
        "kusto": lambda: KustoBackend(processing_pipeline=microsoft_xdr_pipeline()),
    }

    def check(text):
        # pySigma and its backends raise more than SigmaError on rules they cannot take (a
        # pipeline's own errors, ValueError...): each is an answer about the rule, not a crash.
        try:
            collection = SigmaCollection.from_yaml(text)
        except Exception as error:  # noqa: BLE001
            return {"errors": [f"{type(error).__name__}: {error}"], "queries": {}}
        queries = {}
        for name, backend in backends.items():
            # A fresh backend per rule: pipelines keep state between conversions.
            try:
                queries[name] = [str(q) for q in backend().convert(collection)]
            except Exception as error:  # noqa: BLE001
                queries[name] = {"error": f"{type(error).__name__}: {error}"}
        errors = [f"{type(e).__name__}: {e}" for e in collection.errors]
        return {"errors": errors, "queries": queries}

    return check


def versions():
    from importlib.metadata import PackageNotFoundError, version

    for requirement in requirements():
        package = requirement.split("==")[0]
        try:
            print(package, version(package))
        except PackageNotFoundError:
            print(package, "not installed")


def main():
    checkers = {"eql": check_eql, "sigma": check_sigma}
    command = sys.argv[1] if len(sys.argv) == 2 else None
    if command == "versions":
        return versions()
    if command not in checkers:
        sys.exit(f"usage: {sys.argv[0]} eql|sigma|versions  (JSON lines in, JSON lines out)")
    try:
        check = checkers[command]()
    except ImportError as error:
        sys.exit(f"queries.py: {error}; run scripts/test.sh, or pip install -r {REQUIREMENTS}")
    for line in sys.stdin:
        if line.strip():
            item = json.loads(line)
            answer = {"id": item["id"], **check(item["text"])}
            sys.stdout.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
