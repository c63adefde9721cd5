# mailcheck itself in a small image, so a CI can `docker run` it without building Rust:
#   docker build -t mailcheck .
#   docker run --rm --network host mailcheck run mail.example.com
# (the lab's servers are docker/Dockerfile.)
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin mailcheck \
 && install -m 755 target/release/mailcheck /usr/local/bin/mailcheck

FROM debian:bookworm-slim
# ca-certificates: the system trust store for tls.cert.trusted against public servers.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /work --create-home --shell /usr/sbin/nologin mailcheck
COPY --from=build /usr/local/bin/mailcheck /usr/local/bin/mailcheck
USER 10001:10001
WORKDIR /work
ENTRYPOINT ["mailcheck"]
CMD ["--help"]
