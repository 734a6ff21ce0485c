package dev.offload.cl;

import dev.offload.cl.spi.ClDriver;
import dev.offload.cl.spi.NativeHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * The entry point: one loaded binding and the platforms and devices it sees.
 *
 * <pre>{@code
 * OpenCl cl = OpenCl.open(Binding.PANAMA);
 * Device d = cl.devices().getFirst();
 * try (Context ctx = Context.create(d); Queue q = ctx.createQueue(); ...) { ... }
 * }</pre>
 */
public final class OpenCl {
    private final Binding binding;
    private final ClDriver driver;
    private final List<Platform> platforms;

    private OpenCl(Binding binding, ClDriver driver) {
        this.binding = binding;
        this.driver = driver;
        List<Platform> ps = new ArrayList<>();
        List<NativeHandle> handles = driver.platforms();
        for (int i = 0; i < handles.size(); i++) ps.add(new Platform(driver, handles.get(i), i));
        this.platforms = List.copyOf(ps);
    }

    /**
     * Loads a binding and enumerates its platforms.
     *
     * @throws OpenClUnavailableException when the OpenCL library cannot be loaded
     */
    public static OpenCl open(Binding binding) {
        PoclWorkerPinning.applyOnce();   // before the ICD loader starts PoCL's workers
        ClDriver driver;
        try {
            driver = binding.openDriver();
        } catch (OpenClUnavailableException e) {
            throw e;
        } catch (LinkageError | RuntimeException e) {
            throw new OpenClUnavailableException(
                    "the " + binding.id() + " binding cannot load OpenCL: " + e.getMessage(), e);
        }
        return new OpenCl(binding, driver);
    }

    public Binding binding() { return binding; }

    public List<Platform> platforms() { return platforms; }

    /** Every device of every platform, in platform order. */
    public List<Device> devices() {
        return platforms.stream().flatMap(p -> p.devices().stream()).toList();
    }
}
