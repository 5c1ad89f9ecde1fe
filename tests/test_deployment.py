"""Several nodes behind nginx, as docs/deployment.md describes them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from clusterkit import NGINX, run_cluster, run_nginx
from serverkit import REDIS_URL, needs_redis
from supportbox.settings import Settings

pytestmark = [pytest.mark.redis, needs_redis, pytest.mark.slow]

needs_nginx = pytest.mark.skipif(
    not os.access(NGINX, os.X_OK),
    reason="SKIPPED: nginx is not installed (tools/install-system.sh installs it)",
)


@needs_nginx
def test_nginx_spreads_requests_over_every_node(
    demo_settings: tuple[Settings, dict[str, Any]], tmp_path: Path
) -> None:
    settings, _ = demo_settings
    with (
        run_cluster(settings.data_dir, settings.db_url, REDIS_URL) as cluster,
        run_nginx(tmp_path / "nginx", cluster.urls) as front,
    ):
        answered = {
            httpx.get(front + "/check_health").headers["X-Supportbox-Node"]
            for _ in range(10)
        }
        assert len(answered) == 2

        # A node dies: nginx sends everything to the one that is left.
        cluster.nodes[0].kill()
        statuses = {httpx.get(front + "/check_health").status_code for _ in range(6)}
        assert statuses == {200}
