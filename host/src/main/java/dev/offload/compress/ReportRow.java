package dev.offload.compress;

import java.util.List;

/**
 * One compressed model measured against the original in the same run (see {@link CompressionReport}); {@code notes}
 * are the compression's own markdown lines (the ranks of a low-rank one), empty when there are none.
 */
public record ReportRow(String compression, String file, long weightBytes, double sentencesPerSecond, Agreement agreement, List<String> notes) {}
