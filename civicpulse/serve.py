"""`python -m civicpulse.serve --config services/x/config/nameko.yaml services.x.service:X`:
nameko's `run` command, without the dependency warnings nobody can act on
(`civicpulse.logs.quiet_dependencies`). The launcher and the container image start services so.
"""

from __future__ import annotations

import sys

from civicpulse.logs import quiet_dependencies


def main() -> None:
    quiet_dependencies()  # before nameko imports eventlet and pkg_resources
    from nameko.cli.main import main as nameko_main

    sys.argv = ["nameko", "run", *sys.argv[1:]]
    sys.exit(nameko_main())


if __name__ == "__main__":
    main()
