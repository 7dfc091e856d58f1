// Bench child: the stub upstream in its own process; prints its URL.
import { startStubUpstream } from '../../test/stub-upstream/server.ts';

const stub = await startStubUpstream({ retain: false });
console.log(`READY ${stub.url}`);
process.once('SIGTERM', () => void stub.close().then(() => process.exit(0)));
