// An S3-compatible server on 127.0.0.1 for tests (s3rver), run as its own process so a test can
// kill it mid-transfer. Usage: node s3-server.mjs DIR PORT BUCKET
import S3rver from "s3rver";

const [directory, port, bucket] = process.argv.slice(2);
const server = new S3rver({
  address: "127.0.0.1",
  port: Number(port),
  directory,
  silent: true,
  configureBuckets: [{ name: bucket }],
});
const { port: actual } = await server.run();
process.stdout.write(`ready ${actual}\n`);
