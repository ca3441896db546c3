# The Awaaz image: the API (`make serve`) or a job worker (`make worker`), built by the README's own commands.
# docker build -t awaaz .   then see docker-compose.yml for the API, workers and Redis together.
FROM python:3.11-slim

# make runs the README's commands; nothing else is needed at run time (PyAV bundles FFmpeg).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /opt/awaaz --shell /usr/sbin/nologin awaaz \
    && mkdir -p /data \
    && chown awaaz:awaaz /data

WORKDIR /opt/awaaz
COPY . .

# The models are assembled into the image at build time, so a container starts without downloading
# anything; they stay owned by root, read-only to the service.
ENV AWAAZ_MODEL_DIR=/opt/awaaz/models \
    AWAAZ_DATA_DIR=/data \
    AWAAZ_HOST=0.0.0.0 \
    AWAAZ_PORT=8000 \
    PYTHONDONTWRITEBYTECODE=1
RUN make model

USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000
# Ready once the default model is loaded. With API keys on, give the probe one: AWAAZ_HEALTHCHECK_KEY.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; k = os.environ.get('AWAAZ_HEALTHCHECK_KEY'); h = {'Authorization': 'Bearer ' + k} if k else {}; u.urlopen(u.Request('http://127.0.0.1:8000/ready', headers=h), timeout=4)"]
CMD ["make", "serve"]
