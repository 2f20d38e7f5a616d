"""Session 47, scale3: the cost of the privacy passes (find_pii, redact) at 300k spans, with results unchanged.

Ground truth is the one-by-one scan (every text through every pattern's prefilter and regex), which the batch
prefilter (:func:`tracekit.analysis.pii._candidates`) must never change: a text it keeps a pattern off must be one
the pattern finds nothing in.
"""

from __future__ import annotations

import ast
import pickle
import random
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import tracekit as tk
from tracekit.analysis import pii

TESTS = Path(__file__).parent


def _frame(rows: list[dict]) -> object:
    n = len(rows)
    return tk.spans_from_columns({
        "trace_id": [f"{i // 4:032x}" for i in range(n)], "span_id": [f"{i + 1:016x}" for i in range(n)],
        "service": ["api"] * n, "name": [r.get("name", "GET /") for r in rows], "start": list(range(n)),
        "end": [i + 1 for i in range(n)], "attributes": [r.get("attributes", {}) for r in rows],
        "status_message": [r.get("status_message") for r in rows]})


def _corpus() -> list[str]:
    """Every string literal of the privacy tests (the examples each pattern was written for, hits and near misses),
    with their variants: upper and lower case, glued to words, cut at both ends."""
    texts: set[str] = set()
    for name in ("test_pii.py", "test_s41_pii.py", "test_s43_security.py", "test_s39_security.py",
                 "test_s32_redaction_words.py", "test_hostile_input.py"):
        path = TESTS / name
        if path.exists():
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and 3 <= len(node.value) <= 2000:
                    texts.add(node.value)
    out = set(texts)
    for t in texts:
        out |= {t.upper(), t.lower(), "x" + t + "y", f"a {t} b", t[1:], t[:-1]}
    return sorted(out)


def test_batch_prefilter_is_a_necessary_condition_of_every_pattern():
    """Control: on the ASCII texts of the privacy tests (thousands, with variants), wherever a built-in pattern
    reports a match (regex and validator), its batch condition (_NEEDS, run by pyarrow as find_pii runs it) holds,
    so the batch never keeps a pattern off a text it would find something in."""
    texts = [t for t in _corpus() if t.isascii()]
    assert len(texts) > 2000
    compiled = pii._compile(None)
    may = pii._candidates(texts, compiled)
    missed = []
    for i, (name, rx, check, _pre) in enumerate(compiled):
        for t in texts:
            if any(True for _ in pii._matches(rx, check, t, [])) and not may[t] >> i & 1:
                missed.append((name, t))
    assert not missed, missed[:5]
    # and each condition is itself tight enough to matter: it keeps most of these texts off most patterns
    arr = pa.array(texts)
    kept = {n: int(pc.sum(pc.match_substring_regex(arr, pii._NEEDS[n])).as_py() or 0) for n in pii._NEEDS}
    assert sum(kept.values()) < 0.5 * len(texts) * len(kept)


def _busy_frame(n: int = 600) -> object:
    """n spans whose texts are URLs with 9-digit ids, routes and hosts: texts the old per-text prefilters let the
    card, phone and api_key regexes run on, where none of them can match; plus a few real findings."""
    rng = random.Random(7)
    rows = []
    for i in range(n):
        rows.append({"name": f"GET /item/{rng.randrange(10**8, 10**9)}",
                     "attributes": {"http.url": f"https://x:8443/item/{rng.randrange(10**8, 10**9)}",
                                    "host.name": f"h{i % 97}", "db.statement": f"SELECT * FROM t WHERE id = {i}"}})
    rows[5]["attributes"]["msg"] = "mail ann@example.com now"
    rows[9]["attributes"]["card"] = "4111 1111 1111 1111"
    rows[11]["status_message"] = "call +1 415 555 0100"
    return _frame(rows)


class _Counting:
    """A compiled regex that counts the texts it is run on."""

    def __init__(self, rx: re.Pattern, calls: dict, name: str) -> None:
        self.rx, self.calls, self.name = rx, calls, name

    def finditer(self, *args, **kwargs):
        self.calls[self.name] = self.calls.get(self.name, 0) + 1
        return self.rx.finditer(*args, **kwargs)

    def __getattr__(self, attr):
        return getattr(self.rx, attr)


