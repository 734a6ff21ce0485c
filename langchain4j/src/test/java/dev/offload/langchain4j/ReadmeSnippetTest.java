package dev.offload.langchain4j;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.document.Document;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.EmbeddingStore;
import dev.langchain4j.store.embedding.EmbeddingStoreIngestor;
import dev.langchain4j.store.embedding.inmemory.InMemoryEmbeddingStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The README's LangChain4j snippet compiles (it is the body below) and runs, and the README shows exactly this code. */
class ReadmeSnippetTest {
    @Test
    void theReadmeSnippetRunsAsWritten() {
        List<Document> documents = TopicCorpus.sentences().stream().map(Document::from).toList();
        // README:begin
        try (OffloadEmbeddingModel model = OffloadEmbeddingModel.builder()     // or open(options), wrapping(session)
                .model("all-minilm-l6-v2-q").placement("cl:cpu").batchSize(16).build()) {
            EmbeddingStore<TextSegment> store = new InMemoryEmbeddingStore<>();
            EmbeddingStoreIngestor.builder().embeddingModel(model).embeddingStore(store).build().ingest(documents);
            Embedding question = model.embed("Will it rain tomorrow?").content();
            List<EmbeddingMatch<TextSegment>> nearest = store.search(EmbeddingSearchRequest.builder()
                    .queryEmbedding(question).maxResults(3).build()).matches();
            System.out.println(nearest.getFirst().embedded().text());
        }
        // README:end
    }

    @Test
    void theReadmeShowsThisCode() throws Exception {
        List<String> source = Files.readAllLines(Path.of("src/test/java/dev/offload/langchain4j/ReadmeSnippetTest.java"));
        int from = source.indexOf("        // README:begin") + 1, to = source.indexOf("        // README:end");
        StringBuilder code = new StringBuilder();
        for (String line : source.subList(from, to)) code.append(line.substring(8)).append('\n');
        String readme = Files.readString(Path.of("../README.md"));
        assertTrue(readme.contains(code), "README.md should show the snippet exactly as tested here:\n" + code);
    }
}
