# syntax=docker/dockerfile:1
# One image for the four CivicPulse services. Which one runs is the command:
#   nameko run --config services/<svc>/config/nameko.yaml services.<svc>.service:<Class>Service
# (docker-compose.yml and deploy/k8s set it per service), or `CIVICPULSE_SERVICE=<svc>` with the
# default command. Build: docker build -t civicpulse .

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first (cached while only the code changes), then the package itself.
COPY pyproject.toml ./
COPY requirements/constraints.txt requirements/constraints.txt
COPY civicpulse civicpulse
COPY services services
RUN pip install -c requirements/constraints.txt .

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CIVICPULSE_VAR_DIR=/var/lib/civicpulse
RUN groupadd --system --gid 10001 civicpulse \
 && useradd --system --uid 10001 --gid civicpulse --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin civicpulse \
 && mkdir -p /var/lib/civicpulse \
 && chown civicpulse:civicpulse /var/lib/civicpulse
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# nameko run reads services/<svc>/config/nameko.yaml relative to the working directory.
COPY services services
COPY deploy/docker/run-service.sh deploy/docker/healthcheck.py /usr/local/bin/
USER 10001:10001
VOLUME ["/var/lib/civicpulse"]
EXPOSE 8101 8102 8103 8104
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "/usr/local/bin/healthcheck.py"]
CMD ["run-service.sh"]
