"""Personal data in traces: find it, redact it before sharing.

:func:`find_pii` scans attribute values (span ``attributes``, ``resource``, event and link
attributes, and ``status_message``), recursing into nested dicts and lists, for the built-in
:data:`PATTERNS` — ``email`` (a quoted local part too: ``"john doe"@example.com``), ``card`` (13–19 digits with a card-network prefix, Luhn-checked, not inside a UUID),
``bearer`` (``Authorization: Bearer …`` tokens), ``basic_auth`` (``Basic <base64>``), ``jwt``, ``aws_access_key`` (``AKIA…``/``ASIA…``),
``api_key`` (``api_key=…``/``x-api-key: …``/``client_secret=…``/``password=…``/``token=…``/``X-Amz-Signature=…``
style secrets, a value of 8 or more characters; an ``Authorization: Token …`` or ``Cookie: …`` header written out,
its whole value), ``url_credentials`` (a URL's ``user:password@``, or its user alone: ``https://alice@host``; not
``git@``, a service account), ``vendor_token`` (credentials a vendor's prefix
names: GitHub ``ghp_…``, GitLab ``glpat-…``, npm, Slack ``xoxb-…``, Stripe ``sk_live_…``, Google ``AIza…``, ``sk-…``),
``private_key`` (a PEM or PGP private key block), ``ipv4``, ``ipv6`` (validated with
:mod:`ipaddress`; a host's address only, :func:`ip_identifies_someone`: a network block such as ``10.0.0.0/8``, the
unspecified ``0.0.0.0`` / ``::``, loopback ``127.0.0.1`` / ``::1``, multicast and the broadcast ``255.255.255.255``
identify nobody, are not reported and not redacted), ``phone`` (international ``+`` numbers and 10–15-digit numbers written with
separators, e.g. ``(415) 555-0100``; bare digit runs, dates, times, versions and ids are not
phones), ``ssn`` (US social security numbers written ``123-45-6789`` or ``123 45 6789`` (not inside a run of spaced
numbers), invalid area/group/serial
numbers excluded) — and for user ids by key name (:data:`USER_KEYS`, e.g. ``enduser.id``,
``user``, ``user.id``) and credentials by key name (:data:`SECRET_KEYS`: ``http.request.header.cookie``,
``….authorization``, ``x-api-key``, ``db.password``, ``client_secret``, whatever their values look like). Besides attribute values, the texts a report or figure shows are scanned
too: span and service names, event names, attribute keys, ``status_message``, a logs or metrics frame's ``host``.

:func:`redact` returns a copy where values under matching keys (glob patterns over the dotted
key path) are replaced whole, and pattern matches inside every shown text (values, keys, span,
service and event names, ``status_message``, ``host``) are replaced, by a keyed hash (``hmac:`` + 20 hex
digits of HMAC-SHA-256 keyed with a salt, so equal values still join) or a mask (``****``). The
salt is random per Python process unless ``salt=`` is given: tokens are stable within a run (one
report, its tables and figures) but a short value (an IPv4 address, a phone number) cannot be
recovered by hashing every candidate. :func:`redact_skipped` does the same for the skipped-records
table, whose reasons quote raw record content. Nested values are walked without recursion
(:mod:`tracekit.core.nested`), whatever their depth.

The two agree: :func:`find_pii` finds nothing in what :func:`redact` wrote. A token is no personal data
(find_pii reports no match inside one, nor a user key's value that is a token), and a match a token's edge
lets a pattern make (a mask glued to a word, ``****Bearer abc…``) is replaced too. Digits of any script count
as digits (``\\d``; a card's Luhn check and an SSN's validity read them as their ASCII digits). Built-in patterns
look at texts of 3 characters or more (an IPv6 address ``::2``), a user's regex at every text.

>>> import tracekit as tk
>>> spans = tk.spans_from_columns({
...     "trace_id": ["0" * 31 + "1"], "span_id": ["a" * 16], "service": ["api"], "name": ["GET /"],
...     "start": [0], "end": [1], "attributes": [{"user.email": "ann@example.com", "n": 3}]})
>>> tk.find_pii(spans)[["key", "kind", "excerpt"]].to_dict("records")
[{'key': 'user.email', 'kind': 'user_key', 'excerpt': 'an…om'}, {'key': 'user.email', 'kind': 'email', 'excerpt': 'an…om'}]
>>> tk.redact(spans, keys=["user.email"], salt="demo").loc[0, "attributes"]
{'user.email': 'hmac:f9abc6b020d7d2fa869a', 'n': 3}
"""

from __future__ import annotations

import bisect
import fnmatch
import hashlib
import hmac
import ipaddress
import re
import secrets
from collections.abc import Iterable, Iterator
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..core.nested import ROOT_PATH, PathState, below, map_leaves, to_text
from ..errors import ArgumentError
from ..schema import SharedTuple, SpansSchemaError, shared_attr

__all__ = ["find_pii", "redact", "redact_skipped", "redact_text", "PATTERNS", "USER_KEYS", "SECRET_KEYS", "DEFAULT_KEYS",
           "PII_COLUMNS"]

_CARD_PREFIX = re.compile(r"^(?:4|5[1-5]|2[2-7]|3[47]|3[068]|35|6(?:011|5|4[4-9]|22))")


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _ascii_digits(text: str) -> str:
    """``text`` with every decimal digit of any script (Arabic-Indic ``٤``, full-width ``４``...) written as its
    ASCII digit: the patterns' ``\\d`` matches them all, so the checks of a match read them as digits too."""
    return "".join(str(int(c)) if c.isdecimal() else c for c in text) if not text.isascii() else text


#: a UUID (8-4-4-4-12 hex digits, any case): never a card number, whatever digit run it holds ("…-8b24-84406405948e"
#: holds 24-84406405948, Luhn-valid, in 4 distinct log texts of Nezha's TrainTicket day)
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_HEX_OR_DASH = frozenset("0123456789abcdefABCDEF-")


def _in_uuid(m: re.Match) -> bool:
    """Whether the match lies inside a UUID: the run of hex digits and dashes around it, or a UUID within that run
    that covers the match."""
    s, (a, b) = m.string, m.span()
    lo, hi = a, b
    while lo > 0 and s[lo - 1] in _HEX_OR_DASH and a - lo < 36:
        lo -= 1
    while hi < len(s) and s[hi] in _HEX_OR_DASH and hi - b < 36:
        hi += 1
    if hi - lo < 36:
        return False
    return any(u.start() <= a and b <= u.end() for u in _UUID.finditer(s, lo, hi))


def _card_ok(m: re.Match) -> bool:
    d = _ascii_digits(re.sub(r"[ -]", "", m.group(0)))
    return 13 <= len(d) <= 19 and bool(_CARD_PREFIX.match(d)) and _luhn(d) and not _in_uuid(m)


_LIMITED_BROADCAST = ipaddress.IPv4Address("255.255.255.255")


def ip_identifies_someone(address: str, prefix: int | None = None) -> bool:
    """Whether an IP address written in a text may identify a person's host: what ``ipv4`` and ``ipv6`` report.

    A host address may (a client's, a server's, a link-local ``fe80::…`` one, a private ``10.…`` one). These
    identify nobody and are not personal data: an address written as a network block (``10.0.0.0/8``,
    ``2001:db8::/32``: a prefix shorter than the address and no host bits set; ``10.1.2.3/8`` and ``1.2.3.4/32``
    are a host's), the unspecified address (``0.0.0.0``, ``::``), loopback (``127.0.0.0/8``, ``::1``), multicast
    (``224.0.0.0/4``, ``ff00::/8``) and the limited broadcast ``255.255.255.255``; an IPv4-mapped IPv6 address
    (``::ffff:127.0.0.1``) is judged as its IPv4 address. A zone id (``fe80::1%eth0``) names an interface, not
    a host: it is not part of the address found. Not an address: False.

    >>> ip_identifies_someone("10.1.2.3"), ip_identifies_someone("10.0.0.0", 8), ip_identifies_someone("::1")
    (True, False, False)
    """
    try:
        a = ipaddress.ip_address(address)
    except ValueError:
        return False
    if prefix is not None and (type(prefix) is not int or not 0 <= prefix <= a.max_prefixlen):
        raise ArgumentError(f"ip_identifies_someone: prefix must be a whole number from 0 to {a.max_prefixlen} for "
                            f"{address!r}, got {prefix!r}")
    if prefix is not None and prefix < a.max_prefixlen and not int(a) & ((1 << (a.max_prefixlen - prefix)) - 1):
        return False  # a network block
    if a.version == 6 and a.ipv4_mapped is not None:
        a = a.ipv4_mapped
    return not (a.is_unspecified or a.is_loopback or a.is_multicast or a == _LIMITED_BROADCAST)


def _prefix(m: re.Match) -> int | None:
    """The ``/n`` prefix length written right after an address match (the ``prefix`` group of its lookahead)."""
    p = m.group("prefix")
    return int(p[1:]) if p else None


def _ipv4_ok(m: re.Match) -> bool:
    return ip_identifies_someone(m.group(0), _prefix(m))


def _ipv6_ok(m: re.Match) -> bool:
    """An IPv6 address with a digit (hex words alone, ``feed::fade``, ``be::ef``, are words joined by ``::``) that
    may identify someone (:func:`ip_identifies_someone`)."""
    s = m.group(0)
    if not any(c.isdigit() for c in s):
        return False
    try:
        if ipaddress.ip_address(s).version != 6:
            return False
    except ValueError:
        return False
    return ip_identifies_someone(s, _prefix(m))


