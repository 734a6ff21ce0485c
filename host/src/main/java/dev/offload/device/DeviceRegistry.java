package dev.offload.device;

import dev.offload.cl.Binding;
import dev.offload.cl.Device;
import dev.offload.cl.DeviceType;
import dev.offload.cl.OpenCl;
import dev.offload.cl.OpenClUnavailableException;
import dev.offload.config.OffloadSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The devices this process can use: the OpenCL devices of one binding (when OpenCL loads) and the
 * java reference device, which is always there. Resolves {@link DeviceSpec}s to devices.
 */
public final class DeviceRegistry {
    private static final Logger log = LoggerFactory.getLogger(DeviceRegistry.class);
    /** The environment variable that names the default device ({@link OffloadSettings#device}). */
    public static final String DEVICE_ENV = OffloadSettings.DEVICE_ENV;

    private final Binding binding;
    private final OffloadSettings settings;
    private final OpenCl openCl;          // null when OpenCL is unavailable
    private final String unavailableReason;
    private volatile java.util.function.Consumer<OpenClDevice> onOpen = d -> {};

    private DeviceRegistry(Binding binding, OffloadSettings settings, OpenCl openCl, String unavailableReason) {
        this.binding = binding;
        this.settings = settings;
        this.openCl = openCl;
        this.unavailableReason = unavailableReason;
    }

    /** As {@link #discover(Binding, OffloadSettings)} under this process's settings. */
    public static DeviceRegistry discover(Binding binding) { return discover(binding, OffloadSettings.current()); }

    /** The settings' binding, under those settings. */
    public static DeviceRegistry discover(OffloadSettings settings) { return discover(settings.binding(), settings); }

    /**
     * Opens the binding; an OpenCL that cannot load is remembered and explained, not thrown. The settings give the
     * default device and the kernel style of every device this registry opens (the binding argument wins over theirs).
     */
    public static DeviceRegistry discover(Binding binding, OffloadSettings settings) {
        try {
            OpenCl cl = OpenCl.open(binding);
            if (cl.devices().isEmpty()) {
                String why = "no OpenCL platform or device found (the ICD loader loaded, but lists none); "
                        + OpenClUnavailableException.INSTALL_HINT;
                log.warn("{}: only the java device is available", why);
                return new DeviceRegistry(binding, settings, cl, why);
            }
            if (JvmSignalChaining.missingFor(cl)) log.warn("PoCL without the JVM's signal chaining: {}", JvmSignalChaining.HINT);
            return new DeviceRegistry(binding, settings, cl, null);
        } catch (OpenClUnavailableException e) {
            log.warn("OpenCL unavailable: {}; only the java device is available", e.getMessage());
            return new DeviceRegistry(binding, settings, null, e.getMessage());
        }
    }

    public Binding binding() { return binding; }

    /** The settings this registry opened with. */
    public OffloadSettings settings() { return settings; }

    /** The OpenCL devices (empty when OpenCL is unavailable). */
    public List<Device> openClDevices() { return openCl == null ? List.of() : openCl.devices(); }

    public Optional<OpenCl> openCl() { return Optional.ofNullable(openCl); }

    /** Why there are no OpenCL devices, or empty when there are. */
    public Optional<String> unavailableReason() { return Optional.ofNullable(unavailableReason); }

    /** Every spec that names a device, for listings and error messages. */
    public List<String> availableSpecs() {
        List<String> out = new ArrayList<>();
        out.add(JavaDevice.SPEC);
        for (Device d : openClDevices()) out.add(d.spec() + " (" + d.name() + ", " + d.info().type() + ")");
        return out;
    }

    /** The settings' device (OFFLOAD_DEVICE), else the first GPU or ACCELERATOR, else the first CPU, else java. */
    public String defaultSpec() {
        if (settings.device() != null) return settings.device();
        return preferredOpenClDevice().map(Device::spec).orElse(JavaDevice.SPEC);
    }

    private Optional<Device> preferredOpenClDevice() {
        List<Device> ds = openClDevices();
        return ds.stream().filter(d -> d.info().type() == DeviceType.GPU || d.info().type() == DeviceType.ACCELERATOR)
                .findFirst().or(() -> ds.stream().filter(d -> d.info().type() == DeviceType.CPU).findFirst())
                .or(() -> ds.stream().findFirst());
    }

    /**
     * The OpenCL device a spec names, or empty for {@code java}.
     *
     * @throws IllegalArgumentException for a spec that names nothing, listing what exists
     */
    public Optional<Device> resolve(String spec) {
        DeviceSpec parsed;
        try {
            parsed = DeviceSpec.parse(spec);
        } catch (DeviceSpec.InvalidSpecException e) {
            throw unknown(e.spec(), e.getMessage());
        }
        return resolve(parsed, spec.strip());
    }

    /** As {@link #resolve(String)} for a parsed spec. */
    public Optional<Device> resolve(DeviceSpec spec) { return resolve(spec, spec.text()); }

    private Optional<Device> resolve(DeviceSpec spec, String asWritten) {
        if (spec instanceof DeviceSpec.Java) return Optional.empty();
        Optional<Device> found = spec instanceof DeviceSpec.DefaultCl ? preferredOpenClDevice()
                : openClDevices().stream().filter(spec::accepts).findFirst();
        return Optional.of(found.orElseThrow(() -> unknown(asWritten, unavailableReason)));
    }

    private IllegalArgumentException unknown(String spec, String hint) {
        return new IllegalArgumentException("no device matches '" + spec + "'"
                + (hint == null ? "" : " (" + hint + ")") + "; available: "
                + availableSpecs().stream().collect(Collectors.joining(", ")));
    }

    /** Runs on every OpenCL device this registry opens: the CLI installs the bitstream store and program cache here. */
    public DeviceRegistry onOpen(java.util.function.Consumer<OpenClDevice> action) {
        this.onOpen = action;
        return this;
    }

    /** A new context and queue on an OpenCL device in the settings' kernel style, with the {@link #onOpen} action applied. */
    public OpenClDevice open(Device device) {
        OpenClDevice d = new OpenClDevice(device);
        d.kernelStyle(settings.kernelStyleFor(device.info()));
        onOpen.accept(d);
        return d;
    }

    /** Opens the device a spec names: the java device or a new context and queue on an OpenCL device. */
    public ComputeDevice open(String spec) {
        return resolve(spec).<ComputeDevice>map(this::open).orElse(JavaDevice.INSTANCE);
    }
}
