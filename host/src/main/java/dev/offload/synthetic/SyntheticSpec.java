package dev.offload.synthetic;

import dev.offload.limits.Sizes;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A synthetic transformer, as written on the command line:
 * {@code synthetic:arch=encoder|decoder,layers=L,hidden=H,heads=A,kv-heads=G,ffn=F,seq=S,batch=B[,sparsity=0.9|2:4][,format=csr|bsr:RxC][,vocab=V][,seed=N]}.
 *
 * @param sparsity fraction of weights pruned (0 = dense int8 linears), or -1 for the 2:4 pattern
 */
public record SyntheticSpec(Arch arch, int layers, int hidden, int heads, int kvHeads, int ffn, int seq, int batch,
                            double sparsity, String format, int vocab, long seed) {
    public enum Arch { ENCODER, DECODER }

    public static final String PREFIX = "synthetic:";
    private static final Set<String> KEYS = Set.of("arch", "layers", "hidden", "heads", "kv-heads", "ffn", "seq", "batch",
            "sparsity", "format", "vocab", "seed");
    private static final String USAGE = "synthetic:arch=encoder|decoder,layers=L,hidden=H,heads=A,kv-heads=G,ffn=F,seq=S,batch=B"
            + "[,sparsity=0.9|2:4][,format=csr|bsr:RxC][,vocab=V][,seed=N]";

    public static boolean matches(String spec) { return spec.strip().toLowerCase(Locale.ROOT).startsWith(PREFIX); }

    public static SyntheticSpec parse(String text) {
        String s = text.strip();
        if (!matches(s)) throw new IllegalArgumentException("a synthetic model spec starts with '" + PREFIX + "': " + USAGE);
        Map<String, String> kv = new LinkedHashMap<>();
        String body = s.substring(PREFIX.length());
        if (!body.isBlank()) {
            for (String part : body.split(",")) {
                int eq = part.indexOf('=');
                if (eq <= 0) throw new IllegalArgumentException("'" + part + "' in the model spec is not key=value; " + USAGE);
                String key = part.substring(0, eq).strip().toLowerCase(Locale.ROOT);
                if (!KEYS.contains(key)) throw new IllegalArgumentException("unknown key '" + key + "' in the model spec; keys: " + USAGE);
                if (kv.put(key, part.substring(eq + 1).strip()) != null) throw new IllegalArgumentException("the model spec sets '" + key + "' twice");
            }
        }
        String archText = kv.get("arch");
        if (archText == null) throw new IllegalArgumentException("the model spec needs arch=encoder or arch=decoder; " + USAGE);
        Arch arch = switch (archText.toLowerCase(Locale.ROOT)) {
            case "encoder" -> Arch.ENCODER;
            case "decoder" -> Arch.DECODER;
            default -> throw new IllegalArgumentException("arch must be encoder or decoder, got '" + archText + "'");
        };
        int hidden = positive(kv, "hidden", 256);
        int heads = positive(kv, "heads", 4);
        int kvHeads = positive(kv, "kv-heads", heads);
        if (hidden % heads != 0) throw new IllegalArgumentException("hidden (" + hidden + ") must be a multiple of heads (" + heads + ")");
        if (heads % kvHeads != 0) throw new IllegalArgumentException("heads (" + heads + ") must be a multiple of kv-heads (" + kvHeads + ")");
        if (arch == Arch.ENCODER && kvHeads != heads) throw new IllegalArgumentException("an encoder has kv-heads = heads (grouped-query attention is for decoders)");
        int seq = positive(kv, "seq", 128);
        double sparsity = 0;
        String sp = kv.get("sparsity");
        if (sp != null) {
            if (sp.equals("2:4")) {
                sparsity = -1;
            } else {
                try { sparsity = Double.parseDouble(sp); } catch (NumberFormatException e) { sparsity = Double.NaN; }
                if (!(sparsity >= 0 && sparsity < 1)) throw new IllegalArgumentException("sparsity must be a fraction in [0, 1) or 2:4, got '" + sp + "'");
            }
        }
        String format = kv.getOrDefault("format", sparsity < 0 ? "2:4" : "csr");
        dev.offload.graph.SparseFormat.parse(format);
        if (sparsity < 0 && !format.equals("2:4")) throw new IllegalArgumentException("sparsity=2:4 needs format=2:4, got " + format);
        int vocab = positive(kv, "vocab", 1000);
        long seed;
        try { seed = Long.parseLong(kv.getOrDefault("seed", "1")); } catch (NumberFormatException e) {
            throw new IllegalArgumentException("seed must be an integer, got '" + kv.get("seed") + "'");
        }
        SyntheticSpec spec = new SyntheticSpec(arch, positive(kv, "layers", 2), hidden, heads, kvHeads,
                positive(kv, "ffn", arch == Arch.ENCODER ? 4 * hidden : hidden * 8 / 3), seq, positive(kv, "batch", 1),
                sparsity, format, vocab, seed);
        spec.checkSizes();
        return spec;
    }

    /**
     * Refuses, before anything is built, a model whose arrays cannot exist: each tensor the build and a run allocate
     * (embedding tables, a layer's largest weight in float before it is quantized, the activations of one run) must
     * fit a Java array, and all the int8 weights plus the float working set must fit the heap. Without this a huge
     * spec wrapped an int and failed with an array exception after building for tens of seconds.
     */
    void checkSizes() {
        String what = "model spec " + this;
        int positions = Math.max(512, seq);
        long table = Sizes.arrayLength(what + ": the embedding table (vocab x hidden)", vocab, hidden);
        Sizes.arrayLength(what + ": the position table", positions, hidden);
        int tokens = Sizes.arrayLength(what + ": the tokens of a run (batch x seq)", batch, seq);
        long widest = Math.max(Math.max(hidden, ffn), (long) heads * headDim());
        long activation = Sizes.arrayLength(what + ": one activation (batch x seq x " + widest + ")", tokens, widest);
        long weight = Sizes.arrayLength(what + ": a layer's largest weight (hidden x ffn)", hidden, ffn);
        Sizes.arrayLength(what + ": the attention weight (hidden x hidden)", hidden, hidden);
        long perLayer = Sizes.elements(what, 4, hidden, hidden) + Sizes.elements(what, arch == Arch.DECODER ? 3 : 2, hidden, ffn);
        long weights = Sizes.elements(what + ": the int8 weights of all layers", layers, perLayer);
        long floats = Sizes.elements(what, 4, table + (long) positions * hidden + 4 * weight + 8 * activation);
        Sizes.fitsHeap(what, Sizes.sum(what, weights, floats));
    }

    private static int positive(Map<String, String> kv, String key, int fallback) {
        String v = kv.get(key);
        if (v == null) return fallback;
        try {
            int n = Integer.parseInt(v);
            if (n > 0) return n;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException(key + " must be a positive integer, got '" + v + "'");
    }

    public int headDim() { return hidden / heads; }

    /** The same model (same weights: they depend on the seed, not the shapes) for another sequence length. */
    public SyntheticSpec withSeq(int seq) {
        return new SyntheticSpec(arch, layers, hidden, heads, kvHeads, ffn, seq, batch, sparsity, format, vocab, seed);
    }

    /** The same model for another batch size (a micro-batch). */
    public SyntheticSpec withBatch(int batch) {
        return new SyntheticSpec(arch, layers, hidden, heads, kvHeads, ffn, seq, batch, sparsity, format, vocab, seed);
    }

    public boolean sparse() { return sparsity != 0; }

    /** Tokens per run. */
    public long tokens() { return (long) batch * seq; }

    @Override
    public String toString() {
        return PREFIX + "arch=" + arch.name().toLowerCase(Locale.ROOT) + ",layers=" + layers + ",hidden=" + hidden + ",heads=" + heads
                + ",kv-heads=" + kvHeads + ",ffn=" + ffn + ",seq=" + seq + ",batch=" + batch
                + (sparse() ? ",sparsity=" + (sparsity < 0 ? "2:4" : sparsity) + ",format=" + format : "") + ",seed=" + seed;
    }
}
