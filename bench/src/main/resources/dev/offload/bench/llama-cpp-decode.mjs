// llama.cpp's prompt and generation speed on a GGUF file, through node-llama-cpp's prebuilt CPU backend: the peer
// of offload's decoder in `bench` (section decode). Part of the benchmark harness, not of offload.
//   node llama-cpp-decode.mjs NODE_LLAMA_CPP_PACKAGE_DIR THREADS RUNS TOKENS MODEL.gguf PROMPT_IDS_JSON [MODEL PROMPT]...
// For each model, RUNS times (the caller drops the first as warm-up): clear the KV cache, feed the prompt ids
// (one batch), then generate TOKENS tokens greedily. Prints one JSON object:
//   { "<model>": { "loadMs": ms, "runs": [ { "promptMs": ms from the call to the first token (prefill + one sample),
//       "decodeMs": ms from the first token to the last (TOKENS - 1 decode steps), "tokens": [ids] }, ... ] }, ... }
import {join} from "node:path";
import {pathToFileURL} from "node:url";

const [packageDir, threadsArg, runsArg, tokensArg, ...pairs] = process.argv.slice(2);
const threads = Number(threadsArg), runs = Number(runsArg), count = Number(tokensArg);
const {getLlama} = await import(pathToFileURL(join(packageDir, "dist", "index.js")).href);
const llama = await getLlama({gpu: false, build: "never", maxThreads: threads, logLevel: "error", progressLogs: false});
const result = {};
for (let i = 0; i < pairs.length; i += 2) {
    const prompt = JSON.parse(pairs[i + 1]);
    const t0 = performance.now();
    const model = await llama.loadModel({modelPath: pairs[i]});
    const loadMs = performance.now() - t0;
    const context = await model.createContext({contextSize: prompt.length + count + 64, batchSize: 512,
        threads: {ideal: threads, min: threads}});
    const sequence = context.getSequence();
    const measured = [];
    for (let r = 0; r < runs; r++) {
        await sequence.clearHistory();
        const tokens = [];
        const start = performance.now();
        let first = start, last = start;
        for await (const token of sequence.evaluate(prompt, {temperature: 0})) {
            last = performance.now();
            if (tokens.length === 0) first = last;
            tokens.push(token);
            if (tokens.length >= count) break;
        }
        measured.push({promptMs: first - start, decodeMs: last - first, tokens});
    }
    result[pairs[i]] = {loadMs, runs: measured};
    await context.dispose();
    await model.dispose();
}
console.log(JSON.stringify(result));
