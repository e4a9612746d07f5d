# Datapunk: one image for web (daphne), worker and beat. Multi-stage, non-root.
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY datapunk ./datapunk
COPY apps ./apps
# torch first, from PyTorch's CPU index: PyPI's build of the pinned version brings
# several GB of CUDA libraries that semantic search on a CPU never uses.
RUN python -m venv /venv \
 && /venv/bin/pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
 && /venv/bin/pip install .

FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgdal32 libgeos-c1v5 libproj25 \
    mosquitto mosquitto-clients \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 datapunk
COPY --from=build /venv /venv
WORKDIR /app
COPY --chown=datapunk:datapunk . .
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=datapunk.settings \
    DATAPUNK_DATA_DIR=/data DATAPUNK_UPLOAD_DIR=/data/uploads
# collectstatic with DEBUG off writes the compressed files production serves;
# the throwaway secrets exist only for this build step.
RUN mkdir -p /data && chown datapunk:datapunk /data \
 && DEBUG=false SECRET_KEY=collectstatic-only FIELD_ENCRYPTION_KEY=ZGF0YXB1bmstbG9jYWwtZGV2ZWxvcG1lbnQta2V5ISE= \
    python manage.py collectstatic --no-input -v 0 && chown -R datapunk:datapunk var
USER datapunk
EXPOSE 8000
# The web service. A command, not an entrypoint, so that
# `docker compose run --rm web python manage.py createsuperuser` works too.
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "datapunk.asgi:application"]
