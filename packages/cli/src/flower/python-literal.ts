/**
 * Python literals as Celery's events carry a task's arguments (`kwargsrepr`: `{'priority': 'high'}`),
 * read the way Flower's search reads them with ast.literal_eval: dicts, lists, tuples, strings,
 * numbers, True, False, None. Anything else (a repr of an object, a truncated saferepr) is undefined.
 */
import { pyRepr } from '@nori/tasks/protocol';

export type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0' };

export function parsePythonLiteral(text: string): PyValue | undefined {
  let i = 0;
  const space = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const expect = (c: string): void => {
    space();
    if (text[i] !== c) throw new SyntaxError(`expected ${c}`);
    i++;
  };
  const items = (close: string): PyValue[] => {
    const out: PyValue[] = [];
    for (space(); text[i] !== close; space()) {
      out.push(value());
      space();
      if (text[i] === ',') i++;
      else if (text[i] !== close) throw new SyntaxError(`expected , or ${close}`);
    }
    i++;
    return out;
  };
  const value = (): PyValue => {
    space();
    const c = text[i];
    if (c === '{') {
      i++;
      const out: Record<string, PyValue> = {};
      for (space(); text[i] !== '}'; space()) {
        const key = value();
        expect(':');
        out[pythonStr(key)] = value();
        space();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') throw new SyntaxError('expected , or }');
      }
      i++;
      return out;
    }
    if (c === '[' || c === '(') {
      i++;
      return items(c === '[' ? ']' : ')');
    }
    if (c === "'" || c === '"') {
      let s = '';
      for (i++; text[i] !== c; i++) {
        if (i >= text.length) throw new SyntaxError('unterminated string');
        s += text[i] === '\\' ? (ESCAPES[text[++i]!] ?? `\\${text[i]}`) : text[i];
      }
      i++;
      return s;
    }
    const word = /^(True|False|None|-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)/i.exec(text.slice(i))?.[0];
    if (!word) throw new SyntaxError(`unexpected ${c}`);
    i += word.length;
    return word === 'True' ? true : word === 'False' ? false : word === 'None' ? null : Number(word);
  };
  try {
    const v = value();
    space();
    return i === text.length ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Python's str() of a literal (repr inside containers). */
export function pythonStr(v: PyValue): string {
  return typeof v === 'string' ? v : pyRepr(v);
}