_PHONE_DIGITS = re.compile(r"\d")


def _phone_ok(m: re.Match) -> bool:
    n = len(_PHONE_DIGITS.findall(m.group(0)))
    if m.group(0).startswith("+"):
        return 8 <= n <= 15
    return 10 <= n <= 15


#: endings of file names, which an image name written ``icon@2x.png`` puts where an address's top-level domain is
_FILE_ENDINGS = frozenset("png jpg jpeg gif svg webp ico bmp tif tiff pdf js mjs css map json xml html htm txt csv "
                          "zip gz tgz jar war so dll exe py rb go java class php".split())


#: domains that host no mailbox: AWS service endpoints, which X-Ray's SQL subsegments are named after
#: (``database@instance.….rds.amazonaws.com``)
_NO_MAIL_DOMAINS = (".amazonaws.com", ".amazonaws.com.cn")


def _email_ok(m: re.Match) -> bool:
    text = m.group(0).lower()
    return text.rsplit(".", 1)[1] not in _FILE_ENDINGS and not text.endswith(_NO_MAIL_DOMAINS)


#: a key whose value is a version (``service.version``, ``telemetry.sdk.version``, ``app_version``): a dotted quad
#: under it (``1.2.3.4``, .NET's and Java's four-part versions) is a version, not an IPv4 address
_VERSION_KEY = re.compile(r"(?:^|[._\-\x1f])version$", re.IGNORECASE)


def _not_here(name: str, path: str) -> bool:
    """A pattern's hit that the key it is under explains (a version's dotted quad): one rule for find and redact."""
    return name == "ipv4" and _VERSION_KEY.search(path) is not None


def _ssn_ok(m: re.Match) -> bool:
    area, group, serial = _ascii_digits(m.group(0)).replace(" ", "-").split("-")
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


#: built-in pattern name → (regex, validator of a match (the :class:`re.Match`: what it found, and what its
#: lookaheads saw) or None)
PATTERNS: dict[str, tuple[str, Any]] = {
    # starts only where a run of local-part characters starts, each run taken whole (possessive): one pass,
    # where trying every start inside a long run before "@" was quadratic. Letters of any script (josé@bücher.de),
    # and "@" written %40 as a query string encodes it (?email=ann%40example.com), with the local part's other
    # escapes (ann.smith%2Bshop%40…: the name before %2B was left readable), never starting inside an escape
    # A quoted local part ("john doe"@example.com, RFC 5321) is taken with its quotes: up to 64 characters, one of them
    # a letter or digit (a JSON text's '":"@handle.io' quotes only its punctuation)
    "email": (r"(?:(?<![\w.+-])(?<!%(?=[0-9A-Fa-f]{2}))(?:[\w.+-]|%(?!40)[0-9A-Fa-f]{2})++"
              r"|\"(?=[^\"\r\n]{0,63}?\w)[^\"\r\n]{1,64}+\")(?:@|%40)[\w-]++(?:\.[\w-]++)*\.[^\W\d_]{2,}+", _email_ok),
    # a dot after a match ends a sentence ("card 4111 1111 1111 1111."); only a dot and a digit continue a number
    "card": (r"(?<![\d.])\d(?:[ -]?\d){12,18}(?!\d|\.\d)", _card_ok),
    "bearer": (r"(?i:\bbearer)\s+[A-Za-z0-9\-._~+/]{8,}=*", None),
    "jwt": (r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}", None),
    "aws_access_key": (r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", None),
    # the key word may end a longer key joined by "_" or "-" (client_secret, aws_secret_access_key, db_password,
    # id_token, X-Amz-Security-Token, X-Amz-Signature); a value may be percent-encoded (a query string's %2F).
    # An Authorization or Cookie header written out (a log line, a dumped request) takes its whole value: a
    # scheme and its credentials (Token …, Digest username="…"), every cookie of the line; a quoted value to its
    # quote. Bearer and Basic credentials are the bearer and basic_auth patterns' (the header's name stays)
    # A password's value is any run of 4 characters or more to a separator (a connection string's ';', a query's
    # '&', a space) or a quoted string to (not with) its quote: 'Password=p@ss!w0rd#2024;' and 'password=abc123' were left
    # readable (the value had to be 8 characters of a token's alphabet); 'passwd: x' (a placeholder, /etc/passwd's
    # shadow mark) stays
    "api_key": (r"(?i:(?<![A-Za-z0-9])(?:(?:x-)?api[_-]?key|apikey|(?:access|refresh|auth)[_-]?token|token"
                r"|secret(?:[_-]?access[_-]?key)?|signature|sig|session[_-]?id))"
                r"[\"']?\s*+[:=]\s*+[\"']?[A-Za-z0-9\-._~+/%]{8,}"
                r"|(?i:(?<![A-Za-z0-9])(?:passw(?:or)?d|pwd))[\"']?\s*+[:=]\s*+"
                r"(?:\"[^\"\r\n]{4,}+|'[^'\r\n]{4,}+|[^\s\"';&,]{4,}+)"
                r"|(?i:(?<![A-Za-z0-9])(?:authorization|cookie))[\"']?\s*+[:=]\s*+(?![\"']?(?i:bearer|basic)\s)"
                r"(?:\"[^\"\r\n]{8,}|'[^'\r\n]{8,}|[^\s\"'][^\r\n]{7,})", None),
    # a host's address (ip_identifies_someone): a "/n" after it is looked at, not taken (10.0.0.0/8 is a block)
    "ipv4": (r"(?<![\w.])(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}(?!\d|\.\d)"
             r"(?=(?P<prefix>/(?:3[0-2]|[12]?\d)(?!\d|\.\d))?)", _ipv4_ok),
    # not glued to a word: "::" joins the parts of a name (AWS::DynamoDB::Table, std::vector, db::add_user), and
    # "S::D", "d::" read alone are valid addresses; nor cut before an embedded IPv4's dots (::ffff:10.0.0.1)
    "ipv6": (r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:]|\.\d)"
             r"(?=(?P<prefix>/(?:12[0-8]|1[01]\d|[1-9]?\d)(?!\d|\.\d))?)", _ipv6_ok),
    # +<country> then groups, or (area) / area-separated groups; never a bare run of digits
    # a "+" number may follow "=" or ":" (a query's phone=+1…, a tel:+1… URI); the others not (ids, times)
    "phone": (r"(?:(?<![\w.+/-])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?)?(?:[ .-]?\d{2,4}){2,4}"
              r"|(?<![\w.+/:=-])(?:\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}|\d{3}[ .]\d{3}[ .]\d{4}|\d{3}-\d{3}-\d{4}))"
              r"(?![\w:/-]|\.\w)", _phone_ok),
    # written with dashes or with single spaces (123 45 6789); a spaced one not inside a run of spaced numbers
    # ("sizes 512 64 1024 2048")
    "ssn": (r"(?<![\w.:/-])(?:\d{3}-\d{2}-\d{4}|(?<!\d )\d{3} \d{2} \d{4}(?! \d))(?![\w:/-]|\.\w)", _ssn_ok),
    # HTTP Basic credentials: base64 of user:password after the scheme (an Authorization header's value)
    "basic_auth": (r"(?i:\bbasic)\s+[A-Za-z0-9+/]{8,}={0,2}(?![A-Za-z0-9+/=])", None),
    # a URL's user and password (postgres://app:pw@db:5432/x, amqp://guest:guest@rabbit), or its user alone
    # (https://alice@host/path): the host may be a bare name or an address, which the email pattern does not take;
    # each part taken whole (possessive), one pass. A user alone named git (ssh://git@host/repo.git) is a service
    # account, no person
    "url_credentials": (r"(?<=://)(?:[^\s/?#@:]*+:[^\s/?#@]++|(?!git@)[^\s/?#@:]++)(?=@)", None),
    # credentials whose vendor prefix says what they are, as their vendors document them: GitHub tokens (ghp_, gho_,
    # ghu_, ghs_, ghr_ + 36 letters and digits; fine-grained github_pat_), GitLab (glpat-), npm (npm_), Slack
    # (xoxb-, xoxp-, xoxa-, xoxr-, xoxs-, xoxo-), Stripe secret and restricted keys (sk_live_, rk_test_…; not the
    # publishable pk_), Stripe webhook secrets (whsec_), Google API keys (AIza + 35), OpenAI-style keys (sk-proj-…,
    # sk-ant-…, or sk- and 32 letters and digits: a host "sk-prod-cluster-worker-01" is none); each run taken whole
    # (possessive), never starting inside a word
    "vendor_token": (r"(?<![A-Za-z0-9_-])(?:gh[pousr]_[A-Za-z0-9]{36,}+|github_pat_[A-Za-z0-9_]{22,}+"
                     r"|glpat-[A-Za-z0-9_-]{20,}+|npm_[A-Za-z0-9]{36,}+|xox[abposr]-\d[A-Za-z0-9-]{9,}+"
                     r"|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}+|whsec_[A-Za-z0-9+/=]{20,}+|AIza[A-Za-z0-9_-]{35,}+"
                     r"|sk-(?:proj|ant|svcacct|admin)-[A-Za-z0-9_-]{20,}+|sk-[A-Za-z0-9]{32,}+)", None),
    # a PEM (or PGP) private key block written into a value: the whole block, or to the end of a text cut inside it
    # (a truncated key is still a key); one pass (a "-" that starts no END line is taken as any other character)
    "private_key": (r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:[^-]++|-(?!----END ))*+"
                    r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)?", None),
}

