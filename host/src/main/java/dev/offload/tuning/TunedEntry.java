package dev.offload.tuning;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * One tuned result: the kernel parameters that won for an op on a device and driver, and the evidence.
 *
 * @param op       the op family, as {@code tune --ops} names it (e.g. {@code int8_gemm})
 * @param device   the device's name as the driver reports it (CL_DEVICE_NAME)
 * @param driver   the driver version (CL_DRIVER_VERSION): a new driver may compile the same kernel differently
 * @param params   the winning parameters, op-specific (for int8_gemm: mr, nr, innerLoop, localColumns)
 * @param gops     the winner's measured GOPS per timing shape (device time from profiling events, median of reps)
 * @param tunedAt  when (ISO-8601), for humans
 * @param note     free text for humans (machine load, host CPU)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TunedEntry(String op, String device, String driver, Map<String, Object> params,
                         Map<String, Double> gops, String tunedAt, String note) {
    public TunedEntry {
        if (op == null || device == null || driver == null || params == null) {
            throw new IllegalArgumentException("a tuning entry needs op, device, driver and params; got op=" + op
                    + ", device=" + device + ", driver=" + driver + ", params=" + params);
        }
        // Sorted keys: the repository's file diffs cleanly between runs.
        params = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(params));
        gops = gops == null ? null : java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(gops));
    }

    /** Whether this entry is for the op on exactly this device name and driver version. */
    public boolean matches(String op, String deviceName, String driverVersion) {
        return this.op.equals(op) && device.equals(deviceName) && driver.equals(driverVersion);
    }

    /** An integer parameter, or a message naming the entry when it is missing or not an integer. */
    public int intParam(String name) {
        Object v = params.get(name);
        if (v instanceof Number n) return n.intValue();
        try {
            return Integer.parseInt(String.valueOf(v));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("tuning entry for " + op + " on '" + device + "' (driver " + driver
                    + ") has " + name + "=" + v + "; it must be an integer (re-run `offload tune`)");
        }
    }

    public String stringParam(String name) {
        Object v = params.get(name);
        if (v == null) {
            throw new IllegalArgumentException("tuning entry for " + op + " on '" + device + "' (driver " + driver
                    + ") lacks " + name + " (re-run `offload tune`)");
        }
        return String.valueOf(v);
    }

    /** Entries in a stable order (for files kept in git). */
    static List<TunedEntry> sorted(List<TunedEntry> entries) {
        return entries.stream()
                .sorted(java.util.Comparator.comparing(TunedEntry::op).thenComparing(TunedEntry::device).thenComparing(TunedEntry::driver))
                .toList();
    }
}
