package dev.offload.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.offload.cl.DeviceType;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeviceSpecTest {
    @Test
    void parsesEveryForm() {
        assertEquals(new DeviceSpec.Java(), DeviceSpec.parse(" Java "));
        assertEquals(new DeviceSpec.DefaultCl(), DeviceSpec.parse("cl"));
        assertEquals(new DeviceSpec.ByType(DeviceType.CPU), DeviceSpec.parse("cl:cpu"));
        assertEquals(new DeviceSpec.ByType(DeviceType.GPU), DeviceSpec.parse("CL:GPU"));
        assertEquals(new DeviceSpec.ByType(DeviceType.ACCELERATOR), DeviceSpec.parse("cl:accelerator"));
        assertEquals(new DeviceSpec.ByIndex(1, 2), DeviceSpec.parse("cl:1:2"));
        assertEquals(new DeviceSpec.ByName("pthread"), DeviceSpec.parse("cl:name=PThread"));
    }

    @Test
    void textReadsBack() {
        for (String s : List.of("java", "cl", "cl:cpu", "cl:gpu", "cl:accelerator", "cl:0:3", "cl:name=intel")) {
            assertEquals(s, DeviceSpec.parse(s).text());
            assertEquals(DeviceSpec.parse(s), DeviceSpec.parse(DeviceSpec.parse(s).text()));
        }
    }

    @Test
    void rejectsWithTheFormsThatExist() {
        assertEquals(DeviceSpec.START_HINT, assertThrows(DeviceSpec.InvalidSpecException.class, () -> DeviceSpec.parse("gpu")).getMessage());
        for (String bad : List.of("cl:", "cl:tpu", "cl:0", "cl:0:x", "cl:0:0:0", "clgpu")) {
            DeviceSpec.InvalidSpecException e = assertThrows(DeviceSpec.InvalidSpecException.class, () -> DeviceSpec.parse(bad), bad);
            assertEquals(DeviceSpec.FORMS_HINT, e.getMessage(), bad);
            assertEquals(bad, e.spec());
        }
    }
}
