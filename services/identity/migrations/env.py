from civicpulse.alembic_env import run
from services.identity.db import metadata

run(metadata)
