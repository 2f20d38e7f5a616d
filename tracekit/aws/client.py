"""AWS clients for the live X-Ray code: sessions, retry configuration, endpoints, and errors that say what to do.

Every message tracekit builds from an AWS failure goes through :func:`scrub`: the client's key id, secret and
session token, anything shaped like an access key id, signed-URL parameters, and the user:password part and
query values of every URL in the text (an ``endpoint_url`` such as ``https://user:pw@proxy/?token=…``) are
replaced by ``***``.

>>> scrub("could not reach https://me:hunter2@proxy.local:8443/xray?token=abc&region=x")
'could not reach https://***@proxy.local:8443/xray?token=***&region=***'
>>> redact_url("https://me:hunter2@proxy.local:8443/xray?token=abc")
'https://proxy.local:8443/xray?token=***'
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..core.args import count_arg
from ..core.words import plural
from ..errors import TraceKitError, require

__all__ = [
    "IAM_PERMISSIONS",
    "XRayFetchError",
    "XRayAuthError",
    "XRayPermissionError",
    "XRayRegionError",
    "XRayThrottledError",
    "XRayConnectionError",
    "XRayRequestError",
    "scrub",
    "redact_url",
    "translate_error",
    "is_botocore_error",
    "make_client",
    "region_of",
    "follow_pages",
    "source_of",
    "source_difference",
]

# IAM actions each public function calls (docs/guide.md, "Live AWS X-Ray").
IAM_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "fetch_xray": ("xray:GetTraceSummaries", "xray:BatchGetTraces"),
    "fetch_xray_summaries": ("xray:GetTraceSummaries",),
    "fetch_xray_sampling": ("xray:GetSamplingRules", "xray:GetSamplingStatisticSummaries"),
    "xray_coverage_audit": (
        "lambda:ListFunctions",
        "ecs:ListTaskDefinitions",
        "ecs:DescribeTaskDefinition",
        "apigateway:GET",
        "xray:GetGroups",
    ),
    "fetch_logs": ("logs:FilterLogEvents",),
    "fetch_metrics": ("cloudwatch:GetMetricData",),
}



# --------------------------------------------------------------------------------------------- errors


class XRayFetchError(TraceKitError):
    """A call to AWS failed. ``code`` is the AWS error code (if any), ``operation`` the API called.

    ``reason`` is the message without the resume hint; ``cache_dir`` the folder holding what was fetched
    so far (None without a cache), so a caller such as the CLI can word its own hint. A ``fetch_xray`` without
    a cache that fails part-way sets ``partial`` (the spans of the traces fetched before the failure, with
    ``attrs["xray_fetch"]["partial"]`` True) and ``not_fetched`` (the X-Ray ids asked and not fetched); a
    ``fetch_logs`` that fails sets them too (the logs frame of the pages read, ``attrs["partial"]`` True; the trace
    ids not searched in every log group); otherwise they are None and ``()``.
    """

    def __init__(self, message: str, *, code: str | None = None, operation: str | None = None,
                 reason: str | None = None, cache_dir: str | None = None):
        self.code = code
        self.operation = operation
        self.reason = reason if reason is not None else message
        self.cache_dir = cache_dir
        self.partial: Any = None
        self.not_fetched: tuple[str, ...] = ()
        super().__init__(message)


class FetchInterrupted(KeyboardInterrupt):
    """A fetch stopped by Ctrl-C (a ``KeyboardInterrupt``, which it still is): what was read is not lost.

    ``partial`` holds what the fetch read before it was interrupted (``fetch_xray`` without a cache: the spans of
    the traces fetched, ``attrs["xray_fetch"]["partial"]`` True; ``fetch_logs``: the logs frame of the pages read,
    ``attrs["partial"]`` True), or None when nothing was read; ``not_fetched`` the ids asked and not fetched. In
    Jupyter the interrupted cell's exception is ``sys.last_value``. With a ``cache_dir`` ``fetch_xray`` raises the
    plain ``KeyboardInterrupt``: the pages are on disk and a second call resumes.

    Examples
    --------
    >>> err = FetchInterrupted("fetch_xray interrupted", partial=None, not_fetched=("1-5f84c7a2-1",))
    >>> isinstance(err, KeyboardInterrupt), err.not_fetched
    (True, ('1-5f84c7a2-1',))
    """

    def __init__(self, message: str, *, partial: Any = None, not_fetched: tuple[str, ...] = ()):
        self.partial: Any = partial
        self.not_fetched: tuple[str, ...] = tuple(not_fetched)
        super().__init__(message)


class XRayAuthError(XRayFetchError):
    """Credentials are missing, invalid or expired."""


class XRayPermissionError(XRayFetchError):
    """The credentials work but lack an IAM permission."""


class XRayRegionError(XRayFetchError):
    """No region, or a region botocore does not know."""


class XRayThrottledError(XRayFetchError):
    """Still throttled after botocore's retries."""


