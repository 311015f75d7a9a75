# Cairn in a container: the release binary on a distroless base, running as non-root.
# Build: docker build -t cairn .   Run: docker run -p 8080:8080 -v cairn-data:/data cairn
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin cairn \
 && mkdir -p /out/data \
 && cp target/release/cairn /out/cairn

# distroless/cc has glibc and libgcc, all the binary needs (SQLite is bundled, TLS is rustls).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/cairn /usr/local/bin/cairn
# The database lives on the volume; the folder belongs to the nonroot user (uid 65532).
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV CAIRN_BIND=0.0.0.0:8080 \
    CAIRN_DATABASE_URL=sqlite:///data/cairn.db \
    CAIRN_LOG=info
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/cairn", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/cairn"]
CMD ["serve"]
