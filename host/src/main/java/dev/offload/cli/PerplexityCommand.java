package dev.offload.cli;

import dev.offload.decoder.DecoderBackend;
import dev.offload.decoder.Perplexity;
import dev.offload.io.InputFile;
import dev.offload.io.OutputCheck;
import dev.offload.model.tokenizer.TextTokenizer;
import dev.offload.runtime.GraphRuntime;
import dev.offload.runtime.PlacementSpec;
import dev.offload.session.GenerationOptions;
import dev.offload.session.GenerationSession;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** A decoder's perplexity on a text file, computed as llama.cpp's llama-perplexity computes it. */
@Command(name = "perplexity", mixinStandardHelpOptions = true,
        description = {"Perplexity of a GGUF decoder on a UTF-8 text, by llama.cpp's method (llama-perplexity): the text's "
                + "tokens in chunks of --ctx, each chunk from an empty context with BOS first, the second half of each chunk "
                + "scored; PPL = exp(mean negative log-likelihood) with llama.cpp's +/- estimate.",
                "Prints the running PPL after each chunk ([1]x,[2]y,...), then the final estimate."})
public final class PerplexityCommand implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Option(names = "--model", required = true, paramLabel = "FILE.gguf", description = "The GGUF model file.")
    Path model;

    @Option(names = "--file", required = true, paramLabel = "TEXT", description = "The UTF-8 text to score.")
    Path file;

    @Option(names = "--ctx", paramLabel = "N", description = "Tokens per chunk (default: the model's context length).")
    Integer ctx;

    @Option(names = "--chunks", paramLabel = "N", defaultValue = "0", description = "Score at most N chunks (default: all).")
    int chunks;

    @Option(names = "--device", paramLabel = "SPEC",
            description = "Where the model runs: an OpenCL device (cl:cpu, cl:gpu, cl:0:1), or java for the pure-Java float reference "
                    + "(default: $OFFLOAD_DEVICE, else the first GPU/accelerator, else the CPU).")
    String device;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        common.binding();   // applies --verbose
        if (chunks < 0) throw new UserError("--chunks must be >= 0, got " + chunks);
        if (ctx != null && (ctx < 4 || ctx % 2 != 0)) throw new UserError("--ctx must be even and at least 4, got " + ctx);
        new OutputCheck().input("--model", model).input("--file", file).check();
        String text = readText(file);
        try (GenerationSession session = open()) {
            return score(session, text);
        } catch (GraphRuntime.FallbackRefused e) {
            throw new UserError(e.getMessage());
        }
    }

    private GenerationSession open() {
        GenerationOptions options;
        try {
            options = GenerationOptions.defaults().withPlacement(device != null ? PlacementSpec.device(device) : null)
                    .withRegistry(common.registry()).withContext(ctx != null ? ctx : 0);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        try {
            return GenerationSession.open(model, options, System.err);
        } catch (IllegalArgumentException e) {
            throw UserError.about(model, e);
        }
    }

    private int score(GenerationSession session, String text) {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        int context = ctx != null ? ctx : session.context();
        if (context > session.model().config().contextLength()) {
            throw new UserError("--ctx " + context + " is longer than the model's context (" + session.model().config().contextLength() + ")");
        }
        DecoderBackend backend = session.backend();
        TextTokenizer tok = session.tokenizer();
        long t0 = System.nanoTime();
        int[] tokens = tok.encode(text, tok.addsBos(), false);
        double tokenizeMs = (System.nanoTime() - t0) / 1e6;
        try {
            Perplexity.requireEnough(tokens.length, context);
        } catch (IllegalArgumentException e) {
            throw new UserError(file + ": " + e.getMessage());
        }
        err.printf(Locale.ROOT, "model: %s, on %s%n", session.model(), backend.device());
        err.printf(Locale.ROOT, "perplexity: %s tokenizes to %d tokens (%.1f ms); %d chunks of %d, n_ctx=%d%n", file, tokens.length,
                tokenizeMs, Perplexity.chunksIn(tokens.length, context), context, context);
        long t1 = System.nanoTime();
        Perplexity.Result r = Perplexity.compute(tokens, context, session.model().config().vocab(), tok.addsBos() ? tok.bos() : -1, chunks,
                chunk -> {
                    try (DecoderBackend.Cache cache = backend.newCache(chunk.length)) {
                        return backend.forwardAll(chunk, cache);
                    }
                }, p -> {
                    out.printf(Locale.ROOT, "[%d]%.4f,", p.chunk(), p.perplexity());
                    out.flush();
                });
        double seconds = (System.nanoTime() - t1) / 1e9;
        out.println();
        out.printf(Locale.ROOT, "Final estimate: PPL = %.4f +/- %.5f%n", r.perplexity(), r.error());
        out.flush();
        err.printf(Locale.ROOT, "scored %d tokens in %d chunks of %d in %.1f s (%.1f tokens/s through the model)%n", r.scoredTokens(),
                r.chunks(), r.ctx(), seconds, r.chunks() * (double) r.ctx() / seconds);
        err.flush();
        return 0;
    }

    private static String readText(Path f) {
        try {
            return InputFile.readUtf8("--file " + f, f);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }
}