_DIGITS4 = re.compile(r"\d{4}")
_PHONE_PRE = re.compile(r"\+\d|\d{3}")

#: cheap test a text must pass before a built-in pattern's regex runs on it
_PREFILTER: dict[str, Any] = {
    "email": lambda v: "@" in v or "%40" in v,
    "card": lambda v: _DIGITS4.search(v) is not None,
    "bearer": lambda v: "earer" in v or "EARER" in v,
    "basic_auth": lambda v: "asic" in v or "ASIC" in v,
    "url_credentials": lambda v: "://" in v and "@" in v,
    "jwt": lambda v: "eyJ" in v,
    "aws_access_key": lambda v: "AKIA" in v or "ASIA" in v,
    "api_key": lambda v: "=" in v or ":" in v,
    "ipv4": lambda v: v.count(".") >= 3,
    "ipv6": lambda v: v.count(":") >= 2,
    "phone": lambda v: _PHONE_PRE.search(v) is not None,
    "ssn": lambda v: "-" in v or " " in v,
    "vendor_token": lambda v: any(p in v for p in ("gh", "glpat-", "npm_", "xox", "_live_", "_test_", "whsec_", "AIza",
                                                   "sk-")),
    "private_key": lambda v: "PRIVATE KEY" in v,
}

#: per built-in pattern, a regex (RE2 syntax, case as written) that every text the pattern matches in holds a match of,
#: looking at the characters a match takes only (never at its lookarounds' context, so a text an earlier pattern's
#: token changed still holds it): run by pyarrow over all the distinct ASCII texts of a frame at once
#: (:func:`_candidates`), it keeps the pattern's Python regex off the texts it cannot match (a URL's 9-digit id is
#: no card, no phone) where the per-text :data:`_PREFILTER` let most of them through
_NEEDS: dict[str, str] = {
    "email": r"@|%40",
    "card": r"[0-9](?:[ -]?[0-9]){12}",
    "bearer": r"(?i)bearer",
    "jwt": r"eyJ",
    "aws_access_key": r"(?:AKIA|ASIA)[0-9A-Z]{16}",
    "api_key": r"(?i)(?:(?:x-)?api[_-]?key|apikey|(?:access|refresh|auth)[_-]?token|token"
               r"|secret(?:[_-]?access[_-]?key)?|signature|sig|session[_-]?id|passw(?:or)?d|pwd|authorization|cookie)"
               r"[\"']?[\t\n\v\f\r\x1c-\x1f ]*[:=]",
    "ipv4": r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}",
    "ipv6": r"[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:",
    "phone": r"\+[0-9]|\([0-9]{3}\)|[0-9]{3}[ .-][0-9]{3}",
    "ssn": r"[0-9]{3}[ -][0-9]{2}[ -][0-9]{4}",
    "basic_auth": r"(?i)basic",
    "url_credentials": r"://[^@]*@",
    "vendor_token": r"gh|glpat-|npm_|xox|_live_|_test_|whsec_|AIza|sk-",
    "private_key": r"PRIVATE KEY",
}

#: fewer distinct texts than this are prefiltered one by one (:data:`_PREFILTER`): pyarrow's start-up would cost more
_BATCH_MIN = 256


def _candidates(texts: Iterable[str], compiled: list) -> dict[str, int]:
    """Per distinct ASCII text of ``texts``, a bit mask of the ``compiled`` patterns (:func:`_compile`; bit ``i``:
    ``compiled[i]``) that may match in it: a built-in pattern's bit is set when the text holds its :data:`_NEEDS`,
    a user's regex's always. One vectorised pass per pattern (pyarrow's RE2) over all texts; a text not in the
    answer (fewer than :data:`_BATCH_MIN` texts) or whose mask is -1 (not ASCII: Python's ``\\d``, ``\\s`` and case
    folding read more than RE2's) is prefiltered one by one (:data:`_PREFILTER`)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    distinct = [t for t in dict.fromkeys(texts) if type(t) is str]
    uniq = [t for t in distinct if t.isascii()]
    if len(uniq) < _BATCH_MIN:
        return {}
    arr = pa.array(uniq, type=pa.large_string())
    bits = np.zeros(len(uniq), dtype=np.int64)
    for i, (name, *_rest) in enumerate(compiled):
        need = _NEEDS.get(name) if name in PATTERNS else None
        if need is None:
            bits |= np.int64(1) << i
        else:
            hit = pc.match_substring_regex(arr, need).to_numpy(zero_copy_only=False)
            bits |= hit.astype(np.int64) << i
    out = dict(zip(uniq, bits.tolist(), strict=True))
    out.update((t, -1) for t in distinct if not t.isascii())  # -1: every pattern, prefiltered one by one
    return out


def _frame_texts(spans: pd.DataFrame) -> set[str]:
    """The distinct texts of a frame's shown columns (names, messages, bodies, hosts) and the keys and text leaves of
    its containers (attributes, resource, events' and links' and exemplars' names and attributes), any depth,
    iteratively; a flat dict's are taken by set operations."""
    found: set[Any] = set()
    stack: list[Any] = []
    for c in ("name", "service", "host", "status_message", "body", "attributes", "resource", "events", "links",
              "exemplars"):
        if c not in spans.columns:
            continue
        for v in spans[c].to_numpy(dtype=object):
            if type(v) is str:
                found.add(v)
            elif type(v) is dict and _CONTAINER_TYPES.isdisjoint(map(type, v.values())):
                found.update(v)
                try:
                    found.update(v.values())
                except TypeError:  # an unhashable leaf (a set): walked below
                    stack.append(v)
            elif _is_container(v):
                stack.append(v)
    while stack:
        v = stack.pop()
        if type(v) is dict:
            found.update(k for k in v if type(k) is str)
            items = v.values()
        else:
            items = v.tolist() if isinstance(v, np.ndarray) else v
        for x in items:
            if type(x) is str:
                found.add(x)
            elif type(x) in _CONTAINER_TYPES or _is_container(x):
                stack.append(x)
    return {t for t in found if type(t) is str}


#: keys (glob patterns over the dotted key path) whose values identify a user
USER_KEYS: tuple[str, ...] = (
    "enduser.id", "enduser.*", "user", "user.id", "user.name", "user.email", "user_id", "userid", "userId",
    "username", "user.full_name", "customer.id", "customer_id", "*.user_id", "*.userId", "*.user.id",
    "*.user.email", "*.user.name",
)

#: keys (glob patterns over the dotted key path) whose values are credentials whatever they look like: HTTP headers that
#: carry them, as OTel records headers (``http.request.header.<name>``) or a framework nests them (``headers.cookie``)
SECRET_KEYS: tuple[str, ...] = (
    "*.authorization", "*.proxy-authorization", "*.proxy_authorization", "*.cookie", "*.set-cookie", "*.set_cookie",
    "*.x-api-key", "*.x_api_key", "*.x-auth-token", "*.x-amz-security-token", "authorization", "cookie",
    "set-cookie",
    # the same headers as top-level keys (a framework's flat header dict): each was a credential only under a dot
    "proxy-authorization", "proxy_authorization", "set_cookie", "x-api-key", "x_api_key", "x-auth-token",
    "x-amz-security-token",
    # keys named for a credential (the api_key pattern's key words): their values whatever they look like
    "*password", "*passwd", "*api_key", "*api-key", "*apikey", "*access_token", "*refresh_token", "*auth_token",
    "*client_secret", "*secret_key", "*secret_access_key",
)

#: the keys find_pii and redact look at by default: user ids (kind ``user_key``) and credentials (``secret_key``)
DEFAULT_KEYS: tuple[str, ...] = USER_KEYS + SECRET_KEYS

PII_COLUMNS = ("trace_id", "span_id", "service", "location", "key", "kind", "excerpt")

#: what :func:`redact` writes in place of a value (``hmac:`` + 20 hex digits, or ``****``): a redaction token is
#: no personal data, whatever a pattern finds inside it (a run of 13 decimal digits in the hex passes the card
#: check in about 1 token of 5,000)
_TOKEN = re.compile(r"hmac:[0-9a-f]{20}(?![0-9a-f])|\*{4}")

#: rounds of :meth:`_Redactor._settle` before a redacted text is made one token whole (half of them match by match)
_SETTLE_ROUNDS = 16

#: the shortest text a built-in pattern finds (an IPv6 address such as ``::2``); a user's regex is tried on any text
_MIN_TEXT = 3


def _min_text(compiled: list) -> int:
    """The shortest text worth scanning with ``compiled`` (:func:`_compile`): 1 when a user's regex is among them."""
    return _MIN_TEXT if all(name in PATTERNS for name, *_ in compiled) else 1


def _token_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each redaction token (:data:`_TOKEN`) in ``text``, left to right."""
    if "hmac:" not in text and "****" not in text:
        return []
    return [m.span() for m in _TOKEN.finditer(text)]


def _matches(rx: re.Pattern, check: Any, text: str, tokens: list[tuple[int, int]]) -> Iterator[re.Match]:
    """The matches of one pattern that it reports (non-empty, passing ``check``) and that do not lie inside one
    redaction token of ``tokens`` (:func:`_token_spans`): one rule for find_pii and for redact's last check."""
    starts = [ta for ta, _ in tokens]
    for m in rx.finditer(text):
        a, b = m.span()
        if a < b and (check is None or check(m)):
            i = bisect.bisect_right(starts, a) - 1  # the token starting last at or before the match (disjoint, sorted)
            if i < 0 or b > tokens[i][1]:
                yield m


def _touching(tokens: list[tuple[int, int]], starts: list[int], a: int, b: int) -> tuple[int, int]:
    """``(a, b)`` grown to take whole every token of ``tokens`` (sorted, disjoint; ``starts`` their starts) it overlaps."""
    i = bisect.bisect_left(starts, b) - 1  # tokens starting before b, walked back while they end after a
    while i >= 0 and tokens[i][1] > a:
        a, b = min(a, tokens[i][0]), max(b, tokens[i][1])
        i -= 1
    return a, b


def _is_token(v: Any) -> bool:
    """A value redact wrote in place of a whole value (a token alone)."""
    return type(v) is str and _TOKEN.fullmatch(v) is not None


def _compile(patterns: Iterable[str] | None) -> list[tuple[str, re.Pattern, Any, Any]]:
    """(name, regex, validator or None, prefilter or None) per pattern."""
    out = []
    for p in PATTERNS if patterns is None else _texts_arg(patterns, "patterns"):
        if p in PATTERNS:
            rx, check = PATTERNS[p]
            out.append((p, re.compile(rx), check, _PREFILTER.get(p)))
        else:
            try:
                compiled = re.compile(p)
            except re.error as exc:
                raise ArgumentError(f"pattern {p!r} is neither a built-in ({', '.join(PATTERNS)}) nor a valid regex: {exc}") from exc
            if compiled.match("") is not None:  # '' or '.*': a token between every two characters of every text
                raise ArgumentError(f"pattern {p!r} matches the empty text: give a regex that needs at least one character")
            out.append((p, compiled, None, None))
    return out


def _texts_arg(value: Any, name: str) -> list[str]:
    """``keys`` / ``patterns`` as a list of texts: one text, or an iterable of texts; else an ArgumentError."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    try:
        items = list(value)
    except TypeError:
        items = None
    if items is None or not all(isinstance(x, str) for x in items):
        raise ArgumentError(f"{name} must be a text or an iterable of texts (globs / pattern names or regexes), got {value!r}")
    return items


def _mask_excerpt(s: str) -> str:
    return s[:2] + "…" + s[-2:] if len(s) > 6 else "…"


#: joins the key paths of nested dicts in the walks of this module (``metadata.default`` ⟶ ``user.email``), so a
#: key glob can match from any level (:class:`_KeyMatcher`); shown as a dot
LEVEL = "\x1f"
#: a key path is matched from the top and from the innermost this many dict levels (a path of 1,000 nested
#: levels would otherwise cost a million matches)
_MAX_LEVELS = 32


def dotted(path: str) -> str:
    """A key path of this module's walks as users write it: levels joined by dots."""
    return path.replace(LEVEL, ".")


class _KeyMatcher:
    """Glob patterns over dotted key paths, compiled once, answers cached per path; case-insensitive.

    A glob matches a key path from the attribute's top (``metadata.default.user.email``) or from any dict it is
    nested in (``user.email`` in X-Ray's ``metadata.default``, in a list of objects): ``user.*`` names a user's
    fields wherever an application nested them. Dotted keys of one level stay whole (``email`` does not match
    the key ``user.email``).

    >>> m = _KeyMatcher(("user.*",))
    >>> m("metadata.default" + LEVEL + "user.email"), m("User.Email"), m("enduser.email"), m("x.user.email")
    (True, True, False, False)
    """

    def __init__(self, globs: tuple[str, ...]):
        self.rx = re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs), re.IGNORECASE) if globs else None
        self.seen: dict[str, bool] = {}

    def __call__(self, path: str) -> bool:
        hit = self.seen.get(path)
        if hit is None:
            if self.rx is None or not path:
                hit = False
            elif LEVEL not in path:
                hit = bool(self.rx.match(path))
            else:
                parts = path.split(LEVEL)
                starts = [0, *range(max(1, len(parts) - _MAX_LEVELS), len(parts))]
                hit = any(self.rx.match(".".join(parts[i:])) for i in starts)
            if len(self.seen) > 200_000:
                self.seen.clear()
            self.seen[path] = hit
        return hit


