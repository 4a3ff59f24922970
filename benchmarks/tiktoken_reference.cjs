// The reference bench_token compares with: tiktoken's encode_ordinary (the npm package, a WASM
// build of tiktoken's Rust core) on the same corpus file.
//   node tiktoken_reference.cjs PACKAGE_DIR ENCODING CORPUS IDS_OUT ROUNDS
// Writes the ids (little-endian uint32) to IDS_OUT and prints {"seconds": median, "bytes", "tokens"}.
const fs = require("fs");
const [pkg, name, corpus, idsOut, rounds] = process.argv.slice(2);
const { get_encoding } = require(`${pkg}/tiktoken.cjs`);
const enc = get_encoding(name);
const text = fs.readFileSync(corpus, "utf8");
const times = [];
let ids;
for (let r = 0; r < Number(rounds); ++r) {
  const start = process.hrtime.bigint();
  ids = enc.encode_ordinary(text);
  times.push(Number(process.hrtime.bigint() - start) / 1e9);
}
times.sort((a, b) => a - b);
fs.writeFileSync(idsOut, Buffer.from(ids.buffer, ids.byteOffset, ids.byteLength));
enc.free();
process.stdout.write(JSON.stringify({ seconds: times[times.length >> 1], bytes: Buffer.byteLength(text), tokens: ids.length }));
