# syntax=docker/dockerfile:1
# lvs-operator: one image for both programs (`lvs-operator controller`, `lvs-operator agent`).
#   docker build -t lvs-operator:0.1.0 .
# The build machines of this project have no Docker engine: this file is not built there.
# What can be checked without one is (test/unit/packaging/): the production install
# (`npm ci --omit=dev` with the native addon, plus the compiled dist/) runs
# `lvs-operator --version` and `--help`, and every COPY source exists and passes .dockerignore.

ARG NODE_VERSION=20

# 1. Compile TypeScript (needs the dev dependencies; not the native addon: no install scripts).
FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src/ src/
RUN npm run build

# 2. Production dependencies only. `npm ci` runs the package's install script, which builds
#    the VRRP packet-socket addon (N-API, C) with npm's bundled node-gyp against this node's
#    own headers; python3, make and gcc are in the full bookworm image, not in the slim one.
FROM node:${NODE_VERSION}-bookworm AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY native/binding.gyp native/build.mjs native/packet_socket.c native/
RUN npm ci --omit=dev --no-audit --no-fund

# 3. Runtime. iproute2 and ipvsadm are for humans debugging a node (`kubectl exec ... ipvsadm -Ln`);
#    kmod is for the chart's optional module-loading init container (agent.loadModules).
FROM node:${NODE_VERSION}-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 ipvsadm kmod \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY package.json ./
COPY --from=prod-deps /app/node_modules/ node_modules/
COPY --from=prod-deps /app/native/build/Release/packet_socket.node native/build/Release/packet_socket.node
COPY --from=build /src/dist/ dist/
RUN chmod 0755 dist/cli/main.js \
 && ln -s /app/dist/cli/main.js /usr/local/bin/lvs-operator \
 && lvs-operator --version
# Non-root by default; the chart runs the controller as 65532 and the agent as root with
# NET_ADMIN/NET_RAW (it must: Kubernetes grants added capabilities to root only).
USER 65532:65532
ENTRYPOINT ["lvs-operator"]
CMD ["--help"]
LABEL org.opencontainers.image.title="lvs-operator" \
      org.opencontainers.image.description="Linux Virtual Server (IPVS) with keepalived-style HA, run the Kubernetes way" \
      org.opencontainers.image.licenses="Apache-2.0"
