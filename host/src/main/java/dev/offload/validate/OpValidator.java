package dev.offload.validate;

import dev.offload.device.OpenClDevice;
import java.util.List;

/** Checks one op family on one OpenCL device against its java reference over a sweep of shapes. */
public interface OpValidator {
    /** The op family's name, as {@code validate --ops} takes it (e.g. {@code int8_gemm}). */
    String op();

    List<CheckResult> validate(OpenClDevice device, ValidationOptions options);
}
