from pathlib import Path

import pytest

from supportbox import settings
from supportbox.errors import ConfigError

DOCS = Path(__file__).parent.parent / "docs" / "settings.md"


@pytest.mark.parametrize("setting", settings.SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented_with_its_flag_and_variable(
    setting: settings.Setting,
) -> None:
    row = next(
        (
            line
            for line in DOCS.read_text().splitlines()
            if line.startswith(f"| {setting.name} |")
        ),
        None,
    )
    assert row is not None, f"{setting.name} is missing from docs/settings.md"
    assert f"`{setting.flag}`" in row
    assert f"`{setting.env}`" in row


def test_defaults_are_loopback_port_8080_and_bomgar_namespaces() -> None:
    resolved = settings.load({}, {})
    assert resolved.host == "127.0.0.1"
    assert resolved.port == 8080
    assert resolved.data_dir == Path("./data")
    assert resolved.legacy_api_auth is False
    assert (
        resolved.namespace("command") == "http://www.bomgar.com/namespaces/API/command"
    )
    assert resolved.db_url.endswith("/data/supportbox.db")


def test_a_flag_beats_the_environment_which_beats_the_default() -> None:
    environ = {"SUPPORTBOX_PORT": "9000", "SUPPORTBOX_LEGACY_API_AUTH": "1"}
    assert settings.load({}, environ).port == 9000
    assert settings.load({}, environ).legacy_api_auth is True
    assert settings.load({"port": "9100"}, environ).port == 9100


def test_namespace_families() -> None:
    sra = settings.load({"xml_namespace": "beyondtrust"}, {})
    assert (
        sra.namespace("reporting")
        == "http://www.beyondtrust.com/sra/namespaces/API/reporting"
    )
    assert settings.load({"xml_namespace": "none"}, {}).namespace("command") == ""


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        ({"port": "http"}, "--port"),
        ({"xml_namespace": "acme"}, "not one of bomgar, beyondtrust, none"),
        ({"legacy_api_auth": "maybe"}, "--legacy-api-auth"),
    ],
)
def test_a_bad_value_names_where_it_came_from(flags: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        settings.load(flags, {})
