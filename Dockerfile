# syntax=docker/dockerfile:1
# edgepool on the CPU: `edgepool serve` on port 8080 (Cloud Run, ECS, Fly, Cloudflare Containers…),
# for linux/amd64 or linux/arm64 (`docker buildx build --platform linux/arm64 …`).
#   docker build -t edgepool .
#   docker run -p 8080:8080 -v $HOME/models/minilm:/model:ro edgepool serve --model /model
# The base image is pinned by digest (node 24.18.0, bookworm-slim; `docker buildx imagetools
# inspect node:24-bookworm-slim` prints the current one). test/rehearse/docker.test.ts copies
# exactly what this file copies and runs its build steps, so a file missing here fails a test.
ARG NODE_IMAGE=node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d
# The build tools, at the versions in package-lock.json (test/deploy/docker.test.ts keeps them so).
ARG ESBUILD_VERSION=0.28.2
ARG TSX_VERSION=4.23.15

FROM ${NODE_IMAGE} AS build
# Set by buildx from --platform: which ONNX Runtime binaries stay.
ARG TARGETARCH=amd64
ARG ESBUILD_VERSION
ARG TSX_VERSION
# The image runs the CLI bundle (dist/cli), built by esbuild: only these two build tools, in the
# folder above the app (Node resolves them there), and the app's production dependencies.
WORKDIR /build
RUN echo '{"private":true}' > package.json \
 && npm install --no-save --no-package-lock --no-audit --no-fund "esbuild@${ESBUILD_VERSION}" "tsx@${TSX_VERSION}"
WORKDIR /build/app
COPY package.json package-lock.json ./
COPY scripts/build-cli.ts scripts/esbuild-node.ts ./scripts/
COPY src ./src
# Production dependencies as locked; no install scripts (onnxruntime-node's would fetch CUDA
# provider libraries; the CPU image has no use for them).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
RUN node --import tsx scripts/build-cli.ts
# Only this platform's ONNX Runtime binaries.
RUN case "$TARGETARCH" in amd64) keep=x64 ;; arm64) keep=arm64 ;; \
      *) echo "edgepool images are linux/amd64 or linux/arm64, not ${TARGETARCH}" >&2; exit 1 ;; esac \
 && rm -rf node_modules/onnxruntime-node/bin/napi-v6/darwin node_modules/onnxruntime-node/bin/napi-v6/win32 \
 && find node_modules/onnxruntime-node/bin/napi-v6/linux -mindepth 1 -maxdepth 1 ! -name "${keep}" -exec rm -rf {} +

FROM ${NODE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production \
    EDGEPOOL_CACHE_DIR=/cache
COPY --from=build --chown=node:node /build/app/package.json ./package.json
COPY --from=build --chown=node:node /build/app/node_modules ./node_modules
COPY --from=build --chown=node:node /build/app/dist ./dist
RUN mkdir -p /cache && chown node:node /cache
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
