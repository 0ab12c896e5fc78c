"""Container health check: GET /healthz of the service running in this container.

The port is `<SERVICE>_HTTP_PORT` if set, else the service's default port (civicpulse.settings).
The service is `$CIVICPULSE_SERVICE`. Exit 0 when /healthz answers 200, 1 otherwise.
"""

import os
import sys
import urllib.request

DEFAULT_PORTS = {"news": 8101, "review": 8102, "sentiment": 8103, "liaison": 8104, "notify": 8105, "identity": 8106, "console": 8100}  # noqa: E501 - one line, the test reads it


def main() -> int:
    service = os.environ.get("CIVICPULSE_SERVICE", "")
    if service not in DEFAULT_PORTS:
        print(f"healthcheck: CIVICPULSE_SERVICE={service!r} is not a CivicPulse service",
              file=sys.stderr)
        return 1
    port = int(os.environ.get(f"{service.upper()}_HTTP_PORT", DEFAULT_PORTS[service]))
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as resp:
            return 0 if resp.status == 200 else 1
    except OSError as exc:
        print(f"healthcheck: {service} on :{port}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
