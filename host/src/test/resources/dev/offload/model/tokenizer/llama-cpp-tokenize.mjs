// Tokenizes strings with llama.cpp itself (through node-llama-cpp's prebuilt CPU backend, vocabulary only), so
// offload's tokenizer tests can compare ids with llama.cpp's. Test input, not part of offload.
//   node llama-cpp-tokenize.mjs NODE_LLAMA_CPP_PACKAGE_DIR STRINGS.json VOCAB.gguf...
// Prints one JSON object: { "<vocab path>": { bos, eos, eot, special: [[ids]...], plain: [[ids]...] }, ... }
// "special": special tokens in the text are parsed (llama_tokenize parse_special=true); "plain": they are text.
// Neither adds BOS/EOS (add_special=false), as llama.cpp's own tokenizer tests run.
import {readFileSync} from "node:fs";
import {join} from "node:path";
import {pathToFileURL} from "node:url";

const [packageDir, stringsFile, ...vocabs] = process.argv.slice(2);
const {getLlama} = await import(pathToFileURL(join(packageDir, "dist", "index.js")).href);
const strings = JSON.parse(readFileSync(stringsFile, "utf8"));
const llama = await getLlama({gpu: false, build: "never", logLevel: "error", progressLogs: false});
const result = {};
for (const modelPath of vocabs) {
    const model = await llama.loadModel({modelPath, vocabOnly: true});
    result[modelPath] = {
        bos: model.tokens.bos ?? -1,
        eos: model.tokens.eos ?? -1,
        eot: model.tokens.eot ?? -1,
        special: strings.map(s => Array.from(model.tokenize(s, true))),
        plain: strings.map(s => Array.from(model.tokenize(s, false))),
    };
    await model.dispose();
}
await llama.dispose();
process.stdout.write(JSON.stringify(result) + "\n");
