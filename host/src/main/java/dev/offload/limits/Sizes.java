package dev.offload.limits;

import dev.offload.cl.DeviceInfo;
import java.util.Arrays;

/**
 * The one place where sizes are checked before anything is allocated: element and byte counts in checked arithmetic
 * (a shape whose product overflows, or a count times an element size that wraps, is refused instead of allocating
 * a wrapped, negative or zero size), the longest Java array, the JVM's maximum heap, and a device's largest single
 * allocation (CL_DEVICE_MAX_MEM_ALLOC_SIZE). Every refusal is a {@link SizeLimitException} that begins with
 * {@code what} (a file, an option, a tensor) and says the size and the limit.
 */
public final class Sizes {
    private Sizes() {}

    /** The longest array HotSpot allocates (a few header words below Integer.MAX_VALUE). */
    public static final int MAX_ARRAY_LENGTH = Integer.MAX_VALUE - 8;

    /** The number of elements of {@code shape}; every dimension must be at least 0. */
    public static long elements(String what, long... shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new SizeLimitException(what + ": shape " + Arrays.toString(shape) + " has a negative dimension");
        }
        for (long d : shape) {
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException overflow) {
                throw new SizeLimitException(what + ": shape " + Arrays.toString(shape) + " has more than 2^63 elements");
            }
        }
        return n;
    }

    /** {@code elements * elementBytes}, refused when it overflows a long. */
    public static long bytes(String what, long elements, long elementBytes) {
        try {
            return Math.multiplyExact(elements, elementBytes);
        } catch (ArithmeticException overflow) {
            throw new SizeLimitException(what + ": " + elements + " elements of " + elementBytes + " bytes are more than 2^63 bytes");
        }
    }

    /** The sum of byte or element counts, refused when it overflows a long. */
    public static long sum(String what, long... counts) {
        long total = 0;
        for (long c : counts) {
            try {
                total = Math.addExact(total, c);
            } catch (ArithmeticException overflow) {
                throw new SizeLimitException(what + ": the sizes add up to more than 2^63");
            }
        }
        return total;
    }

    /** The elements of {@code shape} as a Java array length: at most {@link #MAX_ARRAY_LENGTH}. */
    public static int arrayLength(String what, long... shape) {
        long n = elements(what, shape);
        if (n > MAX_ARRAY_LENGTH) {
            throw new SizeLimitException(what + ": shape " + Arrays.toString(shape) + " has " + n
                    + " elements, more than a Java array holds (" + MAX_ARRAY_LENGTH + ")");
        }
        return (int) n;
    }

    /** A byte count as a Java byte array length. */
    public static int byteArrayLength(String what, long bytes) {
        if (bytes < 0 || bytes > MAX_ARRAY_LENGTH) {
            throw new SizeLimitException(what + ": " + bytes + " bytes, more than a Java array holds (" + MAX_ARRAY_LENGTH + ")");
        }
        return (int) bytes;
    }

    /**
     * Refuses {@code bytes} more than the JVM's maximum heap ({@code -Xmx}): such an allocation can only end in an
     * OutOfMemoryError, after whatever work came before it.
     */
    public static void fitsHeap(String what, long bytes) {
        long max = Runtime.getRuntime().maxMemory();
        if (bytes > max) {
            throw new SizeLimitException(what + ": needs " + gib(bytes) + " of heap, the JVM may use " + gib(max)
                    + " (raise -Xmx, or make it smaller)");
        }
    }

    /** Refuses a device buffer larger than the device's largest allocation or its whole memory. */
    public static void fitsDevice(String what, long bytes, DeviceInfo device) {
        if (bytes > device.maxAllocBytes()) {
            throw new SizeLimitException(what + ": needs a " + gib(bytes) + " buffer, more than " + device.name()
                    + " allocates at once (" + gib(device.maxAllocBytes()) + ", CL_DEVICE_MAX_MEM_ALLOC_SIZE)");
        }
    }

    static String gib(long bytes) {
        return bytes >= 1L << 30 ? String.format(java.util.Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30))
                : String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
    }
}