def find_pii(
    spans: pd.DataFrame,
    *,
    patterns: Iterable[str] | None = None,
    keys: Iterable[str] | None = DEFAULT_KEYS,
) -> pd.DataFrame:
    """Find personal data in the texts of spans; one row per (span, location, key, kind).

    ``patterns``: built-in names of :data:`PATTERNS` or regexes (default all built-ins);
    ``keys``: glob patterns over dotted key paths whose values are personal data whatever they look like (default
    :data:`DEFAULT_KEYS`: :data:`USER_KEYS`, kind ``user_key``, and the credential headers of :data:`SECRET_KEYS`,
    kind ``secret_key``: a cookie or an ``Authorization: Basic …`` value). Columns: ``trace_id``, ``span_id``, ``service``,
    ``location`` (``attributes``, ``resource``, ``events[i]``, ``links[i]`` for values;
    the same with ``:key`` for attribute keys; ``name``, ``service``, ``events[i].name``,
    ``status_message``, a logs frame's ``body``, a logs or metrics frame's ``host``, a metrics frame's ``exemplars[i]``;
    a metrics frame has no
    trace or span id: <NA>), ``key`` (dotted path), ``kind`` (pattern name or ``user_key``),
    ``excerpt`` (the first match, masked: never the value itself). Only text values are
    scanned for patterns (numbers are not: nanosecond timestamps pass the Luhn check one time
    in ten). Nested values of any depth are walked without recursion. The input is not modified.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (one row per span, tracekit.schema).
    patterns : Iterable[str] | None, default None
        Names of the built-in value patterns to look for (``None``: all of :data:`PATTERNS`).
    keys : Iterable[str] | None, default DEFAULT_KEYS
        Attribute key patterns (globs) whose values are personal data whatever they look like; the default,
        :data:`DEFAULT_KEYS`, is :data:`USER_KEYS` (kind ``user_key``) and :data:`SECRET_KEYS` (kind ``secret_key``).

    Returns
    -------
    pandas.DataFrame
        Find personal data in the texts of spans; one row per (span, location, key, kind).

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({
    ...     "trace_id": ["0" * 31 + "1"], "span_id": ["a" * 16], "service": ["api"], "name": ["GET /"],
    ...     "start": [0], "end": [1], "attributes": [{"http.request.header.authorization": "Bearer abcdef123456",
    ...     "card": "4111 1111 1111 1111", "client.address": "10.1.2.3"}]})
    >>> tk.find_pii(spans)["kind"].tolist()  # the header by its key (a credential whatever it holds), and its value
    ['secret_key', 'bearer', 'card', 'ipv4']
    """
    _need(spans)
    compiled = _compile([patterns] if isinstance(patterns, str) else patterns)
    globs = tuple(_texts_arg(keys, "keys"))
    rows: list[tuple] = []
    # a metrics frame (which _need takes, as redact does) has no ids: its rows say none
    tids, sids, svcs = (spans[c].to_numpy(dtype=object) if c in spans.columns else np.full(len(spans), None, dtype=object)
                        for c in ("trace_id", "span_id", "service"))
    memo: dict[tuple[Any, str], list[tuple[str, str, str, str]]] = {}

    key_match = _KeyMatcher(globs)
    secret_match = _KeyMatcher(SECRET_KEYS)

    def key_kind(path: str) -> str:
        return "secret_key" if secret_match(path) else "user_key"

    text_hits: dict[str, list[tuple[str, str]]] = {}  # repeated values are scanned once
    # per attribute key: path, user key?, pattern hits; a key that is no text by its type too (1 and True are one dict
    # key: the row of a key 1 named the key 'True' when a True key came first)
    key_info: dict[Any, tuple[str, bool, Any]] = {}

    floor = _min_text(compiled)
    cand = _candidates(_frame_texts(spans), compiled)  # per distinct text, the patterns that may match in it
    # in a flat dict, an entry whose value no pattern may match in and whose key is none of `hot_keys` makes no
    # finding: it is not looked at
    batched = bool(cand)
    hot_keys: set[Any] = set()

    def hits_of(v: str) -> list[tuple[str, str]]:
        hits = text_hits.get(v)
        if hits is None:
            hits = []
            tokens = _token_spans(v)
            may = cand.get(v, -1)
            for i, (name, rx, check, pre) in enumerate(compiled):
                if (not may >> i & 1) if may != -1 else (pre is not None and not pre(v)):
                    continue
                for m in _matches(rx, check, v, tokens):
                    hits.append((name, _mask_excerpt(m.group(0))))
                    break
            if len(text_hits) > 200_000:
                text_hits.clear()
            text_hits[v] = hits
        return hits

    def info_of(k: Any) -> tuple[str, bool, Any]:
        path = str(k)
        info = key_info[k if type(k) is str else (type(k), k)] = (path, bool(globs) and key_match(path),
                              hits_of(k) if type(k) is str and len(k) >= floor else ())
        if info[1] or info[2]:
            hot_keys.add(k)
        return info

    def entry(found: list, where: str, path: str, info: tuple, v: Any) -> None:
        """The findings of one key and its leaf value, at ``path`` (a flat dict's, or a nested dict's plain entry):
        the key's own hits, a user key's value, and the patterns in a text value."""
        level_path, user, khits = info
        for name, excerpt in khits:
            found.append((f"{where}:key", path, name, excerpt))
        if user and v is not None and v != "" and not _is_token(v):
            found.append((where, path, key_kind(level_path), _mask_excerpt(_text_of(v))))
        if type(v) is str and len(v) >= floor:
            for name, excerpt in hits_of(v):
                if not _not_here(name, path):
                    found.append((where, path, name, excerpt))

    def scan(container: Any, where: str) -> list[tuple[str, str, str, str]]:
        found: list[tuple[str, str, str, str]] = []
        if type(container) is str:  # a plain text column (names, status_message)
            for name, excerpt in (hits_of(container) if len(container) >= floor else ()):
                found.append((where, "", name, excerpt))
            return found
        if type(container) is dict and _CONTAINER_TYPES.isdisjoint(map(type, container.values())):
            items: Any = container.items()
            if batched:  # only the entries that may make a finding (a text not in `cand`: scanned)
                for k in container.keys() - key_info.keys():
                    info_of(k)
                items = [(k, v) for k, v in items if k in hot_keys or (type(v) is str and cand.get(v, -1) != 0)]
            for k, v in items:  # flat: the common case, per-key answers cached
                info = key_info.get(k if type(k) is str else (type(k), k))
                if info is None:
                    info = info_of(k)
                entry(found, where, info[0], info, v)
            return found
        if batched and type(container) is dict:
            # a dict holding a container: its other entries as a flat dict's (only those that may make a finding),
            # each container entry walked; in the walk's order (an entry's findings, then its leaves')
            for k, v in container.items():
                if _is_container(v):
                    found.extend(scan_walk({k: v}, where))
                    continue
                if type(k) is str:
                    info = key_info.get(k)
                    if info is None:
                        info = info_of(k)
                    hot = k in hot_keys
                else:  # (not the cache: 1 and True are one dict key there, their paths '1' and 'True')
                    info = (str(k), bool(globs) and key_match(str(k)), ())
                    hot = info[1]
                if not (hot or (type(v) is str and cand.get(v, -1) != 0)):
                    continue  # no hit in its key, not a user key, no pattern may match in its value
                entry(found, where, dotted(info[0]), info, v)
            return found
        return scan_walk(container, where)

    def scan_walk(container: Any, where: str) -> list[tuple[str, str, str, str]]:
        found: list[tuple[str, str, str, str]] = []
        for level_path, is_key, k, v in _walk_pairs(container):
            path = dotted(level_path)
            if is_key:
                if type(k) is str and len(k) >= floor:
                    for name, excerpt in hits_of(k):
                        found.append((f"{where}:key", path, name, excerpt))
                if _is_container(v):
                    continue  # its leaves come from the walk
            if globs and v is not None and v != "" and not _is_token(v) and key_match(level_path):
                found.append((where, path, key_kind(level_path), _mask_excerpt(_text_of(v))))
            if type(v) is str and len(v) >= floor:
                for name, excerpt in hits_of(v):
                    if not _not_here(name, path):
                        found.append((where, path, name, excerpt))
        return found

    for i, (where, container) in _containers(spans):
        key = (container if type(container) is str else id(container), where)  # texts repeat: by value
        hits = memo.get(key)
        if hits is None:
            hits = memo[key] = scan(container, where)
        for loc, path, kind, excerpt in hits:
            rows.append((tids[i], sids[i], svcs[i], loc, path, kind, excerpt))
    out = pd.DataFrame(rows, columns=list(PII_COLUMNS))
    for c in PII_COLUMNS:
        out[c] = out[c].astype("string[pyarrow]")
    return out


