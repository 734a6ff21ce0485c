#!/usr/bin/env bash
# Apache Spark resource discovery for offload's OpenCL devices: prints one line,
#   {"name":"offload","addresses":["cl:0:0","cl:0:1"]}
# whose addresses are offload device specs (cl:<platform>:<device>, as `offload devices` lists them), so a task's
# assigned address is passed to offload as it is. Spark runs this with no arguments, on every worker:
#   spark.worker.resource.offload.discoveryScript=/path/to/spark/bin/offload-discover.sh   (standalone workers)
#   spark.executor.resource.offload.discoveryScript=...                                     (YARN, Kubernetes)
# Environment: OFFLOAD_SPARK_RESOURCE (the resource name, default offload), OFFLOAD_LAUNCHER (the offload launcher,
# default the one of this checkout); the launcher's own (OFFLOAD_BINDING, JAVA_HOME, ...). Only the JSON goes to stdout.
# It never builds (OFFLOAD_NO_BUILD=1): Spark waits for the script, and a build inside it would stall the worker.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export OFFLOAD_NO_BUILD=1
exec "${OFFLOAD_LAUNCHER:-$here/../../offload}" devices --spark-resources "${OFFLOAD_SPARK_RESOURCE:-offload}"
