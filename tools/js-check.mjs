// `make check`'s JS gate: parses every public/**/*.js as the ES module the
// pages load it as (<script type="module">), then links each file's imports
// (every imported name must be exported by a file that exists), without
// running any of it. `node --check file.js` would parse a file as CommonJS
// or guess, and lets a broken module through.
// Usage: node --experimental-vm-modules tools/js-check.mjs [dir]
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { spawnSync } from "node:child_process";

const root = path.resolve(process.argv[2] || "public");
const files = fs.readdirSync(root, { recursive: true })
  .filter((f) => f.endsWith(".js"))
  .map((f) => path.join(root, f))
  .sort();
const modules = new Map();
let failures = 0;

function fail(file, err) {
  failures++;
  console.error(`${path.relative(process.cwd(), file)}: ${err.message}\n`);
}

// A parse error's line and caret: vm does not always put them in the
// stack, `node --check` of the source as a module does.
function where(file, source) {
  const check = spawnSync(process.execPath, ["--check", "--input-type=module"], { input: source, encoding: "utf8" });
  const lines = check.stderr.split("\n").slice(0, 4).join("\n");
  return lines.replaceAll("[stdin]", path.relative(process.cwd(), file));
}

for (const file of files) {
  const source = fs.readFileSync(file, "utf8");
  try {
    modules.set(file, new vm.SourceTextModule(source, { identifier: file }));
  } catch (err) {
    fail(file, err);
    console.error(where(file, source) + "\n");
  }
}

// The browser resolves "./x.js" against the importing file and "/x.js"
// against the site, which serves `root`; nothing else is served.
function resolve(specifier, from) {
  if (specifier.startsWith("/")) return path.join(root, specifier);
  if (specifier.startsWith("./") || specifier.startsWith("../")) return path.resolve(path.dirname(from), specifier);
  return null;
}

// Linking after a parse error would only report its importers again.
for (const [file, mod] of failures ? [] : modules) {
  // Linking a module links what it imports; each is linked once.
  if (mod.status !== "unlinked") continue;
  try {
    await mod.link((specifier, referencing) => {
      const target = resolve(specifier, referencing.identifier);
      const found = target && modules.get(target);
      if (!found) throw new Error(`cannot import "${specifier}": no such module in ${path.relative(process.cwd(), root) || "."}`);
      return found;
    });
  } catch (err) {
    fail(file, err);
  }
}

if (!files.length) {
  console.error(`no .js file under ${root}`);
  process.exit(1);
}
console.log(`${files.length} modules parsed and linked: ${failures} failed`);
process.exit(failures ? 1 : 0);
