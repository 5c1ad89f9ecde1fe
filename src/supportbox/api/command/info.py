"""About the server: get_api_info, check_health, get_appliances, failover."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool

from supportbox import __version__
from supportbox.api.command.call import Call
from supportbox.api.command.registry import ADMIN, ANY, FULL, READ, action
from supportbox.errors import InvalidInput, SessionStateError
from supportbox.web.health import probe
from supportbox.xml.writer import E

#: The API version reported; 1.19.0 is the recorded RS 19.1 vocabulary.
API_VERSION = "1.19.0"


@action("get_api_info", ANY)
async def get_api_info(call: Call) -> E:
    root = E("api_information")
    root.add("api_version", API_VERSION)
    root.add("company_name", call.runtime.settings.company_name)
    root.add("timestamp", int(time.time()))
    permissions = root.add("permissions")
    for name, value in call.principal.permissions.items():
        permissions.add("permission", value, name=name)
    return root


@action("check_health", READ, ADMIN)
async def check_health(call: Call) -> E:
    problem = await run_in_threadpool(probe, call.runtime)
    root = E("health_check")
    root.add("appliance", socket.gethostname(), id=call.runtime.appliance_id)
    root.add("version", f"{__version__} (supportbox)")
    root.add("success", 0 if problem else 1)
    if problem:
        root.add("error_message", problem)
    root.add("failover_role", "none")
    return root


@action("get_appliances", READ)
async def get_appliances(call: Call) -> E:
    root = E("appliances")
    appliance = root.add("appliance", id=call.runtime.appliance_id)
    appliance.add("name", socket.gethostname())
    appliance.add("public_hostname", urlsplit(call.runtime.settings.base_url).hostname)
    appliance.add("cluster_role", "single")
    appliance.add("failover_role", "none")
    appliance.add("accepting_connections", 1)
    appliance.add("timezone_offset", time.localtime().tm_gmtoff)
    return root


@action("set_failover_role", FULL, ADMIN)
async def set_failover_role(call: Call) -> E:
    call.choice("role", ("primary", "backup"), "")
    raise SessionStateError(
        "failover is not configured: supportbox runs as a single appliance "
        "(run several nodes on one database instead)"
    )


@action("import_jump_shortcuts", FULL, ADMIN)
@action("import_jump_shortcut", FULL, ADMIN)
async def import_jump_shortcut(call: Call) -> E:
    raise InvalidInput(
        "import_jump_shortcut is not supported: supportbox has no Jump Items"
    )