@pytest.fixture
def counted(monkeypatch):
    calls: dict[str, int] = {}
    real = pii._compile

    def compile_counting(patterns):
        return [(name, _Counting(rx, calls, name), check, pre) for name, rx, check, pre in real(patterns)]

    monkeypatch.setattr(pii, "_compile", compile_counting)
    return calls


@pytest.mark.parametrize("fn", ["find_pii", "redact"])
def test_patterns_run_only_on_texts_they_may_match(counted, fn):
    """600 spans of URLs with 9-digit ids, routes and SQL (about 1,900 distinct texts): the old per-text prefilters
    (a run of 4 digits for card, of 3 for phone, a ':' or '=' for api_key) ran the card, phone and api_key regexes
    on about 1,800, 1,800 and 1,200 of them; the batch condition (13 digits, a 3-3 digit group, a key word before
    ':' or '=') on the 3 that hold a finding and none else. Counted calls, no timing."""
    spans = _busy_frame()
    if fn == "find_pii":
        got = tk.find_pii(spans)
        assert set(got["kind"]) == {"email", "card", "phone"}
    else:
        tk.redact(spans, salt="s")
    for name in ("card", "phone", "api_key", "ssn"):
        assert counted.get(name, 0) <= 10, (name, counted)


def _reference(monkeypatch, fn, frame, **kw):
    monkeypatch.setattr(pii, "_BATCH_MIN", 10**12, raising=False)  # the one-by-one scan
    try:
        return fn(frame, **kw)
    finally:
        monkeypatch.undo()


def _same(a, b) -> None:
    assert list(a.columns) == list(b.columns)
    for c in a.columns:
        assert [repr(x) for x in a[c].tolist()] == [repr(x) for x in b[c].tolist()], c
    assert a.attrs.get("redaction") == b.attrs.get("redaction")


def _hostile_rows() -> list[dict]:
    """One row per corpus text, the text as a value, a key, a name and a status message."""
    def utf8(t: str) -> bool:
        try:
            t.encode("utf-8")
        except UnicodeError:
            return False
        return True

    return [{"name": t if utf8(t) else "op", "status_message": t if utf8(t) else None,
             "attributes": {"v": t, t: 1, "user.id": f"u{i}", "nested": {"inner": [t, {"k": t}]}}}
            for i, t in enumerate(_corpus())]


def test_find_pii_and_redact_equal_the_one_by_one_scan(monkeypatch):
    """Control: on every example text of the privacy tests (as a value, a key, a span name, a status message, nested)
    and on the busy frame, find_pii and redact give exactly what the one-by-one scan gives (rows, tokens, count)."""
    for frame in (_frame(_hostile_rows()), _busy_frame()):
        _same(tk.find_pii(frame), _reference(monkeypatch, tk.find_pii, frame))
        for kw in ({"salt": "s"}, {"method": "mask"}, {"keys": ["user.*"], "patterns": ["email", "card"], "salt": "s"}):
            _same(tk.redact(frame, **kw), _reference(monkeypatch, tk.redact, frame, **kw))


def test_find_pii_and_redact_equal_the_one_by_one_scan_on_real_traces(monkeypatch, real_traces):
    """Control: real Nezha TrainTicket log records (a minute's log lines: real texts, thousands of distinct ones)
    and its spans give the same findings and the same redacted frame with the batch prefilter and without."""
    sys.path.insert(0, str(TESTS.parent / "benchmarks"))
    import bench_rank_causes as b

    day = real_traces / "nezha" / "fault-days" / "rca_data" / "2023-01-29"
    if not (day / "log").is_dir():
        pytest.skip("Nezha logs not found")
    logs = b.read_nezha_logs(sorted((day / "log").glob("09_3*_log.csv.gz")))
    spans = b.read_nezha_csvs(sorted((day / "trace").glob("09_3*_trace.csv.gz")))
    assert len(logs) > 300 and logs["body"].nunique() > pii._BATCH_MIN
    for frame in (logs, spans):
        _same(tk.find_pii(frame), _reference(monkeypatch, tk.find_pii, frame))
        _same(tk.redact(frame, salt="s"), _reference(monkeypatch, tk.redact, frame, salt="s"))


SECRETS = ["ann@example.com", "4111 1111 1111 1111", "Bearer abcdefgh12345678", "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl",
           "AKIAABCDEFGHIJKLMNOP", "api_key=s3cr3tvalue99", "10.1.2.3", "2001:db8::17", "+1 415 555 0100",
           "123-45-6789", "Basic dXNlcjpwYXNzd29yZA==", "ghp_" + "a1" * 18, "bob:hunter22@db.internal"]


