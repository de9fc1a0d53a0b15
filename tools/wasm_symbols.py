#!/usr/bin/env python3
"""Where the wasm's code bytes go: reads the name section (function names)
and the code section (body sizes) of a module built with names kept, and
sums the code bytes per crate (the first path segment of each name).

    python3 tools/wasm_symbols.py build/index_bg.wasm [--top N] [--prefix serde_json]

--top N also lists the N largest functions; --prefix P lists every
function whose crate is P; --json prints {function index: name} instead
(for tools/profile.mjs, which names a stripped build's frames with it). Without a name section the functions show as
`<unnamed>`: build with the name section kept (see benches/size_matrix.sh).
"""
import re
import sys
from collections import defaultdict


def leb(d, i):
    value = shift = 0
    while True:
        b = d[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def name(d, i):
    n, i = leb(d, i)
    return d[i : i + n].decode("utf-8", "replace"), i + n


def sections(d):
    assert d[:4] == b"\0asm", "not a wasm module"
    i = 8
    while i < len(d):
        sid = d[i]
        size, j = leb(d, i + 1)
        yield sid, d[j : j + size]
        i = j + size


def imported_functions(imports):
    count, i = leb(imports, 0)
    funcs = 0
    for _ in range(count):
        _, i = name(imports, i)
        _, i = name(imports, i)
        kind = imports[i]
        i += 1
        if kind == 0:  # function: type index
            _, i = leb(imports, i)
            funcs += 1
        elif kind == 1:  # table: reftype, limits
            i += 1
            flags, i = leb(imports, i)
            _, i = leb(imports, i)
            if flags & 1:
                _, i = leb(imports, i)
        elif kind == 2:  # memory: limits
            flags, i = leb(imports, i)
            _, i = leb(imports, i)
            if flags & 1:
                _, i = leb(imports, i)
        elif kind == 3:  # global: valtype, mut
            i += 2
        elif kind == 4:  # tag
            i += 1
            _, i = leb(imports, i)
    return funcs


def function_names(custom):
    _, i = name(custom, 0)  # "name"
    names = {}
    while i < len(custom):
        sub = custom[i]
        size, i = leb(custom, i + 1)
        end = i + size
        if sub == 1:
            count, j = leb(custom, i)
            for _ in range(count):
                idx, j = leb(custom, j)
                names[idx], j = name(custom, j)
        i = end
    return names


def code_sizes(code):
    count, i = leb(code, 0)
    sizes = []
    for _ in range(count):
        size, i = leb(code, i)
        sizes.append(size)
        i += size
    return sizes


HASH = re.compile(r"::h[0-9a-f]{16}$")
# v0 mangling keeps a crate's disambiguator: `core[c5930c85a12de822]::fmt`.
CRATE_HASH = re.compile(r"\[[0-9a-f]{16}\]")
PRIMITIVES = {"f32", "f64", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128",
              "isize", "str", "char", "bool"}


def crate_of(fn):
    """The crate a (demangled) Rust name belongs to: `<serde_json::Value as
    core::fmt::Display>::fmt` is serde_json's, `core::fmt::write` core's."""
    s = fn.lstrip("<&*").replace("mut ", "").replace("dyn ", "")
    m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", s)
    if not m:
        return "<other>"
    head = m.group(0)
    if head in PRIMITIVES:  # `<f64 as core::fmt::Display>::fmt`
        return "core"
    if "::" not in s[: m.end() + 2] and not s[m.end() :].startswith("::"):
        return head if head.startswith(("__", "wasm", "js_", "_ZN")) else "<c/js glue>"
    return head


def demangle_legacy(fn):
    # `_ZN4core3fmt5write17h…E` → `core::fmt::write`, when names were not demangled.
    if not fn.startswith("_ZN"):
        return fn
    i, parts = 3, []
    while i < len(fn) and fn[i].isdigit():
        j = i
        while fn[j].isdigit():
            j += 1
        n = int(fn[i:j])
        parts.append(fn[j : j + n])
        i = j + n
    return "::".join(p for p in parts if not re.fullmatch(r"h[0-9a-f]{16}", p)) or fn


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    top = int(argv[argv.index("--top") + 1]) if "--top" in argv else 0
    prefix = argv[argv.index("--prefix") + 1] if "--prefix" in argv else None
    if "--top" in argv:
        args.remove(argv[argv.index("--top") + 1])
    if prefix:
        args.remove(prefix)
    path = args[0] if args else "build/index_bg.wasm"
    d = open(path, "rb").read()
    imports, names, sizes, by_section = 0, {}, [], {}
    for sid, body in sections(d):
        if sid == 2:
            imports = imported_functions(body)
        elif sid == 10:
            sizes = code_sizes(body)
        elif sid == 0 and body[1 : 1 + body[0]] == b"name":
            names = function_names(body)
        key = {10: "code", 11: "data"}.get(sid, f"id {sid}")
        if sid == 0:
            key, _ = name(body, 0)
        by_section[key] = by_section.get(key, 0) + len(body)
    if "--json" in argv:
        import json
        clean = lambda fn: CRATE_HASH.sub("", HASH.sub("", demangle_legacy(fn)))
        print(json.dumps({str(k): clean(v) for k, v in names.items()}))
        return
    per_crate, per_fn = defaultdict(lambda: [0, 0]), []
    for k, size in enumerate(sizes):
        fn = CRATE_HASH.sub("", HASH.sub("", demangle_legacy(names.get(imports + k, "<unnamed>"))))
        crate = crate_of(fn) if fn != "<unnamed>" else fn
        per_crate[crate][0] += size
        per_crate[crate][1] += 1
        per_fn.append((size, crate, fn))
    total = sum(sizes)
    print(f"{path}: {len(d):,} bytes; sections: " + ", ".join(f"{k} {v:,}" for k, v in sorted(by_section.items(), key=lambda kv: -kv[1])))
    print(f"code: {total:,} bytes in {len(sizes):,} functions ({len(names):,} named)\n")
    print(f"{'crate':<28} {'code bytes':>11} {'share':>6} {'functions':>9}")
    for crate, (size, n) in sorted(per_crate.items(), key=lambda kv: -kv[1][0]):
        print(f"{crate:<28} {size:>11,} {100 * size / max(total, 1):>5.1f}% {n:>9,}")
    if top:
        print(f"\nlargest {top} functions:")
        for size, crate, fn in sorted(per_fn, reverse=True)[:top]:
            print(f"{size:>8,}  {fn[:150]}")
    if prefix:
        print(f"\nfunctions of {prefix}:")
        for size, crate, fn in sorted((f for f in per_fn if f[1] == prefix), reverse=True):
            print(f"{size:>8,}  {fn[:150]}")


if __name__ == "__main__":
    main(sys.argv[1:])
