package dev.offload.cli;

import dev.offload.bitstream.BitstreamImporter;
import dev.offload.bitstream.BitstreamManifest;
import dev.offload.bitstream.BitstreamStore;
import dev.offload.bitstream.BitstreamVerifier;
import dev.offload.bitstream.BuildVariants;
import dev.offload.bitstream.Check;
import dev.offload.bitstream.DeviceTarget;
import dev.offload.bitstream.ProgramBinaries;
import dev.offload.bitstream.StoredBinary;
import dev.offload.cl.Device;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import dev.offload.kernels.KernelFamily;
import dev.offload.kernels.KernelSource;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Precompiled program binaries: build, import, list and verify the bitstream store (bitstreams/README.md). */
@Command(name = "bitstreams", mixinStandardHelpOptions = true,
        description = {"Precompiled program binaries (bitstreams): build them for a device, import vendor-built ones, "
                + "list and verify the store. The store is --store DIR, else $OFFLOAD_BITSTREAMS, else bitstreams/.",
                "Manifests follow the schema 'offload.bitstream/1' documented in bitstreams/README.md."},
        subcommands = {BitstreamsCommand.Build.class, BitstreamsCommand.Import.class, BitstreamsCommand.ListCommand.class,
                BitstreamsCommand.Verify.class})
public final class BitstreamsCommand implements Runnable {
    @Spec CommandSpec spec;

    @Override
    public void run() { spec.commandLine().usage(spec.commandLine().getOut()); }

    @Command(name = "build", mixinStandardHelpOptions = true,
            description = "Compile kernel families for a device and store their binaries (CL_PROGRAM_BINARIES) with manifests, "
                    + "one per build-option variant the runtime uses.")
    static final class Build implements Callable<Integer> {
        @Mixin CommonOptions common;

        @Option(names = "--device", paramLabel = "SPEC", description = "OpenCL device (default: $OFFLOAD_DEVICE, else the first GPU/accelerator, else CPU).")
        String device;

