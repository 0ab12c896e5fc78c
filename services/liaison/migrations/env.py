from civicpulse.alembic_env import run
from services.liaison.db import metadata

run(metadata)
