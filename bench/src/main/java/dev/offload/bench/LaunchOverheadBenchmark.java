package dev.offload.bench;

import dev.offload.cl.Binding;
import dev.offload.cl.Buffer;
import dev.offload.cl.Context;
import dev.offload.cl.Device;
import dev.offload.cl.Kernel;
import dev.offload.cl.OpenCl;
import dev.offload.cl.Program;
import dev.offload.cl.Queue;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The host cost of one kernel launch (set two arguments + clEnqueueNDRangeKernel + release the event) through
 * each binding. 64 launches of a one-work-item kernel per invocation, then clFinish, so the queue never grows;
 * the finish is amortised over the 64 launches and is the same for both bindings.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class LaunchOverheadBenchmark {
    static final int LAUNCHES = 64;

    @Param({"panama", "jocl"})
    public String binding;

    Context context;
    Queue queue;
    Buffer buffer;
    Program program;
    Kernel kernel;

    @Setup(Level.Trial)
    public void open() {
        Device d = OpenCl.open(Binding.parse(binding)).devices().getFirst();
        context = Context.create(d);
        queue = context.createQueue();
        buffer = context.createBuffer(4);
        program = context.buildProgram("__kernel void touch(__global int* x, int v) { x[0] = v; }", "");
        kernel = program.kernel("touch");
    }

    @TearDown(Level.Trial)
    public void close() {
        kernel.close();
        program.close();
        buffer.close();
        queue.close();
        context.close();
    }

    private static final long[] ONE = {1};

    @Benchmark
    @OperationsPerInvocation(LAUNCHES)
    public void setArgsAndEnqueue() {
        for (int i = 0; i < LAUNCHES; i++) {
            kernel.arg(0, buffer).arg(1, i);
            queue.run(kernel, ONE, null);
        }
        queue.finish();
    }
}
