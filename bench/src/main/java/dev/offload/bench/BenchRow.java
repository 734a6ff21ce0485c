package dev.offload.bench;

/**
 * One measured line of a benchmark report.
 *
 * @param section  e.g. "int8_gemm"
 * @param shape    the case, e.g. "1024x1024x1024"
 * @param impl     who ran it: "offload", "onnxruntime", "java-reference", "clblast"
 * @param device   where
 * @param medianMs median time per call
 * @param rate     work rate in {@code unit} (GOPS, GFLOPS, ns/op ...)
 * @param ratio    offload's speed relative to the section's peer on the same case (>1 = offload faster), or NaN
 */
public record BenchRow(String section, String shape, String impl, String device, double medianMs, double rate,
                       String unit, double ratio, String note) {}
