package dev.offload.session;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.model.UnsupportedModelException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The embedding session as a library user sees it: open once, embed many times, from several threads. */
class EmbeddingSessionTest {
    /** Sentences of varied length (1 to ~40 tokens), so batches fall into several length buckets. */
    static final List<String> TEXTS = List.of(
            "Hello.",
            "A man is playing a guitar on stage.",
            "Someone performs music with a guitar in front of an audience.",
            "The stock market fell sharply this morning.",
            "Share prices dropped steeply at the opening bell, and traders braced for a long and difficult day of losses.",
            "My cat sleeps on the windowsill all afternoon.",
            "Quantum computers use qubits instead of bits.",
            "Rain.",
            "The committee will publish its final report on the causes of the flood, with recommendations for the city, next spring.",
            "Bread rises because yeast produces carbon dioxide.",
            "Is this the way to the railway station?",
            "Photosynthesis converts light energy into chemical energy stored in glucose.");

    static EmbeddingSession onDevice;

    @BeforeAll
    static void open() {
        onDevice = EmbeddingSession.open(EmbeddingOptions.defaults().withPlacement("cl:cpu").withBatchSize(4));
    }

    @AfterAll
    static void close() { onDevice.close(); }

    @Test
    void embeddingsAreUnitVectorsInInputOrderAndParaphrasesAreClosest() {
        SentenceEmbeddings e = onDevice.embed(TEXTS);
        assertEquals(TEXTS.size(), e.count());
        assertEquals(384, e.dimension());
        for (int i = 0; i < e.count(); i++) assertEquals(1.0, e.cosine(i, i), 1e-5, "text " + i + " is not unit length");
        // Text 1's nearest neighbour is its paraphrase (2), and the market pair (3, 4) likewise.
        assertEquals(2, nearest(e, 1));
        assertEquals(4, nearest(e, 3));
    }

    @Test
    void theDeviceGivesTheJavaReferencesBits() {
        try (EmbeddingSession java = EmbeddingSession.open(EmbeddingOptions.defaults().withPlacement("java").withBatchSize(4))) {
            assertTrue(java.device().startsWith("java"), java.device());
            assertArrayEquals(java.embed(TEXTS).vectors(), onDevice.embed(TEXTS).vectors());
        }
    }

    @Test
    void aTextGivesTheSameBitsAloneAsInAnyBatch() {
        SentenceEmbeddings batched = onDevice.embed(TEXTS);
        for (int i = 0; i < TEXTS.size(); i += 5) {
            assertArrayEquals(batched.vector(i), onDevice.embed(List.of(TEXTS.get(i))).vector(0), "text " + i);
        }
    }

    @Test
    void twoThreadsEmbeddingAtOnceGetExactlyTheSequentialResults() throws Exception {
        List<String> a = TEXTS.subList(0, 7), b = TEXTS.subList(5, 12);
        float[] wantA = onDevice.embed(a).vectors(), wantB = onDevice.embed(b).vectors();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<float[]>> got = new ArrayList<>();
            for (int round = 0; round < 4; round++) {
                got.add(pool.submit((Callable<float[]>) () -> onDevice.embed(a).vectors()));
                got.add(pool.submit((Callable<float[]>) () -> onDevice.embed(b).vectors()));
            }
            for (int i = 0; i < got.size(); i++) assertArrayEquals(i % 2 == 0 ? wantA : wantB, got.get(i).get(), "call " + i);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void shapesEvictedWhileAnotherThreadRunsOnThemAreNotClosedUnderIt() throws Exception {
        // Eight length buckets (16 .. 128 tokens) on four threads churn the cache of three shapes: with four runs in
        // flight, a new shape evicts one that another thread is running on.
        List<List<String>> texts = new ArrayList<>();
        for (int words = 5; words <= 117; words += 16) texts.add(List.of("many ".repeat(words).strip(), "a few words " + words));
        List<float[]> want = new ArrayList<>();
        for (List<String> t : texts) want.add(onDevice.embed(t).vectors());
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<float[]>> got = new ArrayList<>();
            for (int round = 0; round < 3; round++) {
                for (List<String> t : texts) got.add(pool.submit((Callable<float[]>) () -> onDevice.embed(t).vectors()));
            }
            for (int i = 0; i < got.size(); i++) assertArrayEquals(want.get(i % texts.size()), got.get(i).get(), "call " + i);
        } finally {
            pool.shutdownNow();
        }
    }

    /** Profiling folds runs from several threads into one set of totals: none is lost, results stay the sequential bits. */
    @Test
    void aProfilingSessionOnFourThreadsCountsEveryRunAndKeepsTheResults() throws Exception {
        try (EmbeddingSession profiled = EmbeddingSession.open(EmbeddingOptions.defaults().withPlacement("cl:cpu").withBatchSize(4)
                .withProfiling(true))) {
            List<String> texts = TEXTS.subList(0, 4);           // one batch of 4, one length bucket: one shape
            float[] want = profiled.embed(texts).vectors();
            int before = profiled.profile(4, 16).orElseThrow().iterations();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<float[]>> got = new ArrayList<>();
                for (int i = 0; i < 12; i++) got.add(pool.submit((Callable<float[]>) () -> profiled.embed(texts).vectors()));
                for (int i = 0; i < got.size(); i++) assertArrayEquals(want, got.get(i).get(), "call " + i);
            } finally {
                pool.shutdownNow();
            }
            assertEquals(before + 12, profiled.profile(4, 16).orElseThrow().iterations(), "every run of every thread is counted");
        }
    }

    @Test
    void withoutProfilingNothingIsKeptPerRun() {
        onDevice.embed(TEXTS);
        assertTrue(onDevice.profile(4, 16).isEmpty(), "a session without profiling kept samples");
    }

    @Test
    void badOptionsAreErrorsThatSayWhat() {
        var tooLong = assertThrows(IllegalArgumentException.class,
                () -> EmbeddingSession.open(EmbeddingOptions.defaults().withPlacement("java").withMaxLength(4096)));
        assertTrue(tooLong.getMessage().contains("exceeds the model's 512 positions"), tooLong.getMessage());
        var missing = assertThrows(UnsupportedModelException.class,
                () -> EmbeddingSession.open(EmbeddingOptions.defaults().withModel("/nonexistent/model.onnx").withPlacement("java")));
        assertTrue(missing.getMessage().contains("/nonexistent/model.onnx"), missing.getMessage());
        assertThrows(IllegalArgumentException.class, () -> EmbeddingOptions.defaults().withBatchSize(0));
    }

    private static int nearest(SentenceEmbeddings e, int i) {
        int best = -1;
        for (int j = 0; j < e.count(); j++) if (j != i && (best < 0 || e.cosine(i, j) > e.cosine(i, best))) best = j;
        return best;
    }
}
