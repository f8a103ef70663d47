# The Care Connect Reference Implementation (ccri) as a container image: docs/deploy.md.
#
# The image is built and started with the README's own commands and nothing else of ours:
# `npm ci` (whose `prepare` script is `npm run build`), then `node dist/cli/main.js serve`
# (`npm start` without its rebuild). test/deploy/dockerfile.test.ts holds this file to that.
#
#   docker build -t ccri .
#   docker run -p 8080:8080 -v ccri-data:/data ccri
#
# Configuration is the README's environment variables (CCRI_*, DATABASE_URL).

FROM node:20-bookworm-slim AS build
# better-sqlite3 compiles its native module where no prebuilt one can be downloaded; the
# image's own Node.js headers are used rather than fetched.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local
WORKDIR /app
COPY . .
RUN npm ci
RUN npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    CCRI_HOST=0.0.0.0 \
    CCRI_PORT=8080 \
    CCRI_DATA_DIR=/data
# A user of its own, without a shell or a home; the program's files stay root's, read-only to it.
RUN groupadd --system ccri \
 && useradd --system --gid ccri --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin ccri \
 && mkdir /data \
 && chown ccri:ccri /data
WORKDIR /app
COPY --from=build /app /app
USER ccri
# The SQLite store (data/ccri.sqlite) and the bulk export files; with DATABASE_URL the
# store is in PostgreSQL and only the export files are here.
VOLUME ["/data"]
EXPOSE 8080
# Ready: the store answers (503 while it is unreachable or migrations run).
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.CCRI_PORT || 8080) + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/cli/main.js", "serve"]