_CONTAINER_TYPES = frozenset({dict, list, tuple, np.ndarray})


def _is_container(v: Any) -> bool:
    return isinstance(v, (dict, list, tuple, np.ndarray))


def _walk_pairs(value: Any) -> Iterator[tuple[str, bool, Any, Any]]:
    """``(path, is_key, key, value)``: one per dict entry (``is_key`` True) and one per list
    item that is not a container (``is_key`` False, key None); iterative, any depth. The path's levels are
    joined by :data:`LEVEL` (:func:`dotted` writes it as users do); past
    :data:`~tracekit.core.nested.PATH_LEVELS` levels it is elided (:func:`~tracekit.core.nested.below`)."""
    stack: list[tuple[Iterator, PathState]] = []

    def push(v: Any, p: PathState) -> None:
        if isinstance(v, dict):
            stack.append((iter(v.items()), p))
        else:
            stack.append((((None, x) for x in (v.tolist() if isinstance(v, np.ndarray) else v)), p))

    if not _is_container(value):
        yield "", False, None, value
        return
    push(value, ROOT_PATH)
    while stack:
        it, p = stack[-1]
        for k, x in it:
            if k is not None:
                q = below(p, k, LEVEL)  # (past PATH_LEVELS levels elided: linear at any depth)
                yield q[0], True, k, x
            else:
                q = p
                if not _is_container(x):
                    yield q[0], False, None, x
            if _is_container(x):
                push(x, q)
                break
        else:
            stack.pop()


def _texts_in(value: Any) -> Iterator[str]:
    """The texts among the leaves of a nested container (dict values, list items), any depth, iteratively."""
    stack = [value]
    while stack:
        v = stack.pop()
        for x in (v.values() if type(v) is dict else (v.tolist() if isinstance(v, np.ndarray) else v)):
            if type(x) is str:
                yield x
            elif type(x) in _CONTAINER_TYPES or _is_container(x):
                stack.append(x)

def _text_of(v: Any) -> str:
    """Text of a value for hashing and excerpts (``repr`` of a container, depth-safe)."""
    if isinstance(v, str):
        return v
    try:
        return repr(v)
    except RecursionError:
        return to_text(v)


def _need(spans: pd.DataFrame) -> None:
    if not isinstance(spans, pd.DataFrame):
        raise SpansSchemaError(f"expected a spans DataFrame, got {type(spans).__name__}")
    if {"name", "value", "exemplars"} <= set(spans.columns):  # a metrics frame
        return
    missing = [c for c in ("trace_id", "span_id", "service") if c not in spans.columns]
    if missing:
        raise SpansSchemaError(f"expected a spans, logs or metrics frame; the frame is missing columns {', '.join(missing)}")


def _containers(spans: pd.DataFrame) -> Iterator[tuple[int, tuple[str, Any]]]:
    cols = {c: spans[c].to_numpy(dtype=object)
            for c in ("attributes", "resource", "events", "links", "exemplars", "status_message", "body", "name", "service",
                      "host")
            if c in spans.columns}
    for i in range(len(spans)):
        for c in ("name", "service", "host"):  # host: a logs or metrics frame's column
            if c in cols:
                m = cols[c][i]
                if isinstance(m, str) and m:
                    yield i, (c, m)
        for c in ("attributes", "resource"):
            if c in cols:
                d = cols[c][i]
                if d:
                    yield i, (c, d)
        for c in ("events", "links", "exemplars"):  # exemplars: a metrics frame's, each with its attributes
            if c in cols:
                lst = cols[c][i]
                if isinstance(lst, (list, tuple, np.ndarray)):
                    for j, e in enumerate(lst):
                        if isinstance(e, dict):
                            if c == "events" and isinstance(e.get("name"), str) and e["name"]:
                                yield i, (f"{c}[{j}].name", e["name"])
                            if e.get("attributes"):
                                yield i, (f"{c}[{j}]", e["attributes"])
        for c in ("status_message", "body"):  # body: a logs frame's record text, shown and redacted as a name is
            if c in cols:
                m = cols[c][i]
                if isinstance(m, str) and m:
                    yield i, (c, m)  # the str itself: alive in cols, so its id() is not reused


_RUN_SALT = secrets.token_hex(16)  # per process: tokens join within a run, cannot be enumerated across runs


def _token(value: Any, method: str, salt: str | None) -> str:
    if method == "mask":
        return "****"
    key = (_RUN_SALT if salt is None else salt).encode("utf-8", "surrogatepass")
    return "hmac:" + hmac.new(key, _text_of(value).encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:20]


