#!/usr/bin/env bash
# setup.sh — install everything the pipeline and the tests need on Debian 12 with Node 20.
# Idempotent: apt and npm skip what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages, each with what needs it:
PACKAGES=(
  pci.ids usb.ids manpages manpages-dev  # dataset: the OS/hardware corpus (man sections 2, 4, 5, 7)
  gcc make binutils                   # trainer, host inference, x86_64 kernel
  gcc-aarch64-linux-gnu gcc-riscv64-linux-gnu   # aarch64 and riscv64 kernels
  qemu-system-x86 qemu-system-arm qemu-system-misc  # booting the kernels (OpenSBI is in qemu-system-data)
  ipxe-qemu                           # the e1000e option ROM every arch loads for -device e1000e
  nginx libnginx-mod-http-dav-ext     # remote-cache tests (a real WebDAV server on 127.0.0.1)
  chromium                            # the build report's rendering test
  slurm-wlm slurmctld slurmd slurm-client munge  # SLURM executor tests (a single-node cluster on 127.0.0.1)
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# onnxruntime-node (tests only) ships its CPU binary; its postinstall (which npm 11 runs,
# with a warning) would fetch CUDA providers from a host we cannot reach and fail the
# install. ONNXRUNTIME_NODE_INSTALL=skip is its documented switch (script/install.js).
ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
# node-llama-cpp (tests only) ships GPU builds we never use; they are ~600 MB.
rm -rf node_modules/@node-llama-cpp/linux-x64-cuda* node_modules/@node-llama-cpp/linux-x64-vulkan \
       node_modules/@node-llama-cpp/linux-arm*
# ...and onnxruntime-node binaries for other systems (~240 MB); this one's stays.
ort_keep="node_modules/onnxruntime-node/bin/napi-v6/$(node -p 'process.platform + "/" + process.arch')"
for d in node_modules/onnxruntime-node/bin/napi-v6/*/*; do [ "$d" = "$ort_keep" ] || rm -rf "$d"; done
npx tsc -p tsconfig.json
