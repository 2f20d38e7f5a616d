"""The canonical spans DataFrame, declared once as data.

One row per span: an OTLP span, or an X-Ray segment, subsegment or inferred segment.
:data:`SPAN_COLUMNS` is the single declaration; :func:`empty_spans`, :func:`validate_spans`
and the column table in docs/reference.md (:func:`schema_markdown`) are generated from it.

>>> import tracekit as tk
>>> df = tk.empty_spans()
>>> list(df.columns[:4])
['trace_id', 'span_id', 'parent_id', 'service']
>>> tk.validate_spans(df) is df
True
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .errors import ArgumentError, TraceKitError

__all__ = [
    "Column",
    "UNKNOWN_SERVICE",
    "service_name",
    "known_services",
    "known_service_column",
    "UNNAMED",
    "known_name_column",
    "HTTP_STATUS_KEYS",
    "http_status_code", "read_int", "HTTP_STATUS_RANGE", "http_status_flags", "http_status_error", "STATUS_FROM",
    "mark_status_from",
    "GRPC_SERVER_ERROR_CODES",
    "grpc_status_error",
    "dict_cells",
    "own",
    "owned_cells",
    "b64_id_hex",
    "single_value",
    "repeated",
    "repeated_column",
    "own_each_object",
    "taking_cells",
    "SharedTuple",
    "SharedDict",
    "shared_attr",
    "MUTABLE_CELL_TYPES",
    "SPAN_COLUMNS",
    "COLUMN_NAMES",
    "STRING",
    "TIMESTAMP",
    "KINDS",
    "STATUSES",
    "SpansSchemaError",
    "empty_spans",
    "validate_spans",
    "spans_from_columns",
    "schema_markdown",
    "columns_markdown",
    "xray_to_trace_id",
    "trace_id_to_xray",
    "canonical_ids",
    "TIME_UNITS",
    "TIME_MIN_NS",
    "TIME_MAX_NS",
    "TIME_RANGE",
    "time_out_of_range",
    "epoch_times",
    "epoch_unit_by_size",
]

#: pandas dtype of every text column (Arrow-backed strings, ``<NA>`` for missing).
STRING = pd.StringDtype("pyarrow")
#: pandas dtype of ``start`` and ``end``.
TIMESTAMP = pd.DatetimeTZDtype("ns", "UTC")

KINDS = ("server", "client", "internal", "producer", "consumer", "unspecified")
STATUSES = ("ok", "error", "unset")


@dataclass(frozen=True)
class Column:
    """One column of the spans schema."""

    name: str
    dtype: Any
    nullable: bool
    unit: str
    doc: str
    values: tuple[str, ...] | None = None  # allowed values for enumerated text columns
    pattern: str | None = None  # regex every non-null value must match

    @property
    def dtype_name(self) -> str:
        return "object" if self.dtype is object else str(self.dtype)


_HEX32 = r"[0-9a-f]{32}"
_HEX16 = r"[0-9a-f]{16}"

SPAN_COLUMNS: tuple[Column, ...] = (
    Column("trace_id", STRING, False, "", "32 lower-case hex digits. X-Ray `1-5759e988-bd862e3fe1be46a994272793` becomes `5759e988bd862e3fe1be46a994272793` (`trace_id_to_xray` converts back)", pattern=_HEX32),
    Column("span_id", STRING, False, "", "16 lower-case hex digits: OTLP spanId, X-Ray segment/subsegment id", pattern=_HEX16),
    Column("parent_id", STRING, True, "", "span_id of the parent; `<NA>` for a root. X-Ray: enclosing (sub)segment, or the segment's `parent_id`", pattern=_HEX16),
    Column("service", STRING, False, "", "OTLP resource `service.name`; X-Ray segment name (subsegments inherit their segment's)"),
    Column("name", STRING, False, "", "operation: OTLP span name; X-Ray segment/subsegment name"),
    Column("kind", STRING, False, "", "OTLP span kind; X-Ray segment → server, subsegment with namespace remote/aws → client, else internal", values=KINDS),
    Column("start", TIMESTAMP, False, "ns, UTC", "start time (OTLP nanoseconds; X-Ray float seconds rounded to the microsecond)"),
    Column("end", TIMESTAMP, True, "ns, UTC", "end time; `NaT` for an in-progress span"),
    Column("duration_ms", "float64", True, "ms", "end − start (inclusive time); NaN for an in-progress span"),
    Column("status", STRING, False, "", "ok / error / unset (OTLP status code; X-Ray: error when fault, error or throttle is set, else unset for an in-progress segment, else ok)", values=STATUSES),
    Column("status_message", STRING, True, "", "OTLP status message; X-Ray: first exception message of `cause`"),
    Column("http_status", "Int64", True, "", "HTTP response status code, when the span has one"),
    Column("error", "bool", False, "", "client error (4xx): X-Ray `error`; OTLP: http_status in 400–499"),
    Column("fault", "bool", False, "", "server fault (5xx): X-Ray `fault`; OTLP: http_status 500-599"),
    Column("throttle", "bool", False, "", "throttled (429): X-Ray `throttle`; OTLP: http_status == 429"),
    Column("attributes", object, False, "", "dict of every source attribute: OTLP attributes as they are; X-Ray `annotation.<k>`, `metadata.<namespace>`, `http.*`, `aws.*`, `sql.*`, `cause`, `user`, `namespace`, `precursor_ids` and any other key"),
    Column("resource", object, False, "", "dict: OTLP resource attributes (+ the scope: `otel.scope.name`, `otel.scope.version`, its attributes as `otel.scope.attr.<key>`); X-Ray segment `origin`, `service.*`, `aws.*` context of the segment"),
    Column("events", object, False, "", "list of dicts {time (ns since epoch or None), name, attributes}; X-Ray exceptions become `exception` events"),
    Column("links", object, False, "", "list of dicts {trace_id, span_id, trace_state, flags, attributes}"),
    Column("trace_state", STRING, True, "", "W3C tracestate of the span (OTLP `traceState`; carries `ot=th:` sampling thresholds)"),
    Column("flags", "Int64", True, "", "OTLP span flags (bits 0–7 W3C trace flags)"),
    Column("in_progress", "bool", False, "", "X-Ray in-progress segment, or a span with no end time; loaded and flagged, never dropped"),
    Column("inferred", "bool", False, "", "X-Ray segment inferred by AWS for a downstream call (e.g. DynamoDB)"),
    Column("source", STRING, False, "", "format the span was read from", values=("xray", "otlp", "simulated", "other")),
    Column("source_file", STRING, True, "", "file (or `<object>`) the span was read from"),
    Column("source_record", "Int64", True, "", "1-based line of a JSON-lines file, else 0-based index of the top-level record (X-Ray segment document, OTLP resourceSpans)"),
)

COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in SPAN_COLUMNS)
_BY_NAME: Mapping[str, Column] = {c.name: c for c in SPAN_COLUMNS}


class SpansSchemaError(TraceKitError, ValueError):
    """A DataFrame does not follow the spans schema.

    Raised by :func:`validate_spans` and by analyses given a frame without a column they need (the
    message names the column and the function).

    Examples
    --------
    >>> import tracekit as tk
    >>> try:
    ...     tk.validate_spans(tk.empty_spans().drop(columns="kind"))
    ... except tk.SpansSchemaError as e:
    ...     "kind" in str(e)
    True
    """


def empty_spans() -> pd.DataFrame:
    """An empty spans DataFrame with every column and dtype of the schema.

    Returns
    -------
    pandas.DataFrame
        An empty spans DataFrame with every column and dtype of the schema.

    Examples
    --------
    >>> empty_spans().dtypes["start"]
    datetime64[ns, UTC]
    """
    return pd.DataFrame({c.name: pd.Series([], dtype=c.dtype) for c in SPAN_COLUMNS})


def spans_from_columns(columns: Mapping[str, Any], *, check: bool = False, time_unit: str | None = None) -> pd.DataFrame:
    """Build a spans DataFrame from a mapping of column name → sequence.

    Missing optional columns are filled with their missing value (or ``False``/``{}``/``[]``
    for non-nullable flag and container columns). ``start``/``end`` may be given as numbers since
    the epoch (nanoseconds unless ``time_unit`` says otherwise), datetimes or strings; ``start`` and ``duration_ms``
    give ``end``, and a ``duration_ms`` given beside ``end`` must be ``end − start`` to within 0.5 ms (rounding to the
    millisecond; the exact difference is kept). Columns are positional: row ``i`` is the
    ``i``-th value of every column (a pandas Series' index is not used to align them; two Series
    with different indexes are an error naming both). The result has a fresh 0..n-1 index.

    ``status`` takes the OTLP spellings read_otlp takes (``2``, ``"2"``, ``"STATUS_CODE_ERROR"``, ``"ERROR"``: all
    ``error``; likewise ``ok`` and ``unset``), anything else is a :class:`SpansSchemaError` naming the row.

    A span whose service is missing, empty or only white space is in :data:`UNKNOWN_SERVICE` (the readers' rule,
    :func:`service_name`); a span whose name is missing or empty is :data:`UNNAMED` (the readers' rule,
    :func:`known_name_column`).

    HTTP status as the readers read it: without an ``http_status`` column, the code is read from each span's
    ``attributes`` (:data:`HTTP_STATUS_KEYS`, first present: OTLP's ``http.response.status_code``, its legacy
    ``http.status_code``, X-Ray's ``http.response.status``); a flag column not given is derived from the code as the
    OTLP reader derives it (:func:`http_status_flags`: ``error`` 400–499, ``fault`` 500–599, ``throttle`` 429; none
    from a code outside 100–599), so a 500 server span counts as
    failed whichever way it was read. A flag column given is kept as given (X-Ray's own flags). A status ``unset``
    becomes ``error`` where the code makes the span an error (:func:`http_status_error`: a server span's 5xx, a client
    span's 4xx or 5xx; flagged ``attributes[STATUS_FROM] = "http_status"`` in a new dict) or an
    ``rpc.grpc.status_code`` attribute does (:func:`grpc_status_error`), as the OTLP reader reads them.

    Ids are put in the form every reader gives (:func:`canonical_ids`): hex in upper case lowered, an X-Ray trace id
    ``1-5759e988-bd862e3fe1be46a994272793`` as its 32 hex digits, a blank id (a CSV root's parent ``""``) missing, so
    the frame joins logs and spans read from files; an id that is not hex (``"t1"``) is kept as given.

    Parameters
    ----------
    columns : Mapping[str, Any]
        Column name -> values (one value per span).
    check : bool, default False
        Validate the result against the spans schema (:func:`validate_spans`).
    time_unit : {None, "s", "ms", "us", "ns"}, default None
        Unit of numeric ``start``/``end``. ``None``: nanoseconds, but a column whose every value is a
        1990-2100 time in seconds, milliseconds or microseconds is refused, naming the unit it looks
        like (:func:`epoch_times`).

    Returns
    -------
    pandas.DataFrame
        Build a spans DataFrame from a mapping of column name → sequence.

    Examples
    --------
    >>> df = spans_from_columns({
    ...     "trace_id": ["0" * 31 + "1"], "span_id": ["a" * 16], "service": ["api"],
    ...     "name": ["GET /"], "start": [0], "end": [1_500_000]})
    >>> float(df.loc[0, "duration_ms"]), df.loc[0, "kind"], df.loc[0, "status"]
    (1.5, 'unspecified', 'unset')
    """
    if not isinstance(columns, (Mapping, pd.DataFrame)):
        raise SpansSchemaError(f"spans_from_columns takes a mapping of column name → values (a dict or a DataFrame), "
                               f"got {type(columns).__name__}")
    n = None
    first = None
    index_of: tuple[str, pd.Index] | None = None
    positional: dict[str, Any] = {}
    for k, v in columns.items():
        v = once(v)
        if isinstance(v, pd.Series):
            # columns are positional: a Series' index is not used to align rows (pandas would turn
            # one span into two half-empty rows), but two Series that disagree on it are an error
            if index_of is None:
                index_of = (k, v.index)
            elif not v.index.equals(index_of[1]):
                raise SpansSchemaError(
                    f"spans_from_columns: Series {k!r} and {index_of[0]!r} have different indexes (e.g. one was "
                    "filtered or de-duplicated and the other not); columns are taken by position, so give columns "
                    "of one frame, or call .reset_index(drop=True) on both if their order already matches")
            v = v.array
        positional[k] = v
        if v is not None and not single_value(v):
            if n is None:
                n, first = len(v), k
            elif len(v) != n:
                raise SpansSchemaError(f"spans_from_columns: column {k!r} has {len(v)} values, {first!r} has {n}")
    if n is None:
        raise SpansSchemaError("spans_from_columns needs at least one column of values (one value per span; a "
                               "single value, such as a service name, is repeated for every span)")
    # a single value (a service name, a kind) is every span's, as in a DataFrame; before, it went to the first span
    # alone and the others had none
    columns = {k: (repeated(v, n) if v is not None and single_value(v) else v) for k, v in positional.items()}
    # start and end are read together: one unit for both (a column of zeros does not pass for seconds)
    data: dict[str, Any] = epoch_times({c: [None] * n if columns.get(c) is None else columns[c] for c in ("start", "end")},
                                       time_unit=time_unit, who="spans_from_columns", error=SpansSchemaError)
    _require_starts(data["start"], columns.get("start"))
    for col in SPAN_COLUMNS:
        v = columns.get(col.name)
        if col.name in data or (col.name == "duration_ms" and v is None):
            continue  # the times above; duration derived below
        if v is None:
            v = _default(col, n)
            data[col.name] = pd.Series(v, dtype=object) if col.dtype is object else _coerce(col, v)  # fresh cells
        else:  # (ids given as raw bytes: their hex, bytes_ids)
            data[col.name] = _coerce(col, bytes_ids(v, _ID_WIDTH[col.name]) if col.name in _ID_WIDTH else v)
        if col.name in _ID_WIDTH and columns.get(col.name) is not None:
            data[col.name] = _ids(data[col.name], col.name)
    bad = cell_problem(data)
    if bad:
        raise SpansSchemaError(f"spans_from_columns: {bad}")
    if columns.get("end") is None and columns.get("duration_ms") is not None:
        # start and duration (a common export): the end is start + duration, to the nanosecond
        dur = data.pop("duration_ms").to_numpy(dtype=np.float64, na_value=np.nan)
        if (dur < 0).any():
            i = int(np.flatnonzero(dur < 0)[0])
            raise SpansSchemaError(f"spans_from_columns: column 'duration_ms' row {i}: {dur[i]!r} is negative")
        data["end"] = data["start"] + pd.to_timedelta(np.round(dur * 1e6), unit="ns")
    elif columns.get("duration_ms") is not None:
        _given_duration(data)
    if columns.get("status") is not None:
        data["status"] = _statuses(data["status"])
    _http_columns(data, columns)
    _grpc_status(data, columns)
    data["service"] = known_service_column(data["service"])
    data["name"] = known_name_column(data["name"])
    df = pd.DataFrame(data)
    if "duration_ms" not in data:
        df["duration_ms"] = _duration_ms(df["start"], df["end"])
    if columns.get("in_progress") is None:  # a span with no end time is in progress (the readers' rule)
        df["in_progress"] = (df["end"].isna() & df["start"].notna()).to_numpy()
    df = df[list(COLUMN_NAMES)]
    extra = [k for k in columns if k not in _BY_NAME]
    for k in extra:
        v = columns[k]
        df[k] = pd.Series(owned_cells(list(v)), dtype=object) if any(isinstance(x, MUTABLE_CELL_TYPES) for x in v) else v
    return validate_spans(df) if check else df


def _require_starts(start: pd.Series, given: Any) -> None:
    """Refuse a span without a start (``None``, ``NaT``, ``NaN``, or no ``start`` column): the schema's ``start`` is
    required (:func:`validate_spans` refuses it), and every time figure over such a span (its duration, its
    trace's request and extent) has no value to stand on; before, it loaded as ``NaT`` and a trace summary said
    ``request_ms`` -9.2e12. Named by row, with the value given."""
    missing = start.isna().to_numpy(dtype=bool)
    if not missing.any():
        return
    rows = np.flatnonzero(missing)
    if given is None:
        raise SpansSchemaError("spans_from_columns: no 'start' column: every span needs a start time (the schema's "
                               "start is required)")
    i = int(rows[0])
    value = given[i] if isinstance(given, (list, tuple, np.ndarray, pd.api.extensions.ExtensionArray)) else start.iloc[i]
    more = f" ({len(rows):,} rows in all)" if len(rows) > 1 else ""
    raise SpansSchemaError(f"spans_from_columns: column 'start' row {i}: {value!r} is missing{more}; every span needs "
                           "a start time (the schema's start is required): give it, or leave those rows out")


#: a span status as the sources spell it (OTLP's enum by number, by name with or without ``STATUS_CODE_``, in either
#: case, or as a decimal string, as read_otlp accepts it) -> the status column's word
STATUS_SPELLINGS = {alias: name for code, name in enumerate(("unset", "ok", "error"))
                    for alias in (name, f"status_code_{name}", str(code))}


def _statuses(values: pd.Series) -> pd.Series:
    """A given ``status`` column in the schema's words (``ok`` / ``error`` / ``unset``): ``2``, ``"2"``,
    ``"STATUS_CODE_ERROR"`` and ``"ERROR"`` are ``error`` (they were kept as given, and no count of failures saw
    them); a value that is no status is a :class:`SpansSchemaError` naming its row."""
    text = values.astype(STRING)
    low = text.str.strip().str.lower()
    out = low.map(STATUS_SPELLINGS)
    bad = out.isna() & text.notna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy(dtype=bool))[0])
        raise SpansSchemaError(f"spans_from_columns: column 'status' row {i}: {values.iloc[i]!r} is not a span status "
                               f"(ok, error or unset; OTLP's codes 0, 1, 2 or STATUS_CODE_* names)")
    return out.astype(STRING)


#: the service of a span whose source names none: no OTLP ``service.name`` or an empty or blank one, an X-Ray segment
#: named ``""`` or only white space, an independent subsegment whose parent is not in the data, a ``spans_from_columns``
#: service missing or blank. OTel SDKs' name for it; one rule for every reader and builder (:func:`service_name`)
UNKNOWN_SERVICE = "unknown_service"


def service_name(value: Any) -> str:
    """The service of a span whose source names ``value``: :data:`UNKNOWN_SERVICE` when ``value`` is missing, empty
    or only white space (a blank name shows as nothing in a table and a figure; it names no service), else the name
    as given (surrounding spaces kept: the readers change no name), a non-string as its ``str``. Every spans reader
    and :func:`spans_from_columns` apply it.

    >>> service_name(None), service_name(""), service_name(" \t"), service_name("?"), service_name(" api")
    ('unknown_service', 'unknown_service', 'unknown_service', '?', ' api')
    """
    if value is None:
        return UNKNOWN_SERVICE
    v = value if type(value) is str else str(value)
    return v if v and not v.isspace() else UNKNOWN_SERVICE


def known_services(values: list) -> list:
    """:func:`service_name` of each value of a list (the list itself when every name is one already: one pass over
    its distinct values)."""
    if all(type(v) is str and v and not v.isspace() for v in set(values)):
        return values
    return [service_name(v) for v in values]


def known_service_column(svc: pd.Series) -> pd.Series:
    """A ``service`` column with :func:`service_name`'s rule applied: a missing, empty or blank cell is
    :data:`UNKNOWN_SERVICE` (the column itself when none is). What an analysis groups by when a frame was edited or
    built by hand with a missing service: never a stand-in such as ``"?"``, which a real service may be named.

    >>> import pandas as pd
    >>> known_service_column(pd.Series(["?", None, " ", "api"], dtype="string[pyarrow]")).tolist()
    ['?', 'unknown_service', 'unknown_service', 'api']
    """
    blank = svc.isna() | svc.astype(STRING).str.strip().eq("").fillna(True)
    if not blank.any():
        return svc
    return svc.astype(STRING).mask(blank.astype(bool), UNKNOWN_SERVICE)


#: what a span without a name (OTLP ``name`` absent or empty, X-Ray ``name`` empty, a ``spans_from_columns`` name
#: missing or empty) is called, wherever it is shown: readers load it so (``tracekit.core.naming.named``), and every
#: table, figure and report line then says the same
UNNAMED = "(unnamed)"


def known_name_column(names: pd.Series) -> pd.Series:
    """A ``name`` column with the readers' rule applied: a missing or empty cell is :data:`UNNAMED` (the column
    itself when none is). What an analysis labels and groups by when a frame was edited or built by hand with a
    missing name: never a stand-in such as ``"?"``, which a real operation may be named.

    >>> import pandas as pd
    >>> known_name_column(pd.Series(["?", None, "", "GET /"], dtype="string[pyarrow]")).tolist()
    ['?', '(unnamed)', '(unnamed)', 'GET /']
    """
    text = names.astype(STRING)
    blank = text.isna() | text.eq("").fillna(True)
    if not blank.any():
        return names
    return text.mask(blank.astype(bool), UNNAMED)



#: the id columns and their hex digits: given ids are put in the readers' form (:func:`canonical_ids`)
_ID_WIDTH = {"trace_id": 32, "span_id": 16, "parent_id": 16}

#: the attributes a span's HTTP status code is read from, first present: OTLP's stable key, its legacy key, X-Ray's
#: (as :func:`tracekit.read_otlp` and :func:`tracekit.read_xray` read them)
HTTP_STATUS_KEYS = ("http.response.status_code", "http.status_code", "http.response.status")
_STATUS_MAX = 2**62  # the readers' range for a status code (beyond: not a status, left in the attributes)


def read_int(x: Any) -> int | None:
    """A whole number as the readers read one from a JSON value (an HTTP status code, a content length): an int, an
    integer string or an integral float; None otherwise (a bool, a word, a value beyond ±2**62).

    >>> read_int(503), read_int(" 503"), read_int(503.0), read_int(True), read_int(2**70), read_int("5xx")
    (503, 503, 503, None, None, None)
    """
    if type(x) is str:
        try:
            x = int(x.strip())
        except ValueError:
            return None
    elif type(x) is float and x.is_integer():
        x = int(x)
    return x if type(x) is int and -_STATUS_MAX < x < _STATUS_MAX else None


#: the HTTP status codes, [100, 600): RFC 9110 §15 (three digits, the first one of 1-5 the class). A code outside
#: (999, -5, 0, 600, 10**9) is no HTTP answer a reader can classify: it is loaded as given (``http_status`` and the
#: attribute), no ``error`` / ``fault`` / ``throttle`` flag is derived from it, and ``health_report`` flags it
#: (``bad_http_status``)
HTTP_STATUS_RANGE = (100, 600)


def http_status_flags(codes: np.ndarray) -> dict[str, np.ndarray]:
    """The flags an HTTP status code implies, the OTLP reader's and :func:`spans_from_columns`' one rule: ``error``
    400–499, ``fault`` 500–599, ``throttle`` 429; a code outside :data:`HTTP_STATUS_RANGE` implies none (``codes``:
    int64, a missing code given as 0).

    >>> {k: v.tolist() for k, v in http_status_flags(np.array([404, 429, 503, 999, -5, 0])).items()}
    {'error': [True, True, False, False, False, False], 'fault': [False, False, True, False, False, False], \
'throttle': [False, True, False, False, False, False]}
    """
    return {"error": (codes >= 400) & (codes < 500), "fault": (codes >= 500) & (codes < HTTP_STATUS_RANGE[1]),
            "throttle": codes == 429}


#: the attribute a reader sets on a span whose ``status`` (and, for X-Ray, ``error`` / ``fault`` / ``throttle``) it
#: derived from the HTTP status code rather than read (value ``"http_status"``): an X-Ray (sub)segment whose code
#: implies a flag it does not carry (:func:`http_status_flags`: a proxy's or hand-written segment), an OTLP span left
#: unset whose code makes it an error (:func:`http_status_error`)
STATUS_FROM = "tracekit.status_from"


def mark_status_from(attrs: Any, rows: Any) -> None:
    """Flag ``attrs[r]`` for each of ``rows`` as a span whose status was derived from its HTTP code
    (:data:`STATUS_FROM`), each in a new dict (the cell given is not changed; a cell that is not a dict becomes the
    mark alone). ``attrs``: a mutable sequence of attribute cells (a list or an object array the caller owns).

    >>> cells = [{"http.response.status_code": 503}, None]
    >>> mark_status_from(cells, [0, 1])
    >>> cells
    [{'http.response.status_code': 503, 'tracekit.status_from': 'http_status'}, {'tracekit.status_from': 'http_status'}]
    """
    for r in rows:
        a = attrs[r]
        attrs[r] = {**a, STATUS_FROM: "http_status"} if isinstance(a, dict) else {STATUS_FROM: "http_status"}


def http_status_error(codes: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """Whether an HTTP status code makes a span's status Error, as OpenTelemetry's HTTP semantic conventions set it
    (http-spans.md, "Status"): a ``server`` span for a 5xx (a 4xx is the client's error, the status stays unset), a
    ``client`` span for a 4xx or 5xx; a span of another kind, or a code outside :data:`HTTP_STATUS_RANGE`, never.
    Readers apply it where the span's status is ``unset`` (a status set stays) and flag the span
    (``attributes[STATUS_FROM]``); ``codes``: int64, a missing code given as 0; ``kinds``: the ``kind`` strings.

    >>> http_status_error(np.array([503, 404, 404, 503, 500, 0]),
    ...                   np.array(["server", "server", "client", "client", "internal", "client"])).tolist()
    [True, False, True, True, False, False]
    """
    flags = http_status_flags(codes)
    return (flags["fault"] & ((kinds == "server") | (kinds == "client"))) | (flags["error"] & (kinds == "client"))


def http_status_code(x: Any) -> int | None:
    """An HTTP status code as every reader reads one (:func:`read_int`: the OTLP and X-Ray readers and
    :func:`spans_from_columns` share it).

    >>> http_status_code(503), http_status_code("503"), http_status_code(503.0), http_status_code(True)
    (503, 503, 503, None)
    """
    return read_int(x)


#: gRPC status codes that make a server span an error (OTel semantic conventions, rpc/grpc.md, "gRPC Status"):
#: UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS; on a client span every code but OK
GRPC_SERVER_ERROR_CODES = frozenset({2, 4, 12, 13, 14, 15})


def grpc_status_error(code: Any, kind: str) -> bool:
    """Whether a span's ``rpc.grpc.status_code`` makes it an error, as OTel's gRPC semantic conventions set span
    status: a ``server`` span for :data:`GRPC_SERVER_ERROR_CODES`, a ``client`` span for any code but 0 (OK); a
    span of another kind, or a code that is not an integer, never. Readers apply it where the span's own status
    is ``unset`` (an instrumentation that recorded the code and left the status unset); a status set stays.

    >>> grpc_status_error(13, "server"), grpc_status_error(5, "server"), grpc_status_error(5, "client")
    (True, False, True)
    >>> grpc_status_error("13", "server"), grpc_status_error(0, "client"), grpc_status_error(13, "internal")
    (True, False, False)
    """
    c = read_int(code)  # an int, an integer string or an integral float, as an HTTP code is read
    if c is None:
        return False
    if kind == "server":
        return c in GRPC_SERVER_ERROR_CODES
    return kind == "client" and c != 0


def _http_columns(data: dict, columns: Mapping[str, Any]) -> None:
    """``http_status`` from the attributes when no column gives it, and the flags not given derived from it (the
    OTLP reader's rule): see :func:`spans_from_columns`."""
    if columns.get("http_status") is None and columns.get("attributes") is not None:
        codes: list[int | None] = []
        for a in data["attributes"]:
            code = None
            if isinstance(a, dict):
                for k in HTTP_STATUS_KEYS:
                    if k in a and (code := http_status_code(a[k])) is not None:
                        break
            codes.append(code)
        if any(c is not None for c in codes):
            data["http_status"] = pd.Series(pd.array(codes, dtype="Int64"))
    flags = [f for f in ("error", "fault", "throttle") if columns.get(f) is None]
    hs = data["http_status"]
    if not hs.notna().any():
        return
    codes = hs.to_numpy(dtype=np.int64, na_value=0)
    derived = http_status_flags(codes)
    for f in flags:
        data[f] = pd.Series(derived[f])
    # the span's status from its code where it is unset, flagged (the OTLP reader's rule: a server span's 5xx, a
    # client span's 4xx or 5xx); before, a 500 server span built here read 'unset' where read_otlp read 'error'
    status = data["status"].to_numpy(dtype=object, na_value="unset")
    kinds = data["kind"].to_numpy(dtype=object, na_value="")
    rows = np.flatnonzero((status == "unset") & http_status_error(codes, kinds))
    if not len(rows):
        return
    status = status.copy()
    status[rows] = "error"
    data["status"] = pd.Series(status).astype(data["status"].dtype)
    attrs = data["attributes"].to_numpy(dtype=object).copy()  # new dicts: the caller's cells are not changed
    mark_status_from(attrs, rows.tolist())
    data["attributes"] = pd.Series(attrs, dtype=object)


def _grpc_status(data: dict, columns: Mapping[str, Any]) -> None:
    """A status ``unset`` becomes ``error`` where the span's ``rpc.grpc.status_code`` attribute makes it one
    (:func:`grpc_status_error`, the OTLP reader's rule)."""
    if columns.get("attributes") is None:
        return
    attrs = data["attributes"]
    hits = [i for i, a in enumerate(attrs) if isinstance(a, dict) and "rpc.grpc.status_code" in a]
    if not hits:
        return
    status = data["status"].to_numpy(dtype=object, na_value="unset").copy()
    kind = data["kind"].to_numpy(dtype=object, na_value="")
    changed = False
    for i in hits:
        if status[i] == "unset" and grpc_status_error(attrs.iloc[i]["rpc.grpc.status_code"], kind[i]):
            status[i], changed = "error", True
    if changed:
        data["status"] = pd.Series(status).astype(data["status"].dtype)


def _ids(values: pd.Series, name: str) -> pd.Series:
    """A given id column in the form every reader gives (:func:`canonical_ids`: upper case lowered, an X-Ray trace id
    as its 32 hex digits, a blank id missing — a CSV's root has the parent id ""), so a frame built from an export
    joins the logs and spans read from files; a value that is no id even so (``"t1"``) is kept as given."""
    norm, bad = canonical_ids(values, _ID_WIDTH[name], xray=name == "trace_id", zero=name == "parent_id")
    if not bad.any():
        return norm
    return norm.where(~bad, values.astype(STRING))


def once(v: Any) -> Any:
    """A column given to a ``*_from_columns`` builder as a generator (or any iterable without a length) as the list
    of its values, read once; anything else as it is. One rule for the spans, logs and metrics builders.

    >>> once(x * 2 for x in range(3)), once("abc"), once({"a": 1})
    ([0, 2, 4], 'abc', {'a': 1})
    """
    if isinstance(v, Iterator) or (isinstance(v, Iterable) and not isinstance(v, (str, bytes, Mapping))
                                   and not hasattr(v, "__len__")):
        return list(v)
    return v


def single_value(v: Any) -> bool:
    """Whether a column given to a ``*_from_columns`` builder is one value for every row (a service name, a
    ``pd.Timestamp``, a dict of attributes), not a sequence of one value per row. One rule for the spans, logs and
    metrics builders.

    >>> single_value("api"), single_value(3), single_value({"k": 1}), single_value(pd.Timestamp(0)), single_value([1])
    (True, True, True, True, False)
    >>> single_value(np.array("api")), repeated(np.array("api"), 2)
    (True, ['api', 'api'])
    """
    return np.isscalar(v) or isinstance(v, dict) or not hasattr(v, "__len__") or getattr(v, "ndim", None) == 0


def repeated(v: Any, n: int) -> list:
    """A single value as a column of ``n`` rows: a dict or list copied for each row (:func:`own`), so no two rows
    share one object.

    >>> col = repeated({"k": [1]}, 2)
    >>> col[0] == col[1], col[0] is col[1], repeated("api", 2)
    (True, False, ['api', 'api'])
    """
    if getattr(v, "ndim", None) == 0:  # a 0-d array (np.array("svc")): its one value
        v = v.item()
    return [own(v) for _ in range(n)] if isinstance(v, MUTABLE_CELL_TYPES) else [v] * n


def _default(col: Column, n: int) -> Any:
    if col.dtype is object:
        return [[] if col.name in ("events", "links") else {} for _ in range(n)]
    if col.dtype == "bool":
        return np.zeros(n, dtype=bool)
    return column_of(n, {"kind": "unspecified", "status": "unset", "source": "other"}.get(col.name), col.dtype)


def column_of(n: int, value: Any, dtype: Any) -> pd.Series:
    """A column of ``n`` cells holding ``value`` (None: the dtype's missing value), in ``dtype``: one cell taken
    ``n`` times, not a list of ``n`` values converted cell by cell (the defaults of ``spans_from_columns`` for a
    300k-span frame of 7 given columns: 0.37 s of 1.09 s).

    >>> column_of(3, "unset", STRING).tolist(), column_of(2, None, "Int64").tolist()
    (['unset', 'unset', 'unset'], [<NA>, <NA>])
    """
    return pd.Series([value], dtype=dtype).repeat(n).reset_index(drop=True)


def _coerce(col: Column, v: Any) -> pd.Series:
    if col.dtype is object:  # cells copied (the logs' and metrics' builders' rule): the frame shares nothing with v
        return pd.Series(owned_cells(list(v)), dtype=object)
    try:
        return pd.Series(v).astype(col.dtype)
    except (TypeError, ValueError, OverflowError, UnicodeError) as exc:  # named by column and row, not pandas' words
        values = list(v)
        for i, x in enumerate(values):
            try:
                pd.Series([x]).astype(col.dtype)
            except (TypeError, ValueError, OverflowError, UnicodeError):
                what = ("is not UTF-8 text (a lone surrogate)" if isinstance(exc, UnicodeError)
                        else f"is not a value of dtype {col.dtype_name}")
                raise SpansSchemaError(f"spans_from_columns: column {col.name!r} row {i}: {x!r:.80} {what}") from None
        raise SpansSchemaError(f"spans_from_columns: column {col.name!r} cannot be read as {col.dtype_name} "
                               f"({exc})") from None


#: the kinds of container each dict / list column's cells are (spans' attributes and resource: dicts; events and
#: links: lists of dicts)
_CELL_KINDS = {"attributes": dict, "resource": dict, "events": list, "links": list}


def cell_problem(columns: Mapping[str, Any]) -> str | None:
    """The first cell of a spans frame's ``attributes`` / ``resource`` that is not a dict, or of ``events`` /
    ``links`` that is not a list (tuple, array) of dicts, in words naming column and row; None when all are.
    A lazy store column (dtype ``tracekit.lazy``) is not walked: its cells are the store's own.

    >>> print(cell_problem({"attributes": [{"a": 1}, '{"a": 1}'], "events": [[], [{}]]}))
    column 'attributes' row 1: '{"a": 1}' is of type str, not a dict (JSON text: parse it first, e.g. column.map(json.loads))
    """
    for name, kind in _CELL_KINDS.items():
        v = columns.get(name)
        if isinstance(v, pd.Series):
            if getattr(v.dtype, "name", "") == "tracekit.lazy":
                continue  # a lazy store column: its cells are built from the store's own dicts and lists
            if v.dtype != object:  # pandas reads a column of texts as str
                return (f"column {name!r} has dtype {v.dtype}: its cells must be "
                        f"{'dicts' if kind is dict else 'lists of dicts'}")
            v = v.to_numpy()
        elif not isinstance(v, (list, tuple, np.ndarray)):
            continue
        ok = (dict,) if kind is dict else (list, tuple, np.ndarray)
        types = set(map(type, v)) - {type(None)}  # a missing cell is the nullability check's (validate_spans)
        if not all(issubclass(t, ok) for t in types):
            i, x = next((i, x) for i, x in enumerate(v) if x is not None and not isinstance(x, ok))
            hint = " (JSON text: parse it first, e.g. column.map(json.loads))" if isinstance(x, str) else ""
            return (f"column {name!r} row {i}: {x!r:.80} is of type {type(x).__name__}, not a "
                    f"{'dict' if kind is dict else 'list of dicts'}{hint}")
        if kind is list:
            for i, lst in enumerate(v):
                for j, e in enumerate(() if lst is None else lst):
                    if type(e) is not dict:
                        return f"column {name!r} row {i}: item {j} is of type {type(e).__name__}, not a dict ({e!r:.60})"
    return None


#: how far (ms) a given ``duration_ms`` may be from ``end − start``: an export's durations rounded to the millisecond
_DURATION_SLACK_MS = 0.5


def _given_duration(data: dict[str, Any]) -> None:
    """``duration_ms`` given beside ``start`` and ``end`` (spans_from_columns): the schema's ``end − start``, exact, where
    both times are given (a given value more than rounding to the millisecond away from it is an error naming the row:
    before, it was kept, and a span from 0 to 1 ms said 5 ms), and ``end`` is ``start + duration_ms`` where only the
    end is missing, as when no end column is given."""
    start, end = data["start"], data["end"]
    given = data.pop("duration_ms").to_numpy(dtype=np.float64, na_value=np.nan)
    derived = _duration_ms(start, end).to_numpy(dtype=np.float64, na_value=np.nan)
    off = np.flatnonzero(np.abs(given - derived) > _DURATION_SLACK_MS)  # (NaN on either side compares False)
    if len(off):
        i = int(off[0])
        raise SpansSchemaError(f"spans_from_columns: column 'duration_ms' row {i}: {float(given[i])!r} ms, but end − start is "
                               f"{float(derived[i])!r} ms (start {start.iloc[i]}, end {end.iloc[i]}); give end or duration_ms "
                               "(duration_ms is end − start)")
    fill = np.isnan(derived) & ~np.isnan(given) & start.notna().to_numpy() & end.isna().to_numpy()
    if (given[fill] < 0).any():
        i = int(np.flatnonzero(fill & (given < 0))[0])
        raise SpansSchemaError(f"spans_from_columns: column 'duration_ms' row {i}: {float(given[i])!r} is negative")
    if fill.any():
        ends = start + pd.to_timedelta(np.round(np.where(fill, given, 0.0) * 1e6), unit="ns")
        data["end"] = end.where(~fill, ends)


def _duration_ms(start: pd.Series, end: pd.Series) -> pd.Series:
    """``end − start`` in ms as every reader computes it: whole nanoseconds / 1e6, one rounding (``total_seconds() *
    1e3`` rounds twice: a span of 6,504,592,762 ns was 6504.592761999999 ms here and 6504.592762 read back from the
    file it was written to; 1,618 of 6,222 simulated spans differed so); NaN where a time is missing."""
    if not len(start):
        return pd.Series([], dtype="float64")
    d = (end - start).to_numpy(dtype="timedelta64[ns]")
    out = d.astype(np.int64) / 1e6
    out[np.isnat(d)] = np.nan
    return pd.Series(out, index=start.index, dtype="float64")


#: nanoseconds in one unit of numeric times (the ``time_unit`` of the ``*_from_columns`` builders)
TIME_UNITS: Mapping[str, int] = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
#: the times every reader accepts (spans of OTLP and X-Ray, logs, metrics) and every ``*_from_columns`` builder
#: (:func:`epoch_times`), as ns since the epoch: 1970-01-01 to 2262-01-01 UTC, both ends included. Never before
#: 1970: OTLP's times are unsigned nanoseconds since the epoch, and no clock that stamps a span, log record or
#: data point reads before it (a negative time is a bug of the writer, e.g. an unset time minus a duration).
#: datetime64[ns] ends at 2262-04-11; the ~100 days kept free at the end let every analysis and the report add a
#: bucket or a window to a time (a timeline's last bucket, a baseline window) and still hold it (datetime64[ns]
#: begins in 1677: room enough before 1970). Declared here (layer 0) for the builders; tracekit.core re-exports them
TIME_MIN_NS = 0
TIME_MAX_NS = 9_214_646_400_000_000_000
TIME_RANGE = "1970-01-01 to 2262-01-01 UTC"


def time_out_of_range(what: str, shown: str, unit: str | None = "ns") -> str:
    """The words of every reader and builder for a time outside :data:`TIME_MIN_NS` .. :data:`TIME_MAX_NS`.

    Parameters
    ----------
    what : str
        The field, as the record names it (``startTimeUnixNano``, ``start_time``), or the column and row.
    shown : str
        The value as given (a short repr).
    unit : {"ns", "us", "ms", "s", None}, default "ns"
        The unit of a numeric value (OTLP's integer nanoseconds, X-Ray's epoch seconds, CloudWatch's
        milliseconds); ``None`` for a time given as text or a datetime (the range is said in dates only).

    Returns
    -------
    str
        The reason, for the caller's error (which names the file and the record, or the function).

    Examples
    --------
    >>> time_out_of_range("start_time", "-1.5", "s")
    'start_time -1.5 is out of range: 0 to 9214646400 s (1970-01-01 to 2262-01-01 UTC), the times every analysis can hold'
    >>> time_out_of_range("time", "'1960-01-01'", None)
    "time '1960-01-01' is out of range: 1970-01-01 to 2262-01-01 UTC, the times every analysis can hold"
    """
    if unit is None:
        return f"{what} {shown} is out of range: {TIME_RANGE}, the times every analysis can hold"
    scale = TIME_UNITS[unit]
    return (f"{what} {shown} is out of range: {TIME_MIN_NS // scale} to {TIME_MAX_NS // scale} {unit} ({TIME_RANGE}), "
            "the times every analysis can hold")
_UNIT_WORDS = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
#: 1990-01-01 and 2100-01-01 in seconds since the epoch: the band of plausible times. As nanoseconds,
#: a column of seconds, milliseconds or microseconds of those years falls within 1970-01-01's first
#: 1.2 hours (the bands of the units do not overlap: each is 6.5x wide, they are 1000x apart)
_PLAUSIBLE_S = (631_152_000, 4_102_444_800)
#: the band by its public name, for the readers whose format says a unit (a CloudWatch Logs event's milliseconds) and
#: refuse a number that is a plausible time in seconds instead (io.logs)
PLAUSIBLE_EPOCH_SECONDS = _PLAUSIBLE_S
#: where a lone number's unit has to be told by its size (JSON log records carry epoch seconds, milliseconds,
#: microseconds or nanoseconds with no word for which): below each bound the number is read in that unit. Each
#: bound is the year 5138 in the unit, so any time from 1973 on reads right in each
_MAGNITUDE_UNITS: tuple[tuple[float, str], ...] = ((1e11, "s"), (1e14, "ms"), (1e17, "us"))
_NAT = np.iinfo(np.int64).min


def epoch_unit_by_size(value: float) -> str:
    """The unit of an epoch time given as a lone number, told by its size: ``"s"``, ``"ms"``, ``"us"`` or ``"ns"``.

    For a single value with no column to check (a JSON log record's ``time``); columns of numbers go through
    :func:`epoch_times`, which reads nanoseconds unless told and refuses columns that look coarser.

    Examples
    --------
    >>> [epoch_unit_by_size(v) for v in (1_674_953_044, 1_674_953_044_123, 1.674953044123e15, 1_674_953_044_123_456_789)]
    ['s', 'ms', 'us', 'ns']
    """
    a = abs(value)
    return next((unit for bound, unit in _MAGNITUDE_UNITS if a < bound), "ns")


def epoch_times(columns: Mapping[str, Any], *, time_unit: str | None = None, who: str = "spans_from_columns",
                error: type[Exception] = TraceKitError) -> dict[str, pd.Series]:
    """Times of a frame's time columns as ``datetime64[ns, UTC]``: the one reading of numeric times.

    Numbers (integers, floats, nullable integers, or Python ints with ``None``) count ``time_unit``
    since the epoch. ``time_unit=None`` reads them as nanoseconds but refuses columns whose every
    value (of all the numeric columns given, e.g. ``start`` and ``end`` together) is a plausible
    1990-2100 time in seconds, milliseconds or microseconds: as nanoseconds they would all fall in
    the first hours of 1970-01-01 (say ``time_unit="ns"`` if that is meant). Small numbers such as
    0 or 1000 stay nanoseconds. Floats in seconds or milliseconds are read to the microsecond (float64
    holds epoch seconds to ~0.24 us; the digits below are noise), other floats to the nanosecond.
    Datetimes and text are parsed by pandas (naive times are UTC); ``time_unit`` does not apply.
    Every time must lie in :data:`TIME_MIN_NS` .. :data:`TIME_MAX_NS` (1970-01-01 to 2262-01-01 UTC), the range
    every reader accepts, so a frame built here is one the readers could have read (and its files read back).

    Parameters
    ----------
    columns : mapping of str to sequence
        Column name -> values (the names are for messages).
    time_unit : {None, "s", "ms", "us", "ns"}
        Unit of numeric times.
    who : str
        The function the values were given to, for messages.
    error : exception class
        Raised for values that are not times (the caller's schema error).

    Returns
    -------
    dict of str to pandas.Series
        Each column as ``datetime64[ns, UTC]``, ``NaT`` where a value is missing, a 0..n-1 index.

    Raises
    ------
    ArgumentError
        ``time_unit`` is not one of ``"s"``, ``"ms"``, ``"us"``, ``"ns"``.
    error
        Values that are not times, out of range, or (``time_unit=None``) epoch times in a coarser unit,
        naming the column, its first value and the unit it looks like.

    Examples
    --------
    >>> epoch_times({"time": [1_674_953_044]}, time_unit="s")["time"].iloc[0]
    Timestamp('2023-01-29 00:44:04+0000', tz='UTC')
    >>> epoch_times({"start": [0, 1_500]})["start"].dt.nanosecond.tolist()
    [0, 500]
    >>> epoch_times({"time": [1_674_953_044]}, who="logs_from_columns")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tracekit.errors.TraceKitError: logs_from_columns: column 'time' holds epoch seconds, not nanoseconds: ...
    """
    if time_unit is not None and time_unit not in TIME_UNITS:
        raise ArgumentError(f"{who}: time_unit={time_unit!r} is not a unit of times; use one of "
                            f"{', '.join(map(repr, TIME_UNITS))} (or None: nanoseconds, checked)")
    out: dict[str, pd.Series] = {}
    numeric: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    given: dict[str, pd.Series] = {}
    for column, values in columns.items():
        if isinstance(values, (pd.Series, pd.Index)):
            s = pd.Series(values.array)
        elif isinstance(values, (np.ndarray, pd.api.extensions.ExtensionArray)):
            s = pd.Series(values)
        else:
            values = values if isinstance(values, (list, tuple)) else list(values)
            s = pd.Series(values)
            if s.dtype.kind == "f" and s.isna().any():  # pandas reads [int, None] as float64, rounding ns times
                held = pd.Series(values, dtype=object)  # (…065474326 → …065474304): read them as the ints they are
                if _ints_or_none(held):
                    s = held
        s = given[column] = s.reset_index(drop=True)
        if s.dtype == object and len(s) and _ints_or_none(s):
            far = next((i for i, x in enumerate(s) if x is not None and not _NAT <= x < 2**63), None)
            if far is not None:  # a Python int beyond int64: out of the readers' range too
                raise error(time_out_of_range(f"{who}: column {column!r} row {far}:", repr(s.iloc[far]),
                                              time_unit or "ns"))
            s = s.astype("Int64") if s.notna().any() else s.astype("float64")
        if s.dtype.kind in "iuf":
            f = s.dtype.kind == "f"
            numeric[column] = (s.to_numpy(dtype="float64" if f else "int64", na_value=np.nan if f else 0),
                               s.notna().to_numpy())
            continue
        try:
            try:
                t = pd.to_datetime(s, utc=True)
            except (ValueError, TypeError):
                if s.dtype != object and not pd.api.types.is_string_dtype(s.dtype):
                    raise
                # pandas takes the first value's format for all: ISO times with and without a fraction
                # (datetime.isoformat() drops a zero fraction) are each read by their own
                t = pd.to_datetime(s, utc=True, format="mixed")
            out[column] = t.astype(TIMESTAMP)
        except (ValueError, TypeError, OverflowError) as e:
            raise error(f"{who}: column {column!r} holds values that are not times ({e})") from None
    if time_unit is None and numeric:
        _refuse_coarse_epoch(numeric, who, error)
    unit = time_unit or "ns"
    for column, (num, ok) in numeric.items():
        out[column] = _numbers_as_times(num, ok, unit, column, who, error)
    for column, t in out.items():  # the readers' range, every column (vectorised: three passes over int64)
        v = t.array.asi8
        far = (v > TIME_MAX_NS) | ((v < TIME_MIN_NS) & (v != _NAT))  # (NaT: missing)
        if far.any():
            row = int(np.argmax(far))
            x = given[column].iloc[row]
            if column in numeric:
                shown = f"{int(x) if float(x).is_integer() else x!r} ({t.iloc[row]:%Y-%m-%d %H:%M:%S} UTC)"
            else:
                shown = repr(x) if isinstance(x, str) else str(x)
            raise error(time_out_of_range(f"{who}: column {column!r} row {row}:", shown,
                                          unit if column in numeric else None))
    return {c: out[c] for c in columns}


def _ints_or_none(s: pd.Series) -> bool:
    return bool(len(s)) and all(x is None or (isinstance(x, (int, np.integer)) and not isinstance(x, bool)) for x in s)


def _numbers_as_times(num: np.ndarray, ok: np.ndarray, unit: str, column: str, who: str,
                      error: type[Exception]) -> pd.Series:
    factor = TIME_UNITS[unit]
    if num.dtype.kind == "f":
        step = 1_000 if unit in ("s", "ms") else 1  # to the microsecond, or the nanosecond
        scaled = np.rint(np.where(ok, num, 0.0) * (factor / step))
        far = ~np.isfinite(scaled) | (np.abs(scaled) * step >= 2.0**63)
    else:
        far = ok & (np.abs(num) > np.iinfo(np.int64).max // factor)
    if far.any():  # beyond int64 nanoseconds: out of the readers' range too
        bad = int(np.flatnonzero(far)[0])
        shown = int(num[bad]) if num.dtype.kind in "iu" or float(num[bad]).is_integer() else num[bad]
        raise error(time_out_of_range(f"{who}: column {column!r} row {bad}:", repr(shown), unit))
    ns = scaled.astype(np.int64) * step if num.dtype.kind == "f" else num * factor
    out = pd.Series(ns.view("datetime64[ns]")).dt.tz_localize("UTC").astype(TIMESTAMP)
    return out if ok.all() else out.where(ok)


def _refuse_coarse_epoch(numeric: Mapping[str, tuple[np.ndarray, np.ndarray]], who: str,
                         error: type[Exception]) -> None:
    """Raise when every value of the numeric time columns is a plausible epoch time in seconds, ms or us."""
    given = [(c, num[ok], ok) for c, (num, ok) in numeric.items() if ok.any()]
    if not given:
        return
    lo = min(v.min() for _, v, _ in given)
    hi = max(v.max() for _, v, _ in given)
    for unit in ("s", "ms", "us"):
        k = TIME_UNITS["s"] // TIME_UNITS[unit]  # units of ``unit`` in a second
        if _PLAUSIBLE_S[0] * k <= lo and hi <= _PLAUSIBLE_S[1] * k:
            column, v, ok = given[0]
            row, first = int(np.flatnonzero(ok)[0]), v[0]
            shown = int(first) if float(first).is_integer() else first
            when = pd.Timestamp(int(round(float(first) * TIME_UNITS[unit])), unit="ns", tz="UTC")
            words = _UNIT_WORDS[unit]
            also = f" (and {', '.join(repr(c) for c, _, _ in given[1:])})" if len(given) > 1 else ""
            raise error(f"{who}: column {column!r}{also} holds epoch {words}, not nanoseconds: its first value (row "
                        f"{row}), {shown}, is {when:%Y-%m-%d %H:%M:%S} UTC as {words}, and every value lies in "
                        f"1990-2100 as {words} but in the first hours of 1970-01-01 as nanoseconds, the default. "
                        f"Say the unit: time_unit={unit!r} (or time_unit='ns' if 1970 is meant)")


def validate_spans(df: pd.DataFrame) -> pd.DataFrame:
    """Check that ``df`` follows the spans schema; return it unchanged or raise.

    Checks column presence, dtypes, nulls in non-nullable columns, id shapes and enumerated
    values. Extra columns are allowed (analyses add e.g. ``self_ms``).

    Parameters
    ----------
    df : pandas.DataFrame
        A frame to check against the spans schema.

    Returns
    -------
    pandas.DataFrame
        Check that ``df`` follows the spans schema; return it unchanged or raise.

    Examples
    --------
    >>> validate_spans(empty_spans()).shape[1] == len(SPAN_COLUMNS)
    True
    >>> validate_spans(empty_spans().drop(columns="kind"))
    Traceback (most recent call last):
    ...
    tracekit.schema.SpansSchemaError: spans DataFrame is missing columns: kind
    """
    if not isinstance(df, pd.DataFrame):
        raise SpansSchemaError(f"expected a pandas DataFrame of spans, got {type(df).__name__}")
    missing = [c for c in COLUMN_NAMES if c not in df.columns]
    if missing:
        raise SpansSchemaError(f"spans DataFrame is missing columns: {', '.join(missing)}")
    problems: list[str] = []
    for col in SPAN_COLUMNS:
        s = df[col.name]
        if col.dtype is not object and str(s.dtype) != str(col.dtype):
            problems.append(f"column {col.name!r} has dtype {s.dtype}, expected {col.dtype_name}")
            continue
        if not col.nullable:
            # a dict/list column: None is missing (a lazy store column answers without building its cells)
            nulls = s.isna() if col.dtype is not object or s.dtype != object else none_cells(s)
            if nulls.any():
                problems.append(f"column {col.name!r} has {int(nulls.sum())} missing values (row {nulls.idxmax()!r} first)")
                continue
        if col.pattern is not None:
            ok = s.dropna().str.fullmatch(col.pattern)
            if not ok.all():
                bad = s.dropna()[~ok]
                problems.append(f"column {col.name!r} has {len(bad)} values not matching {col.pattern} (e.g. {bad.iloc[0]!r} at row {bad.index[0]!r})")
        if col.values is not None:
            bad = s.dropna()[~s.dropna().isin(col.values)]
            if len(bad):
                problems.append(f"column {col.name!r} has values outside {col.values} (e.g. {bad.iloc[0]!r} at row {bad.index[0]!r})")
    bad = cell_problem({c: df[c] for c in _CELL_KINDS})
    if bad:
        problems.append(bad)
    if problems:
        raise SpansSchemaError("spans DataFrame does not follow the schema: " + "; ".join(problems))
    return df


def schema_markdown() -> str:
    """The column table of docs/reference.md, generated from :data:`SPAN_COLUMNS`.

    Returns
    -------
    str
        The column table of README.md, generated from :data:`SPAN_COLUMNS`.

    Examples
    --------
    >>> schema_markdown().splitlines()[0]
    '| column | dtype | nullable | unit | meaning |'
    """
    return columns_markdown(SPAN_COLUMNS)


def columns_markdown(columns: Sequence[Column]) -> str:
    """The markdown table of a frame declared as data (spans, logs, metrics): column, dtype, nullable,
    unit, meaning — one generator for every declared frame.

    Parameters
    ----------
    columns : sequence of Column
        The declaration (:data:`SPAN_COLUMNS`, ``LOG_COLUMNS``, ``METRIC_COLUMNS``).

    Returns
    -------
    str
        The table, one row per column.

    Examples
    --------
    >>> columns_markdown(SPAN_COLUMNS[:1]).splitlines()[2].split(" | ")[0]
    '| `trace_id`'
    """
    lines = ["| column | dtype | nullable | unit | meaning |", "|---|---|---|---|---|"]
    for c in columns:
        doc = c.doc + (f" (one of: {', '.join(c.values)})" if c.values else "")
        lines.append(f"| `{c.name}` | {c.dtype_name} | {'yes' if c.nullable else 'no'} | {c.unit} | {doc} |")
    return "\n".join(lines) + "\n"


_XRAY_ID = re.compile(r"^1-([0-9a-fA-F]{8})-([0-9a-fA-F]{24})$")


def xray_to_trace_id(xray_id: str) -> str:
    """Convert an X-Ray trace id to the canonical 32-hex form.

    Parameters
    ----------
    xray_id : str
        An X-Ray trace id, ``1-<8 hex time>-<24 hex>``.

    Returns
    -------
    str
        Convert an X-Ray trace id to the canonical 32-hex form.

    Examples
    --------
    >>> xray_to_trace_id("1-5759e988-bd862e3fe1be46a994272793")
    '5759e988bd862e3fe1be46a994272793'
    """
    m = _XRAY_ID.match(xray_id) if isinstance(xray_id, str) else None
    if not m:
        raise ArgumentError(f"not an X-Ray trace id (1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx): {xray_id!r:.80}")
    return (m.group(1) + m.group(2)).lower()


def trace_id_to_xray(trace_id: str) -> str:
    """Convert a canonical 32-hex trace id back to X-Ray's ``1-xxxxxxxx-…`` form.

    Parameters
    ----------
    trace_id : str
        A 32-hex trace id (its first 8 digits are the X-Ray epoch seconds).

    Returns
    -------
    str
        Convert a canonical 32-hex trace id back to X-Ray's ``1-xxxxxxxx-…`` form.

    Examples
    --------
    >>> trace_id_to_xray("5759e988bd862e3fe1be46a994272793")
    '1-5759e988-bd862e3fe1be46a994272793'
    """
    if not isinstance(trace_id, str) or not re.fullmatch(_HEX32, trace_id.lower()):
        raise ArgumentError(f"not a 32-hex trace id: {trace_id!r:.80}")
    t = trace_id.lower()
    return f"1-{t[:8]}-{t[8:]}"


def none_cells(s: pd.Series) -> pd.Series:
    """Which cells of an object column are ``None`` (a dict or list column's missing value), as a boolean Series on
    ``s``' index: pandas' ``isna`` finds the candidates in C (None, NaN, NaT, NA), identity keeps the Nones. (A
    ``Series.map`` of ``x is None`` over a Nezha day's 803k metric points took 0.4 s a column.)

    >>> none_cells(pd.Series([{}, None, float("nan"), [1]], dtype=object)).tolist()
    [False, True, False, False]
    """
    arr = s.to_numpy(dtype=object)
    out = pd.isna(arr)
    idx = np.flatnonzero(out)
    if len(idx):
        out[idx] = [arr[i] is None for i in idx.tolist()]
    return pd.Series(out, index=s.index)


#: cell values :func:`own` copies (the rest is immutable)
MUTABLE_CELL_TYPES = (dict, list, set, bytearray, np.ndarray)

def own(x: Any) -> Any:
    """``x`` with its dicts, lists, sets and arrays copied at every depth (the rest is immutable): a cell
    that shares nothing with the input.

    >>> a = {"k": [1]}
    >>> b = own(a)
    >>> b == a and b is not a and b["k"] is not a["k"]
    True
    """
    if isinstance(x, (dict, list)):
        try:
            return _own_nested(x)
        except RecursionError:  # nested deeper than Python's stack (values 3,000 deep read back): without recursion
            return _own_deep(x)
    if isinstance(x, set):
        return set(x)
    if isinstance(x, (bytearray, np.ndarray)):
        return x.copy()
    return x


def _own_nested(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: (own(v) if isinstance(v, MUTABLE_CELL_TYPES) else v) for k, v in x.items()}
    return [own(v) if isinstance(v, MUTABLE_CELL_TYPES) else v for v in x]


def _own_deep(x: dict | list) -> dict | list:
    """:func:`own` of a dict or list at any depth, with a stack of its own (a container met twice is copied once)."""
    copies: dict[int, Any] = {}

    def shell(v: Any) -> Any:
        if isinstance(v, (dict, list)):
            if id(v) not in copies:
                copies[id(v)] = {} if isinstance(v, dict) else []
                todo.append((v, copies[id(v)]))
            return copies[id(v)]
        return own(v) if isinstance(v, MUTABLE_CELL_TYPES) else v

    todo: list[tuple[Any, Any]] = []
    root = shell(x)
    while todo:
        src, dst = todo.pop()
        if isinstance(src, dict):
            for k, v in src.items():
                dst[k] = shell(v)
        else:
            dst.extend(shell(v) for v in src)
    return root


def repeated_column(columns: pd.Index, names: Sequence[str]) -> str | None:
    """The words for the first of ``names`` that ``columns`` holds more than once (``frame[name]`` would be a
    DataFrame), or None: one sentence for every frame kind, each caller adding whose frame and raising its own error.

    >>> repeated_column(pd.Index(["a", "b", "a"]), ["b", "a"])
    "column 'a' appears 2 times; give each column once (rename or drop the others, e.g. frame.loc[:, ~frame.columns.duplicated()])"
    >>> repeated_column(pd.Index(["a", "b", "a"]), ["b"]) is None
    True
    """
    if columns.is_unique:
        return None
    for name in names:
        n = int(np.count_nonzero(columns == name))
        if n > 1:
            return (f"column {name!r} appears {n} times; give each column once (rename or drop the others, e.g. "
                    "frame.loc[:, ~frame.columns.duplicated()])")
    return None


class SharedTuple(tuple):
    """A tuple a frame's ``attrs`` carry (skipped records, files not read, unprocessed trace ids, API responses):
    its deep copy is itself. pandas deep-copies a frame's ``attrs`` into every column it hands out and every frame it
    derives, so a plain tuple of 10,000 skipped records made each ``df[col]`` cost 64 ms (25 µs without). Its items
    are the reader's and read-only, shared by the frames derived from the one read.

    >>> import copy
    >>> t = SharedTuple(("a", "b"))
    >>> copy.deepcopy(t) is t, t == ("a", "b"), isinstance(t, tuple)
    (True, True, True)
    """

    __slots__ = ()

    def __deepcopy__(self, memo: dict) -> SharedTuple:
        return self


class SharedDict(dict):
    """A dict a frame's ``attrs`` carry (what a fetch asked and got): its deep copy is itself (:class:`SharedTuple`);
    read-only by convention.

    >>> import copy
    >>> d = SharedDict(a=[1])
    >>> copy.deepcopy(d) is d, d == {"a": [1]}
    (True, True)
    """

    def __deepcopy__(self, memo: dict) -> SharedDict:
        return self


def shared_attr(value: Any) -> Any:
    """``value`` as a frame's ``attrs`` should hold it: a tuple or list as a :class:`SharedTuple`, a dict as a
    :class:`SharedDict` (pandas' deep copy of them is then free), anything else as it is.

    >>> type(shared_attr([1, 2])).__name__, type(shared_attr({"k": 1})).__name__, shared_attr(3)
    ('SharedTuple', 'SharedDict', 3)
    """
    if isinstance(value, SharedTuple | SharedDict):
        return value
    if isinstance(value, tuple | list):
        return SharedTuple(value)
    if isinstance(value, dict):
        return SharedDict(value)
    return value


#: set within :func:`taking_cells`
_TAKE_CELLS: ContextVar[bool] = ContextVar("tracekit_take_cells", default=False)


@contextmanager
def taking_cells() -> Iterator[None]:
    """Within it the ``*_from_columns`` constructors take the dict and list cells they are given as they are, without
    the copy (:func:`own`) that keeps a frame from sharing objects with its input: for cells tracekit has just built
    for that frame alone (the simulators' logs and metrics), never for a caller's.

    >>> with taking_cells():
    ...     owned_cells([a := {"k": 1}])[0] is a
    True
    >>> owned_cells([a])[0] is a
    False
    """
    token = _TAKE_CELLS.set(True)
    try:
        yield
    finally:
        _TAKE_CELLS.reset(token)


def owned_cells(cells: list) -> list:
    """Each cell :func:`own`-copied, unless within :func:`taking_cells` (then the cells as given, in a new list).

    >>> cells = [{"k": [1]}]
    >>> got = owned_cells(cells)
    >>> got == cells, got[0] is cells[0], got[0]["k"] is cells[0]["k"]
    (True, False, False)
    """
    return list(cells) if _TAKE_CELLS.get() else [own(c) for c in cells]


def own_each_object(cells: list) -> list:
    """:func:`own` of each distinct object among ``cells``, copied once: cells that shared an object share its copy (a
    reader's resources, one dict per resource, taken into another frame).

    >>> r, other = {"host.name": "h1"}, {"host.name": "h2"}
    >>> got = own_each_object([r, r, other])
    >>> got == [r, r, other], got[0] is got[1], got[0] is r
    (True, True, False)
    """
    copies: dict[int, Any] = {}
    return [copies[id(c)] if id(c) in copies else copies.setdefault(id(c), own(c)) for c in cells]


def dict_cells(values: Any) -> tuple[list[dict], int]:
    """The cells of an ``attributes`` / ``resource`` column given to a ``*_from_columns`` constructor: each
    dict as it is, a missing cell (None, NaN) as an empty dict; and the row of the first other value (-1
    when none), which the constructor reports rather than silently dropping or keeping.

    >>> dict_cells([{"a": 1}, None, float("nan")]), dict_cells([{}, '{"a": 1}'])[1]
    (([{'a': 1}, {}, {}], -1), 1)
    """
    out: list[dict] = []
    for i, x in enumerate(values):
        if isinstance(x, dict):
            out.append(x)
        elif x is None or (isinstance(x, float) and x != x) or x is pd.NA:
            out.append({})
        else:
            return out, i
    return out, -1


def canonical_ids(values: Any, width: int, *, xray: bool = False, zero: bool = True) -> tuple[pd.Series, np.ndarray]:
    """Ids of any source in the canonical form of the spans' id columns, column-wise.

    The one id rule shared by every frame that joins spans (spans, logs, metric exemplars, the OTLP reader):
    surrounding blanks dropped, upper case lowered, empty strings missing, an all-zero id missing (W3C: no id),
    an id given as its raw bytes (16 or 8, protobuf's ``bytes`` in Python) as their hex;
    with ``xray=True`` the X-Amzn-Trace-Id header form ``Root=1-…;Parent=…`` gives its Root;
    an id base64-encoded (protobuf's standard JSON mapping: 24 characters for 16 bytes, 12 for 8; :func:`b64_id_hex`)
    as its hex; with ``xray=True`` an X-Ray trace id ``1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx`` becomes its 32 hex
    digits; a 32-digit id written as a UUID (``xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx``, as some loggers write a trace
    id) becomes its 32 hex digits, the hyphens dropped. Vectorised (Arrow string kernels, linear-time regexes); the
    other forms are looked at only in a column that is not canonical already.

    Parameters
    ----------
    values : sequence of str, bytes or None
        The ids.
    width : int
        Hex digits of a canonical id (32 for trace ids, 16 for span ids).
    xray : bool, default False
        Accept X-Ray trace ids.
    zero : bool, default True
        An all-zero id is missing; False keeps it (a span's own id, which must be there).

    Returns
    -------
    (Series, ndarray of bool)
        The canonical ids (Arrow strings, ``<NA>`` where missing) and, per value, whether it is
        not an id (neither missing nor canonical after the rule).

    Examples
    --------
    >>> ids, bad = canonical_ids(["1-5759E988-BD862E3FE1BE46A994272793", "", None, "0" * 32,
    ...                           "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"], 32, xray=True)
    >>> ids.tolist(), bad.tolist()
    (['5759e988bd862e3fe1be46a994272793', <NA>, <NA>, <NA>, '5759e988bd862e3fe1be46a994272793'], [False, False, False, False, False])
    >>> canonical_ids(["5759E988-BD86-2E3F-E1BE-46A994272793"], 32)[0].tolist()
    ['5759e988bd862e3fe1be46a994272793']
    >>> canonical_ids(["abc", "ABCDEF0123456789", "7uGbfsPBsXQ="], 16)
    (0                 abc
    1    abcdef0123456789
    2    eee19b7ec3c1b174
    dtype: string, array([ True, False, False]))
    """
    vals = bytes_ids(values.array if isinstance(values, pd.Series) else
                     (values if isinstance(values, (np.ndarray, pd.api.extensions.ExtensionArray)) else list(values)),
                     width)
    s = pd.Series(pd.array(vals, dtype=STRING))
    ok = s.str.fullmatch(f"[0-9a-f]{{{width}}}")
    if len(s) and ok.all() and not (zero and (s == "0" * width).any()):  # the usual file: one pass (NA skipped)
        return s, np.zeros(len(s), dtype=bool)
    raw = s.str.strip()
    s = raw.str.lower()
    s = s.where(s != "", None)
    if xray:
        hdr = s.str.contains("=", regex=False).fillna(False).astype(bool)
        if hdr.any():  # the X-Amzn-Trace-Id header form, Root=1-…;Parent=…;Sampled=1: its Root (xray_header)
            root = s[hdr].str.extract(_XRAY_HEADER_ROOT, expand=False)
            s[hdr] = root.where(root.notna(), s[hdr])
            s = s.where(s != "", None)  # "Root=" naming nothing: no id
        x = s.str.fullmatch(r"1-[0-9a-f]{8}-[0-9a-f]{24}").fillna(False).astype(bool)
        if x.any():
            s[x] = s[x].str.replace("-", "", regex=False).str.slice(1)
    if width == 32:
        u = s.str.fullmatch(_UUID_LOWER.pattern).fillna(False).astype(bool)
        if u.any():  # a UUID: the 32 hex digits without the hyphens
            s[u] = s[u].str.replace("-", "", regex=False)
    ok = s.str.fullmatch(f"[0-9a-f]{{{width}}}")
    b64 = (~ok.fillna(True).astype(bool) & (raw.str.len() == (width // 2 + 2) // 3 * 4).fillna(False)).to_numpy(bool)
    if b64.any():  # base64 of the id's bytes, as cased in the file (base64 is case-sensitive)
        got = [b64_id_hex(v, width) for v in raw[b64].tolist()]
        rows = np.flatnonzero(b64)
        hit = np.array([g is not None for g in got], dtype=bool)
        if hit.any():
            s.iloc[rows[hit]] = [g for g in got if g is not None]
            ok = s.str.fullmatch(f"[0-9a-f]{{{width}}}")
    if zero:
        s = s.where(s != "0" * width, None)
    bad = ~ok.fillna(True).astype(bool).to_numpy() & s.notna().to_numpy()
    return s, bad


_BYTES = (bytes, bytearray, memoryview)
_XRAY_ID_LOWER = re.compile(r"1-([0-9a-f]{8})-([0-9a-f]{24})")
#: a 32-digit id written as a UUID (lower-cased text): 8-4-4-4-12 hex digits
_UUID_LOWER = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def canonical_id(value: Any, width: int, *, xray: bool = False, zero: bool = True) -> str | None:
    """One id by the rule of :func:`canonical_ids` (which a test holds it to), for the few ids read one at a
    time (metric exemplars, an id a user types): the canonical hex, or None when missing (None, blank, all zeros;
    ``zero=False`` keeps an all-zero id, as :func:`canonical_ids` does).

    Raises
    ------
    ValueError
        ``value`` is not an id by that rule (the message says what it is).

    >>> canonical_id("Root=1-5759E988-BD862E3FE1BE46A994272793;Parent=53995c3f42cd8ad8", 32, xray=True)
    '5759e988bd862e3fe1be46a994272793'
    >>> canonical_id("5759e988-bd86-2e3f-e1be-46a994272793", 32)
    '5759e988bd862e3fe1be46a994272793'
    >>> canonical_id(" ", 16), canonical_id(b"\\x01" * 8, 16), canonical_id("7uGbfsPBsXQ=", 16)
    (None, '0101010101010101', 'eee19b7ec3c1b174')
    """
    if value is None:
        return None
    if isinstance(value, _BYTES):
        value = bytes_ids([value], width)[0]
    if not isinstance(value, str):
        raise ValueError(f"must be a string, got {value!r:.60}")
    raw = value.strip()
    s = raw.lower()
    if xray and "=" in s:
        s = xray_header(s).get("root", s)
    if xray and (m := _XRAY_ID_LOWER.fullmatch(s)):
        s = m[1] + m[2]
    if width == 32 and _UUID_LOWER.fullmatch(s):
        s = s.replace("-", "")
    if len(s) != width or not _HEX_CHARS.issuperset(s):
        s = b64_id_hex(raw, width) or s
    if not s or (zero and s == "0" * width):
        return None
    if len(s) != width or not _HEX_CHARS.issuperset(s):
        raise ValueError(f"must be {width} hex digits" + (" or an X-Ray trace id" if xray else "") + f", got {value!r:.60}")
    return s


_HEX_CHARS = frozenset("0123456789abcdef")


def bytes_ids(values: Any, width: int) -> Any:
    """Ids given as their raw bytes (protobuf's ``bytes`` fields in Python: 16 for a trace id, 8 for a span id) as
    their hex; bytes of another length written out (``b'…'``, then no id) rather than decoded as text. ``values``
    itself when it holds no bytes (an Arrow or numeric column is not looked at).

    >>> bytes_ids([b"\\x01" * 8, "ab", b"\\xff"], 16)
    ['0101010101010101', 'ab', "b'\\\\xff'"]
    """
    if (type(values) is list or getattr(values, "dtype", None) == np.dtype(object)) \
            and any(isinstance(v, _BYTES) for v in values):
        return [(bytes(v).hex() if len(v) == width // 2 else repr(bytes(v))) if isinstance(v, _BYTES) else v
                for v in values]
    return values


_XRAY_HEADER = re.compile(r"(?:^|;)\s*(root|parent)\s*=\s*([^;]*?)\s*(?=;|$)", re.IGNORECASE)
#: the X-Amzn-Trace-Id header's fields, as a regular expression on lower-cased text (its ``root=`` alone)
_XRAY_HEADER_ROOT = r"(?:^|;)\s*root\s*=\s*([^;]*?)\s*(?:;|$)"


def xray_header(text: str) -> dict[str, str]:
    """The ``root`` and ``parent`` of an X-Amzn-Trace-Id header (``Root=1-…;Parent=…;Sampled=1``): fields
    are ``;``-separated ``key=value`` pairs, keys in any case, white space around them ignored; a key that
    merely ends in ``root`` (``NotRoot=``) is another field. Empty when the text names neither. One rule for
    the logs reader and :func:`canonical_ids`.

    >>> xray_header("Root=1-5759e988-bd862e3fe1be46a994272793; Parent=53995c3f42cd8ad8;Sampled=1")
    {'root': '1-5759e988-bd862e3fe1be46a994272793', 'parent': '53995c3f42cd8ad8'}
    >>> xray_header("NotRoot=1-5759e988-bd862e3fe1be46a994272793")
    {}
    """
    return {k.lower(): v for k, v in _XRAY_HEADER.findall(text)} if type(text) is str else {}


def b64_id_hex(x: Any, width: int) -> str | None:
    """Hex of an id given base64-encoded, as protobuf's standard JSON mapping (Tempo's API, protobuf's
    MessageToDict) writes ids: 24 characters for 16 bytes, 12 for 8. Unambiguous: a hex id has 32 or 16
    characters. None when ``x`` is not such an id.

    >>> b64_id_hex("W47/95gDgQPSabYzgT/GDA==", 32), b64_id_hex("abc", 16)
    ('5b8efff798038103d269b633813fc60c', None)
    """
    import base64
    import binascii

    if type(x) is not str or len(x) != (width // 2 + 2) // 3 * 4:
        return None
    try:
        raw = base64.b64decode(x, validate=True)
    except (binascii.Error, ValueError):
        try:
            raw = base64.urlsafe_b64decode(x) if x.isascii() and "+" not in x and "/" not in x else b""
        except (binascii.Error, ValueError):
            return None
    return raw.hex() if len(raw) == width // 2 else None
