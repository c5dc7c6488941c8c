"""Wrap what `ruff format` leaves over 120 characters: long string literals split into implicitly concatenated parts
(parenthesised where they stand alone), long comments wrapped or moved above their line. Works on .py files and the
code cells of notebooks. Prints what it could not fix."""

import io, json, re, sys, textwrap, tokenize
from pathlib import Path

W = 120


def split_points(body, is_f):
    "Positions in a string body where a split is safe: after a space, outside f-string braces and escapes"
    pts, depth, i = [], 0, 0
    while i < len(body):
        ch = body[i]
        if ch == '\\':
            i += 2
            continue
        if is_f and ch == '{':
            if body[i : i + 2] == '{{' and depth == 0:
                i += 2
                continue
            depth += 1
        elif is_f and ch == '}':
            if body[i : i + 2] == '}}' and depth == 0:
                i += 2
                continue
            depth = max(0, depth - 1)
        elif ch == ' ' and depth == 0:
            pts.append(i + 1)
        i += 1
    return pts


def has_placeholder(body):
    return re.search(r'(?<!\{)\{(?!\{)', body.replace('{{', '')) is not None


def part_literal(prefix, q, body):
    is_f = 'f' in prefix.lower()
    if is_f and not has_placeholder(body):
        prefix = prefix.replace('f', '').replace('F', '')
        body = body.replace('{{', '{').replace('}}', '}')
    return f'{prefix}{q}{body}{q}'


def split_string(tok_str, first_room, room):
    "The literal as a list of literals, the first fitting `first_room` chars, the others `room`"
    m = re.match(r'^([rRbBfFuU]*)("""|\'\'\'|"|\')(.*)\2$', tok_str, re.S)
    if not m or m.group(2) in ('"""', "'''"):
        return None
    prefix, q, body = m.groups()
    is_f = 'f' in prefix.lower()
    parts, lim = [], first_room
    while len(body) + len(prefix) + 2 > lim:
        pts = [p for p in split_points(body, is_f) if p + len(prefix) + 2 <= lim]
        if not pts:
            return None
        p = pts[-1]
        parts.append(body[:p])
        body = body[p:]
        lim = room
    parts.append(body)
    if len(parts) == 1:
        return None
    return [part_literal(prefix, q, b) for b in parts]


def is_docstring(toks, k):
    "Whether STRING token k stands alone as a statement (after a NEWLINE/INDENT/DEDENT or at the start)"
    j = k - 1
    while j >= 0 and toks[j].type in (tokenize.NL, tokenize.COMMENT):
        j -= 1
    nxt = toks[k + 1].type if k + 1 < len(toks) else tokenize.NEWLINE
    return (j < 0 or toks[j].type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)) and nxt in (
        tokenize.NEWLINE,
        tokenize.ENDMARKER,
    )


def docstring_lines(tok_str, col):
    "A one-line docstring as a wrapped triple-quoted one, its lines (the first without indentation)"
    import ast

    m = re.match(r'^([rRuU]?)("|\')', tok_str)
    if not m:
        return None
    try:
        text = ast.literal_eval(tok_str)
    except (ValueError, SyntaxError):
        return None
    if '\\' in text or '"""' in text or text.endswith('"') or '\n' in text:
        return None
    w = textwrap.wrap(text, W - col - 3, break_on_hyphens=False, break_long_words=False)
    if len(w) < 2:
        return None
    w2 = textwrap.wrap(' '.join(w[1:]), W - col - 3, break_on_hyphens=False, break_long_words=False)
    lines = ['"""' + w[0]] + [' ' * col + x for x in w2]
    lines[-1] += '"""'
    return lines


