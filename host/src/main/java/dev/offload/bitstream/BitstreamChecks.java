package dev.offload.bitstream;

import dev.offload.bitstream.layout.BinaryLayout;
import dev.offload.hash.Sha256;
import dev.offload.kernels.KernelSource;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The checks a stored binary passes before it is loaded, none of which needs the device: the binary's checksum
 * and size, its layout (sound for its format: {@link BinaryLayout}), the target against the device's own report, the source hash against the current kernel source, and
 * the kernel set against the kernels the runtime needs. {@link ProgramBinaries#load} adds the checks that load it.
 */
public final class BitstreamChecks {
    private BitstreamChecks() {}

    public static List<Check> all(StoredBinary entry, DeviceTarget device, KernelSource source, Set<String> requiredKernels) {
        List<Check> out = new ArrayList<>();
        Check checksum = checksum(entry);
        out.add(checksum);
        out.add(checksum.failed() ? Check.skip("layout", "not checked: the checksum failed") : layout(entry));
        out.add(device == null ? Check.skip("target", "no device here to compare with " + entry.manifest().target())
                : target(entry.manifest(), device));
        out.add(source(entry.manifest(), source));
        out.add(kernels(entry.manifest(), requiredKernels));
        return out;
    }

    /** The failures of {@link #all}, as sentences for an exception. */
    public static List<String> mismatches(StoredBinary entry, DeviceTarget device, KernelSource source, Set<String> required) {
        return all(entry, device, source, required).stream().filter(Check::failed).map(c -> c.name() + " " + c.detail()).toList();
    }

    public static Check checksum(StoredBinary e) {
        BitstreamManifest.BinaryFile want = e.manifest().binary();
        if (e.binary() == null) return Check.fail("checksum", "binary file " + e.binaryFile() + " is missing");
        if (e.binary().length != want.sizeBytes()) {
            return Check.fail("checksum", "size " + e.binary().length + " bytes, manifest says " + want.sizeBytes());
        }
        String got = Sha256.of(e.binary());
        if (!got.equals(want.sha256())) {
            return Check.fail("checksum", "sha256 " + got.substring(0, 16) + "..., manifest says "
                    + (want.sha256() == null ? "nothing" : want.sha256().substring(0, Math.min(16, want.sha256().length())) + "..."));
        }
        return Check.pass("checksum", "sha256 " + got.substring(0, 16) + "... of " + want.sizeBytes() + " bytes");
    }

    /** The binary is sound for its format; a driver is never handed one that is not (PoCL would abort the JVM). */
    public static Check layout(StoredBinary e) {
        BitstreamManifest m = e.manifest();
        return BinaryLayout.problem(e.binary(), m.binary().format(), m.target().platformName())
                .map(p -> Check.fail("layout", p))
                .orElseGet(() -> Check.pass("layout", m.binary().format() + " sound"));
    }

    public static Check target(BitstreamManifest m, DeviceTarget device) {
        List<String> why = m.target().mismatches(device);
        return why.isEmpty() ? Check.pass("target", device.toString()) : Check.fail("target", String.join("; ", why));
    }

    public static Check source(BitstreamManifest m, KernelSource current) {
        if (current == null) return Check.fail("source", "kernel family '" + m.family() + "' has no source in this build");
        if (m.familyVersion() != current.family().version()) {
            return Check.fail("source", "family version " + m.familyVersion() + ", this build has " + current.family().version());
        }
        if (!current.sha256().equals(m.sourceSha256())) {
            return Check.fail("source", "source hash " + abbrev(m.sourceSha256()) + " differs from the current "
                    + current.family().id() + ".cl (" + abbrev(current.sha256()) + "): the kernel source changed since the build");
        }
        return Check.pass("source", current.family().id() + ".cl v" + m.familyVersion() + " " + abbrev(current.sha256()));
    }

    public static Check kernels(BitstreamManifest m, Set<String> required) {
        Set<String> missing = new LinkedHashSet<>(required);
        m.kernelNames().forEach(missing::remove);
        if (!missing.isEmpty()) {
            return Check.fail("kernels", "missing kernel(s) " + missing + " (the binary has " + m.kernelNames() + ")");
        }
        return Check.pass("kernels", m.kernelNames().toString());
    }

    static String abbrev(String sha) { return sha == null ? "(none)" : sha.substring(0, Math.min(12, sha.length())); }
}