class _Redactor:
    """Keys and patterns compiled once; rewrites values, texts and nested containers (iteratively)."""

    def __init__(self, keys: Iterable[str] | None, patterns: Iterable[str] | None, method: str, salt: str | None) -> None:
        if not isinstance(method, str) or method not in ("hash", "mask"):
            raise ArgumentError(f"method must be 'hash' or 'mask', got {method!r}")
        if salt is not None and not isinstance(salt, str):
            raise ArgumentError(f"salt must be a string, got {type(salt).__name__}")
        self.globs = tuple(_texts_arg(keys, "keys"))
        self.plist = _texts_arg(patterns, "patterns")
        self.compiled = _compile(self.plist) if self.plist else []
        self.key_match = _KeyMatcher(self.globs)
        self.method, self.salt = method, salt
        self.count = 0
        self.done: dict[str, tuple[str, int]] = {}  # repeated texts are rewritten once
        self.compiled_version = [c for c in self.compiled if not _not_here(c[0], "version")]
        self.done_version: dict[str, tuple[str, int]] = {}
        self.floor = _min_text(self.compiled)
        self.seen_values: list[str] | None = None
        # per distinct text of the frame, the patterns that may match in it (:func:`_candidates`, set by `prepare`);
        # a text not in it is scanned as it comes; `batched`: the flat dicts' fast path of :meth:`value` is on
        self.cand: dict[str, int] = {}
        self.bit = {c[0]: i for i, c in enumerate(self.compiled)}
        self.batched = False
        self.key_role: dict[Any, int] = {}  # per dict key: 0 plain, 1 its value redacted whole, 2 the key a text rewritten

    def prepare(self, frame: pd.DataFrame) -> None:
        """Find, for all the distinct texts of ``frame`` at once, the patterns that may match in each
        (:func:`_candidates`): a text none may match in is left as it is without a scan, and a flat dict whose
        keys are plain and whose values are such texts is copied (:meth:`value`)."""
        self.cand = _candidates(_frame_texts(frame), self.compiled) if self.compiled else {}
        self.batched = bool(self.cand) or not self.compiled

    def tok(self, v: Any) -> str:
        self.count += 1
        return _token(v, self.method, self.salt)

    def keyed(self, v: Any) -> Any:
        """The token of a value under a redacted key (None and "" stay); its texts are noted in ``self.seen_values``
        when that is a list (:func:`redact` searches its trace's texts for them)."""
        if v is None or (isinstance(v, str) and v == ""):
            return v
        if self.seen_values is not None:
            if _is_container(v):
                map_leaves(v, self._note)
            else:
                self._note(v)
        return self.tok(v)

    def _note(self, v: Any) -> Any:
        """Note a redacted key's text, or its whole number of :data:`MIN_NUMBER_VALUE` or more as its digits."""
        if type(v) is str:
            self.seen_values.append(v)
        elif type(v) is int and abs(v) >= MIN_NUMBER_VALUE:
            self.seen_values.append(str(v))
        return v

    def text(self, s: str, path: str = "") -> str:
        """``s`` with every pattern's match replaced; ``path``: the key it is under (a version's key: no ipv4,
        :func:`_not_here`)."""
        compiled, done = self.compiled, self.done
        if path and _VERSION_KEY.search(path):
            compiled, done = self.compiled_version, self.done_version
        hit = done.get(s)
        if hit is None and (type(s) is not str or len(s) < self.floor or not compiled):
            return s
        if hit is not None:
            self.count += hit[1]
            return hit[0]
        may = self.cand.get(s, -1)
        if may == 0:
            return s  # no pattern may match in it
        before = self.count
        # patterns run in turn, each on the text the earlier ones left, but a token is never read again: the card
        # pattern found a Luhn-valid digit run inside an email's token ('hmac:fa42522758785896…') and replaced it
        # too, mangling the token ('hmac:fahmac:9c6e…') and counting 2 values for 1
        new = s
        toks: list[tuple[int, int]] = []  # the tokens' spans in `new`: sorted, disjoint
        for name, rx, check, pre in compiled:
            if (not may >> self.bit[name] & 1) if may != -1 else (pre is not None and not pre(new)):
                continue
            hits = []
            gaps = zip([0, *(t[1] for t in toks)], [*(t[0] for t in toks), len(new)], strict=True)
            for g0, g1 in gaps:  # the text between tokens: a match neither takes a token in nor ends in one
                for m in rx.finditer(new, g0, g1):  # a zero-length match (a user's r"\b") replaces nothing
                    a, b = m.span()
                    if a < b and (check is None or check(m)):
                        hits.append((a, b, True))
            if not hits:
                continue
            parts, pos, length, spans_out = [], 0, 0, []
            for a, b, fresh in sorted(hits + [(a, b, False) for a, b in toks]):
                parts.append(new[pos:a])
                length += a - pos
                t = self.tok(new[a:b]) if fresh else new[a:b]
                parts.append(t)
                spans_out.append((length, length + len(t)))
                length += len(t)
                pos = b
            parts.append(new[pos:])
            new, toks = "".join(parts), spans_out
        if new != s:
            new = self._settle(new, compiled)
        if len(done) > 200_000:
            done.clear()
        done[s] = (new, self.count - before)
        return new

    def _settle(self, text: str, compiled: list) -> str:
        """``text`` (patterns' matches replaced) with whatever a token's edge lets a pattern find replaced too, so
        that :func:`find_pii` finds nothing in what redact wrote: a mask glued to a word ("****Bearer abc…") or
        a token ending in a letter before a digit run frees a match its original neighbour blocked. Each such
        match is replaced with the tokens it touches by one token (of the text it covers), round after round
        (each round takes text or tokens away). A cascade (each token freeing the next glued match, 10,000 phone
        numbers written back to back) is cut short: from the 9th round on, everything from the first match to
        the end is one token, and from the 17th the whole text is. One full scan per round."""
        for rnd in range(_SETTLE_ROUNDS + 1):
            tokens = _token_spans(text)
            starts = [ta for ta, _ in tokens]
            grown: list[list[int]] = []
            for _, rx, check, pre in compiled:
                if pre is not None and not pre(text):
                    continue
                for m in _matches(rx, check, text, tokens):
                    grown.append(list(_touching(tokens, starts, *m.span())))  # with the tokens it touches, whole
            if not grown:
                break
            grown.sort()
            if rnd >= _SETTLE_ROUNDS:
                return self.tok(text)
            if rnd >= _SETTLE_ROUNDS // 2:
                grown = [[grown[0][0], len(text)]]
            merged = [grown[0]]
            for a, b in grown[1:]:
                if a < merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], b)
                else:
                    merged.append([a, b])
            parts, pos = [], 0
            for a, b in merged:
                parts += [text[pos:a], self.tok(text[a:b])]
                pos = b
            text = "".join(parts) + text[pos:]
        return text

    def value(self, d: Any) -> Any:
        """A redacted copy of a nested value (dict, list, text); containers are always new."""
        if type(d) is dict and _CONTAINER_TYPES.isdisjoint(map(type, d.values())):
            if self.batched:
                for k in d.keys() - self.key_role.keys():
                    self.key_role[k] = (2 if self.compiled and type(k) is str and self.cand.get(k, -1) != 0 else
                                        1 if self.globs and self.key_match(str(k)) else 0)
                roles = [self.key_role[k] for k in d]
                if 2 not in roles:  # no key rewritten: a copy, with the values that change replaced in place
                    out = dict(d)
                    cand = self.cand
                    for (k, v), role in zip(d.items(), roles, strict=True):
                        if role == 1:
                            out[k] = self.keyed(v)
                        elif type(v) is str and self.compiled and cand.get(v, -1) != 0:  # not in `cand`: scanned
                            out[k] = self.text(v, str(k))
                    return out
            out = {}  # flat: the common case, no walk
            compiled = bool(self.compiled)
            for k, v in d.items():
                nk = self.text(k) if compiled and type(k) is str else k
                if self.globs and self.key_match(str(k)):
                    out[nk] = self.keyed(v)
                else:
                    out[nk] = self.text(v, str(k)) if compiled and type(v) is str else v
            return out
        def at(path: str, v: Any) -> tuple[bool, Any]:
            if self.globs and self.key_match(path):
                return True, self.keyed(v)
            if type(v) is str and self.compiled and _VERSION_KEY.search(path):
                return True, self.text(v, path)
            return False, None

        return map_leaves(d, lambda v: self.text(v) if type(v) is str else v,
                          key=(lambda k: self.text(k) if type(k) is str else k) if self.compiled else None, at=at,
                          sep=LEVEL)


