# One image for every service; SERVICES picks which ones a container runs.

# --- build: compile TypeScript and bundle the web console, with the dev dependencies ---
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json moleculer.config.ts ./
COPY services ./services
COPY mixins ./mixins
COPY src ./src
COPY web ./web
RUN npm run build

# --- runtime: production dependencies and the compiled code only ---
FROM node:24-bookworm-slim
# --max-semi-space-size=4 (MB): under load V8 grows the young generation to some 100 MB per
# process, which more than doubles a service's memory; 4 MB keeps a service near 100 MB.
# --max-old-space-size=1536 (MB): a service lives in some 30 MB of heap, but on a host with
# 2 GB or more V8 lets the old generation grow to four times what survived the last full
# collection before it collects again (api: 175 MB RSS after the benchmark's reads). Under a
# cap below 2 GB it grows by less than twice that (api: 125 MB, for some 7% more CPU per
# request). Lower the cap for containers with less memory than that.
# --expose-gc: once a burst of work has passed, the shop runs one full collection, after which
# V8 gives back the heap it grew (src/maintenance/when-idle.ts).
# MALLOC_MMAP_THRESHOLD_: every allocation over 128 kB gets pages of its own, given back when
# freed. Without it glibc raises the threshold after the first such free, and each scrypt
# (16 MB, on each of libuv's 4 threads) stays in an arena: some 70 MB that users never returns.
ENV NODE_ENV=production \
    SERVICEDIR=dist/services \
    DATA_DIR=/app/data \
    NODE_OPTIONS="--max-semi-space-size=4 --max-old-space-size=1536 --expose-gc" \
    MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
CMD ["node", "node_modules/moleculer/bin/moleculer-runner.js", "--config", "dist/moleculer.config.js"]
