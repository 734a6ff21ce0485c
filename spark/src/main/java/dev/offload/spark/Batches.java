package dev.offload.spark;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Function;

/**
 * A partition's rows, a batch at a time: pulls up to {@code size} rows from the source, maps them together, hands
 * the results out one by one. Lazy, so a partition of millions of rows never sits in memory at once.
 */
final class Batches<T, R> implements Iterator<R> {
    private final Iterator<T> source;
    private final int size;
    private final Function<List<T>, List<R>> mapBatch;
    private Iterator<R> current = java.util.Collections.emptyIterator();

    Batches(Iterator<T> source, int size, Function<List<T>, List<R>> mapBatch) {
        this.source = source;
        this.size = size;
        this.mapBatch = mapBatch;
    }

    @Override
    public boolean hasNext() {
        while (!current.hasNext() && source.hasNext()) {
            List<T> batch = new ArrayList<>(size);
            while (batch.size() < size && source.hasNext()) batch.add(source.next());
            List<R> out = mapBatch.apply(batch);
            if (out.size() != batch.size()) throw new IllegalStateException(out.size() + " results for " + batch.size() + " rows");
            current = out.iterator();
        }
        return current.hasNext();
    }

    @Override
    public R next() {
        if (!hasNext()) throw new NoSuchElementException();
        return current.next();
    }
}
