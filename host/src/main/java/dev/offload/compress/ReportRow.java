package dev.offload.compress;

/** One compressed model measured against the original in the same run (see {@link CompressionReport}). */
public record ReportRow(String compression, String file, long weightBytes, double sentencesPerSecond, Agreement agreement) {}
