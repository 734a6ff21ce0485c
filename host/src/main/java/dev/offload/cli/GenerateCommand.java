package dev.offload.cli;

import dev.offload.config.OffloadSettings;
import dev.offload.io.InputFile;
import dev.offload.decoder.ChatTemplate;
import dev.offload.decoder.DemoModel;
import dev.offload.decoder.SamplingParams;
import dev.offload.io.OutputCheck;
import dev.offload.profile.ProfileReport;
import dev.offload.profile.ProfileTable;
import dev.offload.runtime.GraphRuntime;
import dev.offload.runtime.PlacementSpec;
import dev.offload.session.GenerationOptions;
import dev.offload.session.GenerationSession;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Continues a prompt with a decoder LLM from a GGUF file, streaming the text, with llama.cpp-style timings. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Generate text with a decoder LLM read from a GGUF file (architectures llama and qwen2; tensors F32, F16, "
                + "BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K). Tokens are printed as they are produced; it stops at "
                + "end-of-sequence, --max-tokens or a full context and says which, then prints timings.",
                "It runs on an OpenCL device with the weights in their quantized blocks (Q8_0, Q4_0, Q4_K and Q6_K as stored, "
                + "other types repacked to Q8_0 at load), or with --device java on the pure-Java float reference."})
public final class GenerateCommand implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Option(names = "--model", paramLabel = "FILE.gguf", description = "The GGUF model file (default: offload's demo model, trained on the King James Bible).")
    Path model;

    @Option(names = "--prompt", paramLabel = "TEXT", description = "The prompt.")
    String prompt;

    @Option(names = "--prompt-file", paramLabel = "F", description = "Read the prompt from this UTF-8 file ('-': stdin).")
    String promptFile;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "128", description = "Generate at most N tokens (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--ctx", paramLabel = "N", defaultValue = "2048", description = "Context positions, prompt included (default ${DEFAULT-VALUE}, at most the model's).")
    int context;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0.8", description = "0 is greedy and deterministic (default ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "40", description = "0: off (default ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "0.95", description = "1: off (default ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--min-p", paramLabel = "P", defaultValue = "0.05", description = "0: off (default ${DEFAULT-VALUE}).")
    float minP;

    @Option(names = "--repeat-penalty", paramLabel = "R", defaultValue = "1.0", description = "1: off (default ${DEFAULT-VALUE}); over the last 64 tokens.")
    float repeatPenalty;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Sampling seed: the same seed gives the same text (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--no-bos", description = "Do not put BOS first even when the model asks for it.")
    boolean noBos;

    @Option(names = "--chat", description = "Wrap the prompt as a user turn in the model's own chat template (tokenizer.chat_template, rendered with Jinjava).")
    boolean chat;

    @Option(names = "--system", paramLabel = "TEXT", description = "With --chat: a system turn before the prompt.")
    String system;

    @Option(names = {"-i", "--interactive"}, description = "With --chat: a conversation on stdin, a line per turn (an empty line or end of input ends it); the KV cache is kept between turns.")
    boolean interactive;

    @Option(names = "--device", paramLabel = "SPEC",
            description = "Device (cl:cpu, cl:gpu, cl:0:0, ...; java: the float reference). Default: $OFFLOAD_DEVICE, else the first GPU/accelerator, else CPU.")
    String device;

    @Option(names = "--placement", paramLabel = "RULES|auto", description = "Layers across devices: layer.0-7=cl:0:0,layer.8-15=cl:0:1 (the KV cache of a layer lives where it runs); or per op kind.")
    String placement;

    @Option(names = "--profile", description = "Print the per-layer profile of the prefill and the decode steps (stderr) at the end.")
    boolean profile;

    @Mixin ProfileOutputs outputs;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        common.binding();   // applies --verbose
        if (device != null && placement != null) throw new UserError("give --device or --placement, not both");
        if (!interactive && (prompt == null) == (promptFile == null)) throw new UserError("give the prompt with --prompt TEXT or --prompt-file F (or - for stdin), one of them");
        if (interactive && (!chat || promptFile != null)) throw new UserError("--interactive needs --chat and reads its turns from stdin (a first --prompt is allowed)");
        if (maxTokens < 0) throw new UserError("--max-tokens must be >= 0, got " + maxTokens);
        if (context < 2) throw new UserError("--ctx must be at least 2, got " + context);
        sampling();   // bad sampling values are reported before the model loads
        if (system != null && !chat) throw new UserError("--system needs --chat");
        if (model == null) {
            model = DemoModel.resolve(OffloadSettings.current().cache());
            spec.commandLine().getErr().println(DemoModel.NOTICE);
        }
        new OutputCheck().input("--model", model).input("--prompt-file", promptFile == null || promptFile.equals("-") ? null : Path.of(promptFile))
                .output("--json", outputs.json).output("--trace", outputs.trace).check();
        if (interactive) {
            try (GenerationSession session = open()) {
                return converse(session);
            }
        }
        String text = prompt != null ? prompt : readPrompt(promptFile);
        try (GenerationSession session = open()) {
            return generate(session, text);
        } catch (GraphRuntime.FallbackRefused e) {
            throw new UserError(e.getMessage());
        }
    }

    private GenerationSession open() {
        GenerationOptions options;
        try {
            options = GenerationOptions.defaults()
                    .withPlacement(PlacementSpec.fromOptions(device, placement))
                    .withRegistry(common.registry())
                    .withContext(context)
                    .withStrict(outputs.strict)
                    .withProfiling(profile || outputs.wanted());
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        try {
            return GenerationSession.open(model, options, System.err);
        } catch (IllegalArgumentException e) {
            throw UserError.about(model, e);
        }
    }

    private int generate(GenerationSession session, String text) throws IOException {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();

        boolean addBos = !noBos;
        if (chat) {
            if (session.chatTemplate().isEmpty()) {
                throw new UserError(model + ": the model has no chat template (tokenizer.chat_template); run without --chat to continue the prompt as plain text");
            }
            List<ChatTemplate.Message> turns = new ArrayList<>();
            if (system != null) turns.add(new ChatTemplate.Message("system", system));
            turns.add(new ChatTemplate.Message("user", text));
            try {
                text = session.chatPrompt(turns);
            } catch (IllegalArgumentException e) {
                throw UserError.about(model, e);
            }
            addBos &= !session.startsWithBos(text);
        }
        GenerationSession.Result r;
        try {
            r = session.generate(text, addBos, maxTokens, context, sampling(), piece -> {
                out.print(piece);
                out.flush();
            });
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        out.println();
        out.flush();
        err.printf("model: %s, on %s%n", session.model(), session.backend().device());
        err.printf("stop: %s%n", switch (r.stop()) {
            case END_OF_SEQUENCE -> "end of sequence";
            case MAX_TOKENS -> "--max-tokens (" + maxTokens + ") reached";
            case CONTEXT_FULL -> "the context (" + session.context() + " positions) is full";
            case CANCELLED -> "cancelled";
        });
        err.printf("load time   = %10.2f ms%n", session.loadMs());
        err.printf("prompt eval = %10.2f ms / %5d tokens (%8.2f ms per token, %8.2f tokens per second)%n", r.promptMs(),
                r.promptTokens(), r.promptMs() / r.promptTokens(), r.promptTokensPerSecond());
        err.printf("eval time   = %10.2f ms / %5d tokens (%8.2f ms per token, %8.2f tokens per second)%n", r.generationMs(),
                r.generatedTokens(), r.msPerToken(), r.generatedTokens() == 0 ? 0 : r.generatedTokensPerSecond());
        err.flush();
        writeProfile(session, err);
        return 0;
    }

    /** The per-layer profile (--profile) and its files (--json, --trace), when asked for. */
    private void writeProfile(GenerationSession session, PrintWriter err) throws IOException {
        if (!profile && !outputs.wanted()) return;
        ProfileReport report = session.profile().orElse(null);
        if (report == null) {
            err.println("no profile: the java reference is not profiled (run on an OpenCL device)");
            return;
        }
        if (profile) ProfileTable.print(report, err);
        outputs.write(report, err::println);
        err.flush();
    }

    /** The interactive chat: a line per user turn, the answer streamed, the KV cache kept between turns. */
    private int converse(GenerationSession session) throws IOException {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();

        GenerationSession.Conversation chat;
        try {
            chat = session.conversation(system, context, sampling());
        } catch (IllegalArgumentException e) {
            throw UserError.about(model, e);
        }
        err.printf("model: %s, on %s; a line per turn, an empty line ends%n", session.model(), session.backend().device());
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line = prompt;
        while (true) {
            if (line == null) {
                err.print("> ");
                err.flush();
                line = in.readLine();
            }
            if (line == null || line.isBlank()) break;
            GenerationSession.Result r;
            try {
                r = chat.say(line, maxTokens, piece -> { out.print(piece); out.flush(); });
            } catch (IllegalArgumentException | IllegalStateException e) {
                throw new UserError(e.getMessage());
            }
            out.println();
            out.flush();
            err.printf("(%d tokens, %.2f tokens/s, %s; context %d used)%n", r.generatedTokens(),
                    r.generatedTokens() == 0 ? 0 : r.generatedTokensPerSecond(), r.stop(), chat.contextUsed());
            err.flush();
            line = null;
        }
        chat.close();
        writeProfile(session, err);
        return 0;
    }

    private SamplingParams sampling() {
        try {
            return new SamplingParams(temperature, topK, topP, minP, repeatPenalty, 64, seed);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }

    private static String readPrompt(String f) throws IOException {
        try {
            return f.equals("-") ? InputFile.readUtf8("--prompt-file -", System.in).lines().collect(Collectors.joining("\n"))
                    : InputFile.readUtf8("--prompt-file " + f, Path.of(f));
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }
}
