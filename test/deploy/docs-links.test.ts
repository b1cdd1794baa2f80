/**
 * The README is short and points into docs/: every relative link in README.md, BENCHMARKS.md and
 * docs/*.md names a file that exists and, with a `#fragment`, a heading of that file (GitHub's
 * slugs: lower case, punctuation dropped, spaces to hyphens).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DOCS = [
  'README.md',
  'BENCHMARKS.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

function slugs(markdown: string): Set<string> {
  const out = new Set<string>();
  const code = /^```/;
  let inCode = false;
  for (const line of markdown.split('\n')) {
    if (code.test(line)) inCode = !inCode;
    if (inCode || !line.startsWith('#')) continue;
    const title = line.replace(/^#+\s*/, '');
    out.add(
      title
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .trim()
        .replace(/\s/g, '-'),
    );
  }
  return out;
}

/** `[text](target)` links outside code blocks and inline code, without a scheme. */
function relativeLinks(markdown: string): string[] {
  const text = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  const links: string[] = [];
  for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1] ?? '';
    if (!/^[a-z]+:/i.test(target)) links.push(target);
  }
  return links;
}

describe('links between the README and docs/', () => {
  it.each(DOCS)('%s: every relative link reaches a file and a heading', (doc) => {
    const markdown = readFileSync(join(ROOT, doc), 'utf8');
    for (const link of relativeLinks(markdown)) {
      const [path = '', fragment] = link.split('#');
      const file = path === '' ? join(ROOT, doc) : resolve(dirname(join(ROOT, doc)), path);
      expect(existsSync(file), `${doc}: ${link}`).toBe(true);
      if (fragment !== undefined && file.endsWith('.md'))
        expect(slugs(readFileSync(file, 'utf8')), `${doc}: ${link}`).toContain(fragment);
    }
  });

  it('the README links to every page of docs/, and stays short', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const doc of DOCS.filter((d) => d.startsWith('docs/'))) expect(readme, doc).toContain(`](${doc}`);
    expect(relativeLinks(readme).length).toBeGreaterThan(15);
    expect(readme.split('\n').length).toBeLessThan(260);
  });
});
