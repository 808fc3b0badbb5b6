# The Hookwire bridge as an image: the TypeScript sources run through tsx, as `npm start` runs
# them (tsx is a runtime dependency; no build step). Configured by HOOKWIRE_* variables
# (docs/configuration.md); compose.yaml runs three of these behind one address.
FROM node:20-slim

WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# better-sqlite3, cbor-extract and esbuild install prebuilt binaries for linux x64 and arm64.
RUN npm ci --omit=dev && npm cache clean --force
COPY bridge ./bridge
COPY console ./console
COPY firmware-sdk ./firmware-sdk
COPY deploy/admin-token.ts ./deploy/admin-token.ts

# The data directory (and the cluster's admin token, for compose.yaml) belong to the
# unprivileged user the bridge runs as; a named volume mounted there takes this ownership.
RUN mkdir -p /data /admin && chown node:node /data /admin && chmod 0700 /data /admin
USER node
ENV HOOKWIRE_DATA_DIR=/data

# MQTT, MQTTS, HTTP(S) with MQTT over WebSocket on /mqtt: whichever the configuration turns on.
EXPOSE 1883 8883 8080
# SIGTERM stops the bridge cleanly (deliveries in progress finish, claims handed back).
CMD ["node", "bridge/cli/bin.js", "start"]
