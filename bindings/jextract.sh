#!/usr/bin/env bash
#
# Regenerates the Panama (FFM) bindings for OpenCL in package dev.offload.cl.panama.gen
# from the system header /usr/include/CL/cl.h (Debian package: opencl-headers).
#
# Needs `jextract` on PATH. jextract is NOT built or shipped by this project; see
# bindings/JEXTRACT.md for the version used and how it was built. If jextract is missing,
# this script says so and exits 0 (the generated sources are checked in).
#
# The filter of what to generate lives in bindings/jextract-includes.txt.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
header=/usr/include/CL/cl.h
pkg=dev.offload.cl.panama.gen
out="$here/src/main/java"
gen_dir="$out/${pkg//.//}"

if ! command -v jextract >/dev/null 2>&1; then
  echo "jextract is not on PATH; skipping regeneration of $gen_dir."
  echo "To get it: build openjdk/jextract (https://github.com/openjdk/jextract) from source"
  echo "with JDK 25 against libclang-15 (Debian: libclang-15-dev), outside this repository,"
  echo "and put its bin/ directory on PATH. See bindings/JEXTRACT.md."
  exit 0
fi

if [[ ! -f "$header" ]]; then
  echo "error: $header not found (install opencl-headers)" >&2
  exit 1
fi

cmd=(jextract
  -D CL_TARGET_OPENCL_VERSION=300
  --header-class-name CL
  --target-package "$pkg"
  --library :libOpenCL.so.1
  --output "$out"
  "@$here/jextract-includes.txt"
  "$header")

rm -rf "$gen_dir"
echo "+ ${cmd[*]}"
"${cmd[@]}"
echo "Generated:"
find "$gen_dir" -name '*.java' | sort