def redact(
    spans: pd.DataFrame,
    keys: Iterable[str] | None = None,
    patterns: Iterable[str] | None = None,
    *,
    method: Literal["hash", "mask"] = "hash",
    salt: str | None = None,
) -> pd.DataFrame:
    """Return a copy of ``spans`` with the values of ``keys`` and the matches of ``patterns`` (personal data)
    replaced by a keyed hash or a mask.

    ``keys``: glob patterns over dotted key paths (``"user.email"``, ``"http.request.header.*"``,
    ``"*"`` for every attribute), in any case, matched from the top of an attribute and from any object nested in
    it (``"user.*"`` also names ``user.email`` inside X-Ray's ``metadata.default`` or a list of objects); a
    matching value is replaced whole (a nested dict or list too).
    ``patterns``: built-in names of :data:`PATTERNS` or regexes; each match inside a text is
    replaced: attribute values and keys, span, service and event names, ``status_message``, a logs or metrics
    frame's ``host``.
    With neither given, everything :func:`find_pii` finds by default is redacted
    (:data:`DEFAULT_KEYS`: user ids and credential headers, and all built-in patterns). ``keys`` alone replace
    those keys' values and nothing else: no pattern runs on any text, so the same e-mail address in a span name or a
    status message stays readable (``keys=["user.*"]`` on ``user.email`` and a span named ``mail ann@example.com``
    leaves the name as it is); give ``patterns`` too (``list(PATTERNS)``, as :func:`tracekit.report`'s ``redact=``
    does) to replace those. Only the skipped records' reasons, which quote raw records, get every built-in pattern
    whatever ``patterns`` says (:func:`redact_skipped`'s default). ``method="hash"`` writes
    ``hmac:`` + the first 20 hex digits of HMAC-SHA-256(key=``salt``, value), the same for equal values, so joins and
    group-bys still work; the default salt is random per process (stable within a run, not
    reversible by enumerating short values); pass ``salt=`` for tokens that match across runs.
    ``"mask"`` writes ``****``. Applies to ``attributes``, ``resource``, event and link
    attributes. A text a redacted key holds (of at least :data:`MIN_BODY_VALUE` characters; a whole number from
    :data:`MIN_NUMBER_VALUE` up, as its digits) is replaced by the
    same token where it stands as a word of its own (no letter or digit either side: ``ann`` leaves ``annual``) in
    the span names, status messages, event names, log ``body`` and the other attribute values (span, resource,
    event and link attributes: ``http.url``, ``db.statement``, ``exception.message``) of its trace (a record
    without a trace id: its own), where a route, a query, an error or a structured logger also writes it
    (``GET /users/ann/cart``); other traces' texts are not searched for it. The frame's skipped records (``attrs["skipped"]``, whose reasons quote raw records)
    are redacted too (:func:`redact_skipped`). What was done is recorded in ``attrs["redaction"]``
    (keys, pattern names, method, number of values replaced; never the salt). The input is not modified.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (one row per span, tracekit.schema), a logs frame (:mod:`tracekit.logs_schema`:
        its ``body`` is a text like a span name, its ``attributes`` and ``resource`` as a span's) or a
        metrics frame (:mod:`tracekit.metrics_schema`: ``attributes``, ``resource`` and each exemplar's
        ``attributes``).
    keys : Iterable[str] | None, default None
        Attribute key patterns (globs) whose values are replaced.
    patterns : Iterable[str] | None, default None
        Names of the built-in value patterns (:data:`PATTERNS`) or regexes replaced wherever they appear; None
        with ``keys`` given: none (every built-in pattern only when ``keys`` is None too).
    method : Literal['hash', 'mask'], default 'hash'
        ``"hash"`` (a salted token: equal values stay equal, joins still work) or ``"mask"``.
    salt : str | None, default None
        Salt of the hash (``None``: this process's random salt, the same for every call in one run).

    Returns
    -------
    pandas.DataFrame
        A copy of ``spans`` with the values of ``keys`` and the matches of ``patterns`` replaced by a keyed hash
        or a mask.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({
    ...     "trace_id": ["0" * 31 + "1"], "span_id": ["a" * 16], "service": ["api"], "name": ["GET /"],
    ...     "start": [0], "end": [1], "attributes": [{"http.request.header.cookie": "s=1",
    ...     "msg": "mail bob@example.org now"}]})
    >>> tk.redact(spans, keys=["http.request.header.*"], patterns=["email"], method="mask").loc[0, "attributes"]
    {'http.request.header.cookie': '****', 'msg': 'mail **** now'}
    """
    _need(spans)
    if keys is None and patterns is None:
        keys, patterns = DEFAULT_KEYS, list(PATTERNS)
    r = _Redactor(keys, patterns, method, salt)
    r.prepare(spans)
    metrics = {"name", "value", "exemplars"} <= set(spans.columns)  # a metrics frame: its names are metrics' names
    out = spans.copy()
    memo: dict[int, tuple[Any, int]] = {}
    keyed: dict[int, list[str]] = {}  # per input dict: the texts under its redacted keys, longest first

    def fix_dict(d: Any) -> Any:
        if not isinstance(d, dict):
            return d
        if not d:
            return {}  # a new dict: the result shares no container with the input
        k = id(d)
        if k not in memo:
            before = r.count
            if not r.compiled and not any(r.key_match(str(x)) for x in d) and not any(type(v) in (dict, list, tuple) for v in d.values()):
                memo[k] = (dict(d), 0)  # nothing to replace: a plain copy (the C-level fast path)
            else:
                r.seen_values = []
                memo[k] = (r.value(d), r.count - before)
                if r.seen_values:
                    keyed[k] = sorted({v for v in r.seen_values if len(v) >= MIN_BODY_VALUE}, key=len, reverse=True)
                r.seen_values = None
        else:  # a dict shared by several rows (readers share a resource's): its values are replaced in each row
            r.count += memo[k][1]
        return memo[k][0]

    for c in ("attributes", "resource"):
        if c in out.columns:
            out[c] = pd.Series([fix_dict(d) for d in spans[c]], index=spans.index, dtype=object)
    for c in ("events", "links", "exemplars"):  # exemplars: a metrics frame's, each with its attributes
        if c in out.columns:
            out[c] = pd.Series(
                [
                    [({**e, **({"attributes": fix_dict(e["attributes"])} if "attributes" in e else {}),
                       **({"name": r.text(e["name"])} if c == "events" and isinstance(e.get("name"), str) else {})})
                     if isinstance(e, dict) else e
                     for e in lst]
                    if isinstance(lst, (list, tuple, np.ndarray)) else lst
                    for lst in spans[c]
                ],
                index=spans.index, dtype=object,
            )
    texts = [c for c in ("body", "name", "status_message") if c in out.columns and not metrics]
    if r.globs and (texts or "events" in out.columns) and not metrics and any(c in out.columns for c in ("attributes", "resource")):
        # a redacted key's value written in the texts of its record's trace (a route, a message, a log body)
        rows, per_row = _trace_values(spans, keyed)
        new = _texts_without_key_values(r, spans, texts, rows, per_row)
        for c, col in new.items():
            if c == "events":
                out[c] = pd.Series([[{**e, "name": n} if isinstance(e, dict) and n is not None else e
                                     for e, n in zip(lst, names, strict=True)] if names is not None else lst
                                    for lst, names in zip(out[c], col, strict=True)], index=out.index, dtype=object)
                continue
            out[c] = col
        if rows:
            # and in the other attribute values of its trace (http.url, http.target, db.statement, an event's
            # exception.message): the same id as a word of its own, replaced by the same token
            clean = _ValueWords(r)
            for c in ("attributes", "resource", "events", "links"):
                if c in out.columns:
                    out[c] = _values_without_key_values(out[c], rows, per_row, clean, nested=c in ("events", "links"))
        spans = spans.assign(**{c: out[c] for c in new if c != "events"})  # the pattern pass below starts from these
    if r.compiled:
        # body: a logs frame's records; host: a logs or metrics frame's (a host named by its address, as its
        # resource's host.name is redacted: the same token, so the frames still join by host)
        for c in ("status_message", "name", "service", "host", "body"):
            if c in out.columns:
                col = spans[c]
                new = pd.Series([r.text(m) if isinstance(m, str) else m for m in col.to_numpy(dtype=object, na_value=None)],
                                index=spans.index, dtype=object)
                out[c] = new.astype(col.dtype) if not isinstance(col.dtype, pd.CategoricalDtype) else new.astype("category")
    out.attrs = {**spans.attrs, "redaction": shared_attr({"keys": list(r.globs), "patterns": list(r.plist),
                                                          "method": method, "values_replaced": r.count})}
    if "skipped" in spans.attrs and spans.attrs["skipped"]:
        out.attrs["skipped"] = SharedTuple(redact_skipped(spans.attrs["skipped"], keys=r.globs, patterns=r.plist or None,
                                                    method=method, salt=salt))
    return out


#: a redacted attribute value shorter than this is not searched for in its trace's texts (it would mostly
#: hit unrelated words and numbers)
MIN_BODY_VALUE = 3
#: a redacted whole number (a numeric user id) below this is not searched for in its trace's texts (status codes,
#: counts and ports would be hit)
MIN_NUMBER_VALUE = 1000


#: a character that continues a word: a redacted value is replaced where it stands as a word of its own
_WORD_EDGE = r"[^\W_]"


def _word_rx(value: str) -> re.Pattern:
    """``value`` where it is not inside a longer word (a letter or digit on neither side)."""
    return re.compile(f"(?<!{_WORD_EDGE}){re.escape(value)}(?!{_WORD_EDGE})")


def _trace_values(frame: pd.DataFrame, keyed: dict[int, list[str]]) -> tuple[list[int], list[Any]]:
    """Per row of a spans or logs frame: the texts a redacted attribute / resource key holds in the row's trace (a
    record without a trace id: in the record itself), longest first; and the rows that have any. ``keyed``: per
    ``id()`` of an attributes or resource dict, the texts under its redacted keys, noted while it was redacted."""
    n = len(frame)
    own: list[Any] = [()] * n
    for c in ("attributes", "resource"):
        if c in frame.columns:
            got = [keyed.get(id(d)) for d in frame[c].to_numpy(dtype=object)]
            for i in (i for i, vs in enumerate(got) if vs):
                own[i] = got[i] if not own[i] else sorted({*own[i], *got[i]}, key=len, reverse=True)
    rows = [i for i, vs in enumerate(own) if vs]
    if not rows:
        return [], own
    per_row = own
    if "trace_id" in frame.columns:
        tids = frame["trace_id"].to_numpy(dtype=object, na_value=None)
        by_trace: dict[Any, set[str]] = {}
        for i in rows:
            if tids[i] is not None:
                by_trace.setdefault(tids[i], set()).update(own[i])
        if by_trace:
            shared = {t: sorted(vs, key=len, reverse=True) for t, vs in by_trace.items()}
            per_row = [shared.get(t, own[i]) if t is not None else own[i] for i, t in enumerate(tids)]
            rows = [i for i, vs in enumerate(per_row) if vs]
    return rows, per_row


