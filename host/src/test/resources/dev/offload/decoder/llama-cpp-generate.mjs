// Greedy continuations by llama.cpp itself (node-llama-cpp's prebuilt CPU backend), so offload's decoder tests can
// compare tokens with llama.cpp's on the same GGUF files. Test input, not part of offload.
//   node llama-cpp-generate.mjs NODE_LLAMA_CPP_PACKAGE_DIR TOKENS MODEL.gguf PROMPT_IDS_JSON [MODEL.gguf PROMPT_IDS_JSON]...
// Prints one JSON object: { "<model path>": { "tokenized": [ids of the prompt text], "greedy": [TOKENS ids] }, ... }
// The continuation starts from the given ids (not from llama.cpp's own tokenization), at temperature 0.
import {join} from "node:path";
import {pathToFileURL} from "node:url";

const [packageDir, count, ...pairs] = process.argv.slice(2);
const {getLlama} = await import(pathToFileURL(join(packageDir, "dist", "index.js")).href);
const llama = await getLlama({gpu: false, build: "never", logLevel: "error", progressLogs: false});
const result = {};
for (let i = 0; i < pairs.length; i += 2) {
    const model = await llama.loadModel({modelPath: pairs[i]});
    const context = await model.createContext({contextSize: 256, threads: 2});
    const input = JSON.parse(pairs[i + 1]);
    const greedy = [];
    for await (const token of context.getSequence().evaluate(input, {temperature: 0})) {
        greedy.push(token);
        if (greedy.length >= Number(count)) break;
    }
    result[pairs[i]] = {greedy};
    await context.dispose();
    await model.dispose();
}
console.log(JSON.stringify(result));
