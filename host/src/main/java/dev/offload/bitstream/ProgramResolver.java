package dev.offload.bitstream;

import dev.offload.cl.DeviceType;
import dev.offload.kernels.KernelSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Decides where a program comes from, without touching a device: a matching stored bitstream first; for a
 * device that claims a stored entry which does not match, an error (a stale or corrupt store is never
 * loaded, nor silently bypassed); for an ACCELERATOR without one, a refusal (it never compiles source); for
 * CPUs and GPUs, a valid cache entry, else compilation (replacing a cache entry that fails its checks).
 */
public final class ProgramResolver {
    private ProgramResolver() {}

    /**
     * One program request.
     *
     * @param requiredKernels the kernels the runtime needs ({@link KernelNames#required})
     * @param storeDir        for messages: where bitstreams are looked for
     */
    public record Request(KernelSource source, String options, DeviceTarget device, DeviceType type,
                          Set<String> requiredKernels, Path storeDir) {}

    public sealed interface Resolution {
        record Load(StoredBinary entry, ProgramOrigin origin) implements Resolution {}

        record Compile(String reason) implements Resolution {}

        /** The cache entry fails its checks: discard it, compile, and cache the new build in its place. */
        record Rebuild(StoredBinary damaged, String reason) implements Resolution {}

        record Refuse(String message) implements Resolution {}

        record Reject(BitstreamMismatchException error) implements Resolution {}
    }

    /**
     * @param store  the store's entries for the request's family and options (any device)
     * @param cached the cache's entry for the request, when there is a cache and it has one
     */
    public static Resolution resolve(Request r, List<StoredBinary> store, Optional<StoredBinary> cached) {
        String family = r.source().family().id();
        List<StoredBinary> claiming = store.stream().filter(e -> e.manifest().target().names(r.device())).toList();
        List<String> problems = new ArrayList<>();
        for (StoredBinary e : claiming) {
            List<String> why = BitstreamChecks.mismatches(e, r.device(), r.source(), r.requiredKernels());
            if (why.isEmpty()) return new Resolution.Load(e, ProgramOrigin.STORE);
            problems.addAll(claiming.size() == 1 ? why : why.stream().map(w -> e.name() + ": " + w).toList());
        }
        if (!claiming.isEmpty()) {
            return new Resolution.Reject(new BitstreamMismatchException(claiming.getFirst().manifestFile(),
                    r.device().toString(), problems, "Rebuild it with: " + buildCommand(r)
                    + (r.type() == DeviceType.ACCELERATOR ? ", or import a vendor-built one with: " + importCommand(r) : "")
                    + (r.type() == DeviceType.ACCELERATOR ? "" : ", or delete it to compile from source")));
        }
        if (r.type() == DeviceType.ACCELERATOR) {
            List<String> others = store.stream().map(e -> e.manifest().target().deviceName()).distinct().toList();
            return new Resolution.Refuse("device '" + r.device().deviceName() + "' [" + r.device().platformName()
                    + "] is an ACCELERATOR, which never compiles OpenCL source, and bitstream store " + r.storeDir()
                    + " has no " + family + " program (options '" + r.options() + "') for it"
                    + (others.isEmpty() ? "" : " (only for " + others + ")")
                    + "; the runtime needs kernel(s) " + r.requiredKernels() + " of family " + family
                    + ". Build one with: " + buildCommand(r) + ", or import a vendor-built binary with: " + importCommand(r));
        }
        if (cached.isPresent()) {
            List<String> why = BitstreamChecks.mismatches(cached.get(), r.device(), r.source(), r.requiredKernels());
            if (why.isEmpty()) return new Resolution.Load(cached.get(), ProgramOrigin.CACHE);
            return new Resolution.Rebuild(cached.get(), String.join("; ", why));
        }
        return new Resolution.Compile(store.isEmpty() ? "no stored binary, no cache entry" : "no stored binary for this device");
    }

    static String buildCommand(Request r) {
        return "./offload bitstreams build --device 'cl:name=" + r.device().deviceName() + "' --ops "
                + r.source().family().id() + " --store " + r.storeDir();
    }

    static String importCommand(Request r) {
        return "./offload bitstreams import FILE.aocx|FILE.xclbin --device-name '" + r.device().deviceName()
                + "' --platform '" + r.device().platformName() + "' --family " + r.source().family().id()
                + " --store " + r.storeDir();
    }
}
