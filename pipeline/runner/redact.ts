// Keeps secrets out of logs and messages without making them readable by their
// absence. Blanking every occurrence of a short secret mangles ordinary words and
// shows the secret by where the stars land (password "re": "cannot ***ach the
// ***pository"). So a secret is blanked where it stands as a value of its own:
// not glued to letters or digits (127.0.0.1 and x-1 count as one word). Long
// secrets (16+ characters: tokens, generated passwords) never occur by chance
// and are blanked wherever they appear.

const LONG = 16;
const WORD = /[A-Za-z0-9_]/;
const JOINER = /[.-]/;

function isWord(c: string | undefined): boolean {
  return c !== undefined && WORD.test(c);
}

/** Whether text[i-1] ends a word that a match starting at i would continue. */
function gluedBefore(text: string, i: number): boolean {
  const prev = text[i - 1];
  return isWord(prev) || (prev !== undefined && JOINER.test(prev) && isWord(text[i - 2]));
}

/** Whether text[j] starts a word that a match ending before j would continue. */
function gluedAfter(text: string, j: number): boolean {
  const next = text[j];
  return isWord(next) || (next !== undefined && JOINER.test(next) && isWord(text[j + 1]));
}

/** Replace each secret, where it stands as a value (anywhere when long), with '***'. */
export function redact(text: string, secrets: readonly string[]): string {
  const spans: Array<[number, number]> = [];
  for (const secret of new Set(secrets)) {
    if (secret.length === 0) continue;
    const anywhere = secret.length >= LONG;
    for (let i = text.indexOf(secret); i !== -1; i = text.indexOf(secret, i + 1)) {
      const j = i + secret.length;
      if (!anywhere && ((isWord(secret[0]) && gluedBefore(text, i)) || (isWord(secret[secret.length - 1]) && gluedAfter(text, j)))) continue;
      spans.push([i, j]);
    }
  }
  if (spans.length === 0) return text;
  // Overlapping matches (one secret inside another) vanish as one.
  spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  let out = '';
  let at = 0;
  let end = -1;
  for (const [i, j] of spans) {
    if (i < end) {
      end = Math.max(end, j);
      continue;
    }
    if (end >= 0) { out += '***'; at = end; }
    out += text.slice(at, i);
    at = i;
    end = j;
  }
  out += '***' + text.slice(end);
  return out;
}
