package dev.offload.spark;

import java.util.Arrays;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The DataFrame entry: a text column in, the same rows with an {@code array<float>} embedding column appended.
 *
 * <pre>{@code
 * Dataset<Row> embedded = OffloadEmbeddings.embed(sentences, "text");
 * }</pre>
 *
 * <p>No UDF: one {@code mapPartitions}, so each partition is embedded in batches on its task's device, through the
 * executor's one session for that device. Lazy like any transformation; rows keep their order within a partition.
 */
public final class OffloadEmbeddings {
    private OffloadEmbeddings() {}

    /** {@code df} with column "embedding" appended: the default model, on each task's assigned device. */
    public static Dataset<Row> embed(Dataset<Row> df, String textColumn) {
        return embed(df, textColumn, SparkEmbeddingOptions.defaults());
    }

    /** {@code df} with {@link SparkEmbeddingOptions#outputColumn()} (and the device column, if named) appended. */
    public static Dataset<Row> embed(Dataset<Row> df, String textColumn, SparkEmbeddingOptions options) {
        StructType in = df.schema();
        int field = in.fieldIndex(textColumn);
        if (!(in.fields()[field].dataType() instanceof StringType)) {
            throw new IllegalArgumentException("column '" + textColumn + "' is " + in.fields()[field].dataType().simpleString() + ", not string");
        }
        return df.mapPartitions(new EmbedRows(options, field), Encoders.row(outputSchema(in, options)));
    }

    /** The input schema plus {@code outputColumn array<float>} (null for a null text) and the optional device column. */
    public static StructType outputSchema(StructType in, SparkEmbeddingOptions options) {
        for (String c : new String[] {options.outputColumn(), options.deviceColumn()}) {
            if (c != null && Arrays.asList(in.fieldNames()).contains(c)) throw new IllegalArgumentException("column '" + c + "' exists already");
        }
        StructType out = in.add(new StructField(options.outputColumn(), DataTypes.createArrayType(DataTypes.FloatType, false), true,
                org.apache.spark.sql.types.Metadata.empty()));
        return options.deviceColumn() == null ? out : out.add(options.deviceColumn(), DataTypes.StringType, false);
    }
}
