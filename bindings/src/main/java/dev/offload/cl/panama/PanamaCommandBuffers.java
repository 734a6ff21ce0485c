package dev.offload.cl.panama;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.offload.cl.ClException;
import dev.offload.cl.spi.NativeHandle;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * cl_khr_command_buffer (0.9.0) through Panama. The extension's functions are not exported by the ICD loader: they
 * are looked up per platform with {@code clGetExtensionFunctionAddressForPlatform} (jextract's class has no binding
 * for it, so it is bound here too) and called as function pointers. A platform whose driver returns NULL for any of
 * them cannot record command buffers ({@link #unsupported}).
 */
final class PanamaCommandBuffers {
    /** The six entry points of one platform's driver, as downcalls. */
    record Functions(MethodHandle create, MethodHandle finalizeBuffer, MethodHandle release, MethodHandle enqueue,
                     MethodHandle ndRange, MethodHandle copy) {}

    /** A command buffer and the functions of the platform that made it (release needs them). */
    record CommandBufferHandle(MemorySegment address, Functions functions) implements NativeHandle {
        @Override public Kind kind() { return Kind.COMMAND_BUFFER; }
    }

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LOADER = SymbolLookup.libraryLookup(PanamaDriver.LIBRARY, Arena.global());
    private static final MethodHandle GET_EXTENSION_FUNCTION = LINKER.downcallHandle(
            LOADER.findOrThrow("clGetExtensionFunctionAddressForPlatform"), FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    /** clCloneKernel (OpenCL 2.1; not in jextract's class, which is generated for 1.2-3.0's common set), or null. */
    private static final MethodHandle CLONE_KERNEL = LOADER.find("clCloneKernel")
            .map(f -> LINKER.downcallHandle(f, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS))).orElse(null);

    /** Per platform address: its functions, or null (cached as an absent entry) when it lacks them. */
    private final Map<MemorySegment, java.util.Optional<Functions>> byPlatform = new ConcurrentHashMap<>();

    /** Why the platform cannot record command buffers, or null. */
    String unsupported(MemorySegment platform) {
        if (CLONE_KERNEL == null) return "the ICD loader has no clCloneKernel";
        return functions(platform) == null ? "the platform's driver returns no cl_khr_command_buffer entry points" : null;
    }

    /** A new kernel object with the kernel's arguments as set now. */
    MemorySegment cloneKernel(MemorySegment kernel) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = arena.allocate(JAVA_INT);
            MemorySegment clone = (MemorySegment) CLONE_KERNEL.invokeExact(kernel, err);
            check("clCloneKernel", err.get(JAVA_INT, 0));
            return clone;
        } catch (ClException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    Functions functions(MemorySegment platform) {
        return byPlatform.computeIfAbsent(platform, p -> java.util.Optional.ofNullable(lookUp(p))).orElse(null);
    }

    private static Functions lookUp(MemorySegment platform) {
        MethodHandle create = bind(platform, "clCreateCommandBufferKHR", FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        MethodHandle finalizeBuffer = bind(platform, "clFinalizeCommandBufferKHR", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        MethodHandle release = bind(platform, "clReleaseCommandBufferKHR", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        MethodHandle enqueue = bind(platform, "clEnqueueCommandBufferKHR",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        // command_buffer, command_queue, properties, kernel, work_dim, offset, global, local, sync wait count and list,
        // sync point out, mutable handle out (0.9.0's last parameter)
        MethodHandle ndRange = bind(platform, "clCommandNDRangeKernelKHR", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS,
                ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        MethodHandle copy = bind(platform, "clCommandCopyBufferKHR", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS,
                ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        if (create == null || finalizeBuffer == null || release == null || enqueue == null || ndRange == null || copy == null) return null;
        return new Functions(create, finalizeBuffer, release, enqueue, ndRange, copy);
    }

    private static MethodHandle bind(MemorySegment platform, String name, FunctionDescriptor descriptor) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment f = (MemorySegment) GET_EXTENSION_FUNCTION.invokeExact(platform, arena.allocateFrom(name));
            return f.equals(MemorySegment.NULL) ? null : LINKER.downcallHandle(f, descriptor);
        } catch (Throwable t) {
            throw new IllegalStateException("looking up " + name, t);
        }
    }

    private static void check(String call, int code) {
        if (code != 0) throw new ClException(call, code);
    }

    /** A sync-point wait list, or NULL for none. */
    private static MemorySegment syncPoints(Arena arena, int[] waitFor) {
        return waitFor == null || waitFor.length == 0 ? MemorySegment.NULL : arena.allocateFrom(JAVA_INT, waitFor);
    }

    private static int count(int[] waitFor) { return waitFor == null ? 0 : waitFor.length; }

    NativeHandle create(MemorySegment platform, MemorySegment queue) {
        Functions f = functions(platform);
        if (f == null) throw new UnsupportedOperationException(unsupported(platform));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = arena.allocate(JAVA_INT);
            MemorySegment cb = (MemorySegment) f.create().invokeExact(1, arena.allocateFrom(ADDRESS, queue), MemorySegment.NULL, err);
            check("clCreateCommandBufferKHR", err.get(JAVA_INT, 0));
            return new CommandBufferHandle(cb, f);
        } catch (ClException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    int ndRange(NativeHandle commandBuffer, MemorySegment kernel, long[] global, long[] local, int[] waitFor) {
        CommandBufferHandle cb = (CommandBufferHandle) commandBuffer;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sync = arena.allocate(JAVA_INT);
            MemorySegment localSizes = local == null ? MemorySegment.NULL : arena.allocateFrom(JAVA_LONG, local);
            int rc = (int) cb.functions().ndRange().invokeExact(cb.address(), MemorySegment.NULL, MemorySegment.NULL, kernel, global.length,
                    MemorySegment.NULL, arena.allocateFrom(JAVA_LONG, global), localSizes,
                    count(waitFor), syncPoints(arena, waitFor), sync, MemorySegment.NULL);
            check("clCommandNDRangeKernelKHR", rc);
            return sync.get(JAVA_INT, 0);
        } catch (ClException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    int copy(NativeHandle commandBuffer, MemorySegment source, MemorySegment target, long sourceOffset, long targetOffset, long size, int[] waitFor) {
        CommandBufferHandle cb = (CommandBufferHandle) commandBuffer;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sync = arena.allocate(JAVA_INT);
            int rc = (int) cb.functions().copy().invokeExact(cb.address(), MemorySegment.NULL, source, target, sourceOffset, targetOffset, size,
                    count(waitFor), syncPoints(arena, waitFor), sync, MemorySegment.NULL);
            check("clCommandCopyBufferKHR", rc);
            return sync.get(JAVA_INT, 0);
        } catch (ClException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    void finalizeBuffer(NativeHandle commandBuffer) {
        CommandBufferHandle cb = (CommandBufferHandle) commandBuffer;
        try {
            check("clFinalizeCommandBufferKHR", (int) cb.functions().finalizeBuffer().invokeExact(cb.address()));
        } catch (ClException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Enqueues on the queue it was recorded for (no replacement queues: 0.9.0 allows them only with the simultaneous-use
     * capability); {@code events} and {@code eventOut} are the caller's (cl_event array or NULL, cl_event*).
     */
    int enqueue(NativeHandle commandBuffer, int eventCount, MemorySegment events, MemorySegment eventOut) {
        CommandBufferHandle cb = (CommandBufferHandle) commandBuffer;
        try {
            return (int) cb.functions().enqueue().invokeExact(0, MemorySegment.NULL, cb.address(), eventCount, events, eventOut);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    int release(NativeHandle commandBuffer) {
        CommandBufferHandle cb = (CommandBufferHandle) commandBuffer;
        try {
            return (int) cb.functions().release().invokeExact(cb.address());
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
