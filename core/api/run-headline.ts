// Each kind's headline figures: what a researcher looks at first in a run's summary. Isomorphic: the runs
// table shows them and the lab sorts by the first of them (queryRuns).

/** One headline figure of a run: a label and its value. */
export interface Headline {
  readonly label: string;
  readonly value: number | string;
}

// The figure each kind leads with, in order of preference: a comparison's test accuracy per model (qhead's
// quantum vs baseline, qdllm's students), a language model's test perplexity (qffn, qtha), a sweep point's
// validation accuracy (qhead children), then whatever the run reported first.
const HEADLINE_RULES: readonly { re: RegExp; label: (m: RegExpExecArray) => string }[] = [
  { re: /^(.+)_test_acc$/, label: (m) => `${m[1]} acc` },
  { re: /^(.+)_test_ppl(?:_mean)?$/, label: (m) => `${m[1]} ppl` },
  { re: /^test_ppl_mean$/, label: () => 'test ppl' },
  { re: /^val_acc_mean$/, label: () => 'val acc' },
];

const REFERENCES = /^(teacher|bow)\b/;

/** The run's headline figures (at most `max`): what a researcher looks at first in its summary. */
export function headline(summary: Record<string, number | string>, max = 4): Headline[] {
  const keys = Object.keys(summary);
  for (const rule of HEADLINE_RULES) {
    const out: Headline[] = [];
    for (const k of keys) {
      const m = rule.re.exec(k);
      if (m) out.push({ label: rule.label(m), value: summary[k] });
    }
    // The compared models first (quantum leading), references outside the comparison (teacher, bag of words) after.
    const rank = (h: Headline) => (h.label.startsWith('quantum') ? 0 : REFERENCES.test(h.label) ? 2 : 1);
    if (out.length > 0) return out.sort((a, b) => rank(a) - rank(b)).slice(0, max);
  }
  return keys.slice(0, Math.min(max, 3)).map((k) => ({ label: k, value: summary[k] }));
}

/** The value the runs table's headline column sorts by (the first headline figure), or null. */
export function headlineValue(summary: Record<string, number | string>): number | string | null {
  const h = headline(summary, 1)[0];
  return h === undefined ? null : h.value;
}
