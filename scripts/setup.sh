#!/usr/bin/env bash
# One-time setup on a fresh Debian/Ubuntu machine (idempotent): system packages, npm packages, build.
# Safe to re-run. Needs network access to the npm registry (and Debian's apt when a package is missing).
# RSTAR_CPU_ONLY=1: leave out node-llama-cpp's GPU prebuilds (see below).
set -euo pipefail
cd "$(dirname "$0")/.."

have_python_modules() {
    local py
    for py in "${RSTAR_PYTHON:-}" python3 /usr/bin/python3; do
        [ -n "$py" ] || continue
        if "$py" -c "import $1" >/dev/null 2>&1; then return 0; fi
    done
    return 1
}

apt_install() {
    if [ "$(id -u)" != "0" ]; then
        echo "setup: please install with your package manager: $*" >&2
        return 1
    fi
    if [ -z "${APT_UPDATED:-}" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# The sandbox and the grader need a Python 3 with sympy and numpy.
if ! have_python_modules "sympy, numpy"; then
    echo "setup: installing python3-sympy and python3-numpy" >&2
    apt_install python3 python3-sympy python3-numpy
fi

# Training the tiny models (train/, `rstar train`) needs PyTorch. Debian's python3-torch installs for /usr/bin/python3
# only; libopenblas0-pthread replaces the reference BLAS it would otherwise use (~40x slower matmuls).
have_torch() {
    local py
    for py in "${RSTAR_PYTHON:-}" /usr/bin/python3; do
        [ -n "$py" ] || continue
        if "$py" -c "import torch, numpy" >/dev/null 2>&1; then return 0; fi
    done
    return 1
}
if ! have_torch; then
    echo "setup: installing python3-torch, python3-numpy and libopenblas0-pthread (for train/)" >&2
    apt_install python3 python3-numpy python3-torch libopenblas0-pthread
elif [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import torch" >/dev/null 2>&1; then
    case "$(ldconfig -p 2>/dev/null || true)" in
        *libopenblas.so.0*) ;;
        *)
            echo "setup: installing libopenblas0-pthread (fast BLAS for torch)" >&2
            apt_install libopenblas0-pthread
            ;;
    esac
fi

# The report's browser test (test/eval/report-browser.test.ts) opens reports in Debian's headless Chromium through
# playwright-core; no browser is downloaded.
command -v chromium >/dev/null 2>&1 || apt_install chromium

# Distributed runs (rstar worker, --queue) keep their queue in Redis; the queue tests start Debian's redis-server on a
# random loopback port in a temporary directory.
command -v redis-server >/dev/null 2>&1 || apt_install redis-server

# util-linux provides unshare (network/PID namespaces for the sandbox); present on Debian by default.
command -v unshare >/dev/null 2>&1 || apt_install util-linux

# npm packages. A plain `npm ci` installs node-llama-cpp's GPU prebuilds too (CUDA and Vulkan, about 620 MB on Linux
# x64), so llama.cpp runs on the GPU when there is one (--gpu auto). RSTAR_CPU_ONLY=1 (CI, CPU-only machines) installs
# the same locked tree without them (scripts/npm-ci-cpu-only.mjs); llama.cpp then runs on the CPU.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    if [ "${RSTAR_CPU_ONLY:-0}" = "1" ]; then
        node scripts/npm-ci-cpu-only.mjs
    else
        npm ci --no-audit --no-fund
    fi
else
    npm run build --silent
fi
