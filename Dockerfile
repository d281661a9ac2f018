# Atlassian IAM for Slack: the bot (HTTP or Socket Mode) and the CLI.
#   docker build -t atlassian-iam .
#   docker run --env-file .env -p 3000:3000 -v iam-data:/data atlassian-iam
# Debian slim rather than Alpine: better-sqlite3 is compiled here against glibc.

FROM node:20-bookworm-slim AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./

# Build stage: every dependency, compile TypeScript to dist/.
FROM toolchain AS build
RUN npm ci --ignore-scripts --no-audit --no-fund && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

# Runtime dependencies only, from the same lock file.
FROM toolchain AS deps
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm rebuild better-sqlite3

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    DATABASE_URL=sqlite:/data/atlassian-iam.db \
    PORT=3000 \
    HEALTH_PORT=3000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json manifest.yml ./
RUN mkdir /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 3000
# Exec form, no shell: node itself asks the bot's own /healthz (PORT, or HEALTH_PORT in Socket Mode).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD ["node", "dist/healthcheck.js"]
# Exec form: node runs as PID 1 and gets SIGTERM from `docker stop` itself; the bot drains and exits 0.
CMD ["node", "dist/index.js"]
