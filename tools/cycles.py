#!/usr/bin/env python3
"""`make cycles`: the import cycles between the files of src/.

Reads src/**/*.rs (the library from src/lib.rs, each binary from src/main.rs,
src/bin/<name>.rs or src/bin/<name>/main.rs), maps the `mod` declarations to
files, and resolves every `use crate::…` / `use super::…` / `use self::…`
tree, every path written in code (`crate::x::y`, `super::x`, and `m::item`
where `m` is a module brought in by a `use` or declared by `mod`) and
`sentry_kanban::…` from the binaries, to the file that defines the item:
`pub use` re-exports are followed to their source. An edge A -> B means a
file A names something defined in file B; a `mod` declaration alone is not
an edge.

It prints the strongly connected components of more than one file and, in
each, its shortest cycles, every hop with the names that tie it. Names that
only `#[cfg(test)]` modules use are marked `(test)`; `--no-tests` leaves
those modules out.

Usage: tools/cycles.py [--no-tests] [--max N] [--check] [--edges]
  --max N    shortest cycles printed per component (default 20)
  --check    exit 1 when there is a cycle (default: always 0)
  --edges    also print every edge between files
Stdlib only; a token-level reading of Rust, not a compiler: macro-generated
paths and `#[path]` tricks beyond the plain attribute are not seen.
"""

import argparse
import os
import re
import sys
from collections import defaultdict, deque

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")

KEYWORDS_PATH_START = {"crate", "super", "self"}


# ---- tokens ---------------------------------------------------------------

TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<ident>r\#[A-Za-z_][A-Za-z0-9_]*|[A-Za-z_][A-Za-z0-9_]*)
  | (?P<num>[0-9][0-9A-Za-z_.]*)
  | (?P<colons>::)
  | (?P<punct>.)
    """,
    re.VERBOSE | re.DOTALL,
)


def tokenize(text):
    """Identifiers, `::` and single punctuation; comments, strings, chars
    and lifetimes are dropped. Returns (kind, value) pairs."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
            continue
        # raw strings: r"..", r#".."#, br#".."#, cr".."
        m = re.compile(r'(?:b|c)?r(#*)"').match(text, i)
        if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            close = '"' + m.group(1)
            j = text.find(close, m.end())
            i = n if j < 0 else j + len(close)
            continue
        if c == '"' or (c in "bc" and text.startswith('"', i + 1)
                        and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_"))):
            i += 1 if c == '"' else 2
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
            continue
        if c == "'" or (c == "b" and text.startswith("'", i + 1)):
            k = i + (1 if c == "'" else 2)
            if k < n and text[k] == "\\":  # '\n', '\u{..}', '\''
                j = k + 2
                while j < n and text[j] != "'":
                    j += 1
                i = j + 1
                continue
            if k + 1 < n and text[k + 1] == "'":  # 'x'
                i = k + 2
                continue
            if c == "'":  # a lifetime or a label
                m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(text, k)
                i = m.end() if m else k
                continue
        m = TOKEN.match(text, i)
        kind = m.lastgroup
        if kind != "ws":
            val = m.group(kind)
            if kind == "ident" and val.startswith("r#"):
                val = val[2:]
            out.append((kind, val))
        i = m.end()
    return out


# ---- crates and modules ---------------------------------------------------


class Module:
    def __init__(self, path, file, child_dir, test, parent):
        self.path = path  # tuple of names from the crate root
        self.file = file  # the file that holds it (inline modules: their file's)
        self.child_dir = child_dir  # where its `mod x;` files live
        self.test = test  # inside #[cfg(test)]
        self.parent = parent
        self.children = {}  # name -> Module
        self.items = set()  # names defined here (fn, struct, ...)
        self.reexports = {}  # name -> (module, [segments]) from `pub use`
        self.glob_reexports = []  # modules from `pub use x::*`
        self.aliases = {}  # name -> Module, from `use` and `mod`
        self.globs = []  # modules from private `use x::*` (super::* in tests)
        self.uses = []  # (segments, name, test) of every use leaf
        self.code_paths = []  # (segments, test) written in code


class Crate:
    def __init__(self, name, root_file, lib=None):
        self.name = name
        self.lib = lib  # the library crate, for binaries
        self.modules = {}
        self.root = self.load((), root_file, os.path.dirname(root_file), False, None)

    def load(self, path, file, child_dir, test, parent):
        mod = Module(path, file, child_dir, test, parent)
        self.modules[path] = mod
        with open(file, encoding="utf-8") as f:
            toks = tokenize(f.read())
        self.parse(mod, toks)
        return mod

    def parse(self, top, toks):
        stack = [(top, 0)]  # (module, brace depth at which it closes)
        depth = 0
        pending_test = False
        pending_path = None
        i = 0
        n = len(toks)

        def val(k):
            return toks[k][1] if k < n else None

        while i < n:
            kind, v = toks[i]
            cur = stack[-1][0]
            if v == "#" and val(i + 1) == "[":
                # an attribute: note #[cfg(test)] and #[path = ".."]
                j, d = i + 1, 0
                attr = []
                while j < n:
                    if toks[j][1] == "[":
                        d += 1
                    elif toks[j][1] == "]":
                        d -= 1
                        if d == 0:
                            break
                    attr.append(toks[j][1])
                    j += 1
                if attr[1:5] == ["cfg", "(", "test", ")"]:
                    pending_test = True
                i = j + 1
                continue
            if v == "{":
                depth += 1
            elif v == "}":
                depth -= 1
                if len(stack) > 1 and depth < stack[-1][1]:
                    stack.pop()
            elif v == ";":
                pending_test = False
            elif kind == "ident" and v == "mod" and toks[i + 1][0] == "ident":
                name = toks[i + 1][1]
                test = cur.test or pending_test
                pending_test = False
                if val(i + 2) == ";":
                    child = self.load_file_module(cur, name, test)
                    if child:
                        cur.children[name] = child
                        cur.aliases[name] = child
                    i += 3
                    continue
                if val(i + 2) == "{":
                    child = Module(cur.path + (name,), cur.file, os.path.join(cur.child_dir, name), test, cur)
                    self.modules[child.path] = child
                    cur.children[name] = child
                    cur.aliases[name] = child
                    depth += 1
                    stack.append((child, depth))
                    i += 3
                    continue
            elif kind == "ident" and v == "use":
                public = val(i - 1) == "pub" or (val(i - 1) == ")" and "pub" in (val(i - 3), val(i - 4)))
                j = i + 1
                while j < n and toks[j][1] != ";":
                    j += 1
                self.parse_use(cur, toks[i + 1:j], public, cur.test or pending_test)
                pending_test = False
                i = j + 1
                continue
            elif kind == "ident" and v in ("fn", "struct", "enum", "const", "static", "type", "trait", "union"):
                if i + 1 < n and toks[i + 1][0] == "ident":
                    cur.items.add(toks[i + 1][1])
                if v == "fn" or v in ("struct", "enum", "trait", "union"):
                    pending_test = False
            elif kind == "ident" and v == "macro_rules" and val(i + 1) == "!":
                cur.items.add(val(i + 2))
            elif kind == "ident" and val(i + 1) == "::" and val(i - 1) != "::":
                # a path written in code: ident (:: ident)*, stops at ::<
                segs = [v]
                j = i + 1
                while j + 1 < n and toks[j][1] == "::" and toks[j + 1][0] == "ident":
                    segs.append(toks[j + 1][1])
                    j += 2
                if len(segs) > 1:
                    cur.code_paths.append((segs, cur.test or pending_test))
                i = j
                continue
            i += 1

    def load_file_module(self, parent, name, test):
        for cand in (os.path.join(parent.child_dir, name + ".rs"), os.path.join(parent.child_dir, name, "mod.rs")):
            if os.path.isfile(cand):
                child_dir = os.path.dirname(cand) if cand.endswith("mod.rs") else os.path.join(parent.child_dir, name)
                return self.load(parent.path + (name,), cand, child_dir, test, parent)
        return None

    def parse_use(self, mod, toks, public, test):
        """Flattens a use tree into leaves: (segments, bound name)."""
        leaves = []

        def tree(k, prefix):
            # returns index after this tree
            segs = list(prefix)
            while k < len(toks):
                v = toks[k][1]
                if v == "::":
                    k += 1
                elif v == "{":
                    k += 1
                    while k < len(toks) and toks[k][1] != "}":
                        if toks[k][1] == ",":
                            k += 1
                            continue
                        k = tree(k, segs)
                    return k + 1
                elif v == "*":
                    leaves.append((segs + ["*"], "*"))
                    return k + 1
                elif toks[k][0] == "ident":
                    segs.append(v)
                    k += 1
                    if k < len(toks) and toks[k][1] == "as":
                        leaves.append((segs, toks[k + 1][1]))
                        return k + 2
                    if k >= len(toks) or toks[k][1] in (",", "}"):
                        bound = segs[-2] if segs[-1] == "self" and len(segs) > 1 else segs[-1]
                        leaves.append((segs, bound))
                        return k
                else:
                    k += 1
            if segs:
                leaves.append((segs, segs[-1]))
            return k

        tree(0, [])
        for segs, bound in leaves:
            if segs and segs[-1] == "self":
                segs = segs[:-1]
            mod.uses.append((segs, bound, test, public))

    # -- resolution --

    def start(self, mod, first, in_use):
        """The module a path's first segment names, or None (another crate)."""
        if first == "crate":
            return self.root
        if first == "self":
            return mod
        if first == "super":
            return mod.parent or mod
        if self.lib and first == self.lib.name:
            return self.lib.root
        if first in mod.children:
            return mod.children[first]
        if not in_use and first in mod.aliases:
            return mod.aliases[first]
        return None

    def resolve(self, mod, segs, in_use, seen=None):
        """(file, name) that `segs` names from `mod`, or None."""
        if not segs:
            return None
        m = self.start(mod, segs[0], in_use)
        if m is None:
            return None
        crate = self if m.path in self.modules and self.modules.get(m.path) is m else self.lib
        rest = segs[1:]
        while rest and rest[0] == "super":
            m = m.parent or m
            rest = rest[1:]
        while rest and rest[0] in m.children:
            m = m.children[rest[0]]
            rest = rest[1:]
        if not rest:
            return (m, None)
        name = rest[0]
        seen = seen or set()
        key = (m.file, tuple(m.path), name)
        if name != "*" and name not in m.items and key not in seen:
            seen.add(key)
            if name in m.reexports:
                src_mod, src_segs = m.reexports[name]
                r = crate.resolve(src_mod, src_segs + rest[1:], True, seen)
                if r:
                    return r
            for g in m.glob_reexports:
                if name in g.items or name in g.reexports:
                    return crate.resolve(g, [ "self", name] + rest[1:], True, seen)
        return (m, name)

    def link(self):
        # first the bindings (aliases and re-exports), which later paths use
        for mod in self.modules.values():
            for segs, bound, test, public in mod.uses:
                if not segs:
                    continue
                if segs[-1] == "*":
                    r = self.resolve(mod, segs[:-1], True)
                    if r and r[1] is None:
                        (mod.glob_reexports if public else mod.globs).append(r[0])
                    continue
                if public:
                    mod.reexports[bound] = (mod, segs)
        for mod in self.modules.values():
            for segs, bound, test, public in mod.uses:
                if segs and segs[-1] != "*":
                    r = self.resolve(mod, segs, True)
                    if r and r[1] is None:
                        mod.aliases[bound] = r[0]


# ---- the graph --------------------------------------------------------------


def rel(path):
    return os.path.relpath(path, ROOT)


def lookup(crate, mod, first):
    """The module whose scope gives a code path's first segment its meaning:
    `mod` itself, or a parent it imports with `use super::*`."""
    m = mod
    while m is not None:
        if first in KEYWORDS_PATH_START or first in m.aliases or (crate.lib and first == crate.lib.name):
            return m
        m = m.parent if m.parent is not None and m.parent in m.globs else None
    return None


def build(no_tests):
    crates = []
    name = "sentry_kanban"
    cargo = os.path.join(ROOT, "Cargo.toml")
    if os.path.isfile(cargo):
        m = re.search(r'^\[package\][^\[]*?^name\s*=\s*"([^"]+)"', open(cargo, encoding="utf-8").read(), re.M | re.S)
        if m:
            name = m.group(1).replace("-", "_")
    lib = None
    if os.path.isfile(os.path.join(SRC, "lib.rs")):
        lib = Crate(name, os.path.join(SRC, "lib.rs"))
        crates.append(lib)
    roots = []
    if os.path.isfile(os.path.join(SRC, "main.rs")):
        roots.append(os.path.join(SRC, "main.rs"))
    bindir = os.path.join(SRC, "bin")
    if os.path.isdir(bindir):
        for e in sorted(os.listdir(bindir)):
            p = os.path.join(bindir, e)
            if e.endswith(".rs"):
                roots.append(p)
            elif os.path.isfile(os.path.join(p, "main.rs")):
                roots.append(os.path.join(p, "main.rs"))
    for r in roots:
        crates.append(Crate("bin", r, lib))
    for c in crates:
        c.link()

    # edges[a][b] = {name: test_only}
    edges = defaultdict(lambda: defaultdict(dict))
    files = set()

    def add(a, b, name, test):
        if a == b:
            return
        d = edges[a][b]
        d[name] = d.get(name, True) and test

    for c in crates:
        for mod in c.modules.values():
            files.add(mod.file)
            if no_tests and mod.test:
                continue
            used_aliases = set()
            for segs, test in mod.code_paths:
                if no_tests and test:
                    continue
                m = lookup(c, mod, segs[0])
                r = c.resolve(m, segs, False) if m else None
                if r:
                    target, name = r
                    used_aliases.add(segs[0])
                    add(mod.file, target.file, name or target.path[-1], test or mod.test)
            for segs, bound, test, public in mod.uses:
                if no_tests and test:
                    continue
                if not segs:
                    continue
                r = c.resolve(mod, segs, True)
                if not r:
                    continue
                target, name = r
                if name is None and bound in used_aliases and not public:
                    continue  # a module import: the code paths through it say what it ties
                label = name or (target.path[-1] if target.path else "crate")
                add(mod.file, target.file, label, test or mod.test)
    return files, edges


def sccs(nodes, edges):
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def strong(v):
        # iterative Tarjan
        work = [(v, iter(sorted(edges.get(v, {}))))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        while work:
            node, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges.get(w, {})))))
                    break
                if w in on:
                    low[node] = min(low[node], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == node:
                            break
                    out.append(sorted(comp))

    for v in sorted(nodes):
        if v not in index:
            strong(v)
    return out


def shortest_path(edges, comp, src, dst):
    seen = {src: None}
    q = deque([src])
    while q:
        v = q.popleft()
        if v == dst:
            break
        for w in sorted(edges.get(v, {})):
            if w in comp and w not in seen:
                seen[w] = v
                q.append(w)
    if dst not in seen:
        return None
    path = [dst]
    while path[-1] != src:
        path.append(seen[path[-1]])
    return path[::-1]


def cycles_in(edges, comp):
    cs = set()
    comp = set(comp)
    for a in comp:
        for b in edges.get(a, {}):
            if b in comp:
                p = shortest_path(edges, comp, b, a)
                if p:
                    cyc = [a] + p[:-1]
                    k = cyc.index(min(cyc))
                    cs.add(tuple(cyc[k:] + cyc[:k]))
    return sorted(cs, key=lambda c: (len(c), c))


def names(edges, a, b):
    out = []
    for name, test in sorted(edges[a][b].items()):
        out.append(name + (" (test)" if test else ""))
    return ", ".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-tests", action="store_true", help="leave #[cfg(test)] modules out")
    ap.add_argument("--max", type=int, default=20, help="shortest cycles printed per component")
    ap.add_argument("--check", action="store_true", help="exit 1 when there is a cycle")
    ap.add_argument("--edges", action="store_true", help="also print every edge")
    args = ap.parse_args()

    files, edges = build(args.no_tests)
    n_edges = sum(len(v) for v in edges.values())
    if args.edges:
        for a in sorted(edges):
            for b in sorted(edges[a]):
                print(f"{rel(a)} -> {rel(b)}: {names(edges, a, b)}")
        print()
    comps = [c for c in sccs(files, edges) if len(c) > 1]
    comps.sort(key=lambda c: (-len(c), c))
    print(f"cycles: {len(files)} files, {n_edges} file-to-file edges"
          + (" (without #[cfg(test)] modules)" if args.no_tests else ""))
    if not comps:
        print("cycles: none")
        return 0
    print(f"cycles: {len(comps)} strongly connected component(s) of more than one file")
    for i, comp in enumerate(comps, 1):
        print()
        print(f"[{i}] {len(comp)} files: " + " ".join(rel(f) for f in comp))
        cs = cycles_in(edges, comp)
        shown = cs[: args.max]
        print(f"    shortest cycles ({len(shown)} of {len(cs)} distinct, one per edge):")
        for cyc in shown:
            print("    - " + " -> ".join(rel(f) for f in cyc + (cyc[0],)))
            for a, b in zip(cyc, cyc[1:] + (cyc[0],)):
                print(f"        {rel(a)} -> {rel(b)}: {names(edges, a, b)}")
    return 1 if args.check else 0


if __name__ == "__main__":
    sys.exit(main())
