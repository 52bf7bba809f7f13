// Child process of host/bench/onnx-peers.ts: times one onnxruntime-web job (its folder is
// the argument) and prints the PeerTiming as JSON.
import { runChildJob } from './onnx-peers.js';

process.stdout.write(JSON.stringify(await runChildJob(process.argv[2])));
