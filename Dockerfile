# syntax=docker/dockerfile:1
# Andon gateway image: Node.js 22 LTS running the compiled gateway (dist/, plain JavaScript built
# by tsc in the build stage); no TypeScript, tsx or esbuild in the image.
#
#   docker build -t andon .
#   docker run -p 8080:8080 -v andon-data:/data andon                  # config/docker.yaml
#   docker run -p 8080:8080 -v andon-data:/data -v ./plant.yaml:/etc/andon/plant.yaml:ro \
#     andon start --config /etc/andon/plant.yaml                       # your own config
#   docker run --rm -v ./signals.jsonl:/in.jsonl:ro andon replay --config config/example.yaml --input /in.jsonl
#
# docker-compose.yml runs it with an MQTT broker, Prometheus, Alertmanager and Grafana.
# test/docker/docker.test.ts checks this file (base image, user, paths, port, health check).

# --- deps: production node_modules; better-sqlite3 compiles its native addon here when no
# prebuilt binary can be fetched, so this stage has the toolchain and the runtime does not.
FROM node:22-bookworm-slim AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci runs the prepare script; without dev dependencies (no tsc) it builds nothing.
COPY scripts/prepare.js ./scripts/
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# --- build: tsc compiles the sources into dist/ (tsconfig.build.json). It needs the dev
# dependencies (typescript, @types) but runs no package's install script (no native build).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY config ./config
COPY model ./model
COPY connectors ./connectors
COPY gateway ./gateway
COPY rules ./rules
COPY sim ./sim
RUN npm run build

# --- runtime
FROM node:22-bookworm-slim
# MALLOC_ARENA_MAX: glibc gives each thread that allocates (V8's compiler and GC helpers, libuv's
# pool) an arena of its own, whose freed pages stay resident; two arenas keep ~3-5 MiB less RSS at
# 10k tags (README, "Memory on a small box"). glibc reads it at start only, so it is set here.
ENV NODE_ENV=production \
    ANDON_DATA_DIR=/data \
    MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# bin/andon.js runs dist/gateway/cli.js; the files it reads that are not code are found from
# the package root (package.json: the version; config/: the demo and example configs; the board).
COPY package.json package-lock.json ./
COPY bin ./bin
COPY config ./config
COPY gateway/board ./gateway/board
# The ticket store (andon.sqlite, WAL) and OPC UA certificates live in /data: keep it on a volume.
RUN mkdir -p /data \
 && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
# No curl in the slim image: Node's own fetch asks /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM (docker stop) stops the gateway cleanly: inputs first, then the store.
ENTRYPOINT ["node", "bin/andon.js"]
CMD ["start", "--config", "config/docker.yaml"]
