"""Session 41, PII and redaction (tracekit/analysis/pii.py and what reports write): credentials the built-in
patterns and key names missed, each seeded by construction and checked gone after redact / redact_text, and the
near-misses that must stay readable."""

import pytest

import tracekit as tk

T1 = "0" * 31 + "1"


def frame(attrs, **cols):
    n = len(attrs)
    return tk.spans_from_columns({
        "trace_id": [T1] * n, "span_id": [f"{i + 1:016x}" for i in range(n)], "service": ["api"] * n,
        "name": ["x"] * n, "start": [0] * n, "end": [1] * n, "attributes": attrs, **cols})


# text -> (the secret it holds, what a masked redaction leaves)
CREDENTIALS = {
    "postgres://admin:S3cretPass@db:5432/app": ("S3cretPass", "postgres://****@db:5432/app"),
    "amqp://guest:guestpw1@rabbit:5672/": ("guestpw1", "amqp://****@rabbit:5672/"),
    "reset link https://shop.example/reset?token=8f7e6d5c4b3a2910 sent": ("8f7e6d5c4b3a2910",
                                                                         "reset link https://shop.example/reset?**** sent"),
    "GET /b/k?X-Amz-Security-Token=IQoJb3JpZ2luX2VjEJr%2F%2Fabc&X-Amz-Signature=0123456789abcdef0123":
        ("IQoJb3JpZ2luX2VjEJr%2F%2Fabc", "GET /b/k?X-Amz-Security-****&X-Amz-****"),
    "https://x.blob.core.windows.net/c?sv=2020&sig=AbCdEf123456%2BxyZ": ("AbCdEf123456", "https://x.blob.core.windows.net/c?sv=2020&****"),
    "https://app.example/cb?session_id=8f7e6d5c4b3a2910": ("8f7e6d5c4b3a2910", "https://app.example/cb?****"),
    "Authorization: Token abcdef1234567890": ("abcdef1234567890", "****"),
    'Authorization: Digest username="ann.smith", response="6629fae4939"': ("ann.smith", "****"),
    '{"headers": {"Authorization": "Token abcdef1234567890"}, "Host": "x"}': ("abcdef1234567890",
                                                                              '{"headers": {"****"}, "Host": "x"}'),
    "Cookie: session=abcdef1234567890; theme=dark": ("abcdef1234567890", "****"),
}
NOT_CREDENTIALS = ["max_tokens: 4096", "total_tokens=12345678", "token_count=12345678", "signature: valid",
                   "https://host:8080/x@y", "secretsmanager:GetSecretValue", "api_key_id=12"]


@pytest.fixture(scope="module")
def cred_frame():
    return frame([{"m": v} for v in [*CREDENTIALS, *NOT_CREDENTIALS]])


def test_credentials_in_urls_and_written_headers_are_found_and_redacted(cred_frame):
    """A connection string's password (host a bare name), a query string's token=, session_id=, sig=,
    X-Amz-Security-Token= (a value with %2F), an Authorization header of the Token or Digest scheme and a Cookie
    header written out in a text: 10 of 10 were found by no built-in pattern and stayed readable after the
    default redact. Now each is found and its secret gone; 7 near-misses stay as they were."""
    vals = [*CREDENTIALS, *NOT_CREDENTIALS]
    f = tk.find_pii(cred_frame, keys=())
    assert {vals[int(s, 16) - 1] for s in f["span_id"]} == set(CREDENTIALS)
    red = tk.redact(cred_frame, method="mask")
    got = [a["m"] for a in red["attributes"]]
    assert got == [masked for _, masked in CREDENTIALS.values()] + NOT_CREDENTIALS
    for (secret, _), text in zip(CREDENTIALS.values(), got[:len(CREDENTIALS)], strict=True):
        assert secret not in text
    assert tk.find_pii(tk.redact(cred_frame)).empty
    for text, (_, masked) in CREDENTIALS.items():
        assert tk.redact_text(text, method="mask") == masked
    # a Bearer or Basic credential is its own pattern's: the header's name stays
    assert tk.redact_text("Authorization: Basic dXNlcjpodW50ZXIy", method="mask") == "Authorization: ****"
    assert tk.redact_text('{"Authorization": "Bearer abcdef1234567890"}', method="mask") == '{"Authorization": "****"}'


