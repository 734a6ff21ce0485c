package dev.offload.spark;

import dev.offload.session.EmbeddingSession;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * The function for {@code Dataset<Row>.mapPartitions}: each row with its text's embedding appended (and, if asked,
 * the device it ran on). The schema of the result is {@link OffloadEmbeddings#outputSchema}.
 */
final class EmbedRows implements MapPartitionsFunction<Row, Row> {
    private final SparkEmbeddingOptions options;
    private final int textField;

    EmbedRows(SparkEmbeddingOptions options, int textField) {
        this.options = options;
        this.textField = textField;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        TaskDevice device = TaskDevice.current(options.resourceName());
        EmbeddingSession session = ExecutorRuntime.session(options, device.spec());
        return new Batches<>(rows, options.batchSize(), batch -> {
            List<float[]> vectors = EmbedTexts.embed(session, batch.stream().map(r -> r.isNullAt(textField) ? null : r.getString(textField)).toList());
            List<Row> out = new ArrayList<>(batch.size());
            for (int i = 0; i < batch.size(); i++) out.add(appended(batch.get(i), vectors.get(i), device.spec()));
            return out;
        });
    }

    private Row appended(Row row, float[] vector, String device) {
        int n = row.length();
        Object[] values = new Object[n + (options.deviceColumn() != null ? 2 : 1)];
        for (int i = 0; i < n; i++) values[i] = row.get(i);
        values[n] = vector;
        if (options.deviceColumn() != null) values[n + 1] = device;
        return RowFactory.create(values);
    }
}
