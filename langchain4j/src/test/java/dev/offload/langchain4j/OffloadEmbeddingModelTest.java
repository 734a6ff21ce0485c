package dev.offload.langchain4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.output.Response;
import dev.offload.cli.Main;
import dev.offload.session.EmbeddingOptions;
import dev.offload.session.EmbeddingSession;
import dev.offload.tensor.Npy;
import dev.offload.tensor.NpyArray;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The LangChain4j model gives exactly offload's vectors, counts tokens as the session does and closes what it opened. */
class OffloadEmbeddingModelTest {
    private static OffloadEmbeddingModel model;

    @TempDir Path dir;

    @BeforeAll
    static void openModel() { model = OffloadEmbeddingModel.builder().placement("cl:cpu").build(); }

    @AfterAll
    static void closeModel() { model.close(); }

    @Test
    void vectorsAreBitForBitWhatOffloadRunWrites() throws Exception {
        List<String> texts = new ArrayList<>(TopicCorpus.sentences());
        texts.addAll(TopicCorpus.queries());
        Path input = dir.resolve("texts.txt"), output = dir.resolve("embeddings.npy");
        Files.write(input, texts);
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int exit = cli.execute("run", "--output", output.toString(), "--input", input.toString(), "--device", "cl:cpu");
        assertEquals(0, exit, err.toString());

        NpyArray written = Npy.read(output);
        assertEquals("(" + texts.size() + ", 384)", written.shapeString());
        float[] rows = written.toFloatArray();
        List<Embedding> embedded = model.embedAll(texts.stream().map(TextSegment::from).toList()).content();
        assertEquals(texts.size(), embedded.size());
        for (int i = 0; i < texts.size(); i++) {
            float[] row = java.util.Arrays.copyOfRange(rows, i * 384, (i + 1) * 384);
            assertArrayEquals(row, embedded.get(i).vector(), "text " + i + ": " + texts.get(i));
        }
    }

    @Test
    void oneTextAloneGivesTheBitsItHasInABatchAndItsOwnTokenCount() {
        List<TextSegment> segments = TopicCorpus.TOPICS.getFirst().sentences().stream().map(TextSegment::from).toList();
        Response<List<Embedding>> batch = model.embedAll(segments);
        Response<Embedding> alone = model.embed(segments.get(2).text());
        assertArrayEquals(batch.content().get(2).vector(), alone.content().vector());

        List<String> texts = segments.stream().map(TextSegment::text).toList();
        assertEquals(model.session().tokenize(texts).tokens(), (long) batch.tokenUsage().inputTokenCount());
        assertEquals(model.session().tokenize(List.of(texts.get(2))).tokens(), (long) alone.tokenUsage().inputTokenCount());
        assertTrue(alone.tokenUsage().inputTokenCount() > 2, "more than [CLS] and [SEP]: " + alone.tokenUsage());
        assertEquals(0, model.embedAll(List.of()).content().size());
    }

    @Test
    void twoThreadsAtOnceGetTheSequentialVectors() throws Exception {
        List<TextSegment> first = TopicCorpus.TOPICS.get(1).sentences().stream().map(TextSegment::from).toList();
        List<TextSegment> second = TopicCorpus.TOPICS.get(6).sentences().stream().map(TextSegment::from).toList();
        List<Embedding> expectedFirst = model.embedAll(first).content(), expectedSecond = model.embedAll(second).content();
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(2)) {
            var a = pool.submit(() -> model.embedAll(first).content());
            var b = pool.submit(() -> model.embedAll(second).content());
            assertEquals(expectedFirst, a.get());
            assertEquals(expectedSecond, b.get());
        }
    }

    @Test
    void dimensionAndNameComeFromTheSession() {
        assertEquals(384, model.dimension());
        assertEquals(model.dimension(), model.embed("Rain.").content().dimension());
        assertTrue(model.modelName().toLowerCase().contains("minilm"), model.modelName());
    }

    @Test
    void aWrappedSessionStaysOpenWhenTheModelCloses() {
        List<String> texts = List.of("A man is playing a guitar on stage.", "Rain.");
        try (EmbeddingSession session = EmbeddingSession.open(EmbeddingOptions.defaults().withPlacement("java"))) {
            List<Embedding> viaModel;
            try (OffloadEmbeddingModel wrapped = OffloadEmbeddingModel.wrapping(session)) {
                viaModel = wrapped.embedAll(texts.stream().map(TextSegment::from).toList()).content();
            }
            float[] afterClose = session.embed(texts).vectors();
            for (int i = 0; i < texts.size(); i++) {
                assertArrayEquals(java.util.Arrays.copyOfRange(afterClose, i * 384, (i + 1) * 384), viaModel.get(i).vector());
            }
        }
    }
}
