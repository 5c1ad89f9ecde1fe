from lxml import etree

from supportbox.xml.writer import (
    E,
    close_root,
    document,
    error_document,
    open_root,
    render,
)

NS = "http://www.bomgar.com/namespaces/API/command"


def test_a_document_has_the_declaration_a_blank_line_and_tab_indentation() -> None:
    root = E("health_check")
    root.add("appliance", "host-1", id="abc")
    root.add("success", 1)
    assert document(root, NS) == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "\n"
        f'<health_check xmlns="{NS}">\n'
        '\t<appliance id="abc">host-1</appliance>\n'
        "\t<success>1</success>\n"
        "</health_check>\n"
    )


def test_an_error_document_matches_the_recorded_bytes() -> None:
    assert error_document("Invalid session.", NS) == (
        '<?xml version="1.0" encoding="UTF-8"?>\n\n'
        f'<error xmlns="{NS}">Invalid session.</error>\n'
    )


def test_no_namespace_leaves_the_root_bare() -> None:
    assert "<error>Login failed</error>" in error_document("Login failed", "")


def test_empty_elements_open_and_close_unless_short() -> None:
    root = E("event", attrs={"event_type": "Session End"})
    assert render(root, 0) == '<event event_type="Session End"></event>\n'
    assert render(E("value", None, {"name": "a", "value": "b"}, short=True), 0) == (
        '<value name="a" value="b" />\n'
    )


def test_hostile_text_cannot_break_the_document() -> None:
    nasty = 'a</body><x y="1">&amp;\x00\x1b"\'<!-- ]]>\ud800'
    root = E("session_list")
    session = root.add("session", lsid=nasty)
    session.add("body", nasty)
    parsed = etree.fromstring(document(root, NS).encode())
    body = parsed.find(f"{{{NS}}}session/{{{NS}}}body")
    assert body is not None
    assert body.text == 'a</body><x y="1">&amp;"\'<!-- ]]>'


def test_a_streamed_document_is_the_same_as_a_whole_one() -> None:
    child = E("session_summary", short=True, attrs={"lsid": "1"})
    whole = document(E("session_summary_list", children=[child]), NS)
    streamed = (
        open_root("session_summary_list", NS)
        + render(child)
        + close_root("session_summary_list")
    )
    assert streamed == whole
