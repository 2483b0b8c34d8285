/**
 * Is this Node recent enough for package.json's `engines.node` (">=MAJOR.MINOR")? Exit 0 if so;
 * else one line on stderr saying what to do, and exit 1. Plain JavaScript that an old Node runs.
 *
 *   node scripts/check-node.js           this Node (`npm test` runs it first: on Node 20 the suite
 *                                        would run for minutes, then crash inside vitest)
 *   node scripts/check-node.js v20.9.0   a version `node --version` printed (.ci/node.sh)
 */
import { readFileSync } from "node:fs";

const { engines } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const wanted = /^>=(\d+)\.(\d+)$/.exec(engines.node);
if (!wanted) throw new Error(`package.json engines.node is not ">=MAJOR.MINOR": ${engines.node}`);
const version = process.argv[2] ?? process.version;
const [major, minor] = version.replace(/^v/, "").split(".").map(Number);
const [needMajor, needMinor] = [Number(wanted[1]), Number(wanted[2])];
if (major > needMajor || (major === needMajor && minor >= needMinor)) process.exit(0);

const which =
  process.argv[2] === undefined ? `Node ${version} (${process.execPath})` : `Node ${version}`;
console.error(
  `edgepool needs Node ${engines.node}, and this is ${which}: put Node 24 first on PATH (\`. .ci/node.sh\` does, see the README's "Set up and test")`,
);
process.exit(1);
