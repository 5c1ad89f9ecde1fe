"""Prints how to reach a freshly started demo server (used by `make run`)."""

import argparse
import json
import os
import sys
from pathlib import Path

from supportbox.errors import ConfigError
from supportbox.server import check_address


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default="./data")
    # As `supportbox serve`: the flags, else the settings' variables.
    parser.add_argument(
        "--host", default=os.environ.get("SUPPORTBOX_HOST", "127.0.0.1")
    )
    parser.add_argument("--port", default=os.environ.get("SUPPORTBOX_PORT", "8080"))
    args = parser.parse_args()
    # Said before the banner, which would announce a server that cannot start.
    try:
        check_address(args.host, int(args.port))
    except (ConfigError, ValueError) as exc:
        sys.exit(f"supportbox: error: {exc} (choose another: make run PORT=8081)")

    base = f"http://{args.host}:{args.port}"
    print()
    print(f"supportbox is starting on {base}")
    print(f"  public site          {base}/")
    print(f"  representative       {base}/console")
    print(f"  administrator        {base}/login")
    print(f"  API                  {base}/api/command, /api/reporting, /oauth2/token")
    print(f"  health               {base}/check_health")
    path = Path(args.data_dir) / "demo-credentials.json"
    if not path.exists():
        print()
        return
    demo = json.loads(path.read_text())
    print()
    print("demo logins (from " + str(path) + "):")
    admin = demo["admin"]
    print(f"  administrator        {admin['username']} / {admin['password']}")
    for rep in demo["reps"]:
        print(f"  representative       {rep['username']} / {rep['password']}")
    api = demo["api"]
    print("demo API account (every permission):")
    print(f"  client_id            {api['client_id']}")
    print(f"  client_secret        {api['client_secret']}")
    print()
    print("get a token:")
    print(
        f"  curl -s -u {api['client_id']}:{api['client_secret']} "
        f"-d grant_type=client_credentials {base}/oauth2/token"
    )
    print()


if __name__ == "__main__":
    main()
