package dev.offload.compress;

import java.util.ArrayList;
import java.util.List;

/**
 * The ranks a low-rank compression chose, as the report shows them: one row per encoder layer, one cell per linear
 * (query, key, value, attention output, FFN up, FFN down) with its energy rank of the full rank, and "dense" where
 * two factors of that rank would take at least the dense layer's work (r (K + N) >= K N), so it was kept as it was.
 */
final class LowRankTable {
    private final List<List<LowRankFactorization.Choice>> layers = new ArrayList<>();

    void add(int layer, LowRankFactorization.Choice choice) {
        while (layers.size() <= layer) layers.add(new ArrayList<>());
        layers.get(layer).add(choice);
    }

    /** How many linears were factorized, of all. */
    int[] factorized() {
        int f = 0, all = 0;
        for (List<LowRankFactorization.Choice> l : layers) {
            for (LowRankFactorization.Choice c : l) { all++; if (c.factorized() != null) f++; }
        }
        return new int[] {f, all};
    }

    List<String> markdown() {
        List<String> s = new ArrayList<>();
        int[] f = factorized();
        s.add(f[0] + " of " + f[1] + " linears factorized; rank r of full rank per linear, \"dense\" where r (K + N) >= K N"
                + " (two factors would not save work) and the layer is kept as it was:");
        s.add("");
        s.add("| layer | query | key | value | attention output | FFN up | FFN down |");
        s.add("|---:|---:|---:|---:|---:|---:|---:|");
        for (int i = 0; i < layers.size(); i++) {
            StringBuilder row = new StringBuilder("| " + i + " |");
            for (LowRankFactorization.Choice c : layers.get(i)) {
                row.append(' ').append(c.factorized() != null ? "" : "dense, ").append(c.rank()).append(" / ").append(c.fullRank()).append(" |");
            }
            s.add(row.toString());
        }
        return s;
    }
}
