// Runs the e2e artifact mirror in its own process, so benches can time commands with spawnSync (which
// blocks the bench's event loop) while the mirror keeps answering. Prints one JSON line: url and manifest.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const { buildArtifacts } = await import(join(repo, 'e2e/dist/mirror/build-artifacts.js'));
const { startMirror } = await import(join(repo, 'e2e/dist/mirror/mirror-server.js'));
const manifest = await buildArtifacts();
const mirror = await startMirror(manifest);
process.stdout.write(`${JSON.stringify({ url: mirror.url, artifacts: manifest.artifacts })}\n`);
process.stdin.on('end', () => mirror.close().then(() => process.exit(0)));
process.stdin.resume();
