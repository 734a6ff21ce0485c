package dev.offload.server;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The models a server answers for, found by the {@code model} field of a request: by id or by the spec it was opened
 * with. A request without {@code model} gets the only model of the kind it needs, when there is just one.
 */
public final class ServedModels implements AutoCloseable {
    private final Map<String, ServedModel> byName = new LinkedHashMap<>();
    private final List<ServedModel> models;

    ServedModels(List<ServedModel> models) {
        this.models = List.copyOf(models);
        for (ServedModel m : models) {
            if (byName.putIfAbsent(m.id(), m) != null) {
                throw new IllegalArgumentException("two models have the id '" + m.id() + "' (" + byName.get(m.id()).spec() + ", " + m.spec() + ")");
            }
        }
        for (ServedModel m : models) byName.putIfAbsent(m.spec(), m);
    }

    /** Opens every spec (closing those already open when one fails). */
    public static ServedModels open(List<String> specs, dev.offload.session.EmbeddingOptions encoders,
                                    dev.offload.session.GenerationOptions decoders) {
        List<ServedModel> open = new ArrayList<>();
        try {
            for (String spec : specs) open.add(ServedModel.open(spec, encoders, decoders));
            return new ServedModels(open);
        } catch (RuntimeException e) {
            open.forEach(ServedModel::close);
            throw e;
        }
    }

    /** An encoder that is already open, served as {@code id} (the caller keeps it: it closes with these models). */
    public static ServedModels ofEncoder(String id, dev.offload.session.EmbeddingSession session) {
        return new ServedModels(List.of(new ServedModel.Encoder(id, id, session)));
    }

    List<ServedModel> all() { return models; }

    /** The encoder {@code name} names (null: the only encoder). */
    ServedModel.Encoder encoder(String name) { return find(name, ServedModel.Encoder.class, "/v1/embeddings needs a sentence encoder"); }

    /** The decoder {@code name} names (null: the only decoder). */
    ServedModel.Decoder decoder(String name) { return find(name, ServedModel.Decoder.class, "completions need a decoder LLM (a .gguf model)"); }

    private <T extends ServedModel> T find(String name, Class<T> kind, String what) {
        if (name == null) {
            List<T> ofKind = models.stream().filter(kind::isInstance).map(kind::cast).toList();
            if (ofKind.size() == 1) return ofKind.getFirst();
            throw ApiException.invalid("model", "you must provide 'model' (" + what + "; this server has: " + String.join(", ", ids()) + ")");
        }
        ServedModel m = byName.get(name);
        if (m == null) throw ApiException.modelNotFound(name, ids());
        if (!kind.isInstance(m)) throw ApiException.invalid("model", "'" + name + "' cannot serve this request: " + what);
        return kind.cast(m);
    }

    List<String> ids() { return models.stream().map(ServedModel::id).toList(); }

    @Override
    public void close() { models.forEach(ServedModel::close); }
}
