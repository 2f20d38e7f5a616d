"""How much of Grafana Tempo's own TraceQL examples tracekit accepts and refuses as Tempo does.

    python benchmarks/traceql_conformance.py [PATH-TO-test_examples.yaml]

Tempo's pkg/traceql/test_examples.yaml lists queries that are ``valid`` (must parse and
validate), ``parse_fails`` and ``validate_fails`` (must be refused) and ``unsupported`` (parse in
Tempo, refused as unsupported: tracekit refuses them with "not supported"). The file is not part
of tracekit: it is read from the path given, else from $TRACEKIT_TEMPO_EXAMPLES, else from a
local git mirror of github:grafana/tempo ($TRACEKIT_TEMPO_MIRROR, default
/work/.mirror/grafana+tempo/repo, read with ``git show HEAD:pkg/traceql/test_examples.yaml``).
Prints one line per section (accepted or refused, out of how many) and the queries that differ.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DEFAULT_MIRROR = "/work/.mirror/grafana+tempo/repo"
EXAMPLES = "pkg/traceql/test_examples.yaml"


def load_examples(path: str | None = None) -> tuple[dict, str] | None:
    """The examples as a dict of lists and where they came from, or None when not found."""
    import yaml

    path = path or os.environ.get("TRACEKIT_TEMPO_EXAMPLES")
    if path:
        p = Path(path)
        return (yaml.safe_load(p.read_text()), str(p)) if p.is_file() else None
    mirror = os.environ.get("TRACEKIT_TEMPO_MIRROR", DEFAULT_MIRROR)
    if not Path(mirror).exists():
        return None
    r = subprocess.run(["git", "--git-dir", mirror, "show", f"HEAD:{EXAMPLES}"], capture_output=True, text=True)
    if r.returncode:
        return None
    return yaml.safe_load(r.stdout), f"{mirror} (HEAD:{EXAMPLES})"


def outcomes(examples: dict) -> dict[str, tuple[int, int, list[str]]]:
    """Per section: (agreeing, total, queries that do not agree)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tracekit.analysis.traceql import parse
    from tracekit.errors import TraceQLError

    out = {}
    for section in ("valid", "parse_fails", "validate_fails", "unsupported"):
        queries = examples.get(section) or []
        bad = []
        for q in queries:
            try:
                parse(q)
                err = None
            except TraceQLError as exc:
                err = exc
            if section == "valid":
                agree = err is None
            elif section == "unsupported":
                agree = err is not None and "not supported" in str(err)
            else:
                agree = err is not None
            if not agree:
                bad.append(q)
        out[section] = (len(queries) - len(bad), len(queries), bad)
    return out


def main(argv: list[str]) -> int:
    found = load_examples(argv[0] if argv else None)
    if found is None:
        print("Tempo's test_examples.yaml not found: pass its path, set TRACEKIT_TEMPO_EXAMPLES, or fetch "
              "github:grafana/tempo into TRACEKIT_TEMPO_MIRROR")
        return 2
    examples, where = found
    print(f"Tempo TraceQL examples from {where}\n")
    word = {"valid": "accepted", "parse_fails": "refused", "validate_fails": "refused",
            "unsupported": "refused as not supported"}
    res = outcomes(examples)
    for section, (good, total, bad) in res.items():
        share = 100 * good / total if total else 100.0
        print(f"{section:15s} {good:4d} / {total:4d} {word[section]} ({share:.1f} %)")
        for q in bad:
            print(f"    differs: {q}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
