"""A redacted report says what its redaction covered and what it did not: a redacted attribute's value inside a span
name stays (redact replaces attribute values and the built-in patterns; a reviewer found 'cust-88412' 19 times in a
page redacted for enduser.id, and the page did not say so)."""
import tracekit as tk


def _spans():
    spans = tk.examples.load("checkout-small").copy()
    spans["attributes"] = [{**a, "enduser.id": "cust-88412"} for a in spans["attributes"]]
    return spans


def test_the_page_and_the_markdown_say_what_redaction_covers(tmp_path):
    out = tk.report(_spans(), tmp_path / "r.html", redact=["enduser.id"], title="t")
    page, md = out.read_text(), out.with_suffix(".md").read_text()
    assert '<p id="redaction">' in page
    for text in (page, md):
        assert "attributes whose keys match &#x27;enduser.id&#x27;" in text or "keys match 'enduser.id'" in text
        assert "Not replaced" in text and "inside a span name or status message" in text
    assert "cust-88412" not in page  # the attribute's own value is replaced


def test_no_redaction_no_words(tmp_path):
    out = tk.report(_spans(), tmp_path / "r.html", title="t")
    assert 'id="redaction"' not in out.read_text() and "Redacted before analysis" not in out.with_suffix(".md").read_text()
