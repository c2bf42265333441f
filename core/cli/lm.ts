// `qlab lm score --model <dir> (--text <file> | --tokens <file>) [--window N] [--json]`: per-token
// log-probabilities, mean negative log-likelihood and perplexity of a Hugging Face-layout model directory.
import { readInputFile } from './read-file';
import { loadModelDir } from '../nn/checkpoint';
import type { Tokenizer } from '../nn/tokenizers/types';
import type { Transformer } from '../nn/transformer';
import { intOption, parseArgs, type CommandSpec } from './args';
import { CliError, describeFailure, EXIT } from './errors';

const SCORE: CommandSpec = {
  name: 'lm score',
  options: {
    model: { type: 'string' },
    text: { type: 'string' },
    tokens: { type: 'string' },
    window: { type: 'string' },
    json: { type: 'boolean' },
  },
  positionals: { min: 0, max: 0, label: '' },
};

const USAGE =
  'usage: qlab lm score --model <dir> (--text <file> | --tokens <file with a JSON array of ids>) [--window N] [--json]';

export interface TokenScore {
  /** Position in the input sequence (the first token, position 0, is context only). */
  position: number;
  id: number;
  token: string | null;
  logprob: number;
}

export interface ScoreResult {
  tokens: number;
  scored: number;
  window: number;
  meanNll: number;
  perplexity: number;
  perToken: TokenScore[];
}

/**
 * Scores ids[1..] given their prefixes. Sequences longer than `window` run as consecutive windows that
 * overlap by one token, so every token after the first is predicted exactly once (with a truncated context).
 */
export function scoreTokens(
  model: Transformer,
  ids: Int32Array,
  window: number,
  tokenizer: Tokenizer | null,
): ScoreResult {
  const V = model.config.vocabSize;
  const perToken: TokenScore[] = [];
  let nll = 0;
  for (let start = 0; start + 1 < ids.length; start += window - 1) {
    const chunk = ids.subarray(start, Math.min(ids.length, start + window));
    const T = chunk.length;
    model.lmForward(chunk, 1, T);
    const logits = model.logits!;
    for (let t = 0; t + 1 < T; t++) {
      // log-softmax in f64 with the max subtracted, for the token that follows position t
      let mx = -Infinity;
      for (let v = 0; v < V; v++) mx = Math.max(mx, logits[t * V + v]);
      let z = 0;
      for (let v = 0; v < V; v++) z += Math.exp(logits[t * V + v] - mx);
      const id = chunk[t + 1];
      const lp = logits[t * V + id] - mx - Math.log(z);
      nll -= lp;
      perToken.push({ position: start + t + 1, id, token: tokenizer?.idToToken(id) ?? null, logprob: lp });
    }
  }
  const scored = perToken.length;
  const meanNll = scored > 0 ? nll / scored : NaN;
  return { tokens: ids.length, scored, window, meanNll, perplexity: Math.exp(meanNll), perToken };
}

function parseTokenFile(text: string, path: string, vocabSize: number): Int32Array {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new CliError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(v)) throw new CliError(`${path} must hold a JSON array of token ids`);
  v.forEach((x, i) => {
    if (!Number.isInteger(x) || (x as number) < 0 || (x as number) >= vocabSize) {
      throw new CliError(
        `${path}: token at index ${i} is ${JSON.stringify(x)}, not an id in [0, ${vocabSize})`,
      );
    }
  });
  return Int32Array.from(v as number[]);
}

async function score(argv: string[]): Promise<number> {
  const args = parseArgs(SCORE, argv);
  const dir = args.strings.model;
  if (!dir) throw new CliError(`--model is required; ${USAGE}`);
  const textPath = args.strings.text;
  const tokensPath = args.strings.tokens;
  if ((textPath === undefined) === (tokensPath === undefined)) {
    throw new CliError(`give exactly one of --text or --tokens; ${USAGE}`);
  }
  const requested = intOption(args, 'window', 1024, 2, 1 << 20);
  const cfgWindow = await readMaxPositions(dir);
  // A window of one token predicts nothing and would never advance: refuse it before loading anything.
  if (cfgWindow !== null && cfgWindow < 2)
    throw new CliError(
      `${dir}/config.json: max_position_embeddings is ${cfgWindow}; scoring needs a window of at least 2 tokens`,
    );
  const window = Math.min(requested, cfgWindow ?? requested);
  const loaded = await loadModelDir(dir, { maxSeqLen: window });
  const V = loaded.spec.config.vocabSize;
  let ids: Int32Array;
  if (tokensPath !== undefined) {
    ids = parseTokenFile(await readInput(tokensPath), tokensPath, V);
  } else {
    if (!loaded.tokenizer)
      throw new CliError(`--text needs a tokenizer: ${loaded.tokenizerIssue}; pass --tokens instead`);
    ids = Int32Array.from(loaded.tokenizer.encode(await readInput(textPath!)));
    const bad = ids.findIndex((id) => id >= V);
    if (bad >= 0) throw new CliError(`token ${bad} (id ${ids[bad]}) is outside the model's vocab_size ${V}`);
  }
  if (ids.length < 2) throw new CliError(`need at least 2 tokens to score, got ${ids.length}`);
  const r = scoreTokens(loaded.model, ids, window, loaded.tokenizer);
  if (!Number.isFinite(r.meanNll))
    throw new CliError(
      `the model gives a non-finite loss (${r.meanNll}): its weights contain NaN or Infinity, or overflow`,
      EXIT.lab,
    );
  if (args.booleans.json) {
    process.stdout.write(JSON.stringify({ model: dir, ...r }) + '\n');
  } else {
    process.stdout.write(
      `${r.scored} tokens scored (of ${r.tokens}, window ${r.window})\n` +
        `mean NLL ${r.meanNll.toFixed(4)} nats/token, perplexity ${r.perplexity.toFixed(3)}\n`,
    );
  }
  return EXIT.ok;
}

async function readInput(path: string): Promise<string> {
  return Promise.resolve(readInputFile(path, 'input file'));
}

/** max_position_embeddings from config.json, so the window never exceeds what the model was built for. */
async function readMaxPositions(dir: string): Promise<number | null> {
  try {
    const cfg = JSON.parse(readInputFile(`${dir}/config.json`, 'config.json', 1 << 20)) as {
      max_position_embeddings?: unknown;
    };
    return Number.isInteger(cfg.max_position_embeddings) ? (cfg.max_position_embeddings as number) : null;
  } catch {
    return null; // loadModelDir reports a missing or broken config.json with the full reason
  }
}

/** Entry for `qlab lm …`; argv is what follows `lm` (e.g. ["score", "--model", "dir", …]). */
export async function main(argv: string[]): Promise<number> {
  try {
    const [sub, ...rest] = argv;
    if (sub === 'score') return await score(rest);
    throw new CliError(sub === undefined ? USAGE : `unknown subcommand 'lm ${sub}'; ${USAGE}`);
  } catch (err) {
    const { line, exitCode } = describeFailure(err);
    // Input problems found while loading (config, tensors, tokenizer) are the user's to fix: usage exit code.
    const code =
      err instanceof Error && /^(Checkpoint|Safetensors|Tokenizer)Error$/.test(err.name)
        ? EXIT.usage
        : exitCode;
    process.stderr.write(`qlab lm: ${line}\n`);
    return code;
  }
}
