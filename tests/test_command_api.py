"""The Command API's transport, framing and server actions, in each namespace."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from lxml import etree

from commandkit import DECLARATION, Api
from serverkit import LiveServer, demo_server
from supportbox.api.command.call import Call
from supportbox.api.command.registry import ACTIONS
from supportbox.xml import writer

NAMESPACES = ["bomgar", "beyondtrust", "none"]


@pytest.fixture(scope="module", params=NAMESPACES)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    base = tmp_path_factory.mktemp(f"command-{request.param}")
    with demo_server(base, xml_namespace=request.param) as server:
        yield server


@pytest.fixture(scope="module")
def api(live: LiveServer) -> Api:
    return Api.demo(live)


def test_the_namespace_is_the_configured_family(api: Api) -> None:
    family = api.live.settings.xml_namespace
    expected = {
        "bomgar": "http://www.bomgar.com/namespaces/API/command",
        "beyondtrust": "http://www.beyondtrust.com/sra/namespaces/API/command",
        "none": "",
    }[family]
    reply = api.ok("get_api_info")
    assert reply.namespace == expected
    line = reply.response.text.splitlines()[2]
    if expected:
        assert line == f'<api_information xmlns="{expected}">'
    else:
        assert line == "<api_information>"


def test_get_api_info_reports_version_company_time_and_permissions(api: Api) -> None:
    before = int(time.time())
    reply = api.ok("get_api_info")
    assert reply.tag == "api_information"
    assert reply.value("api_version") == "1.19.0"
    assert reply.value("company_name") == "supportbox"
    assert before <= int(reply.value("timestamp")) <= time.time() + 1
    permissions = {
        p.get("name"): p.text for p in reply.findall("permissions/permission")
    }
    assert next(iter(permissions)) == "perm_command"
    assert permissions["perm_command"] == "full_access"
    assert permissions["perm_reporting_support"] == "1"
    assert len(permissions) == 9


def test_the_response_is_framed_like_the_appliance(api: Api) -> None:
    response = api.send("GET", params={"action": "get_api_info"})
    lines = response.text.split("\n")
    assert lines[0] == '<?xml version="1.0" encoding="UTF-8"?>'
    assert lines[1] == ""
    assert lines[3] == "\t<api_version>1.19.0</api_version>"
    assert response.text.endswith("</api_information>\n")
    assert "no-store" in response.headers["cache-control"]


@pytest.mark.parametrize("path", ["/api/command", "/api/command.ns"])
def test_get_and_post_variants_all_reach_the_action(api: Api, path: str) -> None:
    sent = {"action": "get_api_info"}
    variants = [
        api.send("GET", path=path, params=sent),
        api.send("POST", path=path, data=sent),
        api.send("POST", path=path, files={"action": (None, "get_api_info")}),
        api.send("POST", path=path, params=sent),  # query string, empty body
    ]
    for response in variants:
        assert api.check(response).tag == "api_information"


def test_a_body_value_beats_the_query_string(api: Api) -> None:
    response = api.send(
        "POST", params={"action": "nothing"}, data={"action": "get_api_info"}
    )
    assert api.check(response).tag == "api_information"


def test_an_empty_query_on_the_ns_alias_answers_an_error(api: Api) -> None:
    response = api.send("GET", path="/api/command.ns?")
    reply = api.check(response)
    assert reply.tag == "error"
    assert reply.text == "parameter action is required"


def test_an_unknown_action_answers_an_error_document(api: Api) -> None:
    assert api.error("make_coffee") == "unknown action 'make_coffee'"


def test_an_error_document_is_byte_exact(api: Api) -> None:
    response = api.send("GET", params={"action": "make_coffee"})
    ns = api.namespace
    opening = f'<error xmlns="{ns}">' if ns else "<error>"
    expected = f"{DECLARATION}{opening}unknown action 'make_coffee'</error>\n"
    assert response.text == expected


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"action=%FF%FE", "application/x-www-form-urlencoded"),
        (b"--x\r\nbroken", "multipart/form-data; boundary=x"),
        (b"\xff\xfe", "application/x-www-form-urlencoded"),
        (b"{broken", "application/json"),
    ],
    ids=["bad utf8 escape", "broken multipart", "raw bytes", "broken json"],
)
def test_an_unreadable_body_answers_an_error_not_a_500(
    api: Api, content: bytes, content_type: str
) -> None:
    response = api.send("POST", content=content, headers={"content-type": content_type})
    reply = api.check(response)
    assert reply.tag == "error"


def test_a_too_large_body_answers_an_error(api: Api) -> None:
    response = api.send("POST", data={"action": "get_api_info", "x": "a" * 1_100_000})
    assert api.check(response).text.startswith("the request body is larger")


def test_check_health_answers_like_the_recorded_appliance(api: Api) -> None:
    reply = api.ok("check_health")
    assert reply.tag == "health_check"
    appliance = reply.find("appliance")
    assert appliance.get("id") == api.live.runtime.appliance_id
    assert appliance.text
    assert reply.value("success") == "1"
    assert reply.value("failover_role") == "none"
    assert reply.findall("error_message") == []


def test_get_appliances_lists_this_single_appliance(api: Api) -> None:
    reply = api.ok("get_appliances")
    [appliance] = reply.findall("appliance")
    assert appliance.get("id") == api.live.runtime.appliance_id
    assert reply.value("public_hostname", appliance) == "127.0.0.1"
    assert reply.value("cluster_role", appliance) == "single"
    assert reply.value("failover_role", appliance) == "none"
    assert reply.value("accepting_connections", appliance) == "1"
    int(reply.value("timezone_offset", appliance))


def test_set_failover_role_says_failover_is_not_configured(api: Api) -> None:
    assert "failover is not configured" in api.error("set_failover_role", role="backup")
    assert api.error("set_failover_role") == "parameter role is required"
    assert "not one of" in api.error("set_failover_role", role="boss")


@pytest.mark.parametrize("name", ["import_jump_shortcut", "import_jump_shortcuts"])
def test_import_jump_shortcut_is_clearly_not_supported(api: Api, name: str) -> None:
    assert "not supported" in api.error(name, name="x", hostname="h")


def test_the_xsd_is_served_and_is_a_valid_schema(api: Api) -> None:
    with api.live.http() as http:
        response = http.get("/api/command.xsd")
    assert response.status_code == 200
    schema = etree.XMLSchema(etree.fromstring(response.content))
    assert schema is not None
    if api.namespace:
        assert f'targetNamespace="{api.namespace}"' in response.text
    else:
        assert "targetNamespace" not in response.text


def test_unicode_digits_in_an_id_answer_an_error_document(api: Api) -> None:
    assert api.error("logout_rep", user_id="²").startswith("parameter user_id must")
    assert "'²' is not a positive" in api.error(
        "generate_session_key", type="support", queue_id="rep:²"
    )


def test_a_crashing_action_answers_a_generic_error_and_logs_it(
    api: Api,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def crash(call: Call) -> writer.E:
        raise RuntimeError("secret detail")

    action = ACTIONS["get_api_info"]
    monkeypatch.setitem(ACTIONS, "get_api_info", replace(action, run=crash))
    with caplog.at_level(logging.ERROR, logger="supportbox"):
        text = api.error("get_api_info")
    assert "secret detail" not in text
    assert text.startswith("the server could not complete")
    assert any(r.exc_info for r in caplog.records if r.levelno == logging.ERROR)
