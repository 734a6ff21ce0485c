package dev.offload.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.device.ComputeDevice;
import dev.offload.graph.Add;
import dev.offload.graph.Fp32Linear;
import dev.offload.graph.Graph;
import dev.offload.graph.Node;
import dev.offload.graph.Op;
import dev.offload.graph.OpKind;
import dev.offload.ops.gemm.Activation;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The typed registry: every op has a java implementation, every kind but float_linear an OpenCL one. */
class OpImplementationsTest {
    @Test
    void everyOpClassHasAJavaImplementationAndAKind() {
        OpImplementations defaults = OpImplementations.defaults();
        Set<String> kinds = Arrays.stream(OpKind.values()).map(OpKind::key).collect(Collectors.toSet());
        // One kind per op class, but the quantized linears (int8 per channel, a group of them on one input, GGUF blocks, a
        // group of GGUF-block linears on one input) share "linear", so that a rule for linears places all four.
        long linears = Arrays.stream(Op.class.getPermittedSubclasses()).filter(c -> c == dev.offload.graph.Int8Linear.class
                || c == dev.offload.graph.Int8LinearGroup.class || c == dev.offload.graph.BlockLinear.class
                || c == dev.offload.graph.BlockLinearGroup.class).count();
        assertEquals(4, linears);
        assertEquals(Op.class.getPermittedSubclasses().length, OpKind.values().length + linears - 1, "one kind per op class but the linears");
        for (OpKind k : OpKind.values()) assertEquals(k, OpKind.byKey(k.key()).orElseThrow());
        assertTrue(OpKind.byKey("lineer").isEmpty());
        assertTrue(kinds.contains("linear") && kinds.contains("pool") && kinds.contains("float_linear"), kinds.toString());
        for (Class<?> c : Op.class.getPermittedSubclasses()) {
            Class<? extends Op> op = c.asSubclass(Op.class);
            assertTrue(defaults.find(op, Backend.JAVA).isPresent(), c.getSimpleName() + " has no java implementation");
            assertEquals(op != Fp32Linear.class, defaults.find(op, Backend.OPENCL).isPresent(),
                    c.getSimpleName() + ": every op but the float linear (no kernel: it runs on java) has an OpenCL implementation");
        }
        assertTrue(defaults.find(new Fp32Linear(1, 1, new float[1], null, Activation.NONE), Backend.JAVA).isPresent(),
                "lookup by op instance");
    }

    @Test
    void withAndWithoutReturnCopies() {
        OpImplementation mine = (Graph g, Node n, ComputeDevice d, dev.offload.runtime.ResidentWeights w) -> (in, ctx) -> in;
        OpImplementations defaults = OpImplementations.defaults();
        OpImplementations injected = defaults.with(Add.class, Backend.OPENCL, mine);
        assertSame(mine, injected.find(new Add(), Backend.OPENCL).orElseThrow());
        assertTrue(defaults.find(new Add(), Backend.OPENCL).orElseThrow() != mine, "the defaults are unchanged");
        OpImplementations without = defaults.without(Add.class, Backend.OPENCL);
        assertTrue(without.find(new Add(), Backend.OPENCL).isEmpty());
        assertTrue(without.find(new Add(), Backend.JAVA).isPresent(), "only the OpenCL implementation went");
    }
}
