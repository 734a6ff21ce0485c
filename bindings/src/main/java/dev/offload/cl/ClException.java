package dev.offload.cl;

/**
 * An OpenCL call that returned an error code. The message names the call and the error
 * ({@code clBuildProgram failed: CL_BUILD_PROGRAM_FAILURE}); for program builds it also carries the
 * device's build log, because without it a build failure cannot be acted upon.
 */
public final class ClException extends RuntimeException {
    private final String call;
    private final int errorCode;
    private final String buildLog;

    public ClException(String call, int errorCode) {
        this(call, errorCode, null, null);
    }

    public ClException(String call, int errorCode, String context, String buildLog) {
        super(message(call, errorCode, context, buildLog));
        this.call = call;
        this.errorCode = errorCode;
        this.buildLog = buildLog;
    }

    private static String message(String call, int code, String context, String buildLog) {
        StringBuilder m = new StringBuilder(call).append(" failed: ").append(ClError.name(code));
        if (context != null && !context.isBlank()) m.append(" (").append(context).append(')');
        if (buildLog != null && !buildLog.isBlank()) m.append("\nbuild log:\n").append(buildLog.strip());
        return m.toString();
    }

    /** The OpenCL function that failed, e.g. {@code clEnqueueNDRangeKernel}. */
    public String call() { return call; }

    /** The raw OpenCL error code (negative). */
    public int errorCode() { return errorCode; }

    /** The symbolic name of the error code, e.g. {@code CL_INVALID_KERNEL_ARGS}. */
    public String errorName() { return ClError.name(errorCode); }

    /** The build log for failed builds, else null. */
    public String buildLog() { return buildLog; }
}
