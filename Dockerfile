# The Awaaz image: the API (`make serve`) or a job worker (`make worker`), built by the README's own commands.
# docker build -t awaaz .   then see docker-compose.yml for the API, workers and Redis together.
FROM python:3.11-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/awaaz
COPY . .

# The models are assembled into the image, so a container starts without downloading anything.
ENV AWAAZ_MODEL_DIR=/opt/awaaz/models \
    AWAAZ_DATA_DIR=/data \
    AWAAZ_HOST=0.0.0.0 \
    AWAAZ_PORT=8000
RUN make model

VOLUME ["/data"]
EXPOSE 8000
CMD ["make", "serve"]
