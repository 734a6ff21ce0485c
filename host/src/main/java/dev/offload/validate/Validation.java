package dev.offload.validate;

import dev.offload.device.OpenClDevice;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs the selected validators on the selected devices and collects the results. */
public final class Validation {
    private static final Logger log = LoggerFactory.getLogger(Validation.class);

    private Validation() {}

    /**
     * @param ops op names to run, or empty for all
     * @throws IllegalArgumentException when an op name is unknown
     */
    public static List<CheckResult> run(List<OpenClDevice> devices, Set<String> ops, ValidationOptions options) {
        List<OpValidator> chosen = Validators.all().stream().filter(v -> ops.isEmpty() || ops.contains(v.op())).toList();
        for (String op : ops) {
            if (Validators.all().stream().noneMatch(v -> v.op().equals(op))) {
                throw new IllegalArgumentException("unknown op '" + op + "'; known: "
                        + Validators.all().stream().map(OpValidator::op).toList());
            }
        }
        List<CheckResult> results = new ArrayList<>();
        for (OpenClDevice device : devices) {
            for (OpValidator v : chosen) {
                long t0 = System.nanoTime();
                List<CheckResult> rs;
                try {
                    rs = v.validate(device, options);
                } catch (RuntimeException e) {
                    // A crash in one op is a failed check, not the end of the sweep.
                    log.error("{} on {} failed with {}", v.op(), device.spec(), e.toString());
                    rs = List.of(new CheckResult(v.op(), "-", device.spec(), Double.NaN, 0, false, e.toString()));
                }
                long failed = rs.stream().filter(r -> !r.passed()).count();
                log.info("{} on {}: {} cases, {} failed ({} ms)", v.op(), device.spec(), rs.size(), failed,
                        (System.nanoTime() - t0) / 1_000_000);
                results.addAll(rs);
            }
        }
        return results;
    }
}
