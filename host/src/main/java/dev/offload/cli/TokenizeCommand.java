package dev.offload.cli;

import dev.offload.io.InputFile;
import dev.offload.model.gguf.GgufFile;
import dev.offload.model.tokenizer.TextTokenizer;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.StringJoiner;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Token ids of a text under a GGUF file's tokenizer, printed like llama.cpp's llama-tokenize. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Tokenizes TEXT (or the UTF-8 text of --file) with the tokenizer a GGUF file describes "
                + "(SentencePiece 'llama' or byte-level BPE 'gpt2'); vocabulary-only files work too.",
                "Prints one line per token, ID -> 'piece', as llama-tokenize does (a piece that is not whole "
                + "UTF-8 shows its bytes in hex), or with --ids-only one [id, id, ...] list. Special tokens written in "
                + "the text (<|eot_id|>, <s>, ...) are matched whole. Bad file or arguments: one line, exit code 2."})
public final class TokenizeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "FILE.gguf", description = "The GGUF file whose tokenizer to use.")
    Path model;

    @Parameters(arity = "0..1", paramLabel = "TEXT", description = "The text to tokenize.")
    String text;

    @Option(names = "--file", paramLabel = "F", description = "Tokenize the UTF-8 contents of this file instead of TEXT.")
    Path file;

    @Option(names = "--ids-only", description = "Print only the ids, as one [1, 2, 3] list.")
    boolean idsOnly;

    @Option(names = "--no-bos", description = "Do not prepend BOS even when the file asks for it.")
    boolean noBos;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        if ((text == null) == (file == null)) throw new UserError("give the text to tokenize either as TEXT or with --file, not both or neither");
        String input = text != null ? text : readText(file);
        int[] ids;
        TextTokenizer tokenizer;
        try (GgufFile gguf = GgufFile.open(model)) {
            tokenizer = TextTokenizer.fromGguf(gguf.metadata());
            ids = tokenizer.encode(input, !noBos);
        }
        PrintWriter w = spec.commandLine().getOut();
        if (idsOnly) {
            StringJoiner list = new StringJoiner(", ", "[", "]");
            for (int id : ids) list.add(Integer.toString(id));
            w.println(list);
        } else {
            for (int id : ids) w.printf("%6d -> %s%n", id, quoted(tokenizer.pieceBytes(id, true)));
        }
        w.flush();
        return 0;
    }

    /** 'piece' when it is whole UTF-8, else '<e6 98>' (utf-8 decode failure), as llama-tokenize marks it. */
    private static String quoted(byte[] piece) {
        try {
            return "'" + StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(piece)) + "'";
        } catch (CharacterCodingException e) {
            StringJoiner hex = new StringJoiner(" ", "'<", ">' (utf-8 decode failure)");
            for (byte b : piece) hex.add(String.format("%02x", b & 0xFF));
            return hex.toString();
        }
    }

    private static String readText(Path f) {
        try {
            return InputFile.readUtf8(f.toString(), f);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }
}