class XRayConnectionError(XRayFetchError):
    """The endpoint could not be reached."""


class XRayRequestError(XRayFetchError):
    """AWS rejected the request (e.g. an invalid filter expression or time range)."""


_AUTH_CODES = {
    "ExpiredTokenException", "ExpiredToken", "InvalidClientTokenId", "UnrecognizedClientException",
    "InvalidSignatureException", "SignatureDoesNotMatch", "IncompleteSignature", "MissingAuthenticationToken",
    "InvalidAccessKeyId", "RequestExpired", "AuthFailure",
}
_PERMISSION_CODES = {"AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "Forbidden"}
_THROTTLE_CODES = {"ThrottlingException", "ThrottledException", "Throttling", "TooManyRequestsException",
                   "RequestLimitExceeded", "SlowDown", "RequestThrottledException", "RequestThrottled"}
#: HTTP 429 Too Many Requests: throttled whatever the error code (a proxy's or a gateway's 429 has none botocore knows)
_THROTTLE_STATUS = 429
_KEY_RE = re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,}\b")
_OP_ACTIONS = {
    "GetTraceSummaries": "xray:GetTraceSummaries", "BatchGetTraces": "xray:BatchGetTraces",
    "GetSamplingRules": "xray:GetSamplingRules",
    "GetSamplingStatisticSummaries": "xray:GetSamplingStatisticSummaries", "GetGroups": "xray:GetGroups",
    "ListFunctions": "lambda:ListFunctions", "ListTaskDefinitions": "ecs:ListTaskDefinitions",
    "DescribeTaskDefinition": "ecs:DescribeTaskDefinition", "GetRestApis": "apigateway:GET",
    "GetStages": "apigateway:GET", "FilterLogEvents": "logs:FilterLogEvents",
    "GetMetricData": "cloudwatch:GetMetricData",
}
#: the calls made in parallel (``max_workers``); every other call is made one at a time
_PARALLEL_OPS = {"BatchGetTraces"}
#: the command-line flags of a throttling hint's arguments, for the calls `tracekit fetch-xray` makes
_CLI_FLAGS = {"GetTraceSummaries": " (tracekit fetch-xray --max-attempts)",
              "BatchGetTraces": " (tracekit fetch-xray --max-workers, --max-attempts)"}


def _secrets_of(client: Any) -> list[str]:
    """The client's own credential strings, only to scrub them from messages (never stored)."""
    try:
        creds = client._request_signer._credentials  # noqa: SLF001 - read-only, for redaction
        frozen = creds.get_frozen_credentials() if creds is not None else None
    except Exception:  # pragma: no cover - anything odd: fall back to the pattern
        return []
    out = url_secrets(getattr(getattr(client, "meta", None), "endpoint_url", None))
    if frozen is None:
        return out
    return out + [s for s in (frozen.access_key, frozen.secret_key, frozen.token) if s and len(s) >= 4]


# the URL after its "://": netloc, path, query, each run taken whole (possessive)
_URL_TAIL = re.compile(r"([^\s/?#'\"<>]*+)([^\s?#'\"<>]*+)(\?[^\s#'\"<>]*+)?+")
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
# a query key never spans a "?" (the text replaced is the same: a key with a "?" starts at its last "?")
_QUERY_VALUE_RE = re.compile(r"([?&;][^=&;#\s?]*+=)[^&;#\s]*+")


