package dev.offload.model.gguf;

import java.util.Arrays;

/**
 * One metadata value of a GGUF file. Integers of every width are held as a long with their declared type (a
 * uint64 above Long.MAX_VALUE keeps its bits); arrays hold a primitive array of their element type, or the nested
 * arrays themselves.
 */
public sealed interface GgufValue {

    /** The type the file declares for this value. */
    GgufValueType type();

    /** An integer of any of the eight integer types. */
    record Int(GgufValueType type, long value) implements GgufValue {}

    record Float32(float value) implements GgufValue {
        public GgufValueType type() { return GgufValueType.FLOAT32; }
    }

    record Float64(double value) implements GgufValue {
        public GgufValueType type() { return GgufValueType.FLOAT64; }
    }

    record Bool(boolean value) implements GgufValue {
        public GgufValueType type() { return GgufValueType.BOOL; }
    }

    record Str(String value) implements GgufValue {
        public GgufValueType type() { return GgufValueType.STRING; }
    }

    /**
     * An array: {@code elements} is a long[] for the integer types, float[], double[], boolean[], String[], or
     * Array[] for nested arrays.
     */
    record Array(GgufValueType elementType, Object elements) implements GgufValue {
        public GgufValueType type() { return GgufValueType.ARRAY; }

        public int length() {
            return switch (elements) {
                case long[] a -> a.length;
                case float[] a -> a.length;
                case double[] a -> a.length;
                case boolean[] a -> a.length;
                case String[] a -> a.length;
                case Array[] a -> a.length;
                default -> throw new IllegalStateException("array of " + elements.getClass());
            };
        }

        @Override
        public String toString() {
            String body = switch (elements) {
                case long[] a -> Arrays.toString(a);
                case float[] a -> Arrays.toString(a);
                case double[] a -> Arrays.toString(a);
                case boolean[] a -> Arrays.toString(a);
                case Object[] a -> Arrays.toString(a);
                default -> "?";
            };
            return "Array[" + elementType + " x " + length() + ": " + body + "]";
        }
    }
}
