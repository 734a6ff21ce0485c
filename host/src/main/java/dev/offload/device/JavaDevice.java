package dev.offload.device;

/** The pure-Java reference device: always present, plain code, the judge of every OpenCL result. */
public final class JavaDevice implements ComputeDevice {
    public static final String SPEC = "java";
    public static final JavaDevice INSTANCE = new JavaDevice();

    private JavaDevice() {}

    @Override public String spec() { return SPEC; }

    @Override public String description() { return "java (pure-Java reference, " + Runtime.getRuntime().availableProcessors() + " cores)"; }

    @Override public void close() {}

    @Override public String toString() { return SPEC; }
}
