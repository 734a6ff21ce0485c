// Perplexity by llama.cpp itself (node-llama-cpp's prebuilt CPU backend), by llama-perplexity's method, so offload's
// perplexity can be compared with llama.cpp's on the same GGUF file and text (DemoModelLlamaCppTest, bench's decode section).
//   node llama-cpp-perplexity.mjs NODE_LLAMA_CPP_PACKAGE_DIR CTX TEXT_FILE MODEL.gguf [MODEL.gguf]...
// Prints one JSON object: { "<model path>": { "tokens": [first 64 ids], "count": n, "chunks": c, "ppl": p, "error": e,
//   "top": [llama.cpp's most likely next token at every scored position, chunk after chunk] } }
// llama.cpp tokenizes the text itself (BOS first when the model asks for it, special tokens not parsed); each chunk of
// CTX tokens runs from an empty sequence with BOS in place of its first token; the logits after positions CTX/2 ..
// CTX-2 score the tokens that follow: NLL = log(sum exp(logit - max)) - (logit[next] - max), over the raw logits of
// the whole vocabulary (node-llama-cpp's totalLogitWeight sums only the candidates its sampler keeps).
import {readFileSync} from "node:fs";
import {join} from "node:path";
import {pathToFileURL} from "node:url";

const [packageDir, ctxArg, textFile, ...models] = process.argv.slice(2);
const ctx = Number(ctxArg), first = ctx / 2;
const {getLlama} = await import(pathToFileURL(join(packageDir, "dist", "index.js")).href);
const llama = await getLlama({gpu: false, build: "never", logLevel: "error", progressLogs: false});
const text = readFileSync(textFile, "utf8");
const result = {};
for (const path of models) {
    const model = await llama.loadModel({modelPath: path});
    const context = await model.createContext({contextSize: ctx, batchSize: ctx, threads: 2});
    const sequence = context.getSequence();
    const tokens = model.tokenize(text, false);
    const bos = model.tokens.bos;
    if (model.tokens.shouldPrependBosToken && bos != null) tokens.unshift(bos);
    const chunks = Math.floor(tokens.length / ctx);
    let sum = 0, sumSquares = 0, count = 0;
    const top = [];
    for (let c = 0; c < chunks; c++) {
        const chunk = tokens.slice(c * ctx, (c + 1) * ctx);
        if (model.tokens.shouldPrependBosToken && bos != null) chunk[0] = bos;
        await sequence.clearHistory();
        const input = chunk.map((t, i) => i >= first && i < ctx - 1
            ? [t, {generateNext: {logits: true}}]
            : t);
        const out = await sequence.controlledEvaluate(input);
        for (let i = first; i < ctx - 1; i++) {
            const logits = out[i].next.logits;   // every token's raw logit, highest first
            const max = logits.values().next().value;
            top.push(logits.keys().next().value);
            let sumExp = 0;
            for (const l of logits.values()) sumExp += Math.exp(l - max);
            const nll = Math.log(sumExp) - (logits.get(chunk[i + 1]) - max);
            sum += nll;
            sumSquares += nll * nll;
            count++;
        }
    }
    const mean = sum / count, variance = sumSquares / count - mean * mean, ppl = Math.exp(mean);
    result[path] = {tokens: tokens.slice(0, 64), count: tokens.length, chunks, ppl, error: ppl * Math.sqrt(Math.max(variance, 0) / (count - 1)), top};
    await context.dispose();
    await model.dispose();
}
console.log(JSON.stringify(result));
