package dev.offload.bitstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Binding;
import dev.offload.cl.Buffer;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import dev.offload.kernels.KernelFamily;
import dev.offload.ops.attention.AttentionProblem;
import dev.offload.ops.attention.AttentionShape;
import dev.offload.ops.attention.FusedAttention;
import dev.offload.ops.layers.LayersOpenCl;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * After {@code bitstreams build}, the programs the graph path asks for (layers, and fused attention at the head
 * dimensions of common models) load from the store: {@link BuildVariants} lists exactly what the ops request.
 */
class StoreServesGraphProgramsTest {
    @Test
    void afterBitstreamsBuildTheGraphProgramsComeFromTheStoreWithNothingCompiled(@TempDir Path store) {
        var build = BitstreamsCommandTest.offload("bitstreams", "build", "--device", "cl:cpu", "--ops", "layers,attention",
                "--store", store.toString());
        assertEquals(0, build.exit(), build.out() + build.err());

        BitstreamProgramSource source = new BitstreamProgramSource(new BitstreamStore(store), null); // no cache
        try (OpenClDevice cl = new OpenClDevice(DeviceRegistry.discover(Binding.PANAMA).resolve("cl:cpu").orElseThrow())) {
            cl.programSource(source);
            cl.program(KernelFamily.LAYERS, LayersOpenCl.buildOptions());
            Random rnd = new Random(11);
            for (int headDim : FusedAttention.COMMON_HEAD_DIMS) {
                AttentionShape shape = new AttentionShape(1, 2, 2, 3, 5, headDim);
                float[] q = random(rnd, (int) shape.queryElements()), kv = random(rnd, (int) shape.kvElements());
                for (AttentionProblem.Layout layout : AttentionProblem.Layout.values()) {   // the command's and the graph's
                    try (Buffer qb = cl.upload(q); Buffer kb = cl.upload(kv); Buffer vb = cl.upload(kv);
                         Buffer out = cl.context().createBuffer(4L * shape.outputElements())) {
                        new FusedAttention(cl).run(AttentionProblem.of(shape).withLayout(layout), qb, kb, vb, out);
                        float[] o = cl.readFloats(out, (int) shape.outputElements());
                        for (float x : o) assertTrue(Float.isFinite(x), "head dim " + headDim + " " + layout + " wrote a non-finite value");
                    }
                }
            }
        }
        List<ProgramBuild> builds = source.builds();
        assertEquals(1 + 2 * FusedAttention.COMMON_HEAD_DIMS.size(), builds.size(), builds.toString());
        assertFalse(builds.isEmpty());
        for (ProgramBuild b : builds) assertEquals(ProgramOrigin.STORE, b.origin(), b.toString());
    }

    private static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = rnd.nextFloat(-2, 2);
        return a;
    }
}
