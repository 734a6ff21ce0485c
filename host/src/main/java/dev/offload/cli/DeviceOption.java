package dev.offload.cli;

import dev.offload.device.DeviceRegistry;
import picocli.CommandLine.Option;

/** {@code --device SPEC} of the commands that run one op on one device. */
public final class DeviceOption {
    @Option(names = "--device", paramLabel = "SPEC",
            description = "Device (java, cl:cpu, cl:gpu, cl:0:0, cl:name=...). Default: $OFFLOAD_DEVICE, else the first GPU/accelerator, else CPU, else java.")
    String spec;

    /** The spec given, else the registry's default. */
    String chosen(DeviceRegistry registry) { return spec != null ? spec : registry.defaultSpec(); }
}
