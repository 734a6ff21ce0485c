// Next-token logits by llama.cpp itself (node-llama-cpp's prebuilt CPU backend) at chosen positions of a prompt, so
// offload's decoder tests can compare next-token distributions with llama.cpp's on the same GGUF files. Test input,
// not part of offload.
//   node llama-cpp-logits.mjs NODE_LLAMA_CPP_PACKAGE_DIR POSITIONS_JSON MODEL.gguf PROMPT_IDS_JSON [MODEL PROMPT]...
// Each model runs in two context configurations: "default" (llama.cpp's own: float16 KV cache, flash attention when
// it decides) and "f32" (float32 KV cache, no flash attention: llama.cpp's arithmetic closest to a float reference).
// The prompt is evaluated in one batch from an empty KV cache; after each position in POSITIONS_JSON (0-based) the
// raw logits of the whole vocabulary are read (greedy sampler: nothing filtered or scaled). Prints one JSON object:
//   { "default": { "<model>": { "<position>": [[token, logit], ...], ... }, ... }, "f32": { ... } }
import {join} from "node:path";
import {pathToFileURL} from "node:url";

const [packageDir, positionsArg, ...pairs] = process.argv.slice(2);
const positions = new Set(JSON.parse(positionsArg));
const {getLlama} = await import(pathToFileURL(join(packageDir, "dist", "index.js")).href);
const llama = await getLlama({gpu: false, build: "never", logLevel: "error", progressLogs: false});
const configurations = {
    default: {},
    f32: {flashAttention: false, experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32"},
};
const result = {};
for (const name of Object.keys(configurations)) result[name] = {};
for (let i = 0; i < pairs.length; i += 2) {
    const model = await llama.loadModel({modelPath: pairs[i]});
    const prompt = JSON.parse(pairs[i + 1]);
    const input = prompt.map((token, p) => positions.has(p)
        ? [token, {generateNext: {logits: true, options: {temperature: 0}}}]
        : token);
    for (const [name, options] of Object.entries(configurations)) {
        const context = await model.createContext({contextSize: 256, threads: 2, ...options});
        const output = await context.getSequence().controlledEvaluate(input);
        const logits = {};
        for (const p of positions) logits[p] = [...output[p].next.logits.entries()];
        result[name][pairs[i]] = logits;
        await context.dispose();
    }
    await model.dispose();
}
console.log(JSON.stringify(result));
