FROM python:3.11-slim-bookworm
WORKDIR /app
RUN apt-get update \
    && apt-get install -y --no-install-recommends make nodejs npm \
    && rm -rf /var/lib/apt/lists/*
COPY . .
# Leaflet and the compiled catalogs first, so that the package install carries them.
RUN pip install --no-cache-dir Babel \
    && make assets BIN=/usr/local/bin STAMP= \
    && pip install --no-cache-dir . \
    && rm -rf node_modules
ENV GRIDGOV_HTTP_HOST=0.0.0.0
EXPOSE 8080
CMD ["sh", "-c", "gridgov db upgrade && gridgov serve"]
