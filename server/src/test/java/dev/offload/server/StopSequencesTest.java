package dev.offload.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class StopSequencesTest {
    @Test
    void textBeforeTheFirstStopStringPassesAndAPossibleStartIsHeldBack() {
        StopSequences s = new StopSequences(List.of("END", "\n\n"));
        assertEquals("hello ", s.push("hello "));
        assertEquals("wor", s.push("worE"));     // "E" could start "END"
        assertEquals("", s.push("N"));           // "EN" still could
        assertEquals("ENx", s.push("x"));        // it did not
        assertFalse(s.matched());
        assertEquals("a", s.push("a\n"));
        assertEquals("", s.push("\nrest"));      // "\n\n" matched across pieces; the rest is dropped
        assertTrue(s.matched());
        assertEquals("", s.push("more"));
        assertEquals("", s.finish());
    }

    @Test
    void theEarliestStopStringWinsAndWhatIsHeldComesOutAtTheEnd() {
        StopSequences s = new StopSequences(List.of("cd", "b"));
        assertEquals("a", s.push("abcd"));
        assertTrue(s.matched());
        StopSequences t = new StopSequences(List.of("xyz", ""));
        assertEquals("abc", t.push("abcxy"));
        assertEquals("xy", t.finish());
        assertFalse(t.matched());
    }
}
