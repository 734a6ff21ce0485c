// Asks an offload server what OpenAiSdkTest compares, through the official `openai` package (the one given as the
// first argument), and prints one JSON object. The second argument is a JSON file: baseURL, apiKey, encoder, decoder,
// texts, messages, prompt, maxTokens.
const OpenAI = require(process.argv[2]).default;
const job = JSON.parse(require('fs').readFileSync(process.argv[3], 'utf8'));
const client = new OpenAI({ baseURL: job.baseURL, apiKey: job.apiKey, maxRetries: 0, timeout: 60000 });

// The float32 bits of each value, so that Java compares bits, not decimals.
const bits = (values) => Array.from(new Uint32Array(new Float32Array(values).buffer));

async function collect(stream, pick) {
  let text = '', finish = null, chunks = 0, usage = null;
  for await (const chunk of stream) {
    chunks++;
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) continue;
    text += pick(choice) ?? '';
    if (choice.finish_reason) finish = choice.finish_reason;
  }
  return { text, finish, chunks, usage };
}

async function main() {
  const out = {};
  const asFloat = await client.embeddings.create({ model: job.encoder, input: job.texts, encoding_format: 'float' });
  out.floatBits = asFloat.data.map((d) => bits(d.embedding));
  out.floatIndexes = asFloat.data.map((d) => d.index);
  out.usage = asFloat.usage;
  // Without encoding_format the SDK asks for base64 and decodes it itself.
  const asDefault = await client.embeddings.create({ model: job.encoder, input: job.texts });
  out.defaultBits = asDefault.data.map((d) => bits(d.embedding));
  const one = await client.embeddings.create({ model: job.encoder, input: job.texts[0] });
  out.singleBits = bits(one.data[0].embedding);

  const chat = { model: job.decoder, messages: job.messages, max_tokens: job.maxTokens, temperature: 0 };
  const whole = await client.chat.completions.create(chat);
  out.chat = { text: whole.choices[0].message.content, role: whole.choices[0].message.role, finish: whole.choices[0].finish_reason, usage: whole.usage };
  out.chatStream = await collect(await client.chat.completions.create({ ...chat, stream: true, stream_options: { include_usage: true } }),
    (c) => c.delta.content);

  const completion = { model: job.decoder, prompt: job.prompt, max_tokens: job.maxTokens, temperature: 0 };
  const text = await client.completions.create(completion);
  out.completion = { text: text.choices[0].text, finish: text.choices[0].finish_reason, usage: text.usage };
  out.completionStream = await collect(await client.completions.create({ ...completion, stream: true }), (c) => c.text);

  // The SDK's own error classes see OpenAI's error JSON.
  try {
    await client.embeddings.create({ model: 'no-such-model', input: 'x' });
    out.notFound = null;
  } catch (e) {
    out.notFound = { status: e.status, code: e.code, type: e.type, name: e.constructor.name };
  }
  try {
    await new OpenAI({ baseURL: job.baseURL, apiKey: 'sk-wrong', maxRetries: 0 }).models.list();
    out.unauthorized = null;
  } catch (e) {
    out.unauthorized = { status: e.status, code: e.code, name: e.constructor.name };
  }
  out.models = (await client.models.list()).data.map((m) => m.id);
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => { console.error(e && e.stack ? e.stack : e); process.exit(1); });
