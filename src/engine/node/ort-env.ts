/**
 * Imported before any ONNX Runtime session exists (by session.ts, and by prewarm.ts before it
 * starts a session worker): its telemetry (on by default in the Linux build) writes a device id
 * and a database under ~/.cache and a `/tmp/mat-debug-<pid>.log` per process — writes outside the
 * cache folder, read-only on Lambda. ONNX Runtime reads the variable from the process environment
 * when its first session is created; a worker thread's `process.env` is its own copy, so the main
 * thread must set it. `ORT_DISABLE_TELEMETRY=0` turns telemetry back on.
 */
if (!process.env.ORT_DISABLE_TELEMETRY) process.env.ORT_DISABLE_TELEMETRY = "1";
