package dev.offload.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.document.Document;
import dev.langchain4j.data.document.Metadata;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.EmbeddingStoreIngestor;
import dev.langchain4j.store.embedding.IngestionResult;
import dev.langchain4j.store.embedding.inmemory.InMemoryEmbeddingStore;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * offload as a LangChain4j user meets it: 40 sentences on 8 topics ingested into LangChain4j's in-memory store,
 * then a new question per topic retrieves sentences of that topic.
 */
class SemanticSearchTest {
    private static OffloadEmbeddingModel model;

    @BeforeAll
    static void openModel() { model = OffloadEmbeddingModel.builder().placement("cl:cpu").build(); }

    @AfterAll
    static void closeModel() { model.close(); }

    @Test
    void aQuestionOnATopicRetrievesThatTopicsSentences() {
        InMemoryEmbeddingStore<TextSegment> store = new InMemoryEmbeddingStore<>();
        List<Document> documents = TopicCorpus.TOPICS.stream()
                .flatMap(t -> t.sentences().stream().map(s -> Document.from(s, Metadata.from("topic", t.name()))))
                .toList();
        IngestionResult ingested = EmbeddingStoreIngestor.builder().embeddingModel(model).embeddingStore(store).build()
                .ingest(documents);
        assertEquals(model.session().tokenize(TopicCorpus.sentences()).tokens(), (long) ingested.tokenUsage().inputTokenCount(),
                "token usage: the real tokens fed, [CLS] and [SEP] included");

        for (TopicCorpus.Topic topic : TopicCorpus.TOPICS) {
            Embedding query = model.embed(topic.query()).content();
            List<EmbeddingMatch<TextSegment>> top3 = store.search(EmbeddingSearchRequest.builder()
                    .queryEmbedding(query).maxResults(3).build()).matches();
            String shown = topic.query() + " ->\n" + top3.stream()
                    .map(m -> String.format("  %.3f %s: %s", m.score(), topicOf(m), m.embedded().text()))
                    .collect(Collectors.joining("\n"));
            assertEquals(3, top3.size(), shown);
            assertEquals(topic.name(), topicOf(top3.getFirst()), "the nearest sentence is off topic:\n" + shown);
            long onTopic = top3.stream().filter(m -> topic.name().equals(topicOf(m))).count();
            assertTrue(onTopic >= 2, "fewer than 2 of the 3 nearest on topic:\n" + shown);
        }
    }

    @Test
    void embeddingsAddedDirectlyAreFoundAsWell() {
        InMemoryEmbeddingStore<TextSegment> store = new InMemoryEmbeddingStore<>();
        List<TextSegment> segments = TopicCorpus.sentences().stream().map(TextSegment::from).toList();
        store.addAll(model.embedAll(segments).content(), segments);

        // Each stored sentence, asked for itself, comes back first with a relevance score of 1: LangChain4j scores
        // (cosine + 1) / 2, and the cosine of a vector with itself is 1 up to float rounding.
        for (TextSegment segment : List.of(segments.get(3), segments.get(17), segments.get(39))) {
            EmbeddingMatch<TextSegment> best = store.search(EmbeddingSearchRequest.builder()
                    .queryEmbedding(model.embed(segment).content()).maxResults(1).build()).matches().getFirst();
            assertEquals(segment.text(), best.embedded().text());
            assertEquals(1.0, best.score(), 1e-6);
        }
    }

    private static String topicOf(EmbeddingMatch<TextSegment> match) { return match.embedded().metadata().getString("topic"); }
}
