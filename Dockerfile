# syntax=docker/dockerfile:1

# Compiles the TypeScript (npm run build → dist/): the only stage with the development dependencies.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY config ./config
COPY adapters ./adapters
COPY src ./src
RUN npm run build

# Production dependencies only: no tsx, esbuild or TypeScript (argon2 ships prebuilt binaries for glibc and musl).
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# The image: the compiled JavaScript, the pages' templates and assets, and the production dependencies.
# test/smoke/production.sh assembles what this stage copies, without Docker, and starts its CMD.
FROM node:24-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY views ./views
COPY public ./public
USER node
EXPOSE 3000
# Ready, not merely alive: /readyz answers 503 while storage does not.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
CMD ["node", "dist/src/server.js"]
