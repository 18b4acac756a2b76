# syntax=docker/dockerfile:1
# The wallet server image: a release build on rust:1-bookworm, run on debian:bookworm-slim
# as a non-root user. Configuration comes from the environment (WALLET__SECTION__KEY, see
# README.md); production mode and JSON logs are the defaults.
#
#   docker build -t wallet .
#   docker run -e WALLET__DATABASE__URL=postgres://wallet:secret@db:5432/wallet \
#     -e WALLET__PROVIDERS='[{id="acme", secret="..."}]' \
#     -e WALLET__OPERATOR_TOKENS='[{token="...", role="operator"}]' -p 8080:8080 wallet

############################################################ build
FROM rust:1-bookworm AS build
WORKDIR /src

# Dependency layer: rebuilt only when Cargo.toml or Cargo.lock change. A stub crate with
# the same targets compiles every dependency once.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src

# The real sources. migrations/ is embedded by sqlx::migrate! and config/default.toml by
# include_str!, both at compile time. touch: newer than the stub's build artifacts.
COPY src ./src
COPY migrations ./migrations
COPY config ./config
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked --bin wallet \
    && cp target/release/wallet /usr/local/bin/wallet

############################################################ runtime
FROM debian:bookworm-slim AS runtime

RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 wallet \
    && useradd --system --uid 10001 --gid wallet --home-dir /app --shell /usr/sbin/nologin wallet \
    && mkdir -p /app && chown wallet:wallet /app

COPY --from=build /usr/local/bin/wallet /usr/local/bin/wallet

WORKDIR /app
USER 10001:10001

# Production unless told otherwise: demo credentials are refused, logs are JSON lines on
# stderr. Listen on every interface of the container.
ENV WALLET__ENV=production \
    WALLET__SERVER__LISTEN=0.0.0.0:8080

EXPOSE 8080

# `wallet healthcheck` GETs /health/live on server.listen (no curl in the image).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["wallet", "healthcheck"]

# `wallet serve` by default; other subcommands by argument: `docker run wallet migrate`,
# `docker run wallet check-db`, `docker run wallet --help`.
ENTRYPOINT ["wallet"]
CMD ["serve"]
