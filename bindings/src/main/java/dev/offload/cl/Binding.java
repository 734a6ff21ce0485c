package dev.offload.cl;

import dev.offload.cl.jocl.JoclDriver;
import dev.offload.cl.panama.PanamaDriver;
import dev.offload.cl.spi.ClDriver;
import java.util.Locale;

/** The two ways to reach OpenCL. Chosen with {@code --binding} or {@code OFFLOAD_BINDING} (read by the host's settings); Panama by default. */
public enum Binding {
    /** jextract-generated bindings over the Foreign Function and Memory API. */
    PANAMA,
    /** JOCL, a JNI binding from Maven Central. */
    JOCL;

    public static Binding parse(String name) {
        return switch (name.strip().toLowerCase(Locale.ROOT)) {
            case "panama" -> PANAMA;
            case "jocl" -> JOCL;
            default -> throw new IllegalArgumentException(
                    "unknown OpenCL binding '" + name + "': use panama or jocl");
        };
    }

    public String id() { return name().toLowerCase(Locale.ROOT); }

    /** Loads the binding's native side; throws OpenClUnavailableException when OpenCL is missing. */
    ClDriver openDriver() {
        return switch (this) {
            case PANAMA -> PanamaDriver.open();
            case JOCL -> JoclDriver.open();
        };
    }
}
