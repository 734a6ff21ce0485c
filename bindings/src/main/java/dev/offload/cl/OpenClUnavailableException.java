package dev.offload.cl;

/**
 * OpenCL cannot be used at all: the ICD loader library is missing or cannot be loaded. The message
 * says why and how to install a CPU OpenCL runtime; callers keep working on the java device.
 */
public final class OpenClUnavailableException extends RuntimeException {
    public static final String INSTALL_HINT =
            "install a CPU OpenCL runtime: apt-get install -y pocl-opencl-icd ocl-icd-libopencl1 clinfo";

    public OpenClUnavailableException(String reason, Throwable cause) {
        super(reason + "; " + INSTALL_HINT, cause);
    }
}