def _redact_match(scheme: str, netloc: str, path: str, query: str) -> str:
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    return scheme + netloc + path + _QUERY_VALUE_RE.sub(r"\1***", query)


def _redact_urls(text: str) -> str:
    """Every URL (``scheme://netloc/path?query``) with its user:password part and query values redacted.

    Found from each ``://``: the scheme is the run of scheme characters before it, from its first
    letter that starts a word; the rest is matched forward. Each character is read a bounded number
    of times (linear), where ``\\b[a-z][a-z0-9+.-]*://`` tried every word start inside a long run.
    """
    out, pos, n = [], 0, len(text)
    i = text.find("://")
    while i >= 0:
        j = i
        while j > pos and text[j - 1] in _SCHEME_CHARS:
            j -= 1
        start = -1
        for k in range(j, i):
            if text[k].isascii() and text[k].isalpha() and (k == 0 or not (text[k - 1].isalnum() or text[k - 1] == "_")):
                start = k
                break
        if start < 0:
            i = text.find("://", i + 1)
            continue
        m = _URL_TAIL.match(text, i + 3)
        out += [text[pos:start], _redact_match(text[start:i + 3], m.group(1), m.group(2), m.group(3) or "")]
        pos = m.end()
        i = text.find("://", max(pos, i + 1))
    out.append(text[pos:n])
    return "".join(out)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with credentials and URL secrets replaced by ``***`` (fit for a message or a terminal).

    Removes each string of ``secrets`` (e.g. the client's own credentials), anything shaped like an AWS
    access key id, signed-URL parameters, and in every URL the user:password part and all query values.

    Parameters
    ----------
    text : str
        The message to clean.
    secrets : iterable of str
        Exact strings to remove as well.

    Returns
    -------
    str
        The cleaned message.

    Examples
    --------
    >>> scrub("Invalid endpoint: http://admin:s3cret@10.0.0.1:4566", ["nothing"])
    'Invalid endpoint: http://***@10.0.0.1:4566'
    """
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    text = re.sub(r"(X-Amz-Security-Token|Credential|Signature)=[^\s,&'\"]+", r"\1=***", text)
    text = _redact_urls(text)
    return _KEY_RE.sub("***", text)


def url_secrets(url: str | None) -> list[str]:
    """The secret parts of a URL (user, password, query values), to scrub them wherever they appear.

    >>> url_secrets("https://me:hunter2@proxy:8443/?token=abcd")
    ['hunter2', 'abcd']
    """
    if not url:
        return []
    from urllib.parse import parse_qsl, urlsplit

    try:
        parts = urlsplit(url)
        out = [parts.password or ""]
        out += [v for _k, v in parse_qsl(parts.query, keep_blank_values=True)]
    except ValueError:
        return []
    return [s for s in out if len(s) >= 4]


def is_botocore_error(exc: BaseException) -> bool:
    """Whether ``exc`` was raised by botocore (turn it into a tracekit error with :func:`translate_error`).

    >>> is_botocore_error(ValueError("x"))
    False
    """
    return type(exc).__module__.startswith("botocore")


#: botocore service names -> the names AWS's documentation uses, for messages
_SERVICE_NAMES = {"xray": "X-Ray", "logs": "CloudWatch Logs", "cloudwatch": "CloudWatch"}


def _http_status(response: Any) -> int | None:
    """The HTTP status of a botocore error response (None when it does not say)."""
    meta = response.get("ResponseMetadata") if isinstance(response, dict) else None
    status = meta.get("HTTPStatusCode") if isinstance(meta, dict) else None
    return status if isinstance(status, int) else None


def _attempts(response: Any) -> str | None:
    """How many times botocore asked before giving up, for a message: ``"3 attempts (the first and 2 retries; the
    retry budget max_attempts=2 is spent)"``; None when it asked once or does not say (a Stubber's answer).

    >>> _attempts({"ResponseMetadata": {"RetryAttempts": 2, "MaxAttemptsReached": True}})
    '3 attempts (the first and 2 retries; the retry budget max_attempts=2 is spent)'
    """
    meta = response.get("ResponseMetadata") if isinstance(response, dict) else None
    retries = meta.get("RetryAttempts") if isinstance(meta, dict) else None
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 1:
        return None
    spent = f"; the retry budget max_attempts={retries} is spent" if meta.get("MaxAttemptsReached") else ""
    return f"{retries + 1} attempts (the first and {plural(retries, 'retry', 'retries')}{spent})"


def translate_error(exc: BaseException, *, client: Any = None, operation: str | None = None,
                    cache_dir: Any = None, region: str | None = None,
                    endpoint_url: str | None = None, where: str | None = None) -> TraceKitError:
    """Turn a botocore exception into a tracekit error whose message says what to do, secrets scrubbed.

    Parameters
    ----------
    exc : BaseException
        What botocore raised.
    client : boto3 client, optional
        Its credentials are scrubbed from the message.
    operation : str, optional
        The API called (when the exception does not say).
    cache_dir : path, optional
        Where the fetched pages are kept; the message says how to resume from it.
    region : str, optional
        Named in connection errors.
    endpoint_url : str, optional
        Its password and query values are scrubbed too.
    where : str, optional
        What the call was about, said after the operation (``"for log group '/aws/lambda/pay'"``): AWS's own
        message may not say it ("The specified log group does not exist.").

    Returns
    -------
    TraceKitError
        An :class:`XRayFetchError` subclass (or a :class:`tracekit.errors.TraceKitError`).

    Examples
    --------
    >>> import botocore.exceptions as bex
    >>> err = translate_error(bex.EndpointConnectionError(endpoint_url="http://u:pw@127.0.0.1:9/"), region="eu-west-1")
    >>> type(err).__name__, "pw" in str(err)
    ('XRayConnectionError', False)
    """
    import botocore.exceptions as bex

    secrets = (_secrets_of(client) if client is not None else []) + url_secrets(endpoint_url)
    kept = (f" What was fetched so far is in {str(cache_dir)!r}; call again with the same cache_dir to resume."
            if cache_dir is not None else "")
    cdir = str(cache_dir) if cache_dir is not None else None
    if isinstance(exc, bex.ClientError):
        err = exc.response.get("Error", {}) if isinstance(exc.response, dict) else {}
        code = str(err.get("Code") or "Unknown")
        msg = scrub(str(err.get("Message") or ""), secrets)
        op = operation or getattr(exc, "operation_name", None) or "?"
        tries = _attempts(exc.response)
        if code in _AUTH_CODES:
            cls, hint = XRayAuthError, ("the AWS credentials are expired or invalid; refresh them "
                                        "(e.g. `aws sso login`, new session token) and retry.")
        elif code in _PERMISSION_CODES:
            cls, hint = XRayPermissionError, (f"the credentials lack permission "
                                              f"{_OP_ACTIONS.get(op, op)!r}; see tracekit.aws.IAM_PERMISSIONS.")
        elif code in _THROTTLE_CODES or _http_status(exc.response) == _THROTTLE_STATUS:
            cls, hint = XRayThrottledError, ("still throttled after " + (tries or "botocore's adaptive retries") + "; "
                                             + ("lower max_workers or raise max_attempts" if op in _PARALLEL_OPS
                                                else "raise max_attempts") + _CLI_FLAGS.get(op, "")
                                             + ("." if op in _PARALLEL_OPS else " or retry later."))
        elif code in {"InvalidRequestException", "ValidationException", "InvalidParameterException"}:
            cls, hint = XRayRequestError, "AWS rejected the request parameters."
        else:
            # a 5xx retried until the budget was spent read as if asked once
            cls, hint = XRayFetchError, f"AWS returned an error{f' after {tries}' if tries else ''}."
        if code == "ResourceNotFoundException" and where:
            hint = f"check the name and the region ({region or region_of(client)!r})."
        reason = f"{op}{f' {where}' if where else ''} failed with {code}: {msg} -- {hint}"
        return cls(reason + kept, code=code, operation=op, reason=reason, cache_dir=cdir)
    if isinstance(exc, bex.NoCredentialsError):
        reason = "no AWS credentials found (environment, profile, SSO or instance role); configure them and retry."
        return XRayAuthError(reason + kept, code="NoCredentials", operation=operation, reason=reason, cache_dir=cdir)
    if isinstance(exc, bex.NoRegionError):
        return XRayRegionError("no AWS region given: pass region= (or set AWS_REGION / a profile region).",
                               code="NoRegion", operation=operation)
    if isinstance(exc, (bex.EndpointConnectionError, bex.ConnectTimeoutError, bex.ReadTimeoutError)):
        where = scrub(str(getattr(exc, "kwargs", {}).get("endpoint_url") or exc), secrets)
        meta = getattr(client, "meta", None)  # the client says which service and region it called
        service = _SERVICE_NAMES.get(getattr(getattr(meta, "service_model", None), "service_name", "xray"), "AWS")
        region = region or getattr(meta, "region_name", None)
        reason = (f"could not reach the {service} endpoint ({where}) in region {region!r}; check the region and "
                  "the network.")
        return XRayConnectionError(reason + kept, code=type(exc).__name__, operation=operation, reason=reason,
                                   cache_dir=cdir)
    reason = f"{operation or 'AWS call'} failed: {scrub(str(exc), secrets)}"
    return XRayFetchError(reason + kept, code=type(exc).__name__, operation=operation, reason=reason,
                          cache_dir=cdir)


# --------------------------------------------------------------------------------------------- clients

_REGION_RE = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+$")


def _known_regions(service: str) -> set[str]:
    import botocore.session

    s = botocore.session.get_session()
    out: set[str] = set()
    for part in s.get_available_partitions():
        out.update(s.get_available_regions(service, partition_name=part))
    return out


def _check_region(region: str | None, service: str, endpoint_url: str | None) -> None:
    if region is None:
        return
    if not _REGION_RE.match(region):
        raise XRayRegionError(f"{region!r} is not an AWS region name (expected e.g. 'eu-west-1').", code="BadRegion")
    if endpoint_url is None:
        known = _known_regions(service)
        if region not in known:
            import difflib

            close = difflib.get_close_matches(region, sorted(known), n=3)
            raise XRayRegionError(
                f"unknown region {region!r}: {service} has no endpoint there in this botocore"
                + (f" (did you mean {', '.join(close)}?)" if close else "")
                + "; for a brand-new region pass endpoint_url= explicitly.", code="UnknownRegion")


class _BareThrottleRetry:
    """A ``needs-retry`` handler: retry an HTTP 429 whose error code botocore does not know as throttling (a proxy's
    or a gateway's 429, an HTML body) with botocore's backoff (random, doubling, at most 20 s) within the same total
    of attempts; botocore's own retries answer every other response first (their handler runs first, and a 429 it
    knows as throttling is left to it). botocore retried such a 429 zero times."""

    def __init__(self, total_attempts: int):
        from botocore.retries.standard import RetryEventAdapter, ThrottlingErrorDetector

        self.total_attempts = total_attempts
        self._known = ThrottlingErrorDetector(RetryEventAdapter())

    def __call__(self, **kwargs: Any) -> float | None:
        import random

        response, attempts = kwargs.get("response"), kwargs.get("attempts") or 1
        if response is None or getattr(response[0], "status_code", None) != _THROTTLE_STATUS:
            return None
        if attempts >= self.total_attempts or self._known.is_throttling_error(**kwargs):
            return None
        return min(20.0, random.random() * 2 ** (attempts - 1))


def _check_beside_client(client: Any, service: str, *, session: Any, region: str | None, profile: str | None,
                         endpoint_url: str | None) -> None:
    """Refuse what a given client makes meaningless: it is used as is, so a session or profile beside it was silently
    unused, and a region or endpoint other than its own was recorded (attrs, the cache's source) as where the data
    came from while the calls went to the client's."""
    from ..errors import ArgumentError

    unused = [n for n, v in (("session", session), ("profile", profile)) if v is not None]
    if unused:
        raise ArgumentError(f"{service} client given with {' and '.join(unused)}: the client is used as is; give "
                            f"the client, or {' / '.join(unused)} to make one, not both")
    own = region_of(client)
    if region is not None and own is not None and region != own:
        raise ArgumentError(f"the {service} client given talks to region {own!r}, not region={region!r}: give the "
                            "client alone, or a client of that region")
    meta_url = getattr(getattr(client, "meta", None), "endpoint_url", None)
    if endpoint_url is not None and isinstance(meta_url, str) and endpoint_url.rstrip("/") != meta_url.rstrip("/"):
        raise ArgumentError(f"the {service} client given calls {redact_url(meta_url)!r}, not endpoint_url="
                            f"{redact_url(endpoint_url)!r}: give the client alone, or a client of that endpoint")


def make_client(service: str, *, client: Any = None, session: Any = None, region: str | None = None,
                profile: str | None = None, endpoint_url: str | None = None, max_attempts: int = 8,
                pool: int = 10) -> Any:
    """A boto3 client: the one given, or one from ``session`` / a new session (region/profile).

    Made clients use botocore's adaptive retries (``max_attempts``) and a connection pool of at least
    ``pool``. Errors never show the password or query values of ``endpoint_url``.

    Parameters
    ----------
    service : str
        The boto3 service name (``"xray"``, ``"lambda"`` …).
    client : boto3 client, optional
        Returned as is when given (a ``session`` or ``profile`` beside it, or a ``region`` or ``endpoint_url`` other
        than its own, is an ArgumentError).
    session : boto3 Session, optional
        Makes the client; otherwise a new session from ``profile``/``region``.
    region, profile, endpoint_url : str, optional
        Where to connect; ``region`` is checked against botocore's endpoints unless ``endpoint_url`` is given.
    max_attempts : int
        botocore's retry budget per call.
    pool : int
        Connections kept open (parallel calls share one client).

    Returns
    -------
    boto3 client

    Raises
    ------
    tracekit.errors.ArgumentError
        A ``client`` with a session or profile, or with a region or endpoint other than its own.
    XRayRegionError
        No region, or a malformed or unknown one.
    XRayRequestError
        botocore rejects ``endpoint_url``.

    Examples
    --------
    >>> make_client("xray", region="eu-west-1", endpoint_url="http://me:hunter2@[::1")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tracekit.aws.client.XRayRequestError: could not make a xray client for endpoint_url 'http://***@[::1': ...
    """
    if client is not None:
        _check_beside_client(client, service, session=session, region=region, profile=profile,
                             endpoint_url=endpoint_url)
        return client
    # a whole number of retries: "3" was a bare TypeError, 2.5 a budget of 3.5 attempts, -1 an error naming the
    # endpoint_url
    max_attempts = count_arg(max_attempts, "max_attempts", "make_client")
    boto3 = require("boto3", "aws")
    import botocore.exceptions as bex
    from botocore.config import Config

    try:
        _check_region(region, service, endpoint_url)
        if session is None:
            session = boto3.session.Session(profile_name=profile, region_name=region) if profile else \
                boto3.session.Session(region_name=region)
        cfg = Config(retries={"mode": "adaptive", "max_attempts": max_attempts}, max_pool_connections=max(pool, 10),
                     user_agent_extra="tracekit")
        made = session.client(service, region_name=region, endpoint_url=endpoint_url, config=cfg)
        made.meta.events.register("needs-retry", _BareThrottleRetry(max_attempts + 1))
        return made
    except bex.ProfileNotFound as exc:  # --profile / AWS_PROFILE naming no profile of the AWS config files
        name = getattr(exc, "kwargs", {}).get("profile", profile)
        raise XRayAuthError(f"AWS profile {name!r} not found in the AWS config or credentials files; check the "
                            "profile name (profile= / --profile / AWS_PROFILE) or run `aws configure list-profiles`.",
                            code="ProfileNotFound") from None
    except bex.NoRegionError as exc:
        raise translate_error(exc) from None
    except (ValueError, bex.BotoCoreError) as exc:  # e.g. "Invalid endpoint: <the whole URL>"
        secrets = url_secrets(endpoint_url)
        reason = (f"could not make a {service} client for endpoint_url {scrub(str(endpoint_url), secrets)!r}: "
                  f"{scrub(str(exc), secrets)}")
        raise XRayRequestError(reason, code=type(exc).__name__) from None


def _access_key_id(client: Any) -> str | None:
    """The access key id a boto3 client signs with (None when it has none); never stored or shown as is."""
    try:
        creds = client._request_signer._credentials  # noqa: SLF001 - read-only
        frozen = creds.get_frozen_credentials() if creds is not None else None
    except Exception:
        return None
    return getattr(frozen, "access_key", None) or None


_STS_SESSION: list[Any] = []
_STS_LOCK = threading.Lock()


def _account_of(client: Any, endpoint_url: str | None) -> str | None:
    """The AWS account of a client's credentials by STS GetCallerIdentity (one call, no IAM permission needed),
    at ``endpoint_url`` when one is given; None when it cannot be known (no network, an endpoint without STS)."""
    try:
        boto3 = require("boto3", "aws")
        from botocore.config import Config

        frozen = client._request_signer._credentials.get_frozen_credentials()  # noqa: SLF001 - passed on, not kept
        with _STS_LOCK:  # one session (its loaded service models) for every STS client: a new one cost ~0.3 s
            if not _STS_SESSION:
                _STS_SESSION.append(boto3.session.Session())
            session = _STS_SESSION[0]
        sts = session.client(
            "sts", region_name=region_of(client), endpoint_url=endpoint_url, aws_access_key_id=frozen.access_key,
            aws_secret_access_key=frozen.secret_key, aws_session_token=frozen.token,
            config=Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=3, read_timeout=5))
        account = sts.get_caller_identity().get("Account")
    except Exception:
        return None
    return str(account) if account else None