def fix_source(src):
    "`src` with long lines fixed (one pass); the lines still long"
    lines = src.split('\n')
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(src).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return src, [l for l in lines if len(l) > W]
    depth, edits = 0, {}  # line index -> replacement lines
    depth_at = []
    for t in toks:
        if t.type == tokenize.OP and t.string in '([{':
            depth += 1
        elif t.type == tokenize.OP and t.string in ')]}':
            depth -= 1
        depth_at.append(depth)
    for k, t in enumerate(toks):
        (r0, c0), (r1, c1) = t.start, t.end
        i = r0 - 1
        if i >= len(lines) or i in edits or r0 != r1 or len(lines[i]) <= W:
            continue
        line = lines[i]
        if t.type == tokenize.COMMENT:
            code = line[:c0].rstrip()
            ind = len(line) - len(line.lstrip())
            text = t.string.lstrip('#').strip()
            if (
                code.strip()
            ):  # a trailing comment: above its line (docments reads a comment on the line before a parameter)
                if len(code) > W:
                    continue
                wrapped = textwrap.wrap(text, W - ind - 2)
                edits[i] = [' ' * ind + '# ' + w for w in wrapped] + [code]
            else:
                wrapped = textwrap.wrap(text, W - c0 - 2)
                edits[i] = [' ' * c0 + '# ' + w for w in wrapped]
        elif t.type == tokenize.STRING:
            ind = len(line) - len(line.lstrip())
            before, after = line[:c0], line[c1:]
            inside = depth_at[k] > 0
            alone = not before.strip()
            if alone and not inside and not after.strip() and is_docstring(toks, k):
                new = docstring_lines(t.string, c0)
                if new is None:
                    continue
                new[0] = before + new[0]
                edits[i] = new
                continue
            if alone:
                cont_ind = c0 if inside else c0 + 1
                first_room = (
                    W - c0 - (0 if inside else 1) - len(after) if len(after) < 10 else W - c0 - (0 if inside else 1)
                )
                parts = split_string(t.string, min(first_room, W - cont_ind - len(after)), W - cont_ind - len(after))
                if parts is None:
                    continue
                if inside:
                    new = (
                        [before + parts[0]]
                        + [' ' * cont_ind + p for p in parts[1:-1]]
                        + [' ' * cont_ind + parts[-1] + after]
                    )
                else:
                    new = (
                        [before + '(' + parts[0]]
                        + [' ' * cont_ind + p for p in parts[1:-1]]
                        + [' ' * cont_ind + parts[-1] + ')' + after]
                    )
            else:
                if not inside and not re.search(r'(=|return|raise \w+\(|\()\s*$', before):
                    continue
                if not inside:  # x = "long": parenthesise
                    cont_ind = ind + 4
                    parts = split_string(t.string, W - c0 - 1, W - cont_ind - len(after) - 1)
                    if parts is None:
                        continue
                    new = (
                        [before + '(' + parts[0]]
                        + [' ' * cont_ind + p for p in parts[1:-1]]
                        + [' ' * cont_ind + parts[-1] + ')' + after]
                    )
                else:
                    cont_ind = c0 if c0 < 60 else ind + 4
                    parts = split_string(t.string, W - c0, W - cont_ind - len(after))
                    if parts is None:
                        continue
                    new = (
                        [before + parts[0]]
                        + [' ' * cont_ind + p for p in parts[1:-1]]
                        + [' ' * cont_ind + parts[-1] + after]
                    )
            edits[i] = new
    out = []
    for i, l in enumerate(lines):
        out.extend(edits.get(i, [l]))
    res = '\n'.join(out)
    try:
        compile(res, '<fix>', 'exec')
    except SyntaxError:
        try:
            compile(src, '<src>', 'exec')
        except SyntaxError:
            return res, [l for l in out if len(l) > W]  # cells with magics: as they were
        return src, [l for l in lines if len(l) > W] + ['<<SYNTAX: reverted>>']
    return res, [l for l in out if len(l) > W]


def fix_text(src):
    for _ in range(3):
        new, left = fix_source(src)
        if new == src:
            break
        src = new
    return src, left


def main(paths):
    total = []
    for p in map(Path, paths):
        if p.suffix == '.ipynb':
            nb = json.loads(p.read_text())
            changed = False
            for c in nb['cells']:
                if c['cell_type'] != 'code':
                    continue
                s = ''.join(c['source'])
                if not any(len(l) > W for l in s.split('\n')):
                    continue
                if s.lstrip().startswith(('%', '!')) or '\n%' in s:
                    total += [(p.name, l) for l in s.split('\n') if len(l) > W]
                    continue
                new, left = fix_text(s)
                if new != s:
                    c['source'] = new.splitlines(True)
                    changed = True
                total += [(p.name, l) for l in left]
            if changed:
                p.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
        else:
            s = p.read_text()
            new, left = fix_text(s)
            if new != s:
                p.write_text(new)
            total += [(str(p), l) for l in left]
    for f, l in total:
        print(f'{f}: {l[:160]}')
    print(len(total), 'lines still over', W, file=sys.stderr)


if __name__ == '__main__':
    main(sys.argv[1:])
