from civicpulse.alembic_env import run
from services.notify.db import metadata

run(metadata)