def source_of(client: Any, *, profile: str | None = None, endpoint_url: str | None = None,
              ask_account: bool = False) -> dict[str, str | None]:
    """What identifies where a client's answers come from, for a cache: region, endpoint, account, profile, key.

    ``account`` is asked of STS (``ask_account``; one GetCallerIdentity call); ``key_sha256`` is the first 16 hex
    of the SHA-256 of a long-term access key id (``AKIA…``; a temporary one changes with every session, so it
    identifies no account). Neither the key id nor the secret is ever part of it.

    Parameters
    ----------
    client : boto3 client
        The client of the fetch.
    profile : str, optional
        The profile name it was made from.
    endpoint_url : str, optional
        The endpoint it was made for (STS is asked there too).
    ask_account : bool
        Ask STS for the account.

    Returns
    -------
    dict
        ``region``, ``endpoint`` (redacted), ``account``, ``profile``, ``key_sha256`` (each None when unknown).

    Examples
    --------
    >>> import boto3
    >>> c = boto3.client("xray", region_name="eu-west-1", aws_access_key_id="AKIAEXAMPLE123456789",
    ...                  aws_secret_access_key="x")
    >>> src = source_of(c)
    >>> src["region"], src["endpoint"], src["account"], len(src["key_sha256"]), "AKIA" in str(src)
    ('eu-west-1', 'https://xray.eu-west-1.amazonaws.com', None, 16, False)
    """
    import hashlib

    key = _access_key_id(client)
    meta = getattr(client, "meta", None)
    return {
        "region": region_of(client),
        "endpoint": redact_url(endpoint_url or getattr(meta, "endpoint_url", None)),
        "account": _account_of(client, endpoint_url) if ask_account else None,
        "profile": profile,
        "key_sha256": hashlib.sha256(key.encode()).hexdigest()[:16] if key and key.startswith("AKIA") else None,
    }


