// A minimal YAML reader for the kubelet STAND-IN (the subset kubeconfigs and KubeletConfiguration files use: block
// maps and sequences, flow collections, quoted and block scalars, comments, the first document). The stand-in is
// installed as one bundled file with node built-ins only, so it cannot use the yaml package; a test checks this
// reader against it.
export function parseYaml(src: string): unknown {
  const t = src.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return JSON.parse(t);
    } catch {
      /* fall through to YAML flow parsing */
    }
  }
  const raw = src.replace(/\r\n/g, '\n').split('\n');
  const lines: { ind: number; text: string; n: number }[] = [];
  for (let n = 0; n < raw.length; n++) {
    const r = raw[n];
    if (/^\s*(#.*)?$/.test(r)) continue;
    if (/^(---|\.\.\.)(\s|$)/.test(r)) {
      if (lines.length) break;
      continue;
    } // first document only
    if (/^ *\t/.test(r)) throw new Error(`yaml: line ${n + 1}: found a tab character where an indentation space is expected`);
    lines.push({ ind: r.length - r.trimStart().length, text: stripComment(r.trim()), n });
  }
  let i = 0;
  const fail = (msg: string): never => {
    throw new Error(`yaml: line ${(lines[i]?.n ?? raw.length) + 1}: ${msg}`);
  };
  const isItem = (s: string) => s === '-' || s.startsWith('- ');

  const node = (min: number): unknown => {
    const l = lines[i];
    if (!l || l.ind < min) return null;
    if (isItem(l.text)) return seq(l.ind);
    if (splitKey(l.text)) return map(l.ind);
    i++;
    return scalar(l.text);
  };
  const seq = (ind: number): unknown[] => {
    const out: unknown[] = [];
    while (i < lines.length && lines[i].ind === ind && isItem(lines[i].text)) {
      const l = lines[i];
      const rest = l.text.slice(1).trimStart();
      if (!rest) {
        i++;
        out.push(node(ind + 1));
        continue;
      }
      // "- key: v" is a mapping indented at the item's content column.
      lines[i] = { ind: ind + (l.text.length - rest.length), text: rest, n: l.n };
      out.push(node(lines[i].ind));
    }
    return out;
  };
  const map = (ind: number): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    while (i < lines.length && lines[i].ind === ind && !isItem(lines[i].text)) {
      const cur = lines[i];
      const kv = splitKey(cur.text) ?? fail(`could not find expected ':'`);
      i++;
      if (kv.rest === '') {
        const nx = lines[i];
        out[kv.key] = nx && (nx.ind > ind || (nx.ind === ind && isItem(nx.text))) ? node(nx.ind) : null;
      } else if (/^[|>]/.test(kv.rest)) {
        const { value, lastRaw } = block(raw, kv.rest, cur.n, ind);
        out[kv.key] = value;
        while (i < lines.length && lines[i].n <= lastRaw) i++;
      } else out[kv.key] = scalar(kv.rest);
    }
    return out;
  };
  const doc = node(0);
  if (i < lines.length) fail('did not find expected key (bad indentation?)');
  return doc;
}