def test_redaction_leaves_no_original_value_anywhere():
    """600 busy spans and, in 13 of them, one secret of each kind written into every shown place: an attribute
    value, an attribute key, a resource value, an event's name and attributes, a link's attributes, the span name,
    the status message, a user key's value. After the default redact no secret's text survives in any cell (its
    repr), and find_pii finds nothing in the result."""
    spans = _busy_frame()
    n = len(spans)
    attrs = list(spans["attributes"])
    names = list(spans["name"])
    status = list(spans["status_message"])
    res = [{"service.name": "api"} for _ in range(n)]
    events = [[] for _ in range(n)]
    links = [[] for _ in range(n)]
    for j, s in enumerate(SECRETS):
        i = 20 + j * 7
        v = s if "@db" not in s else "postgres://" + s + "/x"
        attrs[i] = {**attrs[i], "note": f"see {v} now", f"k {v}": 1, "user.id": s}
        res[i] = {"service.name": "api", "host.ip": v}
        events[i] = [{"name": f"ev {v}", "time": 0, "attributes": {"m": v}}]
        links[i] = [{"trace_id": "f" * 32, "span_id": "e" * 16, "attributes": {"why": v}}]
        names[i] = f"op {v}"
        status[i] = f"failed for {v}"
    spans = spans.assign(attributes=attrs, resource=res, events=events, links=links, name=names, status_message=status)
    out = tk.redact(spans)
    cells = "\n".join(repr(x) for c in out.columns for x in out[c].tolist())
    for s in SECRETS:
        core = s.split("@")[0].split(":")[-1] if "@db" in s else s
        assert core not in cells, s
    assert tk.find_pii(out).empty


HOSTILE = {
    "email": "a" * 100_000 + "@",                       # a local part with no domain
    "email2": "a." * 50_000 + "@x",                     # dots with no top-level domain
    "card": "1 " * 50_000,                              # spaced digits: runs of 13-19 with no valid card
    "phone": "1-" * 50_000,
    "ipv6": ":" * 100_000,
    "ipv6b": "1:" * 50_000,
    "api_key": "token=" * 16_000,
    "private_key": "-----BEGIN RSA PRIVATE KEY-----" + "-" * 100_000,
    "url": "http://" + "a:" * 50_000,
}


def test_hostile_100kb_values_are_scanned_in_linear_time():
    """100 kB adversarial values (long runs a pattern starts at everywhere and never completes, and one it
    completes: a private key block) give the right answer: find_pii reports only the private key block, and
    redact leaves every other value as it was. Run in a subprocess; the timeout is a guard, not the assertion."""
    code = textwrap.dedent(f"""
        import pickle, sys
        import tracekit as tk
        vals = {HOSTILE!r}
        spans = tk.spans_from_columns({{
            "trace_id": ["0" * 31 + "1"] * len(vals), "span_id": [f"{{i + 1:016x}}" for i in range(len(vals))],
            "service": ["api"] * len(vals), "name": ["op"] * len(vals), "start": [0] * len(vals),
            "end": [1] * len(vals), "attributes": [{{"v": v}} for v in vals.values()]}})
        f = tk.find_pii(spans, keys=())
        r = tk.redact(spans, patterns=list(tk.analysis.pii.PATTERNS), keys=(), salt="s")
        sys.stdout.buffer.write(pickle.dumps((sorted(set(zip(f["span_id"], f["kind"]))),
                                              [d["v"] for d in r["attributes"]])))
    """)
    done = subprocess.run([sys.executable, "-"], input=code.encode(), capture_output=True, timeout=300,
                          cwd=str(TESTS.parent), check=True)
    found, values = pickle.loads(done.stdout)
    names = list(HOSTILE)
    key_at = names.index("private_key")
    assert found == [(f"{key_at + 1:016x}", "private_key")]
    for name, v in zip(names, values, strict=True):
        if name == "private_key":
            assert v.startswith("hmac:") and "PRIVATE KEY" not in v
        else:
            assert v == HOSTILE[name], name