def source_difference(old: Mapping[str, Any], new: Mapping[str, Any]) -> str | None:
    """How two :func:`source_of` records name different sources (None when they may be the same one).

    Region and endpoint must be equal; then the accounts when both are known (profiles and keys of one account
    read the same traces), else the long-term keys and the profile names where both are known.

    >>> a = {"region": "eu-west-1", "endpoint": None, "account": "111111111111", "profile": "a", "key_sha256": None}
    >>> source_difference(a, {**a, "profile": "b"}) is None
    True
    >>> source_difference(a, {**a, "account": "222222222222"})
    'account 111111111111 in the cache, 222222222222 now'
    """
    names = {"region": "region", "endpoint": "endpoint", "account": "account", "key_sha256": "access key id "
             "(SHA-256)", "profile": "profile"}
    keys = ["region", "endpoint"] + (["account"] if old.get("account") and new.get("account")
                                     else ["key_sha256", "profile"])
    for k in keys:
        a, b = old.get(k), new.get(k)
        if k in ("region", "endpoint") or (a is not None and b is not None):
            if a != b:
                return (f"{names[k]} {a} in the cache, {b} now" if k != "key_sha256"
                        else "another long-term access key id than the cache's")
    return None


def redact_url(url: str | None) -> str | None:
    """An endpoint URL without its user:password part and query values, fit for the manifest and attrs.

    Parameters
    ----------
    url : str or None
        The endpoint URL as given.

    Returns
    -------
    str or None
        The URL with the user info dropped and every query value replaced by ``***``.

    Examples
    --------
    >>> redact_url("http://user:pa55@127.0.0.1:4566/x")
    'http://127.0.0.1:4566/x'
    """
    if not url:
        return url
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # not parseable: keep what the pattern can clean
        return scrub(url)
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    if "@" not in parts.netloc:
        netloc = parts.netloc
    query = _QUERY_VALUE_RE.sub(r"\1***", "?" + parts.query)[1:] if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def region_of(client: Any) -> str | None:
    """The region a boto3 client talks to (None when it has none).

    >>> region_of(object()) is None
    True
    """
    try:
        return client.meta.region_name
    except AttributeError:
        return None



