package dev.offload.bitstream;

import dev.offload.hash.Sha256;
import dev.offload.cl.Kernel;
import dev.offload.cl.Program;
import dev.offload.device.OpenClDevice;
import dev.offload.kernels.KernelSource;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Compiling a family for a device into a binary with its manifest, and loading a stored binary back with the
 * checks only a loaded program can answer (the device accepts it; its kernels and their signatures are the
 * ones the manifest lists).
 */
public final class ProgramBinaries {
    private ProgramBinaries() {}

    /** Added to every build whose binary is kept, so that loaded programs can report argument signatures. */
    public static final String ARG_INFO = "-cl-kernel-arg-info";

    /** The options clBuildProgram gets for runtime options {@code options}. */
    public static String compilerOptions(String options) {
        return options == null || options.isBlank() ? ARG_INFO : options.strip() + " " + ARG_INFO;
    }

    /** A program compiled from source, its binary and the manifest that describes it. */
    public record Compiled(Program program, byte[] binary, BitstreamManifest manifest) {}

    /** Compiles {@code source} for the device with {@code options} (plus {@link #ARG_INFO}). */
    public static Compiled compile(OpenClDevice device, KernelSource source, String options, String binaryFileStem) {
        String compilerOptions = compilerOptions(options);
        Program p = device.context().buildProgram(source.text(), compilerOptions);
        try {
            byte[] binary = p.binary();
            BitstreamManifest m = new BitstreamManifest(BitstreamManifest.SCHEMA, source.family().id(),
                    source.family().version(), source.sha256(), options, Sha256.of(options), compilerOptions,
                    DeviceTarget.of(device.device()),
                    new BitstreamManifest.BinaryFile(binaryFileStem + ".bin", Sha256.of(binary), binary.length, "opencl-binary"),
                    describeKernels(p), tool(device), Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
            return new Compiled(p, binary, m);
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
    }

    /** {@code offload <version> via <binding>}. */
    static String tool(OpenClDevice device) {
        String v = ProgramBinaries.class.getPackage().getImplementationVersion();
        return "offload " + (v == null ? "0.1.0" : v) + " via " + device.device().bindingName();
    }

    /** Names, argument signatures and required work-group sizes of the program's kernels. */
    public static List<BitstreamManifest.KernelEntry> describeKernels(Program p) {
        List<BitstreamManifest.KernelEntry> out = new ArrayList<>();
        for (String name : p.kernelNames()) {
            try (Kernel k = p.kernel(name)) {
                List<Kernel.Arg> args = k.args();
                long[] wg = k.requiredWorkGroupSize();
                out.add(new BitstreamManifest.KernelEntry(name, k.argCount(),
                        args.isEmpty() && k.argCount() > 0 ? null : args.stream().map(ProgramBinaries::arg).toList(),
                        Arrays.stream(wg).allMatch(x -> x == 0) ? null : Arrays.stream(wg).boxed().toList()));
            }
        }
        return out;
    }

    private static BitstreamManifest.Arg arg(Kernel.Arg a) {
        return new BitstreamManifest.Arg(a.index(), a.name(), a.type(), a.addressSpace(), a.signature());
    }

    /** A loaded program, or why it was refused (then no program is held). */
    public record Loaded(Program program, List<String> mismatches) {
        public boolean ok() { return mismatches.isEmpty(); }
    }

    /**
     * Loads a stored binary on the device (it must have passed {@link BitstreamChecks} first) and compares the
     * loaded program's kernels with the manifest and with {@code requiredKernels}. Kernel signatures are
     * compared with the manifest's, which {@link BitstreamChecks#source} ties to the current source: the
     * manifest was written from a program built from that source.
     */
    public static Loaded load(OpenClDevice device, StoredBinary entry, Set<String> requiredKernels) {
        BitstreamManifest m = entry.manifest();
        // The one door to clCreateProgramWithBinary: whatever the caller checked, an unsound binary never passes it.
        Check layout = BitstreamChecks.layout(entry);
        if (layout.failed()) return new Loaded(null, List.of("layout: " + layout.detail()));
        Program p;
        try {
            p = device.context().loadBinary(entry.binary(), m.compilerOptions() == null ? "" : m.compilerOptions());
        } catch (RuntimeException e) {
            return new Loaded(null, List.of("load: the device refused the binary: " + e.getMessage()));
        }
        List<String> why = new ArrayList<>();
        List<String> names = p.kernelNames();
        for (String r : requiredKernels) {
            if (!names.contains(r)) why.add("kernels: loaded program lacks kernel '" + r + "' (it has " + names + ")");
        }
        List<BitstreamManifest.KernelEntry> loaded = describeKernels(p);
        for (BitstreamManifest.KernelEntry want : m.kernels()) {
            BitstreamManifest.KernelEntry got = loaded.stream().filter(k -> k.name().equals(want.name())).findFirst().orElse(null);
            if (got == null) {
                why.add("kernels: manifest lists '" + want.name() + "', loaded program has " + names);
                continue;
            }
            String diff = signatureDifference(want, got);
            if (diff != null) why.add("signature of " + want.name() + ": " + diff);
        }
        if (!why.isEmpty()) {
            p.close();
            return new Loaded(null, why);
        }
        return new Loaded(p, List.of());
    }

    /** How two descriptions of one kernel differ (argument count, signatures, work-group size), or null. */
    static String signatureDifference(BitstreamManifest.KernelEntry want, BitstreamManifest.KernelEntry got) {
        if (want.argCount() != got.argCount()) {
            return "manifest says " + want.argCount() + " arguments, the binary has " + got.argCount();
        }
        if (want.args() != null && got.args() != null) {
            List<String> w = want.args().stream().map(BitstreamManifest.Arg::signature).toList();
            List<String> g = got.args().stream().map(BitstreamManifest.Arg::signature).toList();
            if (!w.equals(g)) return "manifest says (" + String.join(", ", w) + "), the binary has (" + String.join(", ", g) + ")";
        }
        if (want.reqdWorkGroupSize() != null && got.reqdWorkGroupSize() != null
                && !want.reqdWorkGroupSize().equals(got.reqdWorkGroupSize())) {
            return "reqd_work_group_size " + want.reqdWorkGroupSize() + " in the manifest, " + got.reqdWorkGroupSize() + " in the binary";
        }
        return null;
    }

    /** Signatures as one line: {@code saxpy(float, global float*, global float*, int)}. */
    public static String signature(BitstreamManifest.KernelEntry k) {
        if (k.args() == null) return k.name() + "(" + k.argCount() + " args)";
        return k.name() + "(" + String.join(", ", k.args().stream().map(BitstreamManifest.Arg::signature).toList()) + ")";
    }
}
