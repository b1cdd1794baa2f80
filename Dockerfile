# odoo-rpc-bridge: multi-stage image on the Node LTS (24), non-root, production dependencies only.
# The build stage compiles src/ to dist/ (the bridge also runs from its .ts sources with Node 24's
# type stripping, but that costs about 27 MiB of resident memory in every process).
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY src ./src
RUN npx tsc -p tsconfig.build.json

FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-slim
# glibc's malloc: blocks of 128 KiB and more always get memory of their own, given back to the
# system when freed (by default the threshold rises to the largest block freed so far, up to
# 32 MiB, and an answer's megabyte buffers then stay in the heap): the 20,000-record read's peak
# 154-160 -> 142-150 MiB; docs/performance-notes.md, sixth round.
ENV NODE_ENV=production BRIDGE_LISTEN=0.0.0.0:8069 MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
EXPOSE 8069
HEALTHCHECK --interval=30s --timeout=3s CMD ["node", "-e", "fetch('http://127.0.0.1:8069/_bridge/livez').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# A young generation of 8 MiB semi-spaces (V8's default lets it grow to about 130 MB under load),
# and an old generation collected once it has doubled since the last collection (V8's default
# lets it grow to four times: 240-257 MiB resident at 256 concurrent calls instead of 176-180);
# see docs/performance-notes.md "Memory".
ENTRYPOINT ["node", "--max-semi-space-size=8", "--heap-growing-percent=100", "dist/main.js"]
