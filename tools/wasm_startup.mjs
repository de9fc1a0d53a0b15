// Startup cost of the worker's wasm in Node's V8 (the engine workerd uses):
// WebAssembly.compile and instantiate of the module, imports stubbed (the
// instance is not run), median of N fresh compilations.
//   node tools/wasm_startup.mjs build/index_bg.wasm [N]
import { readFileSync } from "node:fs";

const [path = "build/index_bg.wasm", runs = "15"] = process.argv.slice(2);
const bytes = readFileSync(path);
const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
const compile = [];
const inst = [];
for (let i = 0; i < Number(runs); i++) {
  let t = performance.now();
  const module = await WebAssembly.compile(bytes);
  compile.push(performance.now() - t);
  const imports = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    imports[imp.module] ??= {};
    if (imp.kind === "function") imports[imp.module][imp.name] = () => {};
    else if (imp.kind === "table") imports[imp.module][imp.name] = new WebAssembly.Table({ initial: 1024, element: "externref" });
    else if (imp.kind === "memory") imports[imp.module][imp.name] = new WebAssembly.Memory({ initial: 17 });
    else if (imp.kind === "tag") imports[imp.module][imp.name] = new WebAssembly.Tag({ parameters: ["externref"] });
    else if (imp.kind === "global") imports[imp.module][imp.name] = new WebAssembly.Global({ value: "i32", mutable: true }, 0);
  }
  t = performance.now();
  await WebAssembly.instantiate(module, imports);
  inst.push(performance.now() - t);
}
console.log(`${path}: ${bytes.length} bytes; compile median ${median(compile).toFixed(1)} ms, instantiate median ${median(inst).toFixed(2)} ms (${runs} runs)`);
