package dev.offload.validate;

/**
 * One validated case: an op at one shape on one device, compared with the java reference.
 *
 * @param maxError the largest error seen (mismatching elements for exact checks, relative error for float checks)
 * @param bound    the largest error allowed (0 for bit-exact checks)
 * @param detail   what went wrong (first mismatch, poison left, guard overwritten), or empty
 */
public record CheckResult(String op, String shape, String device, double maxError, double bound, boolean passed,
                          String detail) {}
