package dev.offload.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** A seeded corpus of short English sentences: the same list on every machine and every run. */
final class Sentences {
    private static final String[] SUBJECTS = {"The farmer", "A small child", "My neighbour", "The old captain", "Every student",
            "The river", "A quiet engineer", "Her brother", "The choir", "A stray dog", "The committee", "Our teacher"};
    private static final String[] VERBS = {"carried", "painted", "forgot", "measured", "sold", "watched", "repaired",
            "described", "followed", "counted", "borrowed", "praised"};
    private static final String[] OBJECTS = {"the wooden boat", "three letters", "a bright lantern", "the broken clock",
            "a field of barley", "the long bridge", "an empty basket", "the northern road", "a silver coin", "the morning train"};
    private static final String[] TAILS = {"", " before dawn", " in the rain", " without a word", " for the festival",
            " near the harbour", " while the bells rang", " after a long winter", " because nobody else would"};

    private Sentences() {}

    /** {@code n} sentences from {@code seed}; some repeat, as a real corpus's do. */
    static List<String> generate(int n, long seed) {
        Random r = new Random(seed);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(pick(r, SUBJECTS) + " " + pick(r, VERBS) + " " + pick(r, OBJECTS) + pick(r, TAILS) + ".");
        }
        return out;
    }

    private static String pick(Random r, String[] words) { return words[r.nextInt(words.length)]; }
}
