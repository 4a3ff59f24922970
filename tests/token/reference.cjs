// The reference the tokenizer tests compare with: tiktoken's encode_ordinary, from the tiktoken
// npm package (a WASM build of tiktoken's Rust core) that scripts/fetch-tiktoken unpacked.
//   node reference.cjs PACKAGE_DIR ENCODING INPUT.json   (a JSON array of strings)
// prints a JSON array with each string's ids.
const fs = require("fs");
const [pkg, name, input] = process.argv.slice(2);
const { get_encoding } = require(`${pkg}/tiktoken.cjs`);
const enc = get_encoding(name);
const texts = JSON.parse(fs.readFileSync(input, "utf8"));
const out = texts.map((t) => Array.from(enc.encode_ordinary(t)));
enc.free();
process.stdout.write(JSON.stringify(out));