def follow_pages(pages: Iterable[Mapping[str, Any]], *, operation: str,
                 token: str = "NextToken") -> Iterator[Mapping[str, Any]]:
    """Each page of one paged AWS answer, stopping with an error when the server hands back a ``token`` it gave
    before in this answer: following it again would loop for ever.

    botocore's paginators refuse a token repeated by the very next page only (A, A); a server cycling A, B, A …
    paged without end, and a loop of plain calls (GetMetricData) had no check at all. The page holding the
    repeated token is still yielded; the request it names is never made.

    Parameters
    ----------
    pages : iterable of dict
        The raw pages, requested lazily (a botocore paginator, or a generator of calls).
    operation : str
        The API called, named in the error.
    token : str
        The pages' output token key (``"NextToken"``; CloudWatch Logs: ``"nextToken"``).

    Yields
    ------
    dict
        Each page, in order.

    Raises
    ------
    XRayFetchError
        ``code="RepeatedNextToken"``: a page's token was seen before.

    Examples
    --------
    >>> list(follow_pages([{"NextToken": "a"}, {"NextToken": "b"}, {}], operation="GetMetricData"))
    [{'NextToken': 'a'}, {'NextToken': 'b'}, {}]
    >>> list(follow_pages([{"NextToken": "a"}, {"NextToken": "b"}, {"NextToken": "a"}], operation="GetMetricData"))
    Traceback (most recent call last):
    ...
    tracekit.aws.client.XRayFetchError: GetMetricData paged in a loop: page 3 handed back the NextToken of page 1; stopped there instead of asking the same pages again (retry later, or narrow the query).
    """
    first_page: dict[Any, int] = {}
    for i, page in enumerate(pages, start=1):
        yield page
        t = page.get(token) if isinstance(page, Mapping) else None
        if not t:
            continue
        if t in first_page:
            raise XRayFetchError(f"{operation} paged in a loop: page {i} handed back the {token} of page "
                                 f"{first_page[t]}; stopped there instead of asking the same pages again (retry "
                                 "later, or narrow the query).", code="RepeatedNextToken", operation=operation)
        first_page[t] = i
