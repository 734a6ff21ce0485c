package dev.offload.bitstream;

import dev.offload.device.OpenClDevice;
import dev.offload.kernels.KernelFamily;
import dev.offload.kernels.KernelSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Verifies one stored binary: the device-free {@link BitstreamChecks}, then, on a device it targets, loading it
 * and comparing the loaded kernels and signatures with the manifest and the current source's kernel names.
 */
public final class BitstreamVerifier {
    private BitstreamVerifier() {}

    /** @param device the device to load it on, or null when none here matches its target */
    public static List<Check> verify(StoredBinary entry, OpenClDevice device) {
        BitstreamManifest m = entry.manifest();
        KernelSource source = familySource(m.family());
        Set<String> required = source == null ? Set.of() : KernelNames.required(source.text(), m.options());
        List<Check> checks = new ArrayList<>(BitstreamChecks.all(entry,
                device == null ? null : DeviceTarget.of(device.device()), source, required));
        if (device == null) {
            checks.add(Check.skip("load", "no device here matches " + m.target()));
        } else if (checks.stream().anyMatch(Check::failed)) {
            checks.add(Check.skip("load", "not loaded: an earlier check failed"));
        } else {
            ProgramBinaries.Loaded loaded = ProgramBinaries.load(device, entry, required);
            if (loaded.ok()) {
                loaded.program().close();
                checks.add(Check.pass("load", "loads on " + device.spec() + "; signatures match: "
                        + String.join(", ", m.kernels().stream().map(ProgramBinaries::signature).toList())));
            } else {
                checks.add(Check.fail("load", String.join("; ", loaded.mismatches())));
            }
        }
        return checks;
    }

    private static KernelSource familySource(String family) {
        if (family == null) return null;
        try {
            return BitstreamImporter.tryLoad(KernelFamily.byId(family));
        } catch (IllegalArgumentException unknownFamily) {
            return null;
        }
    }
}