        @Option(names = "--ops", split = ",", paramLabel = "FAMILY", description = "Kernel families (default: every family this build has source for).")
        List<String> ops = new ArrayList<>();

        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            BitstreamStore store = common.programs().store();
            DeviceRegistry registry = common.registry();
            Device d = openClDevice(registry, device);
            List<KernelSource> sources = new ArrayList<>();
            if (ops.isEmpty()) {
                for (KernelFamily f : KernelFamily.values()) {
                    KernelSource s = BitstreamImporter.tryLoad(f);
                    if (s != null) sources.add(s);
                }
            } else {
                for (String op : ops) {
                    KernelSource s = BitstreamImporter.tryLoad(KernelFamily.byId(op.strip()));
                    if (s == null) throw new UserError("kernel family '" + op + "' has no source in this build");
                    sources.add(s);
                }
            }
            out.printf("building %d famil%s for %s into %s%n", sources.size(), sources.size() == 1 ? "y" : "ies",
                    d, store.dir());
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"family", "options", "file", "size", "kernels", "build ms"});
            // A plain device: this command always compiles, whatever the store or cache hold.
            try (OpenClDevice cl = new OpenClDevice(d)) {
                DeviceTarget target = DeviceTarget.of(d);
                for (KernelSource s : sources) {
                    for (String options : BuildVariants.DEFAULT.optionsFor(s.family(), d.info())) {
                        long t0 = System.nanoTime();
                        String stem = BitstreamStore.stem(s.family().id(), target, BitstreamStore.optionsSha256(options));
                        ProgramBinaries.Compiled c = ProgramBinaries.compile(cl, s, options, stem);
                        long ms = (System.nanoTime() - t0) / 1_000_000;
                        c.program().close();
                        Path file = store.put(c.manifest(), c.binary());
                        rows.add(new String[] {s.family().id(), quote(options), file.getFileName().toString().replace(".json", ".bin"),
                                size(c.binary().length), String.join(" ", c.manifest().kernelNames()), Long.toString(ms)});
                    }
                }
            }
            printTable(rows, out);
            out.flush();
            return 0;
        }
    }

    @Command(name = "import", mixinStandardHelpOptions = true,
            description = {"Register a binary built offline by a vendor tool (aoc .aocx, v++ .xclbin, or a CL_PROGRAM_BINARIES .bin): "
                    + "copy it into the store and write its manifest.",
                    "Kernel names are read from an .xclbin's embedded metadata; for other formats give --kernels."})
    static final class Import implements Callable<Integer> {
        @Mixin CommonOptions common;

        @Parameters(paramLabel = "FILE", description = "The binary (.aocx, .xclbin or .bin).")
        Path file;

        @Option(names = "--device-name", required = true, paramLabel = "NAME", description = "CL_DEVICE_NAME of the target device (see ./offload devices).")
        String deviceName;

        @Option(names = "--platform", required = true, paramLabel = "NAME", description = "CL_PLATFORM_NAME of the target platform.")
        String platform;

        @Option(names = "--platform-vendor", paramLabel = "TEXT") String platformVendor;
        @Option(names = "--device-vendor", paramLabel = "TEXT") String deviceVendor;

        @Option(names = "--driver-version", paramLabel = "TEXT", description = "Driver the binary needs (default: any).")
        String driverVersion;

        @Option(names = "--board", paramLabel = "NAME", description = "Board or shell (default: derived from the device name on FPGA platforms).")
        String board;

        @Option(names = "--family", paramLabel = "FAMILY", description = "Kernel family (default: the one whose kernels the binary has).")
        String family;

        @Option(names = "--kernels", split = ",", paramLabel = "NAME[:SIG;SIG...]",
                description = "Kernels in the binary, with optional argument signatures: 'saxpy:float;global float*;global float*;int'.")
        List<String> kernels = new ArrayList<>();

        @Option(names = "--options", paramLabel = "TEXT", description = "Runtime build options the binary stands for (default: '').")
        String options = "";

        @Option(names = "--built-by", paramLabel = "TEXT", description = "The tool that built it (default: from the format).")
        String builtBy;

        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            BitstreamStore store = common.programs().store();
            StoredBinary e = BitstreamImporter.importFile(store, new BitstreamImporter.Request(file, deviceName, platform,
                    platformVendor, deviceVendor, driverVersion, board, family, kernels, options, builtBy));
            out.printf("imported %s as %s (%s, %s, kernels %s)%n", file, e.manifestFile(), e.manifest().family(),
                    e.manifest().binary().format(), e.manifest().kernels().stream().map(ProgramBinaries::signature).toList());
            out.flush();
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the store's binaries.")
    static final class ListCommand implements Callable<Integer> {
        @Mixin CommonOptions common;

        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            BitstreamStore store = common.programs().store();
            List<StoredBinary> entries = store.entries();
            out.printf("bitstream store %s: %d entr%s%n", store.dir(), entries.size(), entries.size() == 1 ? "y" : "ies");
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"entry", "family", "version", "target device", "driver", "options", "kernels", "size", "built-by", "when"});
            for (StoredBinary e : entries) {
                BitstreamManifest m = e.manifest();
                rows.add(new String[] {e.name(), m.family(), Integer.toString(m.familyVersion()),
                        m.target().deviceName() + " [" + m.target().platformName() + "]",
                        m.target().driverVersion() == null ? "any" : m.target().driverVersion(), quote(m.options()),
                        String.join(" ", m.kernelNames()), size(m.binary().sizeBytes()), m.builtBy(), m.builtAt()});
            }
            if (entries.isEmpty()) out.println("(empty: build with ./offload bitstreams build, or import a vendor binary)");
            else printTable(rows, out);
            out.flush();
            return 0;
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = {"Check every stored binary: checksum, target against the real device (platform, device name, driver), "
                    + "source hash against the current kernel source, the kernels the runtime needs, and loading it on the "
                    + "device with its kernel signatures.",
                    "Without --device each entry is checked on the device it targets, when that device is here.",
                    "Exit code 0 when nothing fails, 1 otherwise."})
    static final class Verify implements Callable<Integer> {
        @Mixin CommonOptions common;

        @Option(names = "--device", paramLabel = "SPEC", description = "Check every entry against this device.")
        String device;

        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            BitstreamStore store = common.programs().store();
            DeviceRegistry registry = common.registry();
            Device only = device == null ? null : openClDevice(registry, device);
            Map<Device, OpenClDevice> opened = new HashMap<>();
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"entry", "check", "verdict", "detail"});
            int failed = 0;
            List<StoredBinary> entries = store.entries();
            try {
                for (StoredBinary e : entries) {
                    Device d = only != null ? only : registry.openClDevices().stream()
                            .filter(x -> e.manifest().target().names(DeviceTarget.of(x))).findFirst().orElse(null);
                    OpenClDevice cl = d == null ? null : opened.computeIfAbsent(d, OpenClDevice::new);
                    for (Check c : BitstreamVerifier.verify(e, cl)) {
                        rows.add(new String[] {e.name(), c.name(), c.verdict().name(), c.detail()});
                        if (c.failed()) failed++;
                    }
                }
            } finally {
                opened.values().forEach(OpenClDevice::close);
            }
            out.printf("bitstream store %s: %d entr%s%n", store.dir(), entries.size(), entries.size() == 1 ? "y" : "ies");
            if (!entries.isEmpty()) printTable(rows, out);
            out.printf("%n%s%n", failed == 0 ? "all checks passed" : failed + " check(s) failed");
            out.flush();
            return failed == 0 ? 0 : 1;
        }
    }

    static Device openClDevice(DeviceRegistry registry, String spec) {
        String s = spec != null ? spec : registry.defaultSpec();
        return registry.resolve(s).orElseThrow(() -> new UserError(
                "bitstreams are for OpenCL devices; '" + s + "' is the java reference"
                        + registry.unavailableReason().map(r -> " (" + r + ")").orElse("")));
    }

    private static String quote(String options) { return "'" + (options == null ? "" : options) + "'"; }

    private static String size(long bytes) {
        return bytes >= 1 << 20 ? String.format("%.1f MiB", bytes / (double) (1 << 20)) : String.format("%.1f KiB", bytes / 1024.0);
    }

    /** Left-aligned columns; the last column is not padded. */
    static void printTable(List<String[]> rows, PrintWriter out) {
        int cols = rows.getFirst().length;
        int[] w = new int[cols];
        for (String[] r : rows) for (int i = 0; i < cols; i++) w[i] = Math.max(w[i], String.valueOf(r[i]).length());
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < cols; i++) {
                String v = String.valueOf(r[i]);
                line.append(i == cols - 1 ? v : String.format("%-" + w[i] + "s  ", v));
            }
            out.println(line.toString().stripTrailing());
        }
    }
}
