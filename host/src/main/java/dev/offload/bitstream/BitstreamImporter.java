package dev.offload.bitstream;

import dev.offload.bitstream.layout.BinaryLayout;
import dev.offload.hash.Sha256;
import dev.offload.kernels.KernelFamily;
import dev.offload.kernels.KernelSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Registers a binary built offline by a vendor tool ({@code aoc} for Intel FPGAs, {@code v++} for Xilinx) in a
 * store: copies it and writes its manifest. Kernel names come from the file where its format allows (the
 * EMBEDDED_METADATA XML of an .xclbin), else from {@code --kernels}. The import asserts that the binary was built
 * from this checkout's source of its family: the manifest records that source's hash.
 */
public final class BitstreamImporter {
    private BitstreamImporter() {}

    /**
     * What the user says about the binary. Null fields are unknown.
     *
     * @param kernels {@code name} or {@code name:sig;sig;...} per kernel ({@code saxpy:float;global float*;global float*;int})
     */
    public record Request(Path file, String deviceName, String platformName, String platformVendor, String deviceVendor,
                          String driverVersion, String boardName, String family, List<String> kernels, String options,
                          String builtBy) {}

    /** Imports the file; returns the manifest written. Every problem is an IllegalArgumentException saying what to give. */
    public static StoredBinary importFile(BitstreamStore store, Request r) {
        byte[] bytes;
        try {
            bytes = BinaryFiles.readBounded(r.file(), BinaryFiles.MAX_BINARY_BYTES, r.file().toString());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + r.file() + ": " + e.getMessage());
        }
        String format = format(r.file(), bytes);
        // What the store holds is later handed to a driver: a truncated or malformed file is refused here, not at load.
        BinaryLayout.problem(bytes, format, r.platformName()).ifPresent(problem -> {
            throw new IllegalArgumentException(r.file() + " is not a sound " + format + " file (" + problem + "); nothing imported");
        });
        List<BitstreamManifest.KernelEntry> kernels;
        if (r.kernels() != null && !r.kernels().isEmpty()) {
            kernels = parseKernels(r.kernels());
        } else if (format.equals("xclbin")) {
            kernels = XclbinReader.kernels(bytes);
            if (kernels.isEmpty()) {
                throw new IllegalArgumentException(r.file() + " is an xclbin without readable EMBEDDED_METADATA kernels; "
                        + "give them with --kernels name[:sig;sig...],...");
            }
        } else {
            throw new IllegalArgumentException("the kernel names of " + r.file() + " (" + format
                    + ") cannot be read without the vendor SDK; give them with --kernels name[:sig;sig...],... "
                    + "(e.g. --kernels 'saxpy:float;global float*;global float*;int')");
        }
        List<String> names = kernels.stream().map(BitstreamManifest.KernelEntry::name).toList();
        String options = r.options() == null ? "" : r.options();
        KernelFamily family = r.family() != null ? KernelFamily.byId(r.family()) : inferFamily(names, options, r.file());
        KernelSource source = sourceOf(family);
        Set<String> missing = new LinkedHashSet<>(KernelNames.required(source.text(), options));
        names.forEach(missing::remove);
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException(r.file() + " lacks kernel(s) " + missing + " of family " + family.id()
                    + " (it has " + names + "); the runtime could never load it");
        }
        String platformVendor = r.platformVendor();
        DeviceTarget target = new DeviceTarget(r.platformName(), platformVendor, r.deviceName(), r.deviceVendor(),
                r.driverVersion(), null,
                r.boardName() != null ? r.boardName() : DeviceTarget.boardName(r.platformName(), r.deviceName()), null);
        String optionsSha = Sha256.of(options);
        String fileName = BitstreamStore.stem(family.id(), target, optionsSha) + "." + extension(format);
        String builtAt;
        try {
            builtAt = Files.getLastModifiedTime(r.file()).toInstant().truncatedTo(ChronoUnit.SECONDS).toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        BitstreamManifest m = new BitstreamManifest(BitstreamManifest.SCHEMA, family.id(), family.version(),
                source.sha256(), options, optionsSha, options, target,
                new BitstreamManifest.BinaryFile(fileName, Sha256.of(bytes), bytes.length, format),
                kernels, r.builtBy() != null ? r.builtBy() : defaultTool(format), builtAt);
        Path manifestFile = store.put(m, bytes);
        return new StoredBinary(manifestFile, m, bytes);
    }

    static String format(Path file, byte[] bytes) {
        if (XclbinReader.isXclbin(bytes)) return "xclbin";
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".aocx")) return "aocx";
        if (name.endsWith(".xclbin")) return "xclbin";
        return "opencl-binary";
    }

    private static String extension(String format) {
        return switch (format) {
            case "aocx" -> "aocx";
            case "xclbin" -> "xclbin";
            default -> "bin";
        };
    }

    private static String defaultTool(String format) {
        return switch (format) {
            case "aocx" -> "aoc (Intel FPGA SDK for OpenCL), imported";
            case "xclbin" -> "v++ (Xilinx Vitis), imported";
            default -> "vendor tool, imported";
        };
    }

    /** {@code name} or {@code name:sig;sig;...}, where a signature is {@code [global|local|constant] type}. */
    static List<BitstreamManifest.KernelEntry> parseKernels(List<String> specs) {
        List<BitstreamManifest.KernelEntry> out = new ArrayList<>();
        for (String spec : specs) {
            String s = spec.strip();
            if (s.isEmpty()) continue;
            int colon = s.indexOf(':');
            String name = (colon < 0 ? s : s.substring(0, colon)).strip();
            if (!name.matches("[A-Za-z_]\\w*")) throw new IllegalArgumentException("--kernels: '" + name + "' is not a kernel name");
            if (colon < 0) {
                out.add(new BitstreamManifest.KernelEntry(name, 0, null, null));
                continue;
            }
            List<BitstreamManifest.Arg> args = new ArrayList<>();
            for (String sig : s.substring(colon + 1).split(";")) {
                String t = sig.strip().replaceAll("\\s+", " ");
                if (t.isEmpty()) continue;
                String space = "private", type = t;
                for (String q : List.of("global", "local", "constant", "private")) {
                    if (t.startsWith(q + " ")) { space = q; type = t.substring(q.length() + 1); }
                }
                args.add(new BitstreamManifest.Arg(args.size(), "arg" + args.size(), type, space,
                        ("private".equals(space) ? "" : space + " ") + type));
            }
            out.add(new BitstreamManifest.KernelEntry(name, args.size(), args, null));
        }
        return out;
    }

    /** The one family whose required kernels the binary has. */
    static KernelFamily inferFamily(List<String> names, String options, Path file) {
        List<KernelFamily> fits = new ArrayList<>();
        for (KernelFamily f : KernelFamily.values()) {
            KernelSource s = tryLoad(f);
            if (s == null) continue;
            Set<String> need = KernelNames.required(s.text(), options);
            if (!need.isEmpty() && names.containsAll(need)) fits.add(f);
        }
        if (fits.size() == 1) return fits.getFirst();
        throw new IllegalArgumentException("cannot tell the kernel family of " + file + " from its kernels " + names
                + (fits.isEmpty() ? " (no family's kernels are all there)" : " (they fit " + fits + ")") + "; give --family");
    }

    static KernelSource sourceOf(KernelFamily family) {
        KernelSource s = tryLoad(family);
        if (s == null) throw new IllegalArgumentException("kernel family '" + family.id() + "' has no source in this build");
        return s;
    }

    /** The family's source, or null when this build does not ship it (families land one at a time). */
    public static KernelSource tryLoad(KernelFamily family) {
        try {
            return KernelSource.load(family);
        } catch (IllegalStateException e) {
            return null;
        }
    }
}
