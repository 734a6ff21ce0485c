package dev.offload.device;

import dev.offload.cl.Device;
import dev.offload.cl.DeviceType;
import java.util.Locale;

/**
 * A device selection as the user writes it, parsed once: {@code java}, {@code cl}, {@code cl:cpu}, {@code cl:gpu},
 * {@code cl:accelerator}, {@code cl:<platform>:<device>} or {@code cl:name=<substring>}. Which device it names is
 * the {@link DeviceRegistry}'s business ({@link DeviceRegistry#resolve(DeviceSpec)}).
 */
public sealed interface DeviceSpec {
    /** The hint for a spec that does not start right. */
    String START_HINT = "a spec starts with 'java' or 'cl'";
    /** The hint for a {@code cl:} spec of no known form. */
    String FORMS_HINT = "use cl:cpu, cl:gpu, cl:accelerator, cl:<platform>:<device> or cl:name=<text>";

    /** The pure-Java reference device. */
    record Java() implements DeviceSpec {}

    /** {@code cl}: the preferred OpenCL device (the first GPU or accelerator, else the first CPU). */
    record DefaultCl() implements DeviceSpec {}

    /** {@code cl:cpu}, {@code cl:gpu}, {@code cl:accelerator}: the first device of that type. */
    record ByType(DeviceType type) implements DeviceSpec {}

    /** {@code cl:<platform>:<device>}: by position. */
    record ByIndex(int platform, int device) implements DeviceSpec {}

    /** {@code cl:name=<text>}: the first device whose name contains the text, ignoring case (kept lower-case). */
    record ByName(String substring) implements DeviceSpec {}

    /** A spec that names nothing: {@link #getMessage} is the hint saying which forms exist. */
    final class InvalidSpecException extends IllegalArgumentException {
        private final String spec;

        InvalidSpecException(String spec, String hint) {
            super(hint);
            this.spec = spec;
        }

        public String spec() { return spec; }
    }

    /** Parses a spec (surrounding blanks and case ignored); throws {@link InvalidSpecException} for any other text. */
    static DeviceSpec parse(String text) {
        String s = text.strip();
        String lower = s.toLowerCase(Locale.ROOT);
        if (lower.equals(JavaDevice.SPEC)) return new Java();
        if (lower.equals("cl")) return new DefaultCl();
        if (!lower.startsWith("cl:")) throw new InvalidSpecException(s, lower.startsWith("cl") ? FORMS_HINT : START_HINT);
        String rest = lower.substring(3);
        if (rest.startsWith("name=")) return new ByName(rest.substring("name=".length()));
        return switch (rest) {
            case "cpu" -> new ByType(DeviceType.CPU);
            case "gpu" -> new ByType(DeviceType.GPU);
            case "accelerator" -> new ByType(DeviceType.ACCELERATOR);
            default -> {
                String[] parts = rest.split(":");
                if (parts.length != 2 || !parts[0].matches("\\d{1,9}") || !parts[1].matches("\\d{1,9}")) {
                    throw new InvalidSpecException(s, FORMS_HINT);
                }
                yield new ByIndex(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]));
            }
        };
    }

    /** The spec as {@link #parse} reads it back (lower-case). */
    default String text() {
        return switch (this) {
            case Java j -> JavaDevice.SPEC;
            case DefaultCl c -> "cl";
            case ByType t -> "cl:" + t.type().name().toLowerCase(Locale.ROOT);
            case ByIndex i -> "cl:" + i.platform() + ":" + i.device();
            case ByName n -> "cl:name=" + n.substring();
        };
    }

    /**
     * Whether this spec accepts an OpenCL device, looking at that device alone ({@link DefaultCl} accepts any;
     * choosing among several is the registry's job, {@link Java} accepts none).
     */
    default boolean accepts(Device d) {
        return switch (this) {
            case Java j -> false;
            case DefaultCl c -> true;
            case ByType t -> d.info().type() == t.type();
            case ByIndex i -> d.platform().index() == i.platform() && d.index() == i.device();
            case ByName n -> d.name().toLowerCase(Locale.ROOT).contains(n.substring());
        };
    }
}