class _ValueWords:
    """Replaces, in a text, each of given values where it stands as a word of its own by the value's token."""

    def __init__(self, r: _Redactor) -> None:
        self.r, self.rx = r, {}

    def __call__(self, text: Any, vs: list[str]) -> Any:
        if type(text) is not str:
            return text
        for v in vs:
            if v in text:
                p = self.rx.get(v)
                if p is None:
                    p = self.rx[v] = _word_rx(v)
                text = p.sub(lambda _m, v=v: self.r.tok(v), text)
        return text


def _values_without_key_values(col: pd.Series, rows: list[int], per_row: list[Any], clean: _ValueWords,
                               nested: bool) -> pd.Series:
    """``col`` (redacted attributes or resource dicts; ``nested``: lists of events or links, each with its
    ``attributes``) with, in the given rows, every text leaf searched for the row's trace values (:func:`_trace_values`);
    a container that changes is rebuilt, never edited (dicts are shared between rows)."""
    values = col.to_numpy(dtype=object).copy()
    changed = False

    def fixed(d: Any, vs: list[str]) -> Any:
        if not isinstance(d, dict) or not d:
            return d
        if not any(v in x for x in _texts_in(d) for v in vs):
            return d  # no text holds a value (the common case): nothing rebuilt
        new = map_leaves(d, lambda x: clean(x, vs) if type(x) is str else x)
        return d if new == d else new

    for i in rows:
        v, vs = values[i], per_row[i]
        if nested:
            if isinstance(v, (list, tuple, np.ndarray)) and len(v):
                lst = [{**e, "attributes": a} if isinstance(e, dict) and (a := fixed(e.get("attributes"), vs))
                       is not e.get("attributes") else e for e in v]
                if any(x is not y for x, y in zip(lst, v, strict=True)):
                    values[i], changed = lst, True
        else:
            new = fixed(v, vs)
            if new is not v:
                values[i], changed = new, True
    return pd.Series(values, index=col.index, dtype=object) if changed else col


def _texts_without_key_values(r: _Redactor, frame: pd.DataFrame, texts: list[str], rows: list[int],
                              per_row: list[Any]) -> dict[str, Any]:
    """The ``texts`` columns (``body``, ``name``, ``status_message``) and the event names of a spans or logs frame
    with every value a redacted attribute / resource key holds in the same trace (:func:`_trace_values`) replaced
    by that value's token (the attribute's own), where it stands as a word of its own: a user id written into a
    route, an error message, a log body. Linear in the frame: each record's texts are searched for its trace's
    values only. Only the columns that change are returned; ``events``: per row, the new event names (None:
    unchanged)."""
    n = len(frame)
    if not rows:
        return {}
    clean = _ValueWords(r)

    out: dict[str, Any] = {}
    for c in texts:
        col = frame[c]
        values = col.to_numpy(dtype=object, na_value=None)
        new = values.copy()
        for i in rows:
            new[i] = clean(values[i], per_row[i])
        if any(new[i] is not values[i] and new[i] != values[i] for i in rows):
            series = pd.Series(new, index=col.index, dtype=object)
            out[c] = series.astype(col.dtype) if not isinstance(col.dtype, pd.CategoricalDtype) else series.astype("category")
    if "events" in frame.columns:
        ev: list[Any] = [None] * n
        lists = frame["events"].to_numpy(dtype=object)
        for i in rows:
            lst = lists[i]
            if isinstance(lst, (list, tuple, np.ndarray)) and len(lst):
                ev[i] = [clean(e.get("name"), per_row[i]) if isinstance(e, dict) else None for e in lst]
        if any(x is not None for x in ev):
            out["events"] = ev
    return out


_OPENERS = re.compile(r"['\"{\[]")
_QUOTE_STOP = {"'": re.compile(r"['\\]"), '"': re.compile(r'["\\]')}
_CLOSERS = {"{": "}", "[": "]"}


def _quoted_spans(text: str) -> list[tuple[int, int]]:
    r"""``(start, end)`` of what ``text`` quotes from a record, left to right: ``'…'`` and ``"…"`` strings
    (backslash escapes honoured) and ``{…}`` / ``[…]`` literals (to the last closing bracket), in one pass.

    A quote that finds no closing mark marks its kind dead (every later opener of that kind would
    fail the same way), so no text is scanned twice: linear in the text, where the regex it replaces
    (``'(?:[^'\\]|\\.)*'|…|\{.*\}``) retried every opener to the end of the text.
    """
    out: list[tuple[int, int]] = []
    dead: set[str] = set()
    last = {c: text.rfind(e) for c, e in _CLOSERS.items()}
    openers = _OPENERS
    m = openers.search(text)
    while m is not None:
        i = m.start()
        c = text[i]
        end = -1
        if c not in dead:
            if c in last:
                end = last[c] + 1 if last[c] > i else -1
            else:
                k, stop = i + 1, _QUOTE_STOP[c]
                while (q := stop.search(text, k)) is not None:
                    if text[q.start()] == c:
                        end = q.start() + 1
                        break
                    k = q.start() + 2  # a backslash escapes the next character
                    if k > len(text):
                        break
            if end < 0:
                dead.add(c)
                alive = "".join(x for x in "'\"{[" if x not in dead)
                if not alive:
                    break
                openers = re.compile("[" + re.escape(alive) + "]")
        if end > 0:
            out.append((i, end))
        m = openers.search(text, end if end > 0 else i + 1)
    return out


def redact_text(text: str, keys: Iterable[str] | None = None, patterns: Iterable[str] | None = None, *,
                method: Literal["hash", "mask"] = "hash", salt: str | None = None, quoted: bool = True) -> str:
    """Redact one free text (an error message, a skipped-record reason) the way :func:`redact` does.

    Parameters
    ----------
    text : str
        The text.
    keys : iterable of str, optional
        Key globs the caller redacts (as given to :func:`redact`); when any is given and ``quoted``
        is true, whatever the text quotes from a record is replaced too: quoted strings and
        ``{…}``/``[…]`` literals (the message around them stays readable).
    patterns : iterable of str, optional
        Pattern names or regexes (default: all built-in :data:`PATTERNS`); each match is replaced.
    method : {"hash", "mask"}, default "hash"
        Keyed hash token or ``****``.
    salt : str, optional
        Hash key (default: this process's random salt, as :func:`redact`).
    quoted : bool, default True
        Also replace quoted record content when ``keys`` are given.

    Returns
    -------
    str
        The redacted text.

    Examples
    --------
    >>> redact_text("line 3: kind must be a string, got {'mail': 'ann@example.com'}", keys=["*"], method="mask")
    'line 3: kind must be a string, got ****'
    >>> redact_text("bad value for ann@example.com", method="mask")
    'bad value for ****'
    """
    r = _Redactor(keys, list(PATTERNS) if patterns is None else patterns, method, salt)
    return _redact_text(r, text, quoted)


def _redact_text(r: _Redactor, text: Any, quoted: bool) -> Any:
    if not isinstance(text, str):
        return text
    if quoted and r.globs:
        parts, pos = [], 0
        for a, b in _quoted_spans(text):
            parts += [text[pos:a], r.tok(text[a:b])]
            pos = b
        text = "".join(parts) + text[pos:]
    return r.text(text)


def redact_skipped(skipped: pd.DataFrame | Iterable[Any], keys: Iterable[str] | None = ("*",),
                   patterns: Iterable[str] | None = None, *, method: Literal["hash", "mask"] = "hash",
                   salt: str | None = None) -> Any:
    """Redact the skipped-records table: reasons quote raw record content.

    Every text column (file, record, reason) goes through :func:`redact_text` (patterns; for the
    reason, with ``keys`` given, also the quoted record content). Use the same ``salt`` as for
    :func:`redact` so equal values get equal tokens in the spans and in the table;
    :func:`redact` already applies it to the frame's own ``attrs["skipped"]``.

    Parameters
    ----------
    skipped : pandas.DataFrame or iterable of SkippedRecord
        :func:`tracekit.skipped_records` of a frame, or the records themselves.
    keys : iterable of str, optional
        Key globs the caller redacts (default ``("*",)``: quoted content is always replaced).
    patterns : iterable of str, optional
        Pattern names or regexes (default: all built-in :data:`PATTERNS`).
    method : {"hash", "mask"}, default "hash"
        Keyed hash token or ``****``.
    salt : str, optional
        Hash key (default: this process's random salt).

    Returns
    -------
    pandas.DataFrame or list of SkippedRecord
        The same kind of object as given, redacted; the input is not modified.

    Examples
    --------
    >>> import tracekit as tk
    >>> t = tk.skipped_records(tk.empty_spans().pipe(lambda d: d.attrs.update(skipped=(
    ...     tk.SkippedRecord("a.jsonl", "line 3", "bad kind: 'ann@example.com'"),)) or d))
    >>> redact_skipped(t, method="mask")["reason"].tolist()
    ['bad kind: ****']
    """
    r = _Redactor(keys, list(PATTERNS) if patterns is None else patterns, method, salt)
    if isinstance(skipped, pd.DataFrame):
        out = skipped.copy()
        for c in out.columns:
            col = out[c]
            if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
                vals = [_redact_text(r, v, c == "reason") if isinstance(v, str) else v
                        for v in col.to_numpy(dtype=object, na_value=None)]
                out[c] = pd.Series(vals, index=out.index, dtype=object).astype(col.dtype)
        return out
    from dataclasses import replace

    return [replace(x, reason=_redact_text(r, x.reason, True), record=_redact_text(r, x.record, False),
                    file=_redact_text(r, x.file, False)) for x in skipped]
