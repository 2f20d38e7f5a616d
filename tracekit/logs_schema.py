"""The canonical logs DataFrame, declared once as data (as :mod:`tracekit.schema` declares spans).

One row per log record: an OTLP ``logRecord``, a CloudWatch Logs event, a JSON line or a CSV row.
:data:`LOG_COLUMNS` is the single declaration; :func:`empty_logs`, :func:`validate_logs`,
:func:`logs_from_columns` and :func:`logs_schema_markdown` are generated from it.

Ids are normalised by the same rule as spans (:func:`tracekit.schema.canonical_ids`): 32 / 16
lower-case hex digits, an X-Ray trace id ``1-xxxxxxxx-…`` becomes its 32 hex digits, so a log
record joins its span on ``(trace_id, span_id)`` whatever system wrote it. Severity is normalised
to the six OpenTelemetry short names (``TRACE`` … ``FATAL``) from the text (``Information``,
``warning``, ``err``, ``CRITICAL`` …) or, when the text says nothing known, from the number.

>>> import tracekit as tk
>>> logs = tk.logs_from_columns({"time": [0], "body": ["started"], "severity": ["Warning"]})
>>> logs.loc[0, "severity_text"], int(logs.loc[0, "severity_number"])
('WARN', 13)
>>> tk.validate_logs(logs) is logs
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson
import pandas as pd

from .errors import TraceKitError
from .schema import (
    STRING,
    TIMESTAMP,
    Column,
    canonical_ids,
    column_of,
    columns_markdown,
    dict_cells,
    epoch_times,
    once,
    owned_cells,
    repeated,
    repeated_column,
    single_value,
    time_out_of_range,
)

__all__ = [
    "LOG_COLUMNS",
    "LOG_COLUMN_NAMES",
    "log_services",
    "SEVERITIES",
    "SEVERITY_NUMBERS",
    "LogsSchemaError",
    "empty_logs",
    "validate_logs",
    "logs_from_columns",
    "logs_schema_markdown",
    "normalize_severity",
    "severity_name",
    "severity_text_kept",
]

#: the six OpenTelemetry severity short names, lowest first
SEVERITIES = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
#: first severity number of each short name (OTel: TRACE 1-4, DEBUG 5-8, INFO 9-12, WARN 13-16, ERROR 17-20, FATAL 21-24)
SEVERITY_NUMBERS = {"TRACE": 1, "DEBUG": 5, "INFO": 9, "WARN": 13, "ERROR": 17, "FATAL": 21}
#: severity words as written by common loggers (lower case) -> short name
_WORDS = {
    "trace": "TRACE", "finest": "TRACE", "finer": "TRACE", "verbose": "TRACE",
    "debug": "DEBUG", "dbg": "DEBUG", "fine": "DEBUG", "config": "DEBUG",
    "info": "INFO", "information": "INFO", "informational": "INFO", "notice": "INFO", "i": "INFO",
    "warn": "WARN", "warning": "WARN", "w": "WARN",
    "error": "ERROR", "err": "ERROR", "severe": "ERROR", "e": "ERROR", "fail": "ERROR", "failure": "ERROR",
    "fatal": "FATAL", "critical": "FATAL", "crit": "FATAL", "alert": "FATAL", "emerg": "FATAL",
    "emergency": "FATAL", "panic": "FATAL",
    "dpanic": "FATAL",  # zap's development panic (OpenTelemetry's zap bridge: FATAL)
    # the one-letter levels beside i / w / e: glog's and klog's F (fatal), Android logcat's V / D (verbose, debug)
    "f": "FATAL", "d": "DEBUG", "v": "TRACE",
}
_HEX32 = r"[0-9a-f]{32}"
_HEX16 = r"[0-9a-f]{16}"
_SOURCES = ("otlp", "cloudwatch", "jsonl", "columns", "other")

LOG_COLUMNS: tuple[Column, ...] = (
    Column("time", TIMESTAMP, True, "ns, UTC", "when the event happened (OTLP `timeUnixNano`, else `observedTimeUnixNano`; CloudWatch `timestamp`); `NaT` when the record has neither"),
    Column("observed_time", TIMESTAMP, True, "ns, UTC", "when the record was collected (OTLP `observedTimeUnixNano`; CloudWatch `ingestionTime`)"),
    Column("trace_id", STRING, True, "", "32 lower-case hex digits, normalised as spans' (`1-xxxxxxxx-…` X-Ray ids accepted); `<NA>` when the record names no trace", pattern=_HEX32),
    Column("span_id", STRING, True, "", "16 lower-case hex digits; `<NA>` when the record names no span (it then belongs to its trace)", pattern=_HEX16),
    Column("service", STRING, True, "", "OTLP resource `service.name`; CloudWatch: the log group; CSV: given"),
    Column("host", STRING, True, "", "the first of `tracekit.core.HOST_KEYS` the resource names (as the spans' host), CloudWatch log stream, or given"),
    Column("severity_text", STRING, True, "", "normalised short name of the source's number (1–24), else of its text; `<NA>` when neither says (a text that is no known word, or that the number contradicts, is kept in `attributes` as `severityText`)", values=SEVERITIES),
    Column("severity_number", "Int64", True, "", "OTLP severity number 1–24 (from the text's short name when the source has none)"),
    Column("body", STRING, True, "", "the message: a string body as is; a structured body (map, array) as compact JSON"),
    Column("attributes", object, False, "", "dict of the record's attributes (OTLP attributes, `event.name`; JSON fields other than the ones above). May be a lazy column (dtype `tracekit.lazy`, as read by `read_logs`' fast path): its cells are real dicts, each built (a copy of its distinct set, checked at read time) when first used; `tk.attribute` reads one key without building them"),
    Column("resource", object, False, "", "dict of resource attributes (+ the scope: `otel.scope.name`, `otel.scope.version`, its attributes as `otel.scope.attr.<key>`); CloudWatch `log.group` / `log.stream`; may be lazy (`tracekit.lazy`: each row's own copy of its scope's dict, built when first used)"),
    Column("source", STRING, False, "", "format the record was read from", values=_SOURCES),
    Column("source_file", STRING, True, "", "file (or `<object>`) the record was read from"),
    Column("source_record", "Int64", True, "", "1-based line of a JSON-lines file, else 0-based index of the top-level record"),
)

LOG_COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in LOG_COLUMNS)
_BY_NAME: Mapping[str, Column] = {c.name: c for c in LOG_COLUMNS}


class LogsSchemaError(TraceKitError, ValueError):
    """A DataFrame or a set of columns does not follow the logs schema.

    Examples
    --------
    >>> import tracekit as tk
    >>> try:
    ...     tk.validate_logs(tk.empty_logs().drop(columns="body"))
    ... except tk.LogsSchemaError as e:
    ...     print(e)
    logs DataFrame is missing columns: body
    """


def empty_logs() -> pd.DataFrame:
    """An empty logs DataFrame with every column and dtype of :data:`LOG_COLUMNS`.

    Returns
    -------
    DataFrame
        No rows, every column of the logs schema.

    Examples
    --------
    >>> empty_logs().dtypes["time"]
    datetime64[ns, UTC]
    """
    return pd.DataFrame({c.name: pd.Series([], dtype=c.dtype) for c in LOG_COLUMNS})


def _utf8_ok(s: str) -> bool:
    try:
        s.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def severity_name(text: Any) -> str | None:
    """The short name (one of :data:`SEVERITIES`) a severity text says, or None when it is no known word.

    Parameters
    ----------
    text : Any
        A severity as written by the source (``"Information"``, ``"warning"``, ``"DPANIC"``…).

    Returns
    -------
    str or None
        The short name; None for anything else (no string, or a word no common logger writes).

    Examples
    --------
    >>> severity_name(" Warning"), severity_name("DPANIC"), severity_name("UNDEFINED")
    ('WARN', 'FATAL', None)
    """
    return _WORDS.get(text.strip().lower()) if isinstance(text, str) else None


def severity_text_kept(text: Any, number: Any = None) -> bool:
    """Whether a record's severity text is kept as written in its attributes (under ``severityText``) beside the
    normalised ``severity_text``: a text no common logger writes (``"audit"``, ``"200"``), or a known word
    that the record's number (1–24, which decides: :func:`normalize_severity`) contradicts.

    Examples
    --------
    >>> severity_text_kept("audit"), severity_text_kept("INFO", 17), severity_text_kept("warning", 13)
    (True, True, False)
    """
    if not isinstance(text, str) or not text:
        return False
    name = severity_name(text)
    if name is None:
        return True
    return (isinstance(number, (int, np.integer)) and not isinstance(number, bool) and 1 <= number <= 24
            and SEVERITIES[(int(number) - 1) // 4] != name)


def normalize_severity(text: Any = None, number: Any = None) -> pd.DataFrame:
    """Normalised severity short names and numbers of a column of texts and/or numbers.

    Parameters
    ----------
    text : sequence of str, optional
        Severity texts as written by the source (``"Information"``, ``"warning"``, ``"ERROR"``…). Used where
        the number is missing or 0.
    number : sequence of int, optional
        OTLP severity numbers (1–24; 0 is unspecified). Where given, the number decides, as OpenTelemetry's log
        data model compares severities (a text that disagrees is the source's own word: the readers keep it in
        the record's attributes, :func:`severity_text_kept`).

    Returns
    -------
    DataFrame
        Columns ``severity_text`` (one of :data:`SEVERITIES` or ``<NA>``) and ``severity_number``
        (Int64: the source's number, else the first number of the short name).

    Examples
    --------
    >>> normalize_severity(["Information", "oops", None, "INFO"], [None, 18, 0, 17])
      severity_text  severity_number
    0          INFO                9
    1         ERROR               18
    2          <NA>             <NA>
    3         ERROR               17
    """
    if text is None and number is None:
        raise LogsSchemaError("normalize_severity needs a text or a number column")
    n = len(text) if text is not None else len(number)
    num = pd.Series(pd.array(np.zeros(n, dtype=np.int64) if number is None else
                             (number.array if isinstance(number, pd.Series) else number), dtype="Int64"))
    num = num.where((num >= 1) & (num <= 24)).astype("Int64")
    names = np.array((None,) + SEVERITIES, dtype=object)
    codes = np.where(num.notna().to_numpy(), (num.fillna(1).to_numpy(dtype=np.int64) - 1) // 4 + 1, 0)
    if text is not None:
        t = pd.Series(pd.array(text.array if isinstance(text, pd.Series) else text, dtype=STRING))
        cat = t.astype("category")
        table = {u: _WORDS.get(u.strip().lower()) for u in cat.cat.categories}
        word_code = np.array([SEVERITIES.index(table[u]) + 1 if table[u] else 0 for u in cat.cat.categories] + [0],
                             dtype=np.int64)
        by_text = word_code[cat.cat.codes.to_numpy()]  # code -1 (missing) → the last entry, 0
        # the number decides where the source gives one (1-24), the text elsewhere: OpenTelemetry's data model
        # compares severities by number and calls a record an error by its number (17-20), the text being "the
        # original string representation … as it is known at the source"; a collector's severity parser sets the
        # number to the level it mapped and keeps the text as written. (A known word won: text "INFO" with number
        # 17, the operator's own mapping to ERROR, read as INFO, and the record was no ERROR evidence.)
        use_text = (by_text > 0) & (codes == 0)
        derived = np.array([0] + [SEVERITY_NUMBERS[s] for s in SEVERITIES], dtype=np.int64)[by_text]
        codes = np.where(use_text, by_text, codes)
        num = pd.Series(pd.array(np.where(use_text, derived, num.fillna(0).to_numpy(dtype=np.int64)),
                                 dtype="Int64")).where(codes > 0)
    return pd.DataFrame({"severity_text": pd.array(names[codes], dtype=STRING),
                         "severity_number": num.astype("Int64").reset_index(drop=True)})


def logs_from_columns(columns: Mapping[str, Any], *, check: bool = True, time_unit: str | None = None) -> pd.DataFrame:
    """Build a logs DataFrame from a mapping of column name → sequence (e.g. a CSV export).

    Parameters
    ----------
    columns : mapping of str to sequence
        ``time`` and ``body`` required (None: no record has one); optional ``observed_time``, ``trace_id``, ``span_id``,
        ``service``, ``host``, ``severity`` (text, or numbers) or ``severity_text`` /
        ``severity_number``, ``attributes`` and ``resource`` (dicts), ``source_file``,
        ``source_record``. Times: numbers since the epoch (nanoseconds unless ``time_unit`` says
        otherwise), datetimes or strings. Ids:
        any case, X-Ray trace ids accepted, empty strings are missing. Columns are positional; a single
    value (a service name) is repeated for every row.
        Other keys are kept as extra columns.
    check : bool, default True
        Validate the result (:func:`validate_logs`).
    time_unit : {None, "s", "ms", "us", "ns"}, default None
        Unit of numeric times. ``None``: nanoseconds, but a column whose every value is a 1990-2100
        time in seconds, milliseconds or microseconds is refused, naming the unit it looks like
        (:func:`tracekit.schema.epoch_times`).

    Returns
    -------
    DataFrame
        A logs frame (``source`` ``"columns"``), rows in the given order.

    Raises
    ------
    LogsSchemaError
        A required column is missing or given twice, columns differ in length, an id is not an id,
        a time is no time or outside 1970-01-01 .. 2262-01-01 (the readers' range), a severity number is not an integer 0-24, a severity text
        is not a string, a text is bytes that are not UTF-8 (the message names the column and the
        first bad row). A severity text that is no known word is kept in ``attributes`` under its
        column's name (``severity_text`` / ``severity``), as :func:`tracekit.read_logs` keeps it.

    Examples
    --------
    >>> df = logs_from_columns({"time": ["2024-01-01T00:00:00Z"], "body": ["GET /cart 200"],
    ...     "trace_id": ["1-5759e988-bd862e3fe1be46a994272793"], "span_id": ["EEE19B7EC3C1B174"]})
    >>> df.loc[0, "trace_id"], df.loc[0, "span_id"]
    ('5759e988bd862e3fe1be46a994272793', 'eee19b7ec3c1b174')
    """
    twice = repeated_column(columns.columns, list(dict.fromkeys(columns.columns))) \
        if isinstance(columns, pd.DataFrame) else None
    if twice:  # which one holds the records' values?
        raise LogsSchemaError(f"logs_from_columns: {twice}")
    missing = [k for k in ("time", "body") if k not in columns]
    if missing:
        raise LogsSchemaError(f"logs_from_columns needs the columns {', '.join(missing)} (given: {', '.join(map(str, columns)) or 'none'})")
    n = None
    first = None
    cols: dict[str, Any] = {}
    for k, v in columns.items():
        v = v.array if isinstance(v, pd.Series) else once(v)
        if v is not None and not single_value(v):
            if n is None:
                n, first = len(v), k
            elif len(v) != n:
                raise LogsSchemaError(f"logs_from_columns: column {k!r} has {len(v)} values, {first!r} has {n}")
        cols[k] = v
    if n is None:
        raise LogsSchemaError("logs_from_columns: no column holds a sequence of values (every one is a single value or "
                              "None): give at least time or body as one value per record")
    for k, v in cols.items():  # a single value (a service name, a file) is every row's
        if k != "source" and v is not None and single_value(v):
            cols[k] = repeated(v, n)
    data: dict[str, Any] = {}
    # time None: no record has a time (NaT each), as body None is no record's message
    given = {"time": [None] * n if cols["time"] is None else cols["time"],
             **({} if cols.get("observed_time") is None else {"observed_time": cols["observed_time"]})}
    try:
        data.update(epoch_times(given, time_unit=time_unit, who="logs_from_columns", error=LogsSchemaError))
    except (OverflowError, TypeError, ValueError) as exc:
        if isinstance(exc, TraceKitError):
            raise
        for name, v in given.items():  # an integer no int64 holds (pandas' OverflowError names no row)
            row = next((i for i, x in enumerate(v) if isinstance(x, int) and not -(2**63) <= x < 2**63), None)
            if row is not None:
                raise LogsSchemaError(time_out_of_range(f"logs_from_columns: column {name!r} row {row}:",
                                                        repr(list(v)[row]), time_unit or "ns")) from None
        raise LogsSchemaError(f"logs_from_columns: column 'time' or 'observed_time' holds values that are not times "
                              f"({exc})") from None
    if "observed_time" not in data:
        data["observed_time"] = pd.Series(pd.NaT, index=range(n), dtype=TIMESTAMP)
    for name, width in (("trace_id", 32), ("span_id", 16)):
        v = cols.get(name)
        if v is None:
            data[name] = column_of(n, None, STRING)
            continue
        try:
            ids, bad = canonical_ids(v, width, xray=name == "trace_id")
        except UnicodeEncodeError as exc:
            raise _not_utf8(name, list(v), exc) from None
        if bad.any():
            bad = int(np.argmax(bad))
            raise LogsSchemaError(f"logs_from_columns: column {name!r} row {bad}: {list(v)[bad]!r} is not a "
                                  f"{'trace' if width == 32 else 'span'} id ({width} hex digits"
                                  f"{', or X-Ray 1-xxxxxxxx-…' if width == 32 else ''})")
        data[name] = ids
    for name in ("service", "host", "body"):
        v = cols.get(name)
        if v is not None and not isinstance(v, (np.ndarray, pd.api.extensions.ExtensionArray)):
            v = list(v)
        if name == "body" and v is not None and getattr(v, "dtype", np.dtype(object)).kind == "O" \
                and any(isinstance(x, (dict, list)) for x in v):
            # a map or array body as compact JSON text, as read_logs writes it
            v = [orjson.dumps(x, option=orjson.OPT_NON_STR_KEYS, default=str).decode() if isinstance(x, (dict, list))
                 else x for x in v]
        try:
            data[name] = column_of(n, None, STRING) if v is None else pd.Series(pd.array(v, dtype=STRING))
        except UnicodeEncodeError as exc:
            raise _not_utf8(name, v, exc) from None
        except UnicodeDecodeError:
            row = next(i for i, x in enumerate(v) if isinstance(x, (bytes, bytearray)) and not _utf8_bytes(x))
            raise LogsSchemaError(f"logs_from_columns: column {name!r} row {row}: {bytes(v[row])!r:.80} is bytes that "
                                  "are not UTF-8 text (decode them first, e.g. column.str.decode('latin-1'))") from None
    data["service"] = log_services(data["service"])
    try:
        text, number, unknown = _severity_columns(cols, n)
        norm = normalize_severity(text, number) if text is not None or number is not None else None
    except UnicodeEncodeError as exc:
        name = next((c for c in cols if c.startswith("severity") and any(
            isinstance(x, str) and not _utf8_ok(x) for x in list(cols[c]))), None)
        if name is None:
            raise LogsSchemaError(f"logs_from_columns: the severity holds text that is not UTF-8 ({exc})") from None
        raise _not_utf8(name, list(cols[name]), exc) from None
    if norm is not None:
        data["severity_text"], data["severity_number"] = norm["severity_text"], norm["severity_number"]
    else:
        data["severity_text"] = column_of(n, None, STRING)
        data["severity_number"] = column_of(n, None, "Int64")
    for name in ("attributes", "resource"):
        v = cols.get(name)
        cells, bad = ([{} for _ in range(n)], -1) if v is None else dict_cells(v)
        if bad >= 0:
            raise LogsSchemaError(f"logs_from_columns: column {name!r} row {bad}: {list(v)[bad]!r:.80} is not a dict "
                                  "(JSON text: parse it first, e.g. column.map(json.loads))")
        if v is not None:
            cells = owned_cells(cells)  # the frame's own dicts: never the caller's objects
        data[name] = pd.Series(cells, dtype=object)
    for row, key, value in unknown:  # a severity text no logger's word: kept as written (read_logs keeps it so too)
        data["attributes"].iloc[row].setdefault(key, value)
    data["source"] = pd.Series(pd.array([cols["source"]] * n if isinstance(cols.get("source"), str) else ["columns"] * n, dtype=STRING))
    sf = cols.get("source_file")
    data["source_file"] = pd.Series(pd.array([sf] * n if isinstance(sf, str) or sf is None else list(sf), dtype=STRING))
    sr = cols.get("source_record")
    data["source_record"] = pd.Series(_int_column(sr, n, "source_record"))
    df = pd.DataFrame({k: (v.reset_index(drop=True) if isinstance(v, pd.Series) else v) for k, v in data.items()})
    df = df[list(LOG_COLUMN_NAMES)]
    known = set(LOG_COLUMN_NAMES) | {"severity"}
    for k in cols:
        if k not in known:
            df[k] = cols[k]
    return validate_logs(df) if check else df


def log_services(service: pd.Series) -> pd.Series:
    """The ``service`` column of a logs frame: a blank name (empty, only white space) is missing, as no name is —
    the logs' form of the spans' rule (:func:`tracekit.schema.service_name`: the spans say ``unknown_service``, the
    logs' ``service`` is nullable). Every logs reader and :func:`logs_from_columns` apply it.

    >>> log_services(pd.Series(["cart", "", "  ", None], dtype="string")).tolist()
    ['cart', <NA>, <NA>, <NA>]
    """
    s = service if isinstance(service.dtype, pd.StringDtype) else service.astype(STRING)
    blank = s.str.strip().eq("").fillna(False).to_numpy(dtype=bool)
    return s.mask(blank) if blank.any() else s


def _utf8_bytes(b: bytes | bytearray) -> bool:
    try:
        bytes(b).decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False




def _missing(x: Any) -> bool:
    return x is None or x is pd.NA or x is pd.NaT or (isinstance(x, (float, np.floating)) and x != x)


def _int_column(values: Any, n: int, name: str) -> Any:
    """An Int64 array of a column of integers (integral floats, missing values), naming the first other value."""
    if values is None:
        return column_of(n, None, "Int64").array
    try:
        return pd.array(list(values), dtype="Int64")
    except (TypeError, ValueError, OverflowError):
        row = next((i for i, x in enumerate(values)
                    if not _missing(x) and not (isinstance(x, (int, np.integer)) and not isinstance(x, bool)
                                                and -(2**63) <= x < 2**63)
                    and not (isinstance(x, (float, np.floating)) and float(x).is_integer() and abs(x) < 2**63)), 0)
        raise LogsSchemaError(f"logs_from_columns: column {name!r} row {row}: {list(values)[row]!r:.80} is not an "
                              "integer") from None


def _severity_number(x: Any, name: str, row: int) -> int | None:
    """One severity number as given (an int, an integral float, a decimal string), checked: 0-24 or missing."""
    if _missing(x):
        return None
    v: Any = None
    if isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)):
        v = int(x)
    elif isinstance(x, (float, np.floating)) and float(x).is_integer():
        v = int(x)
    elif isinstance(x, str) and x.strip().isascii() and x.strip().isdigit():
        v = int(x.strip())
    if v is None or not 0 <= v <= 24:
        raise LogsSchemaError(f"logs_from_columns: column {name!r} row {row}: {x!r:.80} is not a severity number "
                              "(an integer 1-24, 0 for unspecified; OTLP's SeverityNumber)")
    return v


def _not_utf8(name: str, values: Any, exc: UnicodeEncodeError) -> LogsSchemaError:
    """The error for a column of ``logs_from_columns`` holding text that is not UTF-8 (a lone surrogate), naming
    its first such row."""
    row = next(i for i, x in enumerate(values) if isinstance(x, str) and not _utf8_ok(x))
    return LogsSchemaError(f"logs_from_columns: column {name!r} row {row}: {values[row]!r:.80} is not UTF-8 text "
                           f"({exc.reason}: a lone surrogate, e.g. from bytes decoded with errors='surrogateescape')")


def _severity_columns(cols: dict, n: int) -> tuple[list | None, list | None, list[tuple[int, str, str]]]:
    """The severity texts and numbers of ``severity_text`` / ``severity_number`` / ``severity`` (texts, numbers or
    both mixed), checked; and (row, column, text) of each text kept in ``attributes`` (severity_text_kept: no known word, or one the number contradicts)."""
    text_in, num_in, sev = cols.get("severity_text"), cols.get("severity_number"), cols.get("severity")
    text: list | None = None
    number: list | None = None
    tname = "severity_text"
    if num_in is not None:
        number = [_severity_number(x, "severity_number", i) for i, x in enumerate(num_in)]
    if text_in is not None:
        text = []
        for i, x in enumerate(text_in):
            if type(x) is str:  # the common case first: a record's own text
                text.append(x)
                continue
            if not _missing(x) and not isinstance(x, str):
                raise LogsSchemaError(f"logs_from_columns: column 'severity_text' row {i}: {x!r:.80} is not a severity "
                                      "text (a string; numbers go in severity_number)")
            text.append(None if _missing(x) else x)
    if sev is not None:  # texts, numbers, or both (one kind per row): each fills what the named columns leave
        s_text: list = [None] * n
        s_num: list = [None] * n
        for i, x in enumerate(sev):
            if isinstance(x, str) and not (x.strip().isascii() and x.strip().isdigit()):
                s_text[i] = x
            else:
                s_num[i] = _severity_number(x, "severity", i)
        if text is None and any(x is not None for x in s_text):
            text, tname = s_text, "severity"
        elif text is not None:  # a row the named column leaves empty takes severity's text (it was dropped)
            text = [t if t is not None else st for t, st in zip(text, s_text, strict=True)]
        if number is None and any(x is not None for x in s_num):
            number = s_num
        elif number is not None:
            number = [v if v is not None else sv for v, sv in zip(number, s_num, strict=True)]
    nums = [None] * n if number is None else list(number)
    unknown: list[tuple[int, str, str]] = []
    if text is not None:
        kept: dict[tuple[Any, Any], bool] = {}  # a column holds a few distinct (text, number) pairs: each decided once
        for i, (x, v) in enumerate(zip(text, nums, strict=True)):
            v = None if v is None or pd.isna(v) else int(v)
            k = kept.get((x, v))
            if k is None:
                k = kept[(x, v)] = severity_text_kept(x, v)
            if k:
                unknown.append((i, tname, x))
    return text, number, unknown


def validate_logs(df: pd.DataFrame) -> pd.DataFrame:
    """Check that ``df`` follows the logs schema; return it unchanged or raise.

    Parameters
    ----------
    df : DataFrame
        A logs frame. Extra columns are allowed.

    Returns
    -------
    DataFrame
        ``df`` itself.

    Raises
    ------
    LogsSchemaError
        A column is missing, has the wrong dtype, missing values where none are allowed, ids not
        in canonical form or a severity outside :data:`SEVERITIES`.

    Examples
    --------
    >>> validate_logs(empty_logs()).shape[1] == len(LOG_COLUMNS)
    True
    """
    if not isinstance(df, pd.DataFrame):
        raise LogsSchemaError(f"expected a pandas DataFrame of log records, got {type(df).__name__}")
    missing = [c for c in LOG_COLUMN_NAMES if c not in df.columns]
    if missing:
        raise LogsSchemaError(f"logs DataFrame is missing columns: {', '.join(missing)}")
    problems: list[str] = []
    for col in LOG_COLUMNS:
        s = df[col.name]
        if col.dtype is not object and str(s.dtype) != str(col.dtype):
            problems.append(f"column {col.name!r} has dtype {s.dtype}, expected {col.dtype_name}")
            continue
        if not col.nullable:
            # a dict column: anything but a dict is missing (a reader's lazy column holds dicts, checked at read time)
            nulls = s.isna() if col.dtype is not object or getattr(s.array, "is_lazy", False) else pd.Series(
                np.fromiter((not isinstance(x, dict) for x in s.to_numpy(dtype=object)), bool, len(s)), index=s.index)
            if nulls.any():
                problems.append(f"column {col.name!r} has {int(nulls.sum())} missing values (row {nulls.idxmax()!r} first)")
                continue
        if col.pattern is not None:
            v = s.dropna()
            ok = v.str.fullmatch(col.pattern)
            if not ok.all():
                bad = v[~ok]
                problems.append(f"column {col.name!r} has {len(bad)} values not matching {col.pattern} (e.g. {bad.iloc[0]!r} at row {bad.index[0]!r})")
        if col.values is not None:
            v = s.dropna()
            bad = v[~v.isin(col.values)]
            if len(bad):
                problems.append(f"column {col.name!r} has values outside {col.values} (e.g. {bad.iloc[0]!r} at row {bad.index[0]!r})")
    if problems:
        raise LogsSchemaError("logs DataFrame does not follow the schema: " + "; ".join(problems))
    return df


def logs_schema_markdown() -> str:
    """The logs column table (for README.md), generated from :data:`LOG_COLUMNS`.

    Returns
    -------
    str
        A markdown table: column, dtype, nullable, unit, meaning.

    Examples
    --------
    >>> logs_schema_markdown().splitlines()[2].split(" | ")[0]
    '| `time`'
    """
    return columns_markdown(LOG_COLUMNS)