CREDENTIAL_KEYS = {"x-api-key": "k1", "proxy-authorization": "k2", "X_API_KEY": "k3", "password": "k4",
                   "db.password": "k5", "api_key": "k6", "client_secret": "k7", "aws_secret_access_key": "k8"}
PLAIN_KEYS = {"password_reset_url": "https://x", "secret_name": "prod/db", "api_key_id": "12", "token_count": "5"}


def test_credential_named_keys_are_secrets_whatever_their_value():
    """Top-level 'x-api-key' and 'proxy-authorization' were credentials only under a dot ('*.x-api-key'), while
    'authorization' and 'cookie' were listed bare; keys named for a credential (password, db.password, api_key,
    client_secret) were not looked at: 8 of 8 short values were not found and stayed after the default redact.
    Now each is a secret_key and replaced; keys that only start with such a word stay."""
    s = frame([{**CREDENTIAL_KEYS, **PLAIN_KEYS}])
    f = tk.find_pii(s)
    assert set(f.loc[f["kind"] == "secret_key", "key"]) == set(CREDENTIAL_KEYS)
    assert f["kind"].isin(["secret_key"]).all()
    out = tk.redact(s, method="mask").loc[0, "attributes"]
    assert {k: out[k] for k in CREDENTIAL_KEYS} == dict.fromkeys(CREDENTIAL_KEYS, "****")
    assert {k: out[k] for k in PLAIN_KEYS} == PLAIN_KEYS
    assert s.loc[0, "attributes"] == {**CREDENTIAL_KEYS, **PLAIN_KEYS}  # the input is not modified


def test_a_logs_or_metrics_frames_host_is_scanned_and_redacted_as_its_resource():
    """A logs or metrics frame's host column (a host named by its address, a mailbox) was neither scanned by find_pii
    nor redacted, while the same address in the record's resource host.name was: after redact the host column still
    read '10.1.2.3' beside its resource's token, and the frames no longer joined by host. Now 2 of 2 hosts are found
    and replaced, the address by the same token as its resource's."""
    lg = tk.logs_from_columns({"time": [0, 1], "body": ["a", "b"], "service": ["api", "api"],
                               "host": ["10.1.2.3", "ann@example.com"], "resource": [{"host.name": "10.1.2.3"}, {}]})
    f = tk.find_pii(lg)
    assert sorted(f.loc[f["location"] == "host", "kind"]) == ["email", "ipv4"]
    r = tk.redact(lg, salt="s")
    assert r.loc[0, "host"] == r.loc[0, "resource"]["host.name"] != "10.1.2.3"
    assert "ann@example.com" not in r.loc[1, "host"]
    assert str(r["host"].dtype) == str(lg["host"].dtype) and lg["host"].tolist() == ["10.1.2.3", "ann@example.com"]
    m = tk.metrics_from_columns({"time": [0], "name": ["cpu"], "value": [1.0], "service": ["api"], "host": ["10.1.2.3"]})
    assert tk.redact(m, salt="s").loc[0, "host"] == r.loc[0, "host"]
    assert tk.find_pii(tk.redact(m)).empty and not tk.find_pii(m).empty


def test_a_percent_encoded_local_part_is_taken_whole():
    """A query string's e-mail with an escape in its local part (ann.smith%2Bshop%40example.com, as
    encodeURIComponent writes a '+' address) was matched from after the escape: redact left 'ann.smith%' readable,
    the person's name. Now the address is one token; a '%' that is no escape still ends the local part."""
    texts = {"GET /signup?email=ann.smith%2Bshop%40example.com&x=1": "GET /signup?email=****&x=1",
             "/u/ann%2Esmith%40example.com": "/u/****", "a%zzann@example.com": "a%****"}
    for text, masked in texts.items():
        assert tk.redact_text(text, method="mask") == masked
    s = frame([{"m": t} for t in texts])
    assert tk.find_pii(s, keys=())["kind"].tolist() == ["email"] * 3
    assert tk.find_pii(tk.redact(s)).empty
