/**
 * Imported before onnxruntime-node: its telemetry (on by default in the Linux build) writes a
 * device id and a database under ~/.cache and a `/tmp/mat-debug-<pid>.log` per process — writes
 * outside the cache folder, read-only on Lambda. `ORT_DISABLE_TELEMETRY=0` turns it back on.
 */
if (!process.env.ORT_DISABLE_TELEMETRY) process.env.ORT_DISABLE_TELEMETRY = "1";
