package dev.offload.cl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * cl_khr_command_buffer through the bindings: a recorded kernel + copy sequence gives what the same commands
 * enqueued one by one give, bit for bit, on every replay, with its arguments captured at recording; JOCL says it
 * cannot record.
 */
class CommandBufferTest {
    private static final String STEP = """
            __kernel void fma_half(__global const float* x, __global float* y, const float a, const int n) {
                int i = get_global_id(0);
                if (i < n) y[i] = fma(a, x[i], y[i]) * 0.5f;
            }
            """;

    @Test
    void panamaRecordsOnPoclAndReplaysBitForBitLikePlainEnqueues() {
        Device d = BindingsTest.firstDevice(Binding.PANAMA);
        assumeTrue(d.info().hasExtension(Device.COMMAND_BUFFER_EXTENSION), "the device has no " + Device.COMMAND_BUFFER_EXTENSION);
        assertNull(d.commandBuffersUnsupported());
        int n = 1000;
        float[] x = new float[n], y0 = new float[n];
        Random r = new Random(7);
        for (int i = 0; i < n; i++) {
            x[i] = r.nextFloat() * 2 - 1;
            y0[i] = r.nextFloat() * 2 - 1;
        }
        try (Context c = Context.create(d); Queue q = c.createQueue(); Arena a = Arena.ofConfined();
             Program p = c.buildProgram(STEP, ""); Kernel k = p.kernel("fma_half")) {
            MemorySegment xs = a.allocateFrom(ValueLayout.JAVA_FLOAT, x), ys = a.allocateFrom(ValueLayout.JAVA_FLOAT, y0);
            try (Buffer bx = c.createBuffer(xs); Buffer by = c.createBuffer(4L * n); Buffer bz = c.createBuffer(4L * n)) {
                // Plain: y = y0, then step twice (a = 1.5, then a = -0.25), then copy y into z.
                q.writeBlocking(by, ys);
                k.setArgs(bx, by, 1.5f, n);
                q.run(k, new long[] {n}, null);
                k.setArgs(bx, by, -0.25f, n);
                q.run(k, new long[] {n}, null);
                q.copy(by, 0, bz, 0, 4L * n).close();
                float[] plain = read(q, bz, n, a);

                try (CommandBuffer cb = CommandBuffer.record(q)) {
                    k.setArgs(bx, by, 1.5f, n);
                    cb.kernel(k, new long[] {n}, null);
                    k.setArgs(bx, by, -0.25f, n);
                    cb.kernel(k, new long[] {n}, null);
                    cb.copy(by, 0, bz, 0, 4L * n).finish();
                    k.setArgs(bx, by, 99f, n);   // after recording: the recorded commands keep their arguments
                    assertEquals(3, cb.commands());
                    assertThrows(IllegalStateException.class, () -> cb.kernel(k, new long[] {n}, null));
                    for (int replay = 0; replay < 3; replay++) {
                        q.writeBlocking(by, ys);
                        try (Event e = cb.enqueue()) {
                            Event.Times t = e.times();
                            assertTrue(t.end() >= t.start());
                        }
                        assertArrayEquals(plain, read(q, bz, n, a), "replay " + replay);
                    }
                }
            }
        }
    }

    @Test
    void joclReportsCommandBuffersUnsupported() {
        Device d = BindingsTest.firstDevice(Binding.JOCL);
        String why = d.commandBuffersUnsupported();
        assertNotNull(why);
        try (Context c = Context.create(d); Queue q = c.createQueue()) {
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> CommandBuffer.record(q));
            assertTrue(e.getMessage().contains(why), e.getMessage());
        }
    }

    private static float[] read(Queue q, Buffer b, int n, Arena a) {
        MemorySegment s = a.allocate(4L * n);
        q.readBlocking(b, s);
        return s.toArray(ValueLayout.JAVA_FLOAT);
    }
}