def _links_back_reference(i, j, ok, start, end, tol, n):
    """The cycle check as it was (session 46): a graph of every span per round."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    back = np.zeros(len(i), dtype=bool)
    w = start[i].astype(np.float64) - end[j].astype(np.float64)

    def on_cycle(keep):
        g = coo_matrix((np.ones(int(keep.sum())), (j[keep], i[keep])), shape=(n, n))
        comp = connected_components(g, directed=True, connection="strong")[1]
        return keep & (comp[j] == comp[i])

    cyc = on_cycle(ok) if ok.any() else ok
    was = cyc.copy()
    for _ in range(64):
        if not cyc.any():
            break
        e = np.flatnonzero(cyc)
        g = coo_matrix((np.ones(len(e)), (j[e], i[e])), shape=(n, n))
        lab = connected_components(g, directed=True, connection="strong")[1][i[e]]
        o = np.lexsort((w[e], lab))
        firsts = o[np.r_[True, lab[o][1:] != lab[o][:-1]]]
        back[e[firsts]] = True
        cyc = on_cycle(ok & ~back)
    back |= cyc
    return back | (was & (w < -tol))


def test_links_back_equals_the_whole_graph_rounds():
    """Control: on 300 random link graphs (2-60 spans, dense enough for many cycles, some links not ok), the cycle
    check over the spans on a cycle refuses exactly the links the check over every span refused."""
    from tracekit.analysis.workflows import _links_back

    rng = np.random.default_rng(3)
    for _ in range(300):
        n = int(rng.integers(2, 60))
        m = int(rng.integers(1, 3 * n))
        i, j = rng.integers(0, n, m), rng.integers(-1, n, m)
        ok = (j >= 0) & (j != i) & (rng.random(m) < 0.9)
        start = rng.integers(0, 1000, n)
        end = start + rng.integers(0, 300, n)
        want = _links_back_reference(i, j, ok, start, end, 50, n)
        assert (_links_back(i, j, ok, start, end, 50, n) == want).all()


def test_links_back_rounds_look_at_the_cycle_not_every_span(monkeypatch):
    """5,000 spans of which 4 link round one cycle (and 4,000 links without a cycle): the rounds after the first
    pass built graphs of all 5,000 spans (shape 5000x5000 every round); now of the 4 spans on the cycle. Counted
    graph shapes, no timing; the refused link is the one pointing furthest back, by construction."""
    import scipy.sparse.csgraph as csgraph

    from tracekit.analysis.workflows import _links_back

    shapes = []
    real = csgraph.connected_components

    def counting(g, *a, **kw):
        shapes.append(g.shape[0])
        return real(g, *a, **kw)

    monkeypatch.setattr(csgraph, "connected_components", counting)
    n = 5000
    start = np.arange(n, dtype=np.int64) * 10
    end = start + 5
    ci = np.array([0, 1, 2, 3])
    cj = np.array([1, 2, 3, 0])  # 0 -> 1 -> 2 -> 3 -> 0; the link 3 -> 0 waits 30 - 105 = -75, the others 15 or 25
    start[[0, 1, 2, 3]] = [100, 80, 60, 30]
    end[[0, 1, 2, 3]] = [105, 85, 65, 35]
    rng = np.random.default_rng(0)
    fi = rng.integers(10, n, 4000)
    fj = fi - rng.integers(1, 10, 4000)  # links to earlier spans: no cycle
    i, j = np.concatenate([ci, fi]), np.concatenate([cj, fj])
    ok = np.ones(len(i), dtype=bool)
    back = _links_back(i, j, ok, start, end, 10**9, n)
    w = start[ci] - end[cj]
    assert back[:4].tolist() == (w == w.min()).tolist() and not back[4:].any()
    assert shapes[0] == n and max(shapes[1:]) <= 4, shapes


def test_a_text_the_batch_did_not_see_is_still_scanned(monkeypatch):
    """Control: with the batch shown only every other text of the frame (as if a column were missed), find_pii and
    redact still find and replace everything the one-by-one scan does: a text the batch did not see is scanned."""
    frame = _frame(_hostile_rows())
    real = pii._frame_texts
    monkeypatch.setattr(pii, "_frame_texts", lambda f: set(sorted(real(f))[::2]))
    got_f, got_r = tk.find_pii(frame), tk.redact(frame, salt="s")
    monkeypatch.undo()
    _same(got_f, _reference(monkeypatch, tk.find_pii, frame))
    _same(got_r, _reference(monkeypatch, tk.redact, frame, salt="s"))
