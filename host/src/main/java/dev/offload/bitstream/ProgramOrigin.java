package dev.offload.bitstream;

/** Where a program came from. */
public enum ProgramOrigin {
    /** A binary from the bitstream store (built by {@code offload bitstreams build} or imported). */
    STORE,
    /** A binary from the on-disk program cache, compiled by an earlier run. */
    CACHE,
    /** Compiled from OpenCL C source in this run. */
    COMPILED
}
