"""The wheel (what the Dockerfile installs) carries every non-Python file the services read:
configuration, Alembic histories, templates and the sentiment model."""

import subprocess
import sys
import zipfile
from pathlib import Path

from civicpulse.settings import SERVICES, STATELESS
from tests.conftest import ROOT

DATA_PATTERNS = ("services/*/config/*.yaml", "services/*/migrations/*.py",
                 "services/*/migrations/*.mako", "services/*/migrations/versions/*.py",
                 "services/**/templates/*.html", "services/sentiment/model/*.ftz",
                 "services/sentiment/model/*.json")


def test_wheel_contains_every_data_file(tmp_path: Path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("civicpulse-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {str(p.relative_to(ROOT)) for pattern in DATA_PATTERNS for p in ROOT.glob(pattern)
                if "__pycache__" not in p.parts}
    assert expected, "no data files found: patterns out of date"
    missing = sorted(expected - names)
    assert not missing, f"the wheel lacks {missing}"
    for service in SERVICES:  # every service the launcher starts, identity included
        assert f"services/{service}/config/nameko.yaml" in names, service
        assert service in STATELESS or any(
            n.startswith(f"services/{service}/migrations/versions/0001_") for n in names), service
    assert "services/identity/config/identity.yaml" in names
