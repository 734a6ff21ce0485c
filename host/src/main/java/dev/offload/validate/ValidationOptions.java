package dev.offload.validate;

/**
 * How a validation sweep runs.
 *
 * @param seed  seeds every random input, so a failure can be reproduced with {@code --seed}
 * @param quick a small subset of shapes (seconds, for CI) instead of the full sweep
 */
public record ValidationOptions(long seed, boolean quick) {}