function stripComment(s: string): string {
  let q = '';
  for (let k = 0; k < s.length; k++) {
    const c = s[k];
    if (q) {
      if (c === q && !(q === '"' && s[k - 1] === '\\')) q = '';
      continue;
    }
    if ((c === '"' || c === "'") && (k === 0 || /[\s:[{,-]/.test(s[k - 1]))) q = c;
    else if (c === '#' && (k === 0 || /\s/.test(s[k - 1]))) return s.slice(0, k).trimEnd();
  }
  return s;
}

function splitKey(text: string): { key: string; rest: string } | undefined {
  if (text.startsWith('"') || text.startsWith("'")) {
    const end = quotedEnd(text, 0);
    const m = /^\s*:(?:\s+(.*))?$/.exec(text.slice(end));
    return m ? { key: String(scalar(text.slice(0, end))), rest: (m[1] ?? '').trim() } : undefined;
  }
  const m = /^([^\s#'"[\]{},&*!|>%@`][^:]*?|[^\s:]*?)\s*:(?:\s+(.*))?$/.exec(text);
  if (!m || m[1] === '' || /^[[{]/.test(text)) return undefined;
  return { key: m[1], rest: (m[2] ?? '').trim() };
}

function quotedEnd(s: string, start: number): number {
  const q = s[start];
  for (let k = start + 1; k < s.length; k++) {
    if (q === '"' && s[k] === '\\') {
      k++;
      continue;
    }
    if (s[k] === q) {
      if (q === "'" && s[k + 1] === "'") {
        k++;
        continue;
      }
      return k + 1;
    }
  }
  throw new Error(`yaml: unterminated quoted scalar: ${s}`);
}

function scalar(s: string): unknown {
  s = s.trim();
  if (s.startsWith('"')) return JSON.parse(s.slice(0, quotedEnd(s, 0)).replace(/\\\//g, '/'));
  if (s.startsWith("'")) return s.slice(1, quotedEnd(s, 0) - 1).replace(/''/g, "'");
  if (s.startsWith('[') || s.startsWith('{')) return flow(s);
  if (s === '' || s === '~' || /^(null|Null|NULL)$/.test(s)) return null;
  if (/^(true|True|TRUE)$/.test(s)) return true;
  if (/^(false|False|FALSE)$/.test(s)) return false;
  if (/^[-+]?\d+$/.test(s)) return Number(s);
  if (/^0x[0-9a-fA-F]+$/.test(s)) return parseInt(s, 16);
  if (/^0o[0-7]+$/.test(s)) return parseInt(s.slice(2), 8);
  if (/^[-+]?(\.\d+|\d+(\.\d*)?)([eE][-+]?\d+)?$/.test(s)) return Number(s);
  if (/^[-+]?\.(inf|Inf|INF)$/.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^\.(nan|NaN|NAN)$/.test(s)) return NaN;
  return s;
}

function flow(s: string): unknown {
  let p = 0;
  const ws = () => {
    while (p < s.length && /\s/.test(s[p])) p++;
  };
  const plain = (stops: RegExp): string => {
    const st = p;
    while (p < s.length && !stops.test(s[p]) && !(s[p] === ':' && /[\s,\]}]/.test(s[p + 1] ?? ' '))) p++;
    return s.slice(st, p).trim();
  };
  const val = (): unknown => {
    ws();
    const c = s[p];
    if (c === '[') {
      p++;
      const arr: unknown[] = [];
      ws();
      if (s[p] === ']') {
        p++;
        return arr;
      }
      for (;;) {
        arr.push(val());
        ws();
        if (s[p] === ',') {
          p++;
          ws();
          if (s[p] === ']') {
            p++;
            return arr;
          }
          continue;
        }
        if (s[p] === ']') {
          p++;
          return arr;
        }
        throw new Error(`yaml: bad flow sequence: ${s}`);
      }
    }
    if (c === '{') {
      p++;
      const obj: Record<string, unknown> = {};
      ws();
      if (s[p] === '}') {
        p++;
        return obj;
      }
      for (;;) {
        ws();
        const key = s[p] === '"' || s[p] === "'" ? String(scalar(s.slice(p, (p = quotedEnd(s, p))))) : plain(/[,}]/);
        ws();
        let v: unknown = null;
        if (s[p] === ':') {
          p++;
          v = val();
        }
        obj[key] = v;
        ws();
        if (s[p] === ',') {
          p++;
          ws();
          if (s[p] === '}') {
            p++;
            return obj;
          }
          continue;
        }
        if (s[p] === '}') {
          p++;
          return obj;
        }
        throw new Error(`yaml: bad flow mapping: ${s}`);
      }
    }
    if (c === '"' || c === "'") {
      const st = p;
      p = quotedEnd(s, p);
      return scalar(s.slice(st, p));
    }
    return scalar(plain(/[,\]}]/));
  };
  const v = val();
  ws();
  if (p < s.length) throw new Error(`yaml: unexpected '${s.slice(p)}' after flow collection`);
  return v;
}

function block(raw: string[], header: string, at: number, parentInd: number): { value: string; lastRaw: number } {
  const h = /^([|>])([-+]?)(\d?)([-+]?)\s*$/.exec(header);
  if (!h) throw new Error(`yaml: line ${at + 1}: bad block scalar header ${header}`);
  const chomp = h[2] || h[4];
  let ind = h[3] ? parentInd + Number(h[3]) : -1;
  const body: string[] = [];
  let n = at + 1;
  for (; n < raw.length; n++) {
    const r = raw[n];
    if (/^\s*$/.test(r)) {
      body.push('');
      continue;
    }
    const li = r.length - r.trimStart().length;
    if (ind < 0) ind = li;
    if (li < ind || li <= parentInd) break;
    body.push(r.slice(ind));
  }
  let trailing = 0;
  while (body.length && body[body.length - 1] === '') {
    body.pop();
    trailing++;
  }
  let text =
    h[1] === '|' ? body.join('\n') : body.reduce((acc, l, k) => (k === 0 ? l : l === '' ? `${acc}\n` : acc.endsWith('\n') ? acc + l : `${acc} ${l}`), '');
  if (chomp === '+') text += '\n'.repeat(trailing + 1);
  else if (chomp !== '-' && body.length) text += '\n';
  return { value: text, lastRaw: n - 1 };
}
