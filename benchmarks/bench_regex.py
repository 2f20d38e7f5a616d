"""Time the text scanners on hostile long values, before (the regexes of main at bdfeab2) and after.

    python benchmarks/bench_regex.py            # old at 2,000 and 8,000 characters, new at 200,000
    python benchmarks/bench_regex.py --quick    # old at 1,000 and 2,000

Each row is one scanner on one hostile value shape; the old regex is timed at two sizes (the ratio
of the two times shows its growth: x4 for quadratic, x16 for cubic when the size doubles twice)
and the new code at 200,000 characters. Old and new run side by side in one process.

Measured 2026-11-23 on the shared 2-core box (other jobs running):

| scanner | old 2,000 s | old 8,000 s | growth | new 200,000 s |
|---|---|---|---|---|
| message_template (<id>) | 0.104 | 1.728 | x16.6 | 0.0190 |
| find_pii email | 0.011 | 0.119 | x11.0 | 0.0017 |
| redact_text quoted | 0.021 | 0.422 | x20.3 | 0.1044 |
| route of a URL path | 250: 0.126; 500: 1.026 | | x8.1 | 0.0015 |
| scrub (URLs in messages) | 0.035 | 0.485 | x13.7 | 0.0155 |
| X-Ray rule wildcard | 0.033 | 0.561 | x17.3 | 0.0000 |

(the route row times the old regex at 250 and 500 characters: cubic, x8 when the size doubles)
"""

from __future__ import annotations

import argparse
import re
import time

from tracekit.analysis.error_origins import message_template
from tracekit.analysis.pii import PATTERNS, redact_text
from tracekit.analysis.sampling.xray_rules import _glob_matcher
from tracekit.aws.client import scrub
from tracekit.core.naming import _path_route

# the old regexes, verbatim from main at bdfeab2
OLD_ID = re.compile(r"\b(?:0x)?[0-9a-fA-F]*[0-9][0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*\b"
                    r"|\b(?:0x)?[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*[0-9][0-9a-fA-F]*\b")
OLD_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
OLD_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\{.*\}|\[.*\]", re.S)
OLD_ROUTE = re.compile(r"(?<=/)(?:\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
                       r"|[0-9a-fA-F]{16,}|[A-Za-z0-9_-]*\d[A-Za-z0-9_-]*\d[A-Za-z0-9_-]*)(?=/|$)")
OLD_URL = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^\s/?#'\"<>]*)([^\s?#'\"<>]*)(\?[^\s#'\"<>]*)?")
NEW_EMAIL = re.compile(PATTERNS["email"][0])

ROWS = [
    ("message_template (<id>)", lambda n: "1" * n, lambda s: OLD_ID.sub("<id>", s), message_template),
    ("find_pii email", lambda n: "x" * n + " @", lambda s: list(OLD_EMAIL.finditer(s)),
     lambda s: list(NEW_EMAIL.finditer(s))),
    ("redact_text quoted", lambda n: "'\\" * (n // 2), lambda s: OLD_QUOTED.sub("*", s),
     lambda s: redact_text(s, keys=["*"], patterns=[])),
    ("route of a URL path", lambda n: "/a/" + "1" * n + "x.", lambda s: OLD_ROUTE.sub("{id}", s), _path_route),
    ("scrub (URLs in messages)", lambda n: "a." * (n // 2), lambda s: OLD_URL.sub("", s), scrub),
    ("X-Ray rule wildcard", lambda n: "a" * n, lambda s: re.fullmatch(".*a.*b.*c", s, re.I | re.S),
     _glob_matcher("*a*b*c")),
]


def clock(f, s: str) -> float:
    t = time.perf_counter()
    f(s)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="old regexes at 1,000 and 2,000 characters")
    ap.add_argument("--new-size", type=int, default=200_000)
    a = ap.parse_args()
    small, big = (1_000, 2_000) if a.quick else (2_000, 8_000)
    print(f"| scanner | old {small:,} s | old {big:,} s | growth | new {a.new_size:,} s |")
    print("|---|---|---|---|---|")
    for name, make, old, new in ROWS:
        if "route" in name:  # cubic: kept small so the old one finishes
            o1, o2 = clock(old, make(small // 8)), clock(old, make(small // 4))
            label = f"{small // 8:,}: {o1:.3f}; {small // 4:,}: {o2:.3f}"
            print(f"| {name} | {label} | | x{o2 / max(o1, 1e-9):.1f} | {clock(new, make(a.new_size)):.4f} |")
            continue
        o1, o2 = clock(old, make(small)), clock(old, make(big))
        print(f"| {name} | {o1:.3f} | {o2:.3f} | x{o2 / max(o1, 1e-9):.1f} | {clock(new, make(a.new_size)):.4f} |")


if __name__ == "__main__":
    main()
