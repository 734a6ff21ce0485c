package dev.offload.cli;

import dev.offload.decoder.DecoderBackend;
import dev.offload.decoder.DeviceDecoder;
import dev.offload.decoder.Sampler;
import dev.offload.device.DeviceRegistry;
import dev.offload.io.OutputCheck;
import dev.offload.profile.LayerChart;
import dev.offload.profile.ProfileReport;
import dev.offload.profile.ProfileTable;
import dev.offload.runtime.DevicePool;
import dev.offload.runtime.GraphRuntime;
import dev.offload.runtime.PlacementSpec;
import dev.offload.session.GenerationOptions;
import dev.offload.session.GenerationSession;
import dev.offload.session.SyntheticSession;
import dev.offload.synthetic.SyntheticSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Runs a model graph across devices and shows where the time goes: per layer, per op kind, totals; trace and chart. */
@Command(name = "profile", mixinStandardHelpOptions = true,
        description = "Run a model graph on one device or across several and profile every op (table, JSON, Chrome trace, SVG chart).")
public final class ProfileCommand implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Mixin ProfileOutputs outputs;

    @Option(names = "--model", required = true, paramLabel = "SPEC",
            description = "The model: a decoder FILE.gguf (a seeded prompt of --prompt-tokens, then --decode-steps greedy steps), or "
                    + "synthetic:arch=encoder|decoder,layers=L,hidden=H,heads=A,kv-heads=G,ffn=F,seq=S,batch=B[,sparsity=0.9|2:4][,seed=N]")
    String model;

    @Option(names = "--device", paramLabel = "SPEC", description = "Run every op on one device (java, cl:cpu, cl:0:0, ...). Default: $OFFLOAD_DEVICE, else the first GPU/accelerator, else CPU.")
    String device;

    @Option(names = "--placement", paramLabel = "RULES",
            description = "Per op kind or node name: attention=cl:gpu,linear=cl:accelerator,*=cl:cpu; or 'auto' (measure each op kind on each device, cached).")
    String placement;

    @Option(names = "--iterations", defaultValue = "3", description = "Profiled runs (default ${DEFAULT-VALUE}).")
    int iterations;

    @Option(names = "--warmup", defaultValue = "1", description = "Unprofiled runs first: program builds, weight uploads, JIT (default ${DEFAULT-VALUE}).")
    int warmup;



    @Option(names = "--decode-steps", defaultValue = "0", paramLabel = "N",
            description = "Decoder only: after the prefill, N single-token steps over a per-request KV cache; their rows show as decode:<layer> (default ${DEFAULT-VALUE}).")
    int decodeSteps;

    @Option(names = "--prompt-tokens", defaultValue = "32", paramLabel = "N",
            description = "FILE.gguf only: prompt tokens of each request (seeded ids; default ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = "--micro-batches", defaultValue = "1", paramLabel = "M",
            description = "Split the batch into M micro-batches pipelined across the placement's devices (e.g. --placement layer.0=cl:0:0,*=cl:0:1); M must divide the batch (default ${DEFAULT-VALUE}).")
    int microBatches;

    @Option(names = "--chart", paramLabel = "FILE.svg", description = "Write an SVG chart of time per layer by op kind.")
    Path chart;


    @Option(names = "--plan-only", description = "Print the placement and exit.")
    boolean planOnly;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        if (device != null && placement != null) throw new UserError("give --device or --placement, not both");
        if (iterations < 1 || warmup < 0) throw new UserError("--iterations must be >= 1 and --warmup >= 0");
        if (model.endsWith(".gguf")) return profileGguf(out);
        new OutputCheck().output("--json", outputs.json).output("--trace", outputs.trace).output("--chart", chart).check();
        if (!SyntheticSpec.matches(model)) {
            throw new UserError("--model " + model + ": give a decoder FILE.gguf or synthetic:arch=...");
        }
        SyntheticSpec s = SyntheticSpec.parse(model);
        if (decodeSteps < 0) throw new UserError("--decode-steps must be >= 0");
        if (decodeSteps > 0 && s.arch() != SyntheticSpec.Arch.DECODER) throw new UserError("--decode-steps needs arch=decoder");
        if (microBatches < 1 || s.batch() % microBatches != 0) {
            throw new UserError("--micro-batches must divide the batch (" + s.batch() + "), got " + microBatches);
        }
        DeviceRegistry registry = common.registry();
        String rules = placement != null ? placement : device != null ? device : registry.defaultSpec();
        PlacementSpec where;
        try {
            where = PlacementSpec.parse(rules);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        // A device the placement names but this machine lacks fails now, in one line, before the model is built.
        if (where instanceof PlacementSpec.Rules r) r.placement().rules().values().forEach(registry::resolve);
        System.err.println("building " + s + " ...");
        try (DevicePool pool = DevicePool.open(registry);
             SyntheticSession session = new SyntheticSession(s, decodeSteps, microBatches, where, pool, outputs.strict, System.err)) {
            out.print(session.plan().describe());
            out.flush();
            if (planOnly) return 0;
            ProfileReport report = session.profile(warmup, iterations, rules, System.err);
            out.println();
            ProfileTable.print(report, out);
            outputs.write(report, System.err::println);
            if (chart != null) { LayerChart.write(report, chart); System.err.println("wrote " + chart); }
            return 0;
        } catch (GraphRuntime.FallbackRefused e) {
            throw new UserError(e.getMessage());
        }
    }

    /** A GGUF decoder: requests of a seeded prompt and greedy decode steps through the generation session's backend. */
    private int profileGguf(PrintWriter out) throws IOException {
        if (microBatches != 1) throw new UserError("--micro-batches is for synthetic models");
        if (promptTokens < 1) throw new UserError("--prompt-tokens must be >= 1, got " + promptTokens);
        if (decodeSteps < 0) throw new UserError("--decode-steps must be >= 0");
        Path file = Path.of(model);
        new OutputCheck().input("--model", file).output("--json", outputs.json).output("--trace", outputs.trace).output("--chart", chart).check();
        if (!java.nio.file.Files.isRegularFile(file)) throw new UserError("--model " + model + ": " + (java.nio.file.Files.exists(file) ? "not a regular file" : "no such file"));
        GenerationOptions options;
        try {
            options = GenerationOptions.defaults()
                    .withPlacement(PlacementSpec.fromOptions(device, placement))
                    .withRegistry(common.registry()).withContext(promptTokens + decodeSteps).withStrict(outputs.strict).withProfiling(true);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        try (GenerationSession session = GenerationSession.open(file, options, System.err)) {
            DecoderBackend backend = session.backend();
            if (!(backend instanceof DeviceDecoder decoder)) throw new UserError("profile needs an OpenCL device; the java reference is not profiled");
            out.print(decoder.plan(1).describe());
            out.flush();
            if (planOnly) return 0;
            int vocab = backend.config().vocab();
            java.util.SplittableRandom ids = new java.util.SplittableRandom(1);
            int[] prompt = ids.ints(promptTokens, 0, vocab).toArray();
            dev.offload.profile.Progress warm = new dev.offload.profile.Progress(System.err, "warmup", warmup);
            for (int i = 1; i <= warmup; i++) { request(backend, prompt); warm.step(i, ""); }
            session.resetProfile();
            dev.offload.profile.Progress prog = new dev.offload.profile.Progress(System.err, "profile", iterations);
            for (int i = 1; i <= iterations; i++) {
                long t0 = System.nanoTime();
                request(backend, prompt);
                prog.step(i, String.format("%.1f ms", (System.nanoTime() - t0) / 1e6));
            }
            ProfileReport report = session.profile().orElseThrow();
            out.println();
            ProfileTable.print(report, out);
            outputs.write(report, System.err::println);
            if (chart != null) { LayerChart.write(report, chart); System.err.println("wrote " + chart); }
            return 0;
        } catch (GraphRuntime.FallbackRefused | IllegalArgumentException e) {
            throw UserError.about(model, e);
        }
    }

    /** One request: the prompt at once, then greedy steps (end-of-sequence ignored, so every request has the same shape). */
    private void request(DecoderBackend backend, int[] prompt) {
        try (DecoderBackend.Cache cache = backend.newCache(prompt.length + decodeSteps)) {
            float[] logits = backend.forward(prompt, cache);
            for (int s = 0; s < decodeSteps; s++) logits = backend.forward(new int[] {Sampler.argmax(logits)}, cache);
        }
    }
}
